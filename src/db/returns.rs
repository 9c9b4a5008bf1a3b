//! SQL for returns: the return with its lines, guarded status moves, the
//! per-line count of units in returns (never more than shipped), and what
//! earlier returns already refunded.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{RunOn, Tx};

#[derive(Debug, Clone)]
pub struct ReturnRow {
    pub id: String,
    pub order_id: String,
    pub status: String,
    pub resolution: String,
    pub comment: String,
    pub refund_goods: i64,
    pub refund_shipping: i64,
    pub refund_total: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// For a received exchange: the order that sends the replacement.
    pub replacement_order_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReturnLineRow {
    pub line_no: i64,
    pub quantity: i64,
    pub reason: String,
    pub condition: String,
    /// For an exchange that sends another variant: its id and SKU ('' for the same).
    pub exchange_variant_id: String,
    pub exchange_sku: String,
}

const LINE_COLUMNS: &str = "line_no, quantity, reason, condition, exchange_variant_id, exchange_sku";

fn line_row(r: &AnyRow) -> Result<ReturnLineRow, sqlx::Error> {
    Ok(ReturnLineRow {
        line_no: r.try_get("line_no")?,
        quantity: r.try_get("quantity")?,
        reason: r.try_get("reason")?,
        condition: r.try_get("condition")?,
        exchange_variant_id: r.try_get("exchange_variant_id")?,
        exchange_sku: r.try_get("exchange_sku")?,
    })
}

const COLUMNS: &str = "id, order_id, status, resolution, comment, refund_goods, refund_shipping, refund_total, \
                       created_at, updated_at, replacement_order_id";

fn row(r: &AnyRow) -> Result<ReturnRow, sqlx::Error> {
    Ok(ReturnRow {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        status: r.try_get("status")?,
        resolution: r.try_get("resolution")?,
        comment: r.try_get("comment")?,
        refund_goods: r.try_get("refund_goods")?,
        refund_shipping: r.try_get("refund_shipping")?,
        refund_total: r.try_get("refund_total")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        replacement_order_id: r.try_get("replacement_order_id")?,
    })
}

pub async fn insert(tx: &mut Tx, store_id: &str, r: &ReturnRow, lines: &[ReturnLineRow]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO returns (store_id, id, order_id, status, resolution, comment, refund_goods, refund_shipping,
             refund_total, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, $7, $7)",
    )
    .bind(store_id)
    .bind(&r.id)
    .bind(&r.order_id)
    .bind(&r.status)
    .bind(&r.resolution)
    .bind(&r.comment)
    .bind(r.created_at)
    .execute_on(tx)
    .await?;
    for l in lines {
        sqlx::query(
            "INSERT INTO return_lines (store_id, return_id, line_no, quantity, reason, condition, exchange_variant_id,
                 exchange_sku)
             VALUES ($1, $2, $3, $4, $5, '', $6, $7)",
        )
        .bind(store_id)
        .bind(&r.id)
        .bind(l.line_no)
        .bind(l.quantity)
        .bind(&l.reason)
        .bind(&l.exchange_variant_id)
        .bind(&l.exchange_sku)
        .execute_on(tx)
        .await?;
    }
    Ok(())
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<ReturnRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM returns WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

pub async fn of_order<'e, E>(ex: E, store_id: &str, order_id: &str) -> Result<Vec<ReturnRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM returns WHERE store_id = $1 AND order_id = $2 ORDER BY created_at, id");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id).fetch_all(ex).await?.iter().map(row).collect()
}

/// The store's returns, newest first, optionally in one status.
pub async fn list<'e, E>(ex: E, store_id: &str, status: Option<&str>, limit: i64) -> Result<Vec<ReturnRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {COLUMNS} FROM returns WHERE store_id = $1 AND ($2 = '' OR status = $2) ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(status.unwrap_or(""))
        .bind(limit)
        .fetch_all(ex)
        .await?
        .iter()
        .map(row)
        .collect()
}

pub async fn lines<'e, E>(ex: E, store_id: &str, return_id: &str) -> Result<Vec<ReturnLineRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql =
        format!("SELECT {LINE_COLUMNS} FROM return_lines WHERE store_id = $1 AND return_id = $2 ORDER BY line_no");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(return_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(line_row)
        .collect()
}

/// The lines of several returns (up to a page of them) in one query, by
/// return id, each in line order.
pub async fn lines_of_many(
    db: &super::Db,
    store_id: &str,
    return_ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<ReturnLineRow>>, sqlx::Error> {
    let mut out: std::collections::HashMap<String, Vec<ReturnLineRow>> = std::collections::HashMap::new();
    if return_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT return_id, {LINE_COLUMNS} FROM return_lines
         WHERE store_id = $1 AND return_id IN ({}) ORDER BY return_id, line_no",
        (2..2 + return_ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in return_ids {
        q = q.bind(id);
    }
    for r in q.fetch_all(db.pool()).await? {
        out.entry(r.try_get("return_id")?).or_default().push(line_row(&r)?);
    }
    Ok(out)
}

/// Moves a return from `from` to `to`; false if it moved meanwhile.
pub async fn set_status(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("UPDATE returns SET status = $4, updated_at = $5 WHERE store_id = $1 AND id = $2 AND status = $3")
        .bind(store_id)
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(now)
        .execute_on(tx)
        .await?
        .rows_affected()
        == 1)
}

pub async fn set_refund(tx: &mut Tx, store_id: &str, id: &str, goods: i64, shipping: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE returns SET refund_goods = $3, refund_shipping = $4, refund_total = $3 + $4
         WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(id)
    .bind(goods)
    .bind(shipping)
    .execute_on(tx)
    .await?;
    Ok(())
}

/// For a replacement order: the access hash of the order whose return it
/// replaces (that order's token opens its replacements too).
pub async fn replaced_order_access<'e, E>(
    ex: E,
    store_id: &str,
    replacement_id: &str,
) -> Result<Option<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT o.access_hash FROM returns r JOIN orders o ON o.store_id = r.store_id AND o.id = r.order_id
         WHERE r.store_id = $1 AND r.replacement_order_id = $2",
    )
    .bind(store_id)
    .bind(replacement_id)
    .fetch_optional(ex)
    .await
}

pub async fn set_replacement(tx: &mut Tx, store_id: &str, id: &str, order_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE returns SET replacement_order_id = $3 WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .bind(order_id)
        .execute_on(tx)
        .await?;
    Ok(())
}

pub async fn set_condition(
    tx: &mut Tx,
    store_id: &str,
    return_id: &str,
    line_no: i64,
    condition: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE return_lines SET condition = $4 WHERE store_id = $1 AND return_id = $2 AND line_no = $3")
        .bind(store_id)
        .bind(return_id)
        .bind(line_no)
        .bind(condition)
        .execute_on(tx)
        .await?;
    Ok(())
}

/// Counts `delta` more (or, negative, fewer) units of a line as in a
/// return, only while the count stays within what was shipped.
pub async fn count_returned(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    line_no: i64,
    delta: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE order_lines SET returned = returned + $4
         WHERE store_id = $1 AND order_id = $2 AND line_no = $3 AND returned + $4 BETWEEN 0 AND shipped",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(line_no)
    .bind(delta)
    .execute_on(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Units of each line already refunded by received returns: (line, units).
pub async fn refunded_units(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT l.line_no, CAST(SUM(l.quantity) AS BIGINT) AS units
         FROM return_lines l JOIN returns r ON r.store_id = l.store_id AND r.id = l.return_id
         WHERE r.store_id = $1 AND r.order_id = $2 AND r.status = 'received' AND r.resolution = 'refund'
         GROUP BY l.line_no",
    )
    .bind(store_id)
    .bind(order_id)
    .fetch_all_on(&mut *tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("line_no")?, r.try_get("units")?)))
    .collect()
}
