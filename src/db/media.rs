//! SQL for product media: one row per image (its full-size blob), one per
//! thumbnail, one per alt text. The blobs themselves live in the blob
//! store; these tables say which keys exist and whose they are.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

#[derive(Debug, Clone)]
pub struct MediaRow {
    pub id: String,
    pub product_id: String,
    pub position: i64,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub byte_size: i64,
    pub blob_key: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct ThumbRow {
    pub media_id: String,
    pub width: i64,
    pub height: i64,
    pub byte_size: i64,
    pub blob_key: String,
}

#[derive(Debug, Clone)]
pub struct AltRow {
    pub media_id: String,
    pub lang: String,
    pub alt: String,
}

fn media_from_row(r: &AnyRow) -> Result<MediaRow, sqlx::Error> {
    Ok(MediaRow {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        position: r.try_get("position")?,
        content_type: r.try_get("content_type")?,
        width: r.try_get("width")?,
        height: r.try_get("height")?,
        byte_size: r.try_get("byte_size")?,
        blob_key: r.try_get("blob_key")?,
        created_at: r.try_get("created_at")?,
    })
}

const MEDIA_COLUMNS: &str = "id, product_id, position, content_type, width, height, byte_size, blob_key, created_at";

/// Marks the product changed (its media are part of what customers see)
/// and reports whether it exists. The update also locks the product's row
/// until commit on PostgreSQL, so changes to one product's media (positions,
/// the per-product cap) are serialised; SQLite's `BEGIN IMMEDIATE` already
/// serialises writers.
pub async fn touch_product(tx: &mut Tx, store_id: &str, product_id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE products SET updated_at = $1 WHERE store_id = $2 AND id = $3")
        .bind(now)
        .bind(store_id)
        .bind(product_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn product_exists<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query("SELECT id FROM products WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(product_id)
        .fetch_optional(ex)
        .await?
        .is_some())
}

/// How many images the product has, and the position after the last.
pub async fn count_and_next_position(tx: &mut Tx, store_id: &str, product_id: &str) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(MAX(position) + 1, 0) AS next FROM product_media WHERE store_id = $1 AND product_id = $2",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("n")?, row.try_get("next")?))
}

pub async fn insert(
    tx: &mut Tx,
    store_id: &str,
    m: &MediaRow,
    thumbs: &[ThumbRow],
    alts: &[AltRow],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO product_media (store_id, id, product_id, position, content_type, width, height, byte_size, blob_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(store_id)
    .bind(&m.id)
    .bind(&m.product_id)
    .bind(m.position)
    .bind(&m.content_type)
    .bind(m.width)
    .bind(m.height)
    .bind(m.byte_size)
    .bind(&m.blob_key)
    .bind(m.created_at)
    .execute(&mut **tx)
    .await?;
    for t in thumbs {
        sqlx::query(
            "INSERT INTO product_media_thumbs (store_id, media_id, width, height, byte_size, blob_key) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(store_id)
        .bind(&t.media_id)
        .bind(t.width)
        .bind(t.height)
        .bind(t.byte_size)
        .bind(&t.blob_key)
        .execute(&mut **tx)
        .await?;
    }
    replace_alts(tx, store_id, &m.id, alts).await
}

pub async fn replace_alts(tx: &mut Tx, store_id: &str, media_id: &str, alts: &[AltRow]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_media_texts WHERE store_id = $1 AND media_id = $2")
        .bind(store_id)
        .bind(media_id)
        .execute(&mut **tx)
        .await?;
    for a in alts {
        sqlx::query("INSERT INTO product_media_texts (store_id, media_id, lang, alt) VALUES ($1, $2, $3, $4)")
            .bind(store_id)
            .bind(media_id)
            .bind(&a.lang)
            .bind(&a.alt)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn get<'e, E>(ex: E, store_id: &str, media_id: &str) -> Result<Option<MediaRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {MEDIA_COLUMNS} FROM product_media WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(media_id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(media_from_row)
        .transpose()
}

/// A product's media in gallery order (position, then age for ties).
pub async fn for_product<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<MediaRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {MEDIA_COLUMNS} FROM product_media WHERE store_id = $1 AND product_id = $2 ORDER BY position, id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(product_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(media_from_row)
        .collect()
}

/// The thumbnails of every image of a product, narrowest first.
pub async fn thumbs_for_product<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<ThumbRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT t.media_id, t.width, t.height, t.byte_size, t.blob_key
         FROM product_media_thumbs t JOIN product_media m ON m.store_id = t.store_id AND m.id = t.media_id
         WHERE m.store_id = $1 AND m.product_id = $2 ORDER BY t.media_id, t.width",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(ThumbRow {
            media_id: r.try_get("media_id")?,
            width: r.try_get("width")?,
            height: r.try_get("height")?,
            byte_size: r.try_get("byte_size")?,
            blob_key: r.try_get("blob_key")?,
        })
    })
    .collect()
}

pub async fn alts_for_product<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<AltRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT x.media_id, x.lang, x.alt
         FROM product_media_texts x JOIN product_media m ON m.store_id = x.store_id AND m.id = x.media_id
         WHERE m.store_id = $1 AND m.product_id = $2",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| Ok(AltRow { media_id: r.try_get("media_id")?, lang: r.try_get("lang")?, alt: r.try_get("alt")? }))
    .collect()
}

pub async fn set_position(tx: &mut Tx, store_id: &str, media_id: &str, position: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE product_media SET position = $1 WHERE store_id = $2 AND id = $3")
        .bind(position)
        .bind(store_id)
        .bind(media_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes an image's rows and returns the blob keys they pointed at
/// (for the caller to remove after commit).
pub async fn delete(tx: &mut Tx, store_id: &str, media_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut keys: Vec<String> =
        sqlx::query_scalar("SELECT blob_key FROM product_media_thumbs WHERE store_id = $1 AND media_id = $2")
            .bind(store_id)
            .bind(media_id)
            .fetch_all(&mut **tx)
            .await?;
    let full: Option<String> = sqlx::query_scalar("SELECT blob_key FROM product_media WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(media_id)
        .fetch_optional(&mut **tx)
        .await?;
    keys.extend(full);
    for sql in [
        "DELETE FROM product_media_texts WHERE store_id = $1 AND media_id = $2",
        "DELETE FROM product_media_thumbs WHERE store_id = $1 AND media_id = $2",
        "DELETE FROM product_media WHERE store_id = $1 AND id = $2",
    ] {
        sqlx::query(sql).bind(store_id).bind(media_id).execute(&mut **tx).await?;
    }
    Ok(keys)
}

/// The blob keys (full images and thumbnails) that rows of these media
/// name. Callers keep the list to a few hundred ids.
pub async fn keys_of(pool: &sqlx::AnyPool, store_id: &str, media_ids: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (2..2 + media_ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let mut keys = Vec::new();
    for sql in [
        format!("SELECT blob_key FROM product_media WHERE store_id = $1 AND id IN ({list})"),
        format!("SELECT blob_key FROM product_media_thumbs WHERE store_id = $1 AND media_id IN ({list})"),
    ] {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(store_id);
        for id in media_ids {
            q = q.bind(*id);
        }
        keys.extend(q.fetch_all(pool).await?);
    }
    Ok(keys)
}

/// The content type of a stored file when `blob_key` is the full image or
/// a thumbnail of this store's media `media_id`; `None` otherwise.
pub async fn content_type_of<'e, E>(
    ex: E,
    store_id: &str,
    media_id: &str,
    blob_key: &str,
) -> Result<Option<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT m.content_type FROM product_media m
         WHERE m.store_id = $1 AND m.id = $2 AND (m.blob_key = $3 OR EXISTS (
             SELECT 1 FROM product_media_thumbs t WHERE t.store_id = $1 AND t.media_id = $2 AND t.blob_key = $3))",
    )
    .bind(store_id)
    .bind(media_id)
    .bind(blob_key)
    .fetch_optional(ex)
    .await
}
