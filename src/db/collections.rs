//! SQL for collections, their texts and manual product lists.

use sqlx::Row;

use super::Tx;

pub struct CollectionRow {
    pub id: String,
    pub kind: String,
    pub rules: String,
    pub featured: bool,
    pub position: i64,
}

pub struct TextRow {
    pub collection_id: String,
    pub lang: String,
    pub name: String,
    pub slug: String,
    pub description: String,
}

/// Inserts or replaces a collection whole.
pub async fn save(
    tx: &mut Tx,
    store_id: &str,
    c: &CollectionRow,
    texts: &[TextRow],
    products: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    for table in ["collection_texts", "collection_products"] {
        let sql = format!("DELETE FROM {table} WHERE store_id = $1 AND collection_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(&c.id).execute(&mut **tx).await?;
    }
    let updated = sqlx::query(
        "UPDATE collections SET kind = $3, rules = $4, featured = $5, position = $6, updated_at = $7
         WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(&c.id)
    .bind(&c.kind)
    .bind(&c.rules)
    .bind(i64::from(c.featured))
    .bind(c.position)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO collections (store_id, id, kind, rules, featured, position, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(store_id)
        .bind(&c.id)
        .bind(&c.kind)
        .bind(&c.rules)
        .bind(i64::from(c.featured))
        .bind(c.position)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    for t in texts {
        sqlx::query(
            "INSERT INTO collection_texts (store_id, collection_id, lang, name, slug, description) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(store_id)
        .bind(&c.id)
        .bind(&t.lang)
        .bind(&t.name)
        .bind(&t.slug)
        .bind(&t.description)
        .execute(&mut **tx)
        .await?;
    }
    for (i, p) in products.iter().enumerate() {
        sqlx::query(
            "INSERT INTO collection_products (store_id, collection_id, product_id, position) VALUES ($1, $2, $3, $4)",
        )
        .bind(store_id)
        .bind(&c.id)
        .bind(p)
        .bind(i as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn all<'e, E>(ex: E, store_id: &str) -> Result<Vec<CollectionRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, kind, rules, featured, position FROM collections WHERE store_id = $1 ORDER BY position, id LIMIT 1000",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(CollectionRow {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            rules: r.try_get("rules")?,
            featured: r.try_get::<i64, _>("featured")? != 0,
            position: r.try_get("position")?,
        })
    })
    .collect()
}

pub async fn all_texts<'e, E>(ex: E, store_id: &str) -> Result<Vec<TextRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT collection_id, lang, name, slug, description FROM collection_texts WHERE store_id = $1 LIMIT 10000",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(TextRow {
            collection_id: r.try_get("collection_id")?,
            lang: r.try_get("lang")?,
            name: r.try_get("name")?,
            slug: r.try_get("slug")?,
            description: r.try_get("description")?,
        })
    })
    .collect()
}

pub async fn products<'e, E>(ex: E, store_id: &str, collection_id: &str) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT product_id FROM collection_products WHERE store_id = $1 AND collection_id = $2 ORDER BY position",
    )
    .bind(store_id)
    .bind(collection_id)
    .fetch_all(ex)
    .await
}

/// Every manual list of a store: (collection id, product id), in order.
pub async fn all_products<'e, E>(ex: E, store_id: &str) -> Result<Vec<(String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT collection_id, product_id FROM collection_products WHERE store_id = $1 ORDER BY collection_id, position",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("collection_id")?, r.try_get("product_id")?)))
    .collect()
}

/// Which of these product ids exist in the store, one query.
pub async fn existing_products<'e, E>(ex: E, store_id: &str, ids: &[String]) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ps: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT id FROM products WHERE store_id = $1 AND id IN ({})", ps.join(", "));
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(ex).await
}

/// The collection owning a slug in a language, if another one does.
pub async fn slug_owner(tx: &mut Tx, store_id: &str, lang: &str, slug: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT collection_id FROM collection_texts WHERE store_id = $1 AND lang = $2 AND slug = $3")
        .bind(store_id)
        .bind(lang)
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await
}
