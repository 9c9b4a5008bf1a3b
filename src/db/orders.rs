//! SQL for orders: numbers, the order with its lines (a snapshot taken at
//! checkout, never recomputed), status changes guarded by the status they
//! come from, and the history of who changed what.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{RunOn, Source, Tx, rows_as};

/// The store's next order number. The counter row serialises concurrent
/// checkouts of one store for the rest of their transaction, so numbers
/// are gap-free (a rolled-back order gives its number back).
pub async fn next_number(tx: &mut Tx, store_id: &str) -> Result<i64, sqlx::Error> {
    let row = tx.fetch_optional(sqlx::query(NEXT_NUMBER).bind(store_id)).await?;
    row.ok_or(sqlx::Error::RowNotFound)?.try_get(0)
}

const NEXT_NUMBER: &str = "INSERT INTO order_numbers (store_id, last) VALUES ($1, 1)
     ON CONFLICT (store_id) DO UPDATE SET last = order_numbers.last + 1 RETURNING last";

#[derive(Debug, Clone)]
pub struct OrderRow {
    pub id: String,
    pub number: i64,
    pub status: String,
    pub payment_status: String,
    pub customer_id: Option<String>,
    pub channel_id: String,
    pub currency: String,
    pub lang: String,
    pub prices_include_tax: bool,
    pub subtotal: i64,
    pub shipping_total: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    pub total: i64,
    pub contact_enc: String,
    pub access_hash: String,
    pub reserved_until: Option<i64>,
    /// JSON: shipping, promotions applied, tax per rate.
    pub pricing: String,
    pub placed_at: i64,
    pub updated_at: i64,
}

const ORDER_COLUMNS: &str = "id, number, status, payment_status, customer_id, channel_id, currency, lang,
    prices_include_tax, subtotal, shipping_total, discount_total, tax_total, total, contact_enc, access_hash,
    reserved_until, pricing, placed_at, updated_at";

fn order(r: &AnyRow) -> Result<OrderRow, sqlx::Error> {
    Ok(OrderRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        status: r.try_get("status")?,
        payment_status: r.try_get("payment_status")?,
        customer_id: r.try_get("customer_id")?,
        channel_id: r.try_get("channel_id")?,
        currency: r.try_get("currency")?,
        lang: r.try_get("lang")?,
        prices_include_tax: r.try_get::<i64, _>("prices_include_tax")? != 0,
        subtotal: r.try_get("subtotal")?,
        shipping_total: r.try_get("shipping_total")?,
        discount_total: r.try_get("discount_total")?,
        tax_total: r.try_get("tax_total")?,
        total: r.try_get("total")?,
        contact_enc: r.try_get("contact_enc")?,
        access_hash: r.try_get("access_hash")?,
        reserved_until: r.try_get("reserved_until")?,
        pricing: r.try_get("pricing")?,
        placed_at: r.try_get("placed_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Records a placed order; `email_index` is the blind index of the
/// buyer's e-mail (staff find orders by it).
pub async fn insert(tx: &mut Tx, store_id: &str, o: &OrderRow, email_index: &str) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO orders (store_id, id, number, status, payment_status, customer_id, channel_id, currency, lang,
             prices_include_tax, subtotal, shipping_total, discount_total, tax_total, total, contact_enc,
             access_hash, reserved_until, placed_at, updated_at, pricing, email_index)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
    )
    .bind(store_id)
    .bind(&o.id)
    .bind(o.number)
    .bind(&o.status)
    .bind(&o.payment_status)
    .bind(&o.customer_id)
    .bind(&o.channel_id)
    .bind(&o.currency)
    .bind(&o.lang)
    .bind(i64::from(o.prices_include_tax))
    .bind(o.subtotal)
    .bind(o.shipping_total)
    .bind(o.discount_total)
    .bind(o.tax_total)
    .bind(o.total)
    .bind(&o.contact_enc)
    .bind(&o.access_hash)
    .bind(o.reserved_until)
    .bind(o.placed_at)
    .bind(o.updated_at)
    .bind(&o.pricing)
    .bind(email_index);
    tx.write(q).await?;
    Ok(())
}

pub async fn by_id(ex: impl Source, store_id: &str, id: &str) -> Result<Option<OrderRow>, sqlx::Error> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional_on(ex)
        .await?
        .as_ref()
        .map(order)
        .transpose()
}

/// Which orders a list shows; every set field narrows it.
#[derive(Debug, Default, Clone)]
pub struct ListFilter<'a> {
    pub customer_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub payment_status: Option<&'a str>,
    pub number: Option<i64>,
    pub email_index: Option<&'a str>,
    /// Orders with a line of this SKU.
    pub sku: Option<&'a str>,
}

/// Newest first, before (placed_at, id) `before`, narrowed by `filter`.
pub async fn list(
    ex: impl Source,
    store_id: &str,
    filter: &ListFilter<'_>,
    before: (i64, &str),
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    let mut sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE store_id = $1 AND (placed_at < $2 OR (placed_at = $2 AND id < $3))"
    );
    let mut n = 4;
    let mut texts: Vec<&str> = Vec::new();
    for (value, clause) in [
        (filter.customer_id, "customer_id = $"),
        (filter.status, "status = $"),
        (filter.payment_status, "payment_status = $"),
        (filter.email_index, "email_index = $"),
        (
            filter.sku,
            "EXISTS (SELECT 1 FROM order_lines l WHERE l.store_id = orders.store_id AND l.order_id = orders.id AND l.sku = $",
        ),
    ] {
        if let Some(v) = value {
            let close = if clause.starts_with("EXISTS") { ")" } else { "" };
            sql.push_str(&format!(" AND {clause}{n}{close}"));
            n += 1;
            texts.push(v);
        }
    }
    if filter.number.is_some() {
        sql.push_str(&format!(" AND number = ${n}"));
        n += 1;
    }
    sql.push_str(&format!(" ORDER BY placed_at DESC, id DESC LIMIT ${n}"));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(before.0).bind(before.1);
    for t in texts {
        q = q.bind(t);
    }
    if let Some(number) = filter.number {
        q = q.bind(number);
    }
    q.bind(limit).fetch_all_on(ex).await?.iter().map(order).collect()
}

/// Moves an order from `from` to `to` only if it still is `from`.
pub async fn set_status(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    from: &str,
    to: &str,
    reserved_until: Option<i64>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET status = $4, reserved_until = $5, updated_at = $6
         WHERE store_id = $1 AND id = $2 AND status = $3",
    )
    .bind(store_id)
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(reserved_until)
    .bind(now)
    .execute_on(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Unpaid orders whose hold on stock ran out: (store id, order id).
pub async fn expired(ex: impl Source, now: i64, limit: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT store_id, id FROM orders WHERE reserved_until < $1 AND payment_status = 'unpaid'
         ORDER BY reserved_until LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all_on(ex)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("store_id")?, r.try_get("id")?)))
    .collect()
}

#[derive(Debug, Clone)]
pub struct LineRow {
    pub line_no: i64,
    pub variant_id: String,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub kind: String,
    pub options: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub price_source: String,
    pub backordered: i64,
    /// What promotions took off this line, and which (JSON).
    pub discount: i64,
    pub adjustments: String,
    /// Tax in (or on) what the line costs after its discount.
    pub tax: i64,
    pub tax_rate: String,
    pub tax_label: String,
    pub weight_grams: i64,
    /// Units shipped so far.
    pub shipped: i64,
    /// Units in open or received returns.
    pub returned: i64,
}

/// Order lines, all in one statement.
pub async fn insert_lines(tx: &mut Tx, store_id: &str, order_id: &str, lines: &[LineRow]) -> Result<(), sqlx::Error> {
    use super::catalog_bulk::Cell::{Int, Text};
    let cells: Vec<Vec<_>> = lines
        .iter()
        .map(|l| {
            vec![
                Text(store_id.into()),
                Text(order_id.into()),
                Int(l.line_no),
                Text(l.variant_id.clone()),
                Text(l.product_id.clone()),
                Text(l.sku.clone()),
                Text(l.name.clone()),
                Text(l.kind.clone()),
                Text(l.options.clone()),
                Int(l.quantity),
                Int(l.unit_price),
                Int(l.line_total),
                Text(l.price_source.clone()),
                Int(l.backordered),
                Int(l.discount),
                Text(l.adjustments.clone()),
                Int(l.tax),
                Text(l.tax_rate.clone()),
                Text(l.tax_label.clone()),
                Int(l.weight_grams),
            ]
        })
        .collect();
    let columns = [
        "store_id",
        "order_id",
        "line_no",
        "variant_id",
        "product_id",
        "sku",
        "name",
        "kind",
        "options",
        "quantity",
        "unit_price",
        "line_total",
        "price_source",
        "backordered",
        "discount",
        "adjustments",
        "tax",
        "tax_rate",
        "tax_label",
        "weight_grams",
    ];
    super::catalog_bulk::insert_rows(tx, tx.dialect(), "order_lines", &columns, cells, "").await
}

pub async fn lines(ex: impl Source, store_id: &str, order_id: &str) -> Result<Vec<LineRow>, sqlx::Error> {
    sqlx::query(
        "SELECT line_no, variant_id, product_id, sku, name, kind, options, quantity, unit_price, line_total,
                price_source, backordered, discount, adjustments, tax, tax_rate, tax_label, weight_grams, shipped, returned
         FROM order_lines WHERE store_id = $1 AND order_id = $2 ORDER BY line_no",
    )
    .bind(store_id)
    .bind(order_id)
    .fetch_all_on(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(LineRow {
            line_no: r.try_get("line_no")?,
            variant_id: r.try_get("variant_id")?,
            product_id: r.try_get("product_id")?,
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            options: r.try_get("options")?,
            quantity: r.try_get("quantity")?,
            unit_price: r.try_get("unit_price")?,
            line_total: r.try_get("line_total")?,
            price_source: r.try_get("price_source")?,
            backordered: r.try_get("backordered")?,
            discount: r.try_get("discount")?,
            adjustments: r.try_get("adjustments")?,
            tax: r.try_get("tax")?,
            tax_rate: r.try_get("tax_rate")?,
            tax_label: r.try_get("tax_label")?,
            weight_grams: r.try_get("weight_grams")?,
            shipped: r.try_get("shipped")?,
            returned: r.try_get("returned")?,
        })
    })
    .collect()
}

#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// `status` (a move) or `note`.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: String,
    pub actor: String,
    pub at: i64,
}

pub async fn add_history(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    id: &str,
    h: &HistoryRow,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO order_history (store_id, id, order_id, from_status, to_status, note, actor, at, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(store_id)
    .bind(id)
    .bind(order_id)
    .bind(&h.from_status)
    .bind(&h.to_status)
    .bind(&h.note)
    .bind(&h.actor)
    .bind(h.at)
    .bind(&h.kind);
    tx.write(q).await?;
    Ok(())
}

pub async fn history(ex: impl Source, store_id: &str, order_id: &str) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query(
        "SELECT kind, from_status, to_status, note, actor, at FROM order_history
         WHERE store_id = $1 AND order_id = $2 ORDER BY id",
    )
    .bind(store_id)
    .bind(order_id)
    .fetch_all_on(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(HistoryRow {
            kind: r.try_get("kind")?,
            from_status: r.try_get("from_status")?,
            to_status: r.try_get("to_status")?,
            note: r.try_get("note")?,
            actor: r.try_get("actor")?,
            at: r.try_get("at")?,
        })
    })
    .collect()
}

/// Stops the expiry worker from looking at an order again.
pub async fn clear_reservation_deadline(tx: &mut Tx, store_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET reserved_until = NULL WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute_on(tx)
        .await?;
    Ok(())
}

/// Removes an order's lines (an edit writes them anew).
pub async fn delete_lines(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM order_lines WHERE store_id = $1 AND order_id = $2")
        .bind(store_id)
        .bind(order_id)
        .execute_on(tx)
        .await?;
    Ok(())
}

/// Writes an edited order's money, pricing and contact, if its status is
/// still `status`.
pub async fn update_priced(tx: &mut Tx, store_id: &str, o: &OrderRow, status: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE orders SET subtotal = $4, shipping_total = $5, discount_total = $6, tax_total = $7, total = $8,
             pricing = $9, contact_enc = $10, prices_include_tax = $11, updated_at = $12
         WHERE store_id = $1 AND id = $2 AND status = $3",
    )
    .bind(store_id)
    .bind(&o.id)
    .bind(status)
    .bind(o.subtotal)
    .bind(o.shipping_total)
    .bind(o.discount_total)
    .bind(o.tax_total)
    .bind(o.total)
    .bind(&o.pricing)
    .bind(&o.contact_enc)
    .bind(i64::from(o.prices_include_tax))
    .bind(o.updated_at)
    .execute_on(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Locks an order for the rest of the transaction (concurrent shipments,
/// deliveries and edits of one order queue here) and returns its status
/// and when it last changed, or None if it is gone.
pub async fn lock_order(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
    let row =
        sqlx::query("UPDATE orders SET status = status WHERE store_id = $1 AND id = $2 RETURNING status, updated_at")
            .bind(store_id)
            .bind(order_id)
            .fetch_optional_on(&mut *tx)
            .await?;
    row.map(|r| Ok((r.try_get("status")?, r.try_get("updated_at")?))).transpose()
}

/// Records a payment status move, only from the status the caller saw.
/// Sets the payment status and the new deadline for payment (none once
/// money is held or taken).
pub async fn set_payment_status(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    (from, to): (&str, &str),
    reserved_until: Option<i64>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE orders SET payment_status = $4, reserved_until = $5
         WHERE store_id = $1 AND id = $2 AND payment_status = $3",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(from)
    .bind(to)
    .bind(reserved_until)
    .execute_on(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Orders without an e-mail index (placed before it existed): (store id,
/// order id, sealed contact).
pub async fn unindexed(ex: impl Source, limit: i64) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let q = sqlx::query("SELECT store_id, id, contact_enc FROM orders WHERE email_index = '' LIMIT $1").bind(limit);
    rows_as(q.fetch_all_on(ex).await?)
}

pub async fn set_email_index(tx: &mut Tx, store_id: &str, id: &str, email_index: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET email_index = $3 WHERE store_id = $1 AND id = $2 AND email_index = ''")
        .bind(store_id)
        .bind(id)
        .bind(email_index)
        .execute_on(tx)
        .await?;
    Ok(())
}
