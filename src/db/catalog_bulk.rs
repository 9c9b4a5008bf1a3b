//! SQL for saving many products at once: lookups over a list of keys in
//! one statement, and multi-row inserts. Callers keep lists to a few
//! hundred keys (bound parameters are limited: 32,766 on SQLite, 65,535 on
//! PostgreSQL).

use sqlx::Row;

use super::Tx;

/// Bound parameters per statement, well under both engines' limits.
const MAX_PARAMS: usize = 10_000;

/// A value for a multi-row insert.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for all rows, in as few
/// statements as the parameter limit allows.
pub async fn insert_rows(tx: &mut Tx, table: &str, columns: &[&str], rows: &[Vec<Cell>]) -> Result<(), sqlx::Error> {
    let per = (MAX_PARAMS / columns.len()).max(1);
    for chunk in rows.chunks(per) {
        let mut n = 0;
        let values: Vec<String> = chunk
            .iter()
            .map(|_| {
                let cells: Vec<String> = (0..columns.len())
                    .map(|_| {
                        n += 1;
                        format!("${n}")
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), values.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for cell in row {
                q = match cell {
                    Cell::Text(s) => q.bind(s.clone()),
                    Cell::OptText(s) => q.bind(s.clone()),
                    Cell::Int(i) => q.bind(*i),
                    Cell::OptInt(i) => q.bind(*i),
                };
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

async fn by_keys<'e, E>(
    ex: E,
    sql_prefix: &str,
    store_id: &str,
    keys: &[String],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{sql_prefix} ({})", placeholders(2, keys.len()));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for k in keys {
        q = q.bind(k);
    }
    q.fetch_all(ex).await
}

/// (sku, product id) for those of the SKUs that exist.
pub async fn owners_of_skus<'e, E>(ex: E, store_id: &str, skus: &[String]) -> Result<Vec<(String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    by_keys(ex, "SELECT sku, product_id FROM variants WHERE store_id = $1 AND sku IN", store_id, skus)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("product_id")?)))
        .collect()
}

/// (language, slug, product id) for those of the slugs in use.
pub async fn owners_of_slugs<'e, E>(
    ex: E,
    store_id: &str,
    slugs: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    by_keys(ex, "SELECT lang, slug, product_id FROM product_texts WHERE store_id = $1 AND slug IN", store_id, slugs)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("lang")?, r.try_get("slug")?, r.try_get("product_id")?)))
        .collect()
}

/// (id, created_at) of those of the products that exist.
pub async fn existing_products<'e, E>(ex: E, store_id: &str, ids: &[String]) -> Result<Vec<(String, i64)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    by_keys(ex, "SELECT id, created_at FROM products WHERE store_id = $1 AND id IN", store_id, ids)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("created_at")?)))
        .collect()
}

/// (product id, sku, variant id) of the products' variants.
pub async fn variants_of<'e, E>(
    ex: E,
    store_id: &str,
    product_ids: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    by_keys(ex, "SELECT product_id, sku, id FROM variants WHERE store_id = $1 AND product_id IN", store_id, product_ids)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("product_id")?, r.try_get("sku")?, r.try_get("id")?)))
        .collect()
}
