//! SQL for carts and their lines, and the catalog facts a cart line needs
//! to be priced and ordered.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::catalog_bulk::placeholders;
use super::{Dialect, Tx};

#[derive(Debug, Clone)]
pub struct CartRow {
    pub id: String,
    pub token_hash: String,
    pub customer_id: Option<String>,
    pub channel_id: String,
    pub lang: String,
    pub contact_enc: String,
    /// JSON `{"method": code, "point": id}`, or empty when none is chosen.
    pub shipping_choice: String,
    /// JSON list of the coupon codes entered.
    pub coupon_codes: String,
    /// For a draft order: the staff member who started it; empty otherwise.
    pub draft_by: String,
    pub updated_at: i64,
}

fn cart(r: &AnyRow) -> Result<CartRow, sqlx::Error> {
    Ok(CartRow {
        id: r.try_get("id")?,
        token_hash: r.try_get("token_hash")?,
        customer_id: r.try_get("customer_id")?,
        channel_id: r.try_get("channel_id")?,
        lang: r.try_get("lang")?,
        contact_enc: r.try_get("contact_enc")?,
        shipping_choice: r.try_get("shipping_choice")?,
        coupon_codes: r.try_get("coupon_codes")?,
        draft_by: r.try_get("draft_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert(tx: &mut Tx, store_id: &str, c: &CartRow) -> Result<(), sqlx::Error> {
    tx.write(sqlx::query(
        "INSERT INTO carts (store_id, id, token_hash, customer_id, channel_id, lang, contact_enc, created_at, updated_at,
             draft_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
    )
    .bind(store_id)
    .bind(&c.id)
    .bind(&c.token_hash)
    .bind(&c.customer_id)
    .bind(&c.channel_id)
    .bind(&c.lang)
    .bind(&c.contact_enc)
    .bind(c.updated_at)
    .bind(&c.draft_by))
    .await?;
    Ok(())
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<CartRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, token_hash, customer_id, channel_id, lang, contact_enc, shipping_choice, coupon_codes, draft_by,
                updated_at
         FROM carts WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(id)
    .fetch_optional(ex)
    .await?
    .as_ref()
    .map(cart)
    .transpose()
}

/// A cart with its lines (variant, quantity) in the order they were
/// added, in one query.
pub async fn with_lines<'e, E>(
    ex: E,
    store_id: &str,
    id: &str,
) -> Result<Option<(CartRow, Vec<(String, i64)>)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT c.id, c.token_hash, c.customer_id, c.channel_id, c.lang, c.contact_enc, c.shipping_choice,
                c.coupon_codes, c.draft_by, c.updated_at, l.variant_id, l.quantity
         FROM carts c LEFT JOIN cart_lines l ON l.store_id = c.store_id AND l.cart_id = c.id
         WHERE c.store_id = $1 AND c.id = $2 ORDER BY l.added_at, l.variant_id",
    )
    .bind(store_id)
    .bind(id)
    .fetch_all(ex)
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(variant_id) = r.try_get::<Option<String>, _>("variant_id")? {
            lines.push((variant_id, r.try_get("quantity")?));
        }
    }
    Ok(Some((cart(first)?, lines)))
}

pub async fn update_contact(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    contact_enc: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query("UPDATE carts SET contact_enc = $3, updated_at = $4 WHERE store_id = $1 AND id = $2")
            .bind(store_id)
            .bind(id)
            .bind(contact_enc)
            .bind(now),
    )
    .await?;
    Ok(())
}

/// Sets a line's quantity (0 removes it) and touches the cart.
pub async fn set_line(
    tx: &mut Tx,
    store_id: &str,
    cart_id: &str,
    variant_id: &str,
    quantity: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    if quantity == 0 {
        tx.write(
            sqlx::query("DELETE FROM cart_lines WHERE store_id = $1 AND cart_id = $2 AND variant_id = $3")
                .bind(store_id)
                .bind(cart_id)
                .bind(variant_id),
        )
        .await?;
    } else {
        tx.write(
            sqlx::query(
                "INSERT INTO cart_lines (store_id, cart_id, variant_id, quantity, added_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (store_id, cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity",
            )
            .bind(store_id)
            .bind(cart_id)
            .bind(variant_id)
            .bind(quantity)
            .bind(now),
        )
        .await?;
    }
    tx.write(
        sqlx::query("UPDATE carts SET updated_at = $3 WHERE store_id = $1 AND id = $2")
            .bind(store_id)
            .bind(cart_id)
            .bind(now),
    )
    .await?;
    Ok(())
}

/// (variant id, quantity) in the order they were added.
pub async fn lines<'e, E>(ex: E, store_id: &str, cart_id: &str) -> Result<Vec<(String, i64)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT variant_id, quantity FROM cart_lines WHERE store_id = $1 AND cart_id = $2 ORDER BY added_at, variant_id",
    )
    .bind(store_id)
    .bind(cart_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("variant_id")?, r.try_get("quantity")?)))
    .collect()
}

/// Removes a cart and its lines (after checkout): true when it removed the
/// cart, false when another checkout of the same cart won.
pub async fn delete(tx: &mut Tx, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    tx.write(sqlx::query("DELETE FROM cart_lines WHERE store_id = $1 AND cart_id = $2").bind(store_id).bind(id))
        .await?;
    let done =
        tx.execute(sqlx::query("DELETE FROM carts WHERE store_id = $1 AND id = $2").bind(store_id).bind(id)).await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes carts untouched since `before`; returns how many.
pub async fn purge_older(tx: &mut Tx, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "DELETE FROM cart_lines WHERE EXISTS (SELECT 1 FROM carts c WHERE c.store_id = cart_lines.store_id
             AND c.id = cart_lines.cart_id AND c.updated_at < $1 AND c.draft_by = '')",
    )
    .bind(before)
    .execute(&mut **tx)
    .await?;
    // Draft orders stay until staff place or drop them.
    Ok(sqlx::query("DELETE FROM carts WHERE updated_at < $1 AND draft_by = ''")
        .bind(before)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// What a cart line needs of the catalog.
#[derive(Debug, Clone)]
pub struct LineFacts {
    pub variant_id: String,
    pub sku: String,
    pub options: String,
    pub product_id: String,
    pub kind: String,
    pub status: String,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub tax_class: String,
    pub weight_grams: Option<i64>,
}

impl LineFacts {
    /// The variant's options (axis, value) as stored.
    pub fn option_pairs(&self) -> Vec<(String, String)> {
        serde_json::from_str(&self.options).unwrap_or_default()
    }
}

pub async fn facts_by<'e, E>(
    ex: E,
    dialect: Dialect,
    store_id: &str,
    column: &str,
    keys: &[String],
) -> Result<Vec<LineFacts>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let column = match column {
        "sku" => "v.sku",
        "product" => "v.product_id",
        _ => "v.id",
    };
    let sql = format!(
        "SELECT v.id, v.sku, v.options, v.product_id, p.kind, p.status, p.publish_at, p.unpublish_at, p.tax_class,
                v.weight_grams
         FROM variants v JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id
         WHERE v.store_id = {} AND {column} IN ({})",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, keys.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for k in keys {
        q = q.bind(k);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(LineFacts {
                variant_id: r.try_get("id")?,
                sku: r.try_get("sku")?,
                options: r.try_get("options")?,
                product_id: r.try_get("product_id")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                publish_at: r.try_get("publish_at")?,
                unpublish_at: r.try_get("unpublish_at")?,
                tax_class: r.try_get("tax_class")?,
                weight_grams: r.try_get("weight_grams")?,
            })
        })
        .collect()
}

/// (product id, language, name) for some products.
pub async fn names<'e, E>(
    ex: E,
    dialect: Dialect,
    store_id: &str,
    product_ids: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT product_id, lang, name FROM product_texts WHERE store_id = {} AND product_id IN ({})",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, product_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for p in product_ids {
        q = q.bind(p);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("product_id")?, r.try_get("lang")?, r.try_get("name")?)))
        .collect()
}

/// Makes a cart a customer's.
pub async fn set_customer(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    customer_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE carts SET customer_id = $3, updated_at = $4 WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .bind(customer_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A customer's carts, newest first.
pub async fn of_customer(tx: &mut Tx, store_id: &str, customer_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM carts WHERE store_id = $1 AND customer_id = $2 AND draft_by = '' ORDER BY updated_at DESC",
    )
    .bind(store_id)
    .bind(customer_id)
    .fetch_all(&mut **tx)
    .await
}

/// Price tiers of some variants in a channel: (variant id, tier), by
/// variant and quantity.
pub async fn prices_of<'e, E>(
    ex: E,
    dialect: Dialect,
    store_id: &str,
    channel_id: &str,
    variant_ids: &[String],
) -> Result<Vec<(String, crate::domain::catalog::PriceTier)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if variant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT variant_id, min_qty, amount, sale_amount, sale_starts_at, sale_ends_at FROM prices
         WHERE store_id = {} AND channel_id = {} AND variant_id IN ({}) ORDER BY variant_id, min_qty",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, 1),
        placeholders(dialect, 3, variant_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(channel_id);
    for v in variant_ids {
        q = q.bind(v);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("variant_id")?,
                crate::domain::catalog::PriceTier {
                    min_qty: r.try_get("min_qty")?,
                    amount: r.try_get("amount")?,
                    sale_amount: r.try_get("sale_amount")?,
                    sale_starts_at: r.try_get("sale_starts_at")?,
                    sale_ends_at: r.try_get("sale_ends_at")?,
                },
            ))
        })
        .collect()
}

/// Sets the cart's shipping choice and coupon codes (as JSON texts).
pub async fn update_choices(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    shipping_choice: &str,
    coupon_codes: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "UPDATE carts SET shipping_choice = $3, coupon_codes = $4, updated_at = $5 WHERE store_id = $1 AND id = $2",
        )
        .bind(store_id)
        .bind(id)
        .bind(shipping_choice)
        .bind(coupon_codes)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// A store's draft orders, most recently changed first: (cart id, started by, updated at).
pub async fn drafts<'e, E>(ex: E, store_id: &str) -> Result<Vec<CartRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, token_hash, customer_id, channel_id, lang, contact_enc, shipping_choice, coupon_codes, draft_by,
                updated_at
         FROM carts WHERE store_id = $1 AND draft_by <> '' ORDER BY updated_at DESC LIMIT 200",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(cart)
    .collect()
}

/// Makes a cart a draft order started by `by` for `customer_id`.
pub async fn make_draft(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    by: &str,
    customer_id: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE carts SET draft_by = $3, customer_id = $4, updated_at = $5 WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .bind(by)
        .bind(customer_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
