//! Reads that feed the search index: products in bulk (by id range for a
//! rebuild, by id list for updates) and the catalog events it follows.

use sqlx::{AnyPool, Row};

use super::catalog_bulk::placeholders;
use super::{Db, Dialect};

/// Which products of a store to read.
pub enum Selection<'a> {
    /// Ids in `[first, last]`, as a rebuild walks the table in id order.
    Range(&'a str, &'a str),
    /// These ids.
    Ids(&'a [String]),
}

impl Selection<'_> {
    /// `store_column = <store> AND` the condition on `column`. Placeholders
    /// are plain `?` on SQLite: it looks `$N` names up one by one, which
    /// makes a 2,000-id statement take seconds (see `catalog_bulk`).
    fn condition(&self, dialect: Dialect, store_column: &str, column: &str) -> String {
        let store = placeholders(dialect, 1, 1);
        match self {
            Selection::Range(..) => {
                let (first, last) = (placeholders(dialect, 2, 1), placeholders(dialect, 3, 1));
                format!("{store_column} = {store} AND {column} >= {first} AND {column} <= {last}")
            }
            Selection::Ids(ids) => {
                format!("{store_column} = {store} AND {column} IN ({})", placeholders(dialect, 2, ids.len()))
            }
        }
    }

    fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        match self {
            Selection::Range(a, b) => q.bind(*a).bind(*b),
            Selection::Ids(ids) => {
                for id in *ids {
                    q = q.bind(id.as_str());
                }
                q
            }
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Selection::Ids(ids) if ids.is_empty())
    }
}

pub struct ProductRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub tags: String,
    pub created_at: i64,
}

pub struct TextRow {
    pub product_id: String,
    pub lang: String,
    pub name: String,
    pub slug: String,
    pub description: String,
}

pub struct VariantRow {
    pub product_id: String,
    pub sku: String,
    pub options: String,
}

pub struct PriceRow {
    pub product_id: String,
    pub channel_id: String,
    pub amount: i64,
    pub sale_amount: Option<i64>,
    pub sale_starts_at: Option<i64>,
    pub sale_ends_at: Option<i64>,
}

/// Everything the index needs of the selected products, five queries.
pub struct Batch {
    pub products: Vec<ProductRow>,
    pub texts: Vec<TextRow>,
    pub variants: Vec<VariantRow>,
    pub prices: Vec<PriceRow>,
    pub categories: Vec<(String, String)>,
    pub attributes: Vec<(String, String, String)>,
}

/// Runs `sql` for the selection and maps every row.
async fn select<T>(
    pool: &AnyPool,
    sql: String,
    store_id: &str,
    sel: &Selection<'_>,
    map: impl Fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error> {
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    sel.bind(q).fetch_all(pool).await?.iter().map(map).collect()
}

pub async fn batch(db: &Db, store_id: &str, sel: &Selection<'_>) -> Result<Batch, sqlx::Error> {
    let (pool, dialect) = (db.pool(), db.dialect());
    let empty = Batch {
        products: vec![],
        texts: vec![],
        variants: vec![],
        prices: vec![],
        categories: vec![],
        attributes: vec![],
    };
    if sel.is_empty() {
        return Ok(empty);
    }
    let products = select(
        pool,
        format!(
            "SELECT id, kind, status, publish_at, unpublish_at, tags, created_at FROM products
             WHERE {} ORDER BY id",
            sel.condition(dialect, "store_id", "id")
        ),
        store_id,
        sel,
        |r| {
            Ok(ProductRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                publish_at: r.try_get("publish_at")?,
                unpublish_at: r.try_get("unpublish_at")?,
                tags: r.try_get("tags")?,
                created_at: r.try_get("created_at")?,
            })
        },
    )
    .await?;
    let by_product = |table: &str, columns: &str| {
        format!("SELECT {columns} FROM {table} WHERE {}", sel.condition(dialect, "store_id", "product_id"))
    };
    let texts =
        select(pool, by_product("product_texts", "product_id, lang, name, slug, description"), store_id, sel, |r| {
            Ok(TextRow {
                product_id: r.try_get("product_id")?,
                lang: r.try_get("lang")?,
                name: r.try_get("name")?,
                slug: r.try_get("slug")?,
                description: r.try_get("description")?,
            })
        })
        .await?;
    let variants = select(
        pool,
        by_product("variants", "product_id, sku, options") + " ORDER BY product_id, position",
        store_id,
        sel,
        |r| {
            Ok(VariantRow {
                product_id: r.try_get("product_id")?,
                sku: r.try_get("sku")?,
                options: r.try_get("options")?,
            })
        },
    )
    .await?;
    let prices = select(
        pool,
        format!(
            "SELECT v.product_id, p.channel_id, p.amount, p.sale_amount, p.sale_starts_at, p.sale_ends_at
             FROM variants v JOIN prices p ON p.store_id = v.store_id AND p.variant_id = v.id
             WHERE {} AND p.min_qty = 1",
            sel.condition(dialect, "v.store_id", "v.product_id")
        ),
        store_id,
        sel,
        |r| {
            Ok(PriceRow {
                product_id: r.try_get("product_id")?,
                channel_id: r.try_get("channel_id")?,
                amount: r.try_get("amount")?,
                sale_amount: r.try_get("sale_amount")?,
                sale_starts_at: r.try_get("sale_starts_at")?,
                sale_ends_at: r.try_get("sale_ends_at")?,
            })
        },
    )
    .await?;
    let categories = select(pool, by_product("product_categories", "product_id, category_id"), store_id, sel, |r| {
        Ok((r.try_get("product_id")?, r.try_get("category_id")?))
    })
    .await?;
    let attributes =
        select(pool, by_product("product_attributes", "product_id, attribute_id, value"), store_id, sel, |r| {
            Ok((r.try_get("product_id")?, r.try_get("attribute_id")?, r.try_get("value")?))
        })
        .await?;
    Ok(Batch { products, texts, variants, prices, categories, attributes })
}

/// Up to `limit` product ids of a store after `after` (a rebuild's page).
pub async fn product_ids_after(
    pool: &AnyPool,
    store_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM products WHERE store_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(store_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
}

pub async fn product_count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM products").fetch_one(pool).await
}

pub struct EventRow {
    pub id: String,
    pub store_id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
}

/// Events of every store created after `since` (ms), oldest first.
pub async fn events_since(pool: &AnyPool, since: i64, limit: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, store_id, event_type, payload, created_at FROM outbox_events
         WHERE created_at > $1 ORDER BY created_at, id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(EventRow {
            id: r.try_get("id")?,
            store_id: r.try_get("store_id")?,
            event_type: r.try_get("event_type")?,
            payload: r.try_get("payload")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

/// Ids of the newest events created after `since` (at most `limit`).
pub async fn event_ids_since(pool: &AnyPool, since: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM outbox_events WHERE created_at > $1 ORDER BY created_at DESC, id DESC LIMIT $2")
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// (store, product) pairs whose sale price started or ended in `(from, to]`:
/// their indexed price changed without anybody saving them.
pub async fn sale_boundaries(pool: &AnyPool, from: i64, to: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT DISTINCT v.store_id, v.product_id FROM prices p
         JOIN variants v ON v.store_id = p.store_id AND v.id = p.variant_id
         WHERE (p.sale_starts_at > $1 AND p.sale_starts_at <= $2) OR (p.sale_ends_at > $1 AND p.sale_ends_at <= $2)",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("store_id")?, r.try_get("product_id")?)))
    .collect()
}
