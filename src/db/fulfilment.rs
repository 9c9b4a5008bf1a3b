//! SQL for fulfilment: shipped units per order line (guarded so a line
//! never ships more than was ordered), shipments with their lines, and
//! the part of an order's stock hold a shipment takes.

use sqlx::Row;

use super::{RunOn, Tx};

/// Adds `quantity` shipped units to a line, only if that stays within
/// what was ordered.
pub async fn ship_line(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    line_no: i64,
    variant_id: &str,
    quantity: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE order_lines SET shipped = shipped + $4
         WHERE store_id = $1 AND order_id = $2 AND line_no = $3 AND variant_id = $5 AND shipped + $4 <= quantity",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(line_no)
    .bind(quantity)
    .bind(variant_id)
    .execute_on(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Takes up to `quantity` units of the order's hold on a variant at a
/// location; returns how many it took.
pub async fn take_reserved(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    variant_id: &str,
    location_id: &str,
    quantity: i64,
) -> Result<i64, sqlx::Error> {
    let held = sqlx::query(
        "SELECT quantity FROM stock_reservations
         WHERE store_id = $1 AND order_id = $2 AND variant_id = $3 AND location_id = $4",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(variant_id)
    .bind(location_id)
    .fetch_optional_on(&mut *tx)
    .await?;
    let held: i64 = held.map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
    let take = held.min(quantity);
    if take == 0 {
        return Ok(0);
    }
    let sql = if take == held {
        "DELETE FROM stock_reservations
         WHERE store_id = $1 AND order_id = $2 AND variant_id = $3 AND location_id = $4 AND quantity = $5"
    } else {
        "UPDATE stock_reservations SET quantity = quantity - $5
         WHERE store_id = $1 AND order_id = $2 AND variant_id = $3 AND location_id = $4 AND quantity > $5"
    };
    let done = sqlx::query(sql)
        .bind(store_id)
        .bind(order_id)
        .bind(variant_id)
        .bind(location_id)
        .bind(take)
        .execute_on(tx)
        .await?
        .rows_affected();
    if done != 1 {
        return Err(sqlx::Error::Protocol(format!("the hold of {order_id} on {variant_id} changed meanwhile")));
    }
    Ok(take)
}

#[derive(Debug, Clone)]
pub struct ShipmentRow {
    pub id: String,
    pub location_id: String,
    pub carrier: String,
    pub tracking_number: String,
    pub status: String,
    pub actor: String,
    pub shipped_at: i64,
    pub delivered_at: Option<i64>,
}

pub async fn insert_shipment(tx: &mut Tx, store_id: &str, order_id: &str, s: &ShipmentRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO shipments (store_id, id, order_id, location_id, carrier, tracking_number, status, actor,
             shipped_at, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(store_id)
    .bind(&s.id)
    .bind(order_id)
    .bind(&s.location_id)
    .bind(&s.carrier)
    .bind(&s.tracking_number)
    .bind(&s.status)
    .bind(&s.actor)
    .bind(s.shipped_at)
    .bind(s.delivered_at)
    .execute_on(tx)
    .await?;
    Ok(())
}

pub async fn insert_shipment_line(
    tx: &mut Tx,
    store_id: &str,
    shipment_id: &str,
    line_no: i64,
    quantity: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO shipment_lines (store_id, shipment_id, line_no, quantity) VALUES ($1, $2, $3, $4)")
        .bind(store_id)
        .bind(shipment_id)
        .bind(line_no)
        .bind(quantity)
        .execute_on(tx)
        .await?;
    Ok(())
}

/// An order's shipments, oldest first, with their (line number, quantity).
pub async fn shipments_of<'e, E>(
    ex: E,
    store_id: &str,
    order_id: &str,
) -> Result<Vec<(ShipmentRow, Vec<(i64, i64)>)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT s.id, s.location_id, s.carrier, s.tracking_number, s.status, s.actor, s.shipped_at, s.delivered_at,
                l.line_no, l.quantity
         FROM shipments s JOIN shipment_lines l ON l.store_id = s.store_id AND l.shipment_id = s.id
         WHERE s.store_id = $1 AND s.order_id = $2 ORDER BY s.shipped_at, s.id, l.line_no",
    )
    .bind(store_id)
    .bind(order_id)
    .fetch_all(ex)
    .await?;
    let mut out: Vec<(ShipmentRow, Vec<(i64, i64)>)> = Vec::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let line = (r.try_get("line_no")?, r.try_get("quantity")?);
        match out.last_mut() {
            Some((s, lines)) if s.id == id => lines.push(line),
            _ => out.push((
                ShipmentRow {
                    id,
                    location_id: r.try_get("location_id")?,
                    carrier: r.try_get("carrier")?,
                    tracking_number: r.try_get("tracking_number")?,
                    status: r.try_get("status")?,
                    actor: r.try_get("actor")?,
                    shipped_at: r.try_get("shipped_at")?,
                    delivered_at: r.try_get("delivered_at")?,
                },
                vec![line],
            )),
        }
    }
    Ok(out)
}

/// Marks a shipment delivered, once.
pub async fn mark_delivered(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE shipments SET status = 'delivered', delivered_at = $4
         WHERE store_id = $1 AND order_id = $2 AND id = $3 AND status = 'shipped'",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(id)
    .bind(now)
    .execute_on(tx)
    .await?
    .rows_affected()
        == 1)
}
