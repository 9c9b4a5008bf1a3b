//! SQL for bank statement lines: inserted once per bank reference, marked
//! matched when they capture an awaited payment.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

#[derive(Debug, Clone)]
pub struct BankLineRow {
    pub id: String,
    pub bank_ref: String,
    pub booked_on: String,
    pub currency: String,
    pub amount: i64,
    pub remittance: String,
    pub payer_enc: String,
    pub status: String,
    pub payment_id: Option<String>,
    pub note: String,
    pub imported_at: i64,
}

const COLUMNS: &str =
    "id, bank_ref, booked_on, currency, amount, remittance, payer_enc, status, payment_id, note, imported_at";

fn line(r: &AnyRow) -> Result<BankLineRow, sqlx::Error> {
    Ok(BankLineRow {
        id: r.try_get("id")?,
        bank_ref: r.try_get("bank_ref")?,
        booked_on: r.try_get("booked_on")?,
        currency: r.try_get("currency")?,
        amount: r.try_get("amount")?,
        remittance: r.try_get("remittance")?,
        payer_enc: r.try_get("payer_enc")?,
        status: r.try_get("status")?,
        payment_id: r.try_get("payment_id")?,
        note: r.try_get("note")?,
        imported_at: r.try_get("imported_at")?,
    })
}

/// Inserts a line unless its bank reference is known; false when it was.
pub async fn insert(tx: &mut Tx, store_id: &str, l: &BankLineRow) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO bank_lines (store_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (store_id, bank_ref) DO NOTHING"
    );
    let done = tx
        .execute(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(store_id)
                .bind(&l.id)
                .bind(&l.bank_ref)
                .bind(&l.booked_on)
                .bind(&l.currency)
                .bind(l.amount)
                .bind(&l.remittance)
                .bind(&l.payer_enc)
                .bind(&l.status)
                .bind(&l.payment_id)
                .bind(&l.note)
                .bind(l.imported_at),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an unmatched line matched to a payment; false when it was not unmatched.
pub async fn mark_matched(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    payment_id: &str,
    note: &str,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE bank_lines SET status = 'matched', payment_id = $3, note = $4
                 WHERE store_id = $1 AND id = $2 AND status = 'unmatched'",
            )
            .bind(store_id)
            .bind(id)
            .bind(payment_id)
            .bind(note),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_in(tx: &mut Tx, store_id: &str, id: &str) -> Result<Option<BankLineRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM bank_lines WHERE store_id = $1 AND id = $2");
    tx.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(id))
        .await?
        .as_ref()
        .map(line)
        .transpose()
}

/// Lines of a status (or all), newest first, before the cursor id.
pub async fn list(
    pool: &sqlx::AnyPool,
    store_id: &str,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<BankLineRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bank_lines WHERE store_id = $1 AND ($2 = '' OR status = $2) AND id < $3
         ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(status.unwrap_or(""))
        .bind(before.unwrap_or("~"))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(line).collect()
}
