//! SQL for saving many products at once: lookups over a list of keys in
//! one statement, and multi-row inserts. Callers keep lists to a few
//! hundred keys (bound parameters are limited: 32,766 on SQLite, 65,535 on
//! PostgreSQL).

use sqlx::Row;

use super::{Db, Dialect, Tx};

/// Bound parameters per statement, well under both engines' limits. More
/// per statement saves round trips but costs more to parse; this measured
/// best on SQLite.
const MAX_PARAMS: usize = 1_000;

/// A value for a multi-row insert.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for all rows, in as few
/// statements as the parameter limit allows. On SQLite the placeholders are
/// plain `?`: SQLite looks each `$N` name up in a list, which turns a
/// statement with many of them quadratic (measured: 3× slower imports).
pub async fn insert_rows(
    tx: &mut Tx,
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Cell>],
) -> Result<(), sqlx::Error> {
    let per = (MAX_PARAMS / columns.len()).max(1);
    for chunk in rows.chunks(per) {
        let mut n = 0;
        let values: Vec<String> = chunk
            .iter()
            .map(|_| {
                let cells: Vec<String> = (0..columns.len())
                    .map(|_| {
                        n += 1;
                        match dialect {
                            Dialect::Sqlite => "?".to_string(),
                            Dialect::Postgres => format!("${n}"),
                        }
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

/// `$from, …`, or `?, …` on SQLite (see [`insert_rows`]).
fn placeholders(dialect: Dialect, from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| match dialect {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${i}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SELECT … FROM {table} WHERE store_id = <store> AND {column} IN (keys…)`.
async fn by_keys(
    db: &Db,
    select: &str,
    column: &str,
    store_id: &str,
    keys: &[String],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = db.dialect();
    let sql = format!(
        "{select} WHERE store_id = {} AND {column} IN ({})",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, keys.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for k in keys {
        q = q.bind(k);
    }
    q.fetch_all(db.pool()).await
}

/// (sku, product id) for those of the SKUs that exist.
pub async fn owners_of_skus(db: &Db, store_id: &str, skus: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    by_keys(db, "SELECT sku, product_id FROM variants", "sku", store_id, skus)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("product_id")?)))
        .collect()
}

/// (language, slug, product id) for those of the slugs in use.
pub async fn owners_of_slugs(
    db: &Db,
    store_id: &str,
    slugs: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    by_keys(db, "SELECT lang, slug, product_id FROM product_texts", "slug", store_id, slugs)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("lang")?, r.try_get("slug")?, r.try_get("product_id")?)))
        .collect()
}

/// (id, created_at) of those of the products that exist.
pub async fn existing_products(db: &Db, store_id: &str, ids: &[String]) -> Result<Vec<(String, i64)>, sqlx::Error> {
    by_keys(db, "SELECT id, created_at FROM products", "id", store_id, ids)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("created_at")?)))
        .collect()
}

/// (product id, sku, variant id) of the products' variants.
pub async fn variants_of(
    db: &Db,
    store_id: &str,
    product_ids: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    by_keys(db, "SELECT product_id, sku, id FROM variants", "product_id", store_id, product_ids)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("product_id")?, r.try_get("sku")?, r.try_get("id")?)))
        .collect()
}
