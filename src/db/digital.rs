//! SQL for digital goods: a product's files, its licence key pool (a key
//! is handed out by a guarded update, so two orders never get the same
//! one), and download grants (counted by a guarded update, so a link never
//! serves more than its limit).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{RunOn, Source, Tx, rows_as};

#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: String,
    pub product_id: String,
    pub file_name: String,
    pub content_type: String,
    pub byte_size: i64,
    pub blob_key: String,
    pub max_downloads: i64,
    pub valid_days: i64,
    pub created_at: i64,
}

const FILE_COLUMNS: &str =
    "id, product_id, file_name, content_type, byte_size, blob_key, max_downloads, valid_days, created_at";

fn file_row(r: &AnyRow) -> Result<FileRow, sqlx::Error> {
    Ok(FileRow {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        byte_size: r.try_get("byte_size")?,
        blob_key: r.try_get("blob_key")?,
        max_downloads: r.try_get("max_downloads")?,
        valid_days: r.try_get("valid_days")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_file(tx: &mut Tx, store_id: &str, f: &FileRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO digital_files (store_id, id, product_id, file_name, content_type, byte_size, blob_key,
             max_downloads, valid_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(store_id)
    .bind(&f.id)
    .bind(&f.product_id)
    .bind(&f.file_name)
    .bind(&f.content_type)
    .bind(f.byte_size)
    .bind(&f.blob_key)
    .bind(f.max_downloads)
    .bind(f.valid_days)
    .bind(f.created_at)
    .execute_on(tx)
    .await?;
    Ok(())
}

/// The files of some products, oldest first.
pub async fn files_of(ex: impl Source, store_id: &str, product_ids: &[&str]) -> Result<Vec<FileRow>, sqlx::Error> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..product_ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {FILE_COLUMNS} FROM digital_files WHERE store_id = $1 AND product_id IN ({})
         ORDER BY created_at, id",
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in product_ids {
        q = q.bind(*id);
    }
    q.fetch_all_on(ex).await?.iter().map(file_row).collect()
}

pub async fn file(ex: impl Source, store_id: &str, id: &str) -> Result<Option<FileRow>, sqlx::Error> {
    let sql = format!("SELECT {FILE_COLUMNS} FROM digital_files WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional_on(ex)
        .await?
        .as_ref()
        .map(file_row)
        .transpose()
}

pub async fn delete_file(tx: &mut Tx, store_id: &str, product_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM digital_files WHERE store_id = $1 AND product_id = $2 AND id = $3")
        .bind(store_id)
        .bind(product_id)
        .bind(id)
        .execute_on(tx)
        .await?
        .rows_affected()
        == 1)
}

/// Adds a key to a product's pool; false when the product already has it.
pub async fn insert_key(
    tx: &mut Tx,
    store_id: &str,
    product_id: &str,
    id: &str,
    key_enc: &str,
    key_index: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let exists = sqlx::query("SELECT 1 FROM licence_keys WHERE store_id = $1 AND product_id = $2 AND key_index = $3")
        .bind(store_id)
        .bind(product_id)
        .bind(key_index)
        .fetch_optional_on(&mut *tx)
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO licence_keys (store_id, id, product_id, key_enc, key_index, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(store_id)
    .bind(id)
    .bind(product_id)
    .bind(key_enc)
    .bind(key_index)
    .bind(now)
    .execute_on(tx)
    .await?;
    Ok(true)
}

/// (free, handed out) keys of a product.
pub async fn key_counts(ex: impl Source, store_id: &str, product_id: &str) -> Result<(i64, i64), sqlx::Error> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN order_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS free,
                CAST(COALESCE(SUM(CASE WHEN order_id IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) AS used
         FROM licence_keys WHERE store_id = $1 AND product_id = $2",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_one_on(ex)
    .await?;
    Ok((r.try_get("free")?, r.try_get("used")?))
}

/// Which of these products sell licence keys (have a pool at all).
pub async fn products_with_keys(tx: &mut Tx, store_id: &str, product_ids: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..product_ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT DISTINCT product_id FROM licence_keys WHERE store_id = $1 AND product_id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in product_ids {
        q = q.bind(*id);
    }
    q.fetch_all_on(&mut *tx).await?.iter().map(|r| r.try_get(0)).collect()
}

/// Hands the oldest free key of a product to an order line: its id and
/// sealed value. `None` when
/// the pool is empty. The update re-checks that the key is still free, so
/// a key taken by a concurrent transaction is skipped, never shared.
pub async fn take_key(
    tx: &mut Tx,
    store_id: &str,
    product_id: &str,
    order_id: &str,
    line_no: i64,
    now: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    // A few rounds: each lost race means another order got that key.
    for _ in 0..16 {
        let candidate = sqlx::query(
            "SELECT id, key_enc FROM licence_keys WHERE store_id = $1 AND product_id = $2 AND order_id IS NULL
             ORDER BY created_at, id LIMIT 1",
        )
        .bind(store_id)
        .bind(product_id)
        .fetch_optional_on(&mut *tx)
        .await?;
        let Some(row) = candidate else { return Ok(None) };
        let (id, sealed): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let taken = sqlx::query(
            "UPDATE licence_keys SET order_id = $3, line_no = $4, assigned_at = $5
             WHERE store_id = $1 AND id = $2 AND order_id IS NULL",
        )
        .bind(store_id)
        .bind(&id)
        .bind(order_id)
        .bind(line_no)
        .bind(now)
        .execute_on(tx)
        .await?
        .rows_affected()
            == 1;
        if taken {
            return Ok(Some((id, sealed)));
        }
    }
    Ok(None)
}

/// (line_no, sealed key, key id) handed to an order, in order given.
pub async fn keys_of_order(
    ex: impl Source,
    store_id: &str,
    order_id: &str,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let q = sqlx::query(
        "SELECT line_no, key_enc, id FROM licence_keys WHERE store_id = $1 AND order_id = $2
         ORDER BY line_no, assigned_at, id",
    )
    .bind(store_id)
    .bind(order_id);
    rows_as(q.fetch_all_on(ex).await?)
}

/// Paid, confirmed orders' digital lines of a product not yet delivered
/// (waiting for keys, or for the product's first file or key):
/// (order_id, line_no, units without a key).
pub async fn waiting_lines(
    tx: &mut Tx,
    store_id: &str,
    product_id: &str,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let q = sqlx::query(
        "SELECT l.order_id, l.line_no,
                l.quantity - CAST((SELECT COUNT(*) FROM licence_keys k
                    WHERE k.store_id = l.store_id AND k.order_id = l.order_id AND k.line_no = l.line_no) AS BIGINT)
         FROM order_lines l JOIN orders o ON o.store_id = l.store_id AND o.id = l.order_id
         WHERE l.store_id = $1 AND l.product_id = $2 AND l.kind = 'digital' AND l.shipped < l.quantity
           AND o.payment_status = 'paid' AND o.status IN ('confirmed', 'partially_fulfilled')
         ORDER BY o.placed_at, l.order_id, l.line_no",
    )
    .bind(store_id)
    .bind(product_id);
    rows_as(q.fetch_all_on(&mut *tx).await?)
}

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: String,
    pub order_id: String,
    pub line_no: i64,
    pub file_id: String,
    pub expires_at: i64,
    pub max_downloads: i64,
    pub downloads: i64,
    pub created_at: i64,
}

fn grant_row(r: &AnyRow) -> Result<GrantRow, sqlx::Error> {
    Ok(GrantRow {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        line_no: r.try_get("line_no")?,
        file_id: r.try_get("file_id")?,
        expires_at: r.try_get("expires_at")?,
        max_downloads: r.try_get("max_downloads")?,
        downloads: r.try_get("downloads")?,
        created_at: r.try_get("created_at")?,
    })
}

const GRANT_COLUMNS: &str = "id, order_id, line_no, file_id, expires_at, max_downloads, downloads, created_at";

pub async fn insert_grant(tx: &mut Tx, store_id: &str, g: &GrantRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO download_grants (store_id, id, order_id, line_no, file_id, expires_at, max_downloads, downloads,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
    )
    .bind(store_id)
    .bind(&g.id)
    .bind(&g.order_id)
    .bind(g.line_no)
    .bind(&g.file_id)
    .bind(g.expires_at)
    .bind(g.max_downloads)
    .bind(g.created_at)
    .execute_on(tx)
    .await?;
    Ok(())
}

pub async fn grants_of_order(ex: impl Source, store_id: &str, order_id: &str) -> Result<Vec<GrantRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM download_grants WHERE store_id = $1 AND order_id = $2 ORDER BY line_no, created_at, id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(order_id)
        .fetch_all_on(ex)
        .await?
        .iter()
        .map(grant_row)
        .collect()
}

pub async fn grant(ex: impl Source, store_id: &str, id: &str) -> Result<Option<GrantRow>, sqlx::Error> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM download_grants WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional_on(ex)
        .await?
        .as_ref()
        .map(grant_row)
        .transpose()
}

/// Counts one download, only while the grant is unexpired and under its
/// limit; false when it is not (concurrent downloads cannot overrun it).
pub async fn count_download(tx: &mut Tx, store_id: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE download_grants SET downloads = downloads + 1
         WHERE store_id = $1 AND id = $2 AND downloads < max_downloads AND expires_at > $3",
    )
    .bind(store_id)
    .bind(id)
    .bind(now)
    .execute_on(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Ends an order's links (a refund or cancellation takes the goods back).
pub async fn revoke_grants(tx: &mut Tx, store_id: &str, order_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE download_grants SET expires_at = $3 WHERE store_id = $1 AND order_id = $2 AND expires_at > $3",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(now)
    .execute_on(tx)
    .await?
    .rows_affected())
}

/// Starts a grant over: a new expiry and no downloads counted.
pub async fn renew_grant(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    expires_at: i64,
    max_downloads: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE download_grants SET expires_at = $3, max_downloads = $4, downloads = 0 WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(id)
    .bind(expires_at)
    .bind(max_downloads)
    .execute_on(tx)
    .await?;
    Ok(())
}
