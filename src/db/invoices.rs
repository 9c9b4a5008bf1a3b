//! SQL for invoices: the next number of a series (one conditional upsert
//! in the issuing transaction, so concurrent issues queue on the counter
//! row and no number is skipped or repeated), and the issued documents.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

/// Takes the next number of a series.
pub async fn next_number(tx: &mut Tx, store_id: &str, series: &str) -> Result<i64, sqlx::Error> {
    let row = tx
        .fetch_optional(
            sqlx::query(
                "INSERT INTO invoice_numbers (store_id, series, last) VALUES ($1, $2, 1)
                 ON CONFLICT (store_id, series) DO UPDATE SET last = invoice_numbers.last + 1
                 RETURNING last",
            )
            .bind(store_id)
            .bind(series),
        )
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    row.try_get("last")
}

#[derive(Debug, Clone)]
pub struct InvoiceRow {
    pub id: String,
    pub kind: String,
    pub series: String,
    pub number: i64,
    pub display: String,
    pub order_id: String,
    pub credits_id: Option<String>,
    pub currency: String,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    pub issued_at: i64,
    pub document_enc: String,
}

const COLUMNS: &str =
    "id, kind, series, number, display, order_id, credits_id, currency, net, tax, gross, issued_at, document_enc";

fn invoice(r: &AnyRow) -> Result<InvoiceRow, sqlx::Error> {
    Ok(InvoiceRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        series: r.try_get("series")?,
        number: r.try_get("number")?,
        display: r.try_get("display")?,
        order_id: r.try_get("order_id")?,
        credits_id: r.try_get("credits_id")?,
        currency: r.try_get("currency")?,
        net: r.try_get("net")?,
        tax: r.try_get("tax")?,
        gross: r.try_get("gross")?,
        issued_at: r.try_get("issued_at")?,
        document_enc: r.try_get("document_enc")?,
    })
}

pub async fn insert(tx: &mut Tx, store_id: &str, i: &InvoiceRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO invoices (store_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    tx.write(
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store_id)
            .bind(&i.id)
            .bind(&i.kind)
            .bind(&i.series)
            .bind(i.number)
            .bind(&i.display)
            .bind(&i.order_id)
            .bind(&i.credits_id)
            .bind(&i.currency)
            .bind(i.net)
            .bind(i.tax)
            .bind(i.gross)
            .bind(i.issued_at)
            .bind(&i.document_enc),
    )
    .await
}

pub async fn get(pool: &sqlx::AnyPool, store_id: &str, id: &str) -> Result<Option<InvoiceRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(invoice)
        .transpose()
}

/// An order's invoice and credit notes, oldest first, as a transaction sees them.
pub async fn of_order_in(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE store_id = $1 AND order_id = $2 ORDER BY id");
    let rows = tx.fetch_all(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id)).await?;
    rows.iter().map(invoice).collect()
}

pub async fn of_order(pool: &sqlx::AnyPool, store_id: &str, order_id: &str) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE store_id = $1 AND order_id = $2 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id).fetch_all(pool).await?;
    rows.iter().map(invoice).collect()
}

/// Newest first, before the cursor id.
pub async fn list(
    pool: &sqlx::AnyPool,
    store_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE store_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(before.unwrap_or("~"))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(invoice).collect()
}
