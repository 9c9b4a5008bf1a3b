//! SQL for saving many products at once: lookups over a list of keys in
//! one statement, and multi-row inserts. Callers keep lists to a few
//! hundred keys (bound parameters are limited: 32,766 on SQLite, 65,535 on
//! PostgreSQL).

use sqlx::Row;

use super::{AnyQuery, Db, Dialect, Tx};

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
/// statement with many of them quadratic (10k products imported in 5.0 s
/// with `$N` in 200-parameter statements, 3.1 s with `?` in 1,000-parameter ones).
pub async fn insert_rows(
    tx: &mut Tx,
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    on_conflict: &str,
) -> Result<(), sqlx::Error> {
    for statement in insert_statements(dialect, table, columns, rows, on_conflict) {
        tx.write(statement).await?;
    }
    Ok(())
}

/// The statements [`insert_rows`] runs, built without a connection (so that
/// building the next ones can overlap running these).
pub fn insert_statements(
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    on_conflict: &str,
) -> Vec<AnyQuery<'static>> {
    let per = (MAX_PARAMS / columns.len()).max(1);
    let mut statements = Vec::with_capacity(rows.len().div_ceil(per));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
        // `?` on SQLite; numbered across the whole statement on PostgreSQL.
        let values = match dialect {
            Dialect::Sqlite => vec![format!("({})", placeholders(dialect, 1, columns.len())); chunk.len()].join(", "),
            Dialect::Postgres => (0..chunk.len())
                .map(|i| format!("({})", placeholders(dialect, 1 + i * columns.len(), columns.len())))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let sql = format!("INSERT INTO {table} ({}) VALUES {values} {on_conflict}", columns.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for cell in chunk.into_iter().flatten() {
            q = match cell {
                Cell::Text(s) => q.bind(s),
                Cell::OptText(s) => q.bind(s),
                Cell::Int(i) => q.bind(i),
                Cell::OptInt(i) => q.bind(i),
            };
        }
        statements.push(q);
    }
    statements
}

/// Statements deleting the texts, variants, prices, category links and
/// attribute values of some products (before writing them anew).
pub fn delete_parts_statements(dialect: Dialect, store_id: &str, ids: &[String]) -> Vec<AnyQuery<'static>> {
    if ids.is_empty() {
        return Vec::new();
    }
    let store = placeholders(dialect, 1, 1);
    let list = placeholders(dialect, 2, ids.len());
    [
        format!(
            "DELETE FROM prices WHERE store_id = {store} AND variant_id IN
             (SELECT id FROM variants WHERE store_id = {store} AND product_id IN ({list}))"
        ),
        format!("DELETE FROM variants WHERE store_id = {store} AND product_id IN ({list})"),
        format!("DELETE FROM product_texts WHERE store_id = {store} AND product_id IN ({list})"),
        format!("DELETE FROM product_categories WHERE store_id = {store} AND product_id IN ({list})"),
        format!("DELETE FROM product_attributes WHERE store_id = {store} AND product_id IN ({list})"),
    ]
    .into_iter()
    .map(|sql| {
        // SQLite's `?` are positional: the price statement names the store twice.
        let twice = dialect == Dialect::Sqlite && sql.starts_with("DELETE FROM prices");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id.to_string());
        if twice {
            q = q.bind(store_id.to_string());
        }
        for id in ids {
            q = q.bind(id.clone());
        }
        q
    })
    .collect()
}

/// `$from, …`, or `?, …` on SQLite (see [`insert_rows`]).
pub(super) fn placeholders(dialect: Dialect, from: usize, n: usize) -> String {
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

/// (product id, sku) of every variant of those of the products that exist.
pub async fn skus_of_products(
    db: &Db,
    store_id: &str,
    product_ids: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    by_keys(db, "SELECT product_id, sku FROM variants", "product_id", store_id, product_ids)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("product_id")?, r.try_get("sku")?)))
        .collect()
}

/// (sku, variant id) for those of the SKUs that exist.
pub async fn variant_ids_by_sku(
    db: &Db,
    store_id: &str,
    skus: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    by_keys(db, "SELECT sku, id FROM variants", "sku", store_id, skus)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("id")?)))
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

/// Everything about some products, for exports: a few queries whatever
/// their number. Rows carry their product id.
#[derive(Debug, Default)]
pub struct Loaded {
    /// (product, type id).
    pub products: Vec<(super::catalog::ProductRow, Option<String>)>,
    pub texts: Vec<(String, super::catalog::TextRow)>,
    pub variants: Vec<(String, super::catalog::VariantRow)>,
    pub prices: Vec<super::catalog::PriceRow>,
    /// (product id, category id).
    pub categories: Vec<(String, String)>,
    /// (product id, attribute id, JSON value).
    pub values: Vec<(String, String, String)>,
}

pub async fn load(db: &Db, store_id: &str, ids: &[String]) -> Result<Loaded, sqlx::Error> {
    let mut out = Loaded::default();
    for r in by_keys(
        db,
        "SELECT id, kind, status, publish_at, unpublish_at, tags, tax_class, created_at, updated_at, type_id FROM products",
        "id",
        store_id,
        ids,
    )
    .await?
    {
        let tags: String = r.try_get("tags")?;
        out.products.push((
            super::catalog::ProductRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                publish_at: r.try_get("publish_at")?,
                unpublish_at: r.try_get("unpublish_at")?,
                tags: serde_json::from_str(&tags).unwrap_or_default(),
                tax_class: r.try_get("tax_class")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            },
            r.try_get("type_id")?,
        ));
    }
    for r in by_keys(
        db,
        "SELECT product_id, lang, name, slug, description, seo_title, seo_description FROM product_texts",
        "product_id",
        store_id,
        ids,
    )
    .await?
    {
        out.texts.push((
            r.try_get("product_id")?,
            super::catalog::TextRow {
                lang: r.try_get("lang")?,
                name: r.try_get("name")?,
                slug: r.try_get("slug")?,
                description: r.try_get("description")?,
                seo_title: r.try_get("seo_title")?,
                seo_description: r.try_get("seo_description")?,
            },
        ));
    }
    for r in by_keys(
        db,
        "SELECT product_id, id, sku, gtin, options, weight_grams, position FROM variants",
        "product_id",
        store_id,
        ids,
    )
    .await?
    {
        let options: String = r.try_get("options")?;
        out.variants.push((
            r.try_get("product_id")?,
            super::catalog::VariantRow {
                id: r.try_get("id")?,
                sku: r.try_get("sku")?,
                gtin: r.try_get("gtin")?,
                options: serde_json::from_str(&options).unwrap_or_default(),
                weight_grams: r.try_get("weight_grams")?,
                position: r.try_get("position")?,
            },
        ));
    }
    out.variants.sort_by_key(|(_, v)| v.position);
    let variant_ids: Vec<String> = out.variants.iter().map(|(_, v)| v.id.clone()).collect();
    for chunk in variant_ids.chunks(2_000) {
        for r in by_keys(
            db,
            "SELECT channel_id, variant_id, min_qty, amount, sale_amount, sale_starts_at, sale_ends_at FROM prices",
            "variant_id",
            store_id,
            chunk,
        )
        .await?
        {
            out.prices.push(super::catalog::PriceRow {
                channel_id: r.try_get("channel_id")?,
                variant_id: r.try_get("variant_id")?,
                min_qty: r.try_get("min_qty")?,
                amount: r.try_get("amount")?,
                sale_amount: r.try_get("sale_amount")?,
                sale_starts_at: r.try_get("sale_starts_at")?,
                sale_ends_at: r.try_get("sale_ends_at")?,
            });
        }
    }
    out.prices.sort_by(|a, b| (&a.channel_id, a.min_qty).cmp(&(&b.channel_id, b.min_qty)));
    for r in by_keys(db, "SELECT product_id, category_id FROM product_categories", "product_id", store_id, ids).await? {
        out.categories.push((r.try_get("product_id")?, r.try_get("category_id")?));
    }
    out.categories.sort();
    for r in by_keys(db, "SELECT product_id, attribute_id, value FROM product_attributes", "product_id", store_id, ids)
        .await?
    {
        out.values.push((r.try_get("product_id")?, r.try_get("attribute_id")?, r.try_get("value")?));
    }
    Ok(out)
}
