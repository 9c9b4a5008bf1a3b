//! SQL for channels, products, their texts, variants and prices. A product
//! is written whole (texts, variants and prices replaced together) inside
//! the caller's transaction.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub prices_include_tax: bool,
}

fn channel_from_row(r: &sqlx::any::AnyRow) -> Result<ChannelRow, sqlx::Error> {
    Ok(ChannelRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        currency: r.try_get("currency")?,
        prices_include_tax: r.try_get::<i64, _>("prices_include_tax")? != 0,
    })
}

pub async fn insert_channel(tx: &mut Tx, store_id: &str, c: &ChannelRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO channels (store_id, id, code, name, currency, prices_include_tax, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(store_id)
    .bind(&c.id)
    .bind(&c.code)
    .bind(&c.name)
    .bind(&c.currency)
    .bind(i64::from(c.prices_include_tax))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn channels<'e, E>(ex: E, store_id: &str) -> Result<Vec<ChannelRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, code, name, currency, prices_include_tax FROM channels WHERE store_id = $1 ORDER BY code LIMIT 200",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(channel_from_row)
    .collect()
}

#[derive(Debug, Clone)]
pub struct ProductRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub tags: Vec<String>,
    /// Which tax rates apply (`standard`, `reduced`, `exempt`, or the store's own).
    pub tax_class: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct TextRow {
    pub lang: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub seo_title: String,
    pub seo_description: String,
}

#[derive(Debug, Clone)]
pub struct VariantRow {
    pub id: String,
    pub sku: String,
    pub gtin: Option<String>,
    pub options: Vec<(String, String)>,
    pub weight_grams: Option<i64>,
    pub position: i64,
}

#[derive(Debug, Clone)]
pub struct PriceRow {
    pub channel_id: String,
    pub variant_id: String,
    pub min_qty: i64,
    pub amount: i64,
    pub sale_amount: Option<i64>,
    pub sale_starts_at: Option<i64>,
    pub sale_ends_at: Option<i64>,
}

/// Inserts or replaces a product with all its parts.
pub async fn save_product(
    tx: &mut Tx,
    store_id: &str,
    p: &ProductRow,
    texts: &[TextRow],
    variants: &[VariantRow],
    prices: &[PriceRow],
) -> Result<(), sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE products SET kind = $1, status = $2, publish_at = $3, unpublish_at = $4, tags = $5, updated_at = $6,
             tax_class = $9
         WHERE store_id = $7 AND id = $8",
    )
    .bind(&p.kind)
    .bind(&p.status)
    .bind(p.publish_at)
    .bind(p.unpublish_at)
    .bind(serde_json::to_string(&p.tags).unwrap_or_else(|_| "[]".into()))
    .bind(p.updated_at)
    .bind(store_id)
    .bind(&p.id)
    .bind(&p.tax_class)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO products (store_id, id, kind, status, publish_at, unpublish_at, tags, created_at, updated_at,
                 tax_class)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(store_id)
        .bind(&p.id)
        .bind(&p.kind)
        .bind(&p.status)
        .bind(p.publish_at)
        .bind(p.unpublish_at)
        .bind(serde_json::to_string(&p.tags).unwrap_or_else(|_| "[]".into()))
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(&p.tax_class)
        .execute(&mut **tx)
        .await?;
    }
    for table in ["product_texts", "prices", "variants"] {
        let sql = match table {
            "prices" => {
                "DELETE FROM prices WHERE store_id = $1 AND variant_id IN (SELECT id FROM variants WHERE store_id = $1 AND product_id = $2)"
            }
            "product_texts" => "DELETE FROM product_texts WHERE store_id = $1 AND product_id = $2",
            _ => "DELETE FROM variants WHERE store_id = $1 AND product_id = $2",
        };
        sqlx::query(sql).bind(store_id).bind(&p.id).execute(&mut **tx).await?;
    }
    for t in texts {
        sqlx::query(
            "INSERT INTO product_texts (store_id, product_id, lang, name, slug, description, seo_title, seo_description)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(store_id)
        .bind(&p.id)
        .bind(&t.lang)
        .bind(&t.name)
        .bind(&t.slug)
        .bind(&t.description)
        .bind(&t.seo_title)
        .bind(&t.seo_description)
        .execute(&mut **tx)
        .await?;
    }
    for v in variants {
        sqlx::query(
            "INSERT INTO variants (store_id, id, product_id, sku, gtin, options, weight_grams, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(store_id)
        .bind(&v.id)
        .bind(&p.id)
        .bind(&v.sku)
        .bind(&v.gtin)
        .bind(serde_json::to_string(&v.options).unwrap_or_else(|_| "[]".into()))
        .bind(v.weight_grams)
        .bind(v.position)
        .execute(&mut **tx)
        .await?;
    }
    for pr in prices {
        sqlx::query(
            "INSERT INTO prices (store_id, channel_id, variant_id, min_qty, amount, sale_amount, sale_starts_at, sale_ends_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(store_id)
        .bind(&pr.channel_id)
        .bind(&pr.variant_id)
        .bind(pr.min_qty)
        .bind(pr.amount)
        .bind(pr.sale_amount)
        .bind(pr.sale_starts_at)
        .bind(pr.sale_ends_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn product<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<ProductRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT id, kind, status, publish_at, unpublish_at, tags, tax_class, created_at, updated_at
         FROM products WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        let tags: String = r.try_get("tags")?;
        Ok(ProductRow {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            status: r.try_get("status")?,
            publish_at: r.try_get("publish_at")?,
            unpublish_at: r.try_get("unpublish_at")?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            tax_class: r.try_get("tax_class")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// The product a slug names in a language (or, failing that, any language).
pub async fn product_id_by_slug<'e, E>(ex: E, store_id: &str, slug: &str) -> Result<Option<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    // Sorted here, not in SQL: with `ORDER BY lang` SQLite prefers the
    // (store, lang, slug) index for its order and scans the whole store.
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT lang, product_id FROM product_texts WHERE store_id = $1 AND slug = $2")
            .bind(store_id)
            .bind(slug)
            .fetch_all(ex)
            .await?;
    Ok(rows.into_iter().min().map(|(_, id)| id))
}

pub async fn texts<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<TextRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT lang, name, slug, description, seo_title, seo_description FROM product_texts
         WHERE store_id = $1 AND product_id = $2 ORDER BY lang",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TextRow {
                lang: r.try_get("lang")?,
                name: r.try_get("name")?,
                slug: r.try_get("slug")?,
                description: r.try_get("description")?,
                seo_title: r.try_get("seo_title")?,
                seo_description: r.try_get("seo_description")?,
            })
        })
        .collect()
}

pub async fn variants<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<VariantRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, sku, gtin, options, weight_grams, position FROM variants WHERE store_id = $1 AND product_id = $2 ORDER BY position",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            let options: String = r.try_get("options")?;
            Ok(VariantRow {
                id: r.try_get("id")?,
                sku: r.try_get("sku")?,
                gtin: r.try_get("gtin")?,
                options: serde_json::from_str(&options).unwrap_or_default(),
                weight_grams: r.try_get("weight_grams")?,
                position: r.try_get("position")?,
            })
        })
        .collect()
}

pub async fn prices<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<PriceRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        // Driven by the variant ids (primary-key prefix of prices), so the
        // planner cannot start from every price of the store.
        "SELECT p.channel_id, p.variant_id, p.min_qty, p.amount, p.sale_amount, p.sale_starts_at, p.sale_ends_at
         FROM prices p
         WHERE p.store_id = $1 AND p.variant_id IN (SELECT id FROM variants WHERE store_id = $1 AND product_id = $2)
         ORDER BY p.variant_id, p.channel_id, p.min_qty",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PriceRow {
                channel_id: r.try_get("channel_id")?,
                variant_id: r.try_get("variant_id")?,
                min_qty: r.try_get("min_qty")?,
                amount: r.try_get("amount")?,
                sale_amount: r.try_get("sale_amount")?,
                sale_starts_at: r.try_get("sale_starts_at")?,
                sale_ends_at: r.try_get("sale_ends_at")?,
            })
        })
        .collect()
}

/// One variant's price tiers in one channel.
pub async fn variant_prices<'e, E>(
    ex: E,
    store_id: &str,
    variant_id: &str,
    channel_id: &str,
) -> Result<Vec<crate::domain::catalog::PriceTier>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT min_qty, amount, sale_amount, sale_starts_at, sale_ends_at FROM prices
         WHERE store_id = $1 AND variant_id = $2 AND channel_id = $3 ORDER BY min_qty",
    )
    .bind(store_id)
    .bind(variant_id)
    .bind(channel_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(crate::domain::catalog::PriceTier {
            min_qty: r.try_get("min_qty")?,
            amount: r.try_get("amount")?,
            sale_amount: r.try_get("sale_amount")?,
            sale_starts_at: r.try_get("sale_starts_at")?,
            sale_ends_at: r.try_get("sale_ends_at")?,
        })
    })
    .collect()
}

/// The SQL twin of `domain::catalog::is_visible`, for listing pages
/// (`$2` is the current time).
const VISIBLE: &str = "((status = 'published' AND (publish_at IS NULL OR publish_at <= $2))
       OR (status = 'draft' AND publish_at IS NOT NULL AND publish_at <= $2))
      AND (unpublish_at IS NULL OR unpublish_at > $2)";

/// Ids of the newest products customers can see now.
pub async fn visible_ids<'e, E>(ex: E, store_id: &str, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT id FROM products WHERE store_id = $1 AND {VISIBLE} ORDER BY id DESC LIMIT $3");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(now).bind(limit).fetch_all(ex).await
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// (product id, language, name, slug) for the given products, one query.
pub async fn names_for<'e, E>(
    ex: E,
    store_id: &str,
    ids: &[String],
) -> Result<Vec<(String, String, String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT product_id, lang, name, slug FROM product_texts WHERE store_id = $1 AND product_id IN ({})",
        placeholders(2, ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("product_id")?, r.try_get("lang")?, r.try_get("name")?, r.try_get("slug")?)))
        .collect()
}

/// Single-unit price rows of the given products in a channel, one query:
/// (product id, amount, sale amount, sale start, sale end).
pub async fn unit_prices_for<'e, E>(
    ex: E,
    store_id: &str,
    channel_id: &str,
    ids: &[String],
) -> Result<Vec<(String, i64, Option<i64>, Option<i64>, Option<i64>)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT (SELECT v.product_id FROM variants v WHERE v.store_id = p.store_id AND v.id = p.variant_id) AS product_id,
                p.amount, p.sale_amount, p.sale_starts_at, p.sale_ends_at
         FROM prices p
         WHERE p.store_id = $1 AND p.channel_id = $2 AND p.min_qty = 1
           AND p.variant_id IN (SELECT id FROM variants WHERE store_id = $1 AND product_id IN ({}))",
        placeholders(3, ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(channel_id);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("product_id")?,
                r.try_get("amount")?,
                r.try_get("sale_amount")?,
                r.try_get("sale_starts_at")?,
                r.try_get("sale_ends_at")?,
            ))
        })
        .collect()
}

/// [`VISIBLE`] for a query that names the products table `p`.
pub const VISIBLE_AS_P: &str = "((p.status = 'published' AND (p.publish_at IS NULL OR p.publish_at <= $2))
       OR (p.status = 'draft' AND p.publish_at IS NOT NULL AND p.publish_at <= $2))
      AND (p.unpublish_at IS NULL OR p.unpublish_at > $2)";

/// (slug, language, updated_at) of every visible product, for the sitemap.
pub async fn visible_slugs<'e, E>(
    ex: E,
    store_id: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<(String, String, i64)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT t.slug, t.lang, p.updated_at FROM products p JOIN product_texts t ON t.store_id = p.store_id AND t.product_id = p.id
         WHERE p.store_id = $1 AND {VISIBLE_AS_P} ORDER BY p.id, t.lang LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(now)
        .bind(limit)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("slug")?, r.try_get("lang")?, r.try_get("updated_at")?)))
        .collect()
}
