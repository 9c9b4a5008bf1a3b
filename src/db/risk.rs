//! SQL for fraud risk: a store's settings, the assessment of every payment
//! attempt (what velocity rules count), reviews and blocked lists.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

#[derive(Debug, Clone)]
pub struct AssessmentRow {
    pub id: String,
    pub order_id: String,
    pub payment_id: String,
    pub method: String,
    pub currency: String,
    pub amount: i64,
    pub score: i64,
    pub decision: String,
    pub reasons: String,
    pub customer_id: String,
    pub email_hash: String,
    pub card_hash: String,
    pub ip_hash: String,
    pub review: String,
    pub reviewed_by: String,
    pub reviewed_at: Option<i64>,
    pub review_note: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, order_id, payment_id, method, currency, amount, score, decision, reasons, customer_id,
    email_hash, card_hash, ip_hash, review, reviewed_by, reviewed_at, review_note, created_at";

fn assessment(r: &AnyRow) -> Result<AssessmentRow, sqlx::Error> {
    Ok(AssessmentRow {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        payment_id: r.try_get("payment_id")?,
        method: r.try_get("method")?,
        currency: r.try_get("currency")?,
        amount: r.try_get("amount")?,
        score: r.try_get("score")?,
        decision: r.try_get("decision")?,
        reasons: r.try_get("reasons")?,
        customer_id: r.try_get("customer_id")?,
        email_hash: r.try_get("email_hash")?,
        card_hash: r.try_get("card_hash")?,
        ip_hash: r.try_get("ip_hash")?,
        review: r.try_get("review")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
        review_note: r.try_get("review_note")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert(tx: &mut Tx, store_id: &str, a: &AssessmentRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO risk_assessments (store_id, {COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    tx.execute(
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store_id)
            .bind(&a.id)
            .bind(&a.order_id)
            .bind(&a.payment_id)
            .bind(&a.method)
            .bind(&a.currency)
            .bind(a.amount)
            .bind(a.score)
            .bind(&a.decision)
            .bind(&a.reasons)
            .bind(&a.customer_id)
            .bind(&a.email_hash)
            .bind(&a.card_hash)
            .bind(&a.ip_hash)
            .bind(&a.review)
            .bind(&a.reviewed_by)
            .bind(a.reviewed_at)
            .bind(&a.review_note)
            .bind(a.created_at),
    )
    .await?;
    Ok(())
}

/// The column a velocity key is counted by.
pub fn key_column(key: crate::domain::risk::VelocityKey) -> &'static str {
    use crate::domain::risk::VelocityKey::*;
    match key {
        Card => "card_hash",
        Email => "email_hash",
        Customer => "customer_id",
        Ip => "ip_hash",
    }
}

/// Attempts recorded for a key's value since a time.
pub async fn count_since(
    tx: &mut Tx,
    store_id: &str,
    key: crate::domain::risk::VelocityKey,
    value: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    let col = key_column(key);
    let sql = format!("SELECT COUNT(*) FROM risk_assessments WHERE store_id = $1 AND {col} = $2 AND created_at >= $3");
    let row = tx.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(value).bind(since)).await?;
    row.map_or(Ok(0), |r| r.try_get(0))
}

/// Takes a transaction-long lock per key (PostgreSQL advisory locks, in a
/// fixed order), so attempts sharing a key are counted one after another.
/// Nothing to do on SQLite, whose one writer already serialises them.
pub async fn lock_keys<'a>(
    tx: &mut Tx,
    store_id: &str,
    keys: impl Iterator<Item = &'a str>,
) -> Result<(), sqlx::Error> {
    if tx.dialect() != super::Dialect::Postgres {
        return Ok(());
    }
    let mut keys: Vec<&str> = keys.collect();
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        tx.execute(
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(format!("risk:{store_id}:{k}")),
        )
        .await?;
    }
    Ok(())
}

/// Which of (kind, hash) pairs are on the store's blocked lists.
pub async fn blocked(tx: &mut Tx, store_id: &str, candidates: &[(&str, String)]) -> Result<Vec<String>, sqlx::Error> {
    let mut hits = Vec::new();
    for (kind, hash) in candidates {
        let found = tx
            .fetch_optional(
                sqlx::query("SELECT 1 FROM risk_blocks WHERE store_id = $1 AND kind = $2 AND value_hash = $3")
                    .bind(store_id)
                    .bind(*kind)
                    .bind(hash),
            )
            .await?;
        if found.is_some() && !hits.iter().any(|k| k == kind) {
            hits.push(kind.to_string());
        }
    }
    Ok(hits)
}

pub async fn for_order(
    pool: &sqlx::AnyPool,
    store_id: &str,
    order_id: &str,
) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM risk_assessments WHERE store_id = $1 AND order_id = $2 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id).fetch_all(pool).await?;
    rows.iter().map(assessment).collect()
}

pub async fn for_order_in(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM risk_assessments WHERE store_id = $1 AND order_id = $2 ORDER BY created_at, id");
    let rows = tx.fetch_all(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id)).await?;
    rows.iter().map(assessment).collect()
}

/// Assessments awaiting review, oldest first.
pub async fn pending(pool: &sqlx::AnyPool, store_id: &str, limit: i64) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM risk_assessments WHERE store_id = $1 AND review = 'pending'
         ORDER BY created_at, id LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(limit).fetch_all(pool).await?;
    rows.iter().map(assessment).collect()
}

/// Closes an order's pending reviews; how many there were.
pub async fn resolve(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    outcome: &str,
    by: &str,
    note: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE risk_assessments SET review = $3, reviewed_by = $4, review_note = $5, reviewed_at = $6
                 WHERE store_id = $1 AND order_id = $2 AND review = 'pending'",
            )
            .bind(store_id)
            .bind(order_id)
            .bind(outcome)
            .bind(by)
            .bind(note)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected())
}

#[derive(Debug, Clone)]
pub struct BlockRow {
    pub id: String,
    pub kind: String,
    pub value_hash: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
}

fn block(r: &AnyRow) -> Result<BlockRow, sqlx::Error> {
    Ok(BlockRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        value_hash: r.try_get("value_hash")?,
        label: r.try_get("label")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Adds an entry unless the same value is listed; false when it was.
pub async fn insert_block(tx: &mut Tx, store_id: &str, b: &BlockRow) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "INSERT INTO risk_blocks (store_id, id, kind, value_hash, label, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (store_id, kind, value_hash) DO NOTHING",
            )
            .bind(store_id)
            .bind(&b.id)
            .bind(&b.kind)
            .bind(&b.value_hash)
            .bind(&b.label)
            .bind(&b.created_by)
            .bind(b.created_at),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_block(tx: &mut Tx, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(sqlx::query("DELETE FROM risk_blocks WHERE store_id = $1 AND id = $2").bind(store_id).bind(id))
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn blocks(pool: &sqlx::AnyPool, store_id: &str) -> Result<Vec<BlockRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, kind, value_hash, label, created_by, created_at FROM risk_blocks WHERE store_id = $1
         ORDER BY kind, created_at, id",
    )
    .bind(store_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(block).collect()
}
