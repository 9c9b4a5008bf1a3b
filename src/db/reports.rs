//! SQL for accounting reports: what open orders still owe, and money moved
//! by payment method and day.

use sqlx::Row;

/// An order that may still be owed money.
#[derive(Debug, Clone)]
pub struct OwedRow {
    pub id: String,
    pub number: i64,
    pub customer_id: Option<String>,
    pub currency: String,
    pub total: i64,
    pub placed_at: i64,
    pub captured: i64,
    /// Written off in the ledger (receivable credited by `write_off` entries).
    pub written_off: i64,
    /// An awaited invoice payment's terms, in days (0 when none).
    pub terms_days: i64,
}

/// Orders not cancelled and not paid, oldest first (at most `limit`); the
/// caller keeps those whose total exceeds what was captured and written
/// off (a partly paid order that was partly refunded still owes).
pub async fn owed(pool: &sqlx::AnyPool, store_id: &str, limit: i64) -> Result<Vec<OwedRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT o.id, o.number, o.customer_id, o.currency, o.total, o.placed_at,
            CAST(COALESCE((SELECT SUM(p.captured) FROM payments p
                WHERE p.store_id = o.store_id AND p.order_id = o.id), 0) AS BIGINT) AS captured,
            CAST(COALESCE((SELECT SUM(l.credit) FROM journal_entries e
                JOIN journal_lines l ON l.store_id = e.store_id AND l.entry_id = e.id
                WHERE e.store_id = o.store_id AND e.reference = o.id AND e.kind = 'write_off'
                  AND l.account LIKE 'receivable%'), 0) AS BIGINT) AS written_off,
            CAST(CASE WHEN EXISTS (SELECT 1 FROM payments p WHERE p.store_id = o.store_id AND p.order_id = o.id
                AND p.provider = 'invoice' AND p.gate = 'awaiting') THEN $3 ELSE 0 END AS BIGINT) AS terms_days
         FROM orders o
         WHERE o.store_id = $1 AND o.status <> 'cancelled'
           AND o.payment_status <> 'paid'
         ORDER BY o.placed_at, o.id LIMIT $2",
    )
    .bind(store_id)
    .bind(limit)
    .bind(crate::providers::payment::INVOICE_TERMS_DAYS)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OwedRow {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                customer_id: r.try_get("customer_id")?,
                currency: r.try_get("currency")?,
                total: r.try_get("total")?,
                placed_at: r.try_get("placed_at")?,
                captured: r.try_get("captured")?,
                written_off: r.try_get("written_off")?,
                terms_days: r.try_get("terms_days")?,
            })
        })
        .collect()
}

/// Money moved per day (UTC day number since 1970), method, currency and kind.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub day: i64,
    pub provider: String,
    pub currency: String,
    pub kind: String,
    pub amount: i64,
    pub count: i64,
}

/// Succeeded captures and refunds settled in [from, to) (Unix ms).
pub async fn by_day(pool: &sqlx::AnyPool, store_id: &str, from: i64, to: i64) -> Result<Vec<DayRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT CAST(op.settled_at / 86400000 AS BIGINT) AS day, p.provider, p.currency, op.kind,
                CAST(SUM(op.amount) AS BIGINT) AS amount, CAST(COUNT(*) AS BIGINT) AS n
         FROM payment_operations op
         JOIN payments p ON p.store_id = op.store_id AND p.id = op.payment_id
         WHERE op.store_id = $1 AND op.status = 'succeeded' AND op.kind IN ('capture', 'refund')
           AND op.settled_at >= $2 AND op.settled_at < $3
         GROUP BY CAST(op.settled_at / 86400000 AS BIGINT), p.provider, p.currency, op.kind
         ORDER BY day, p.provider, p.currency, op.kind",
    )
    .bind(store_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DayRow {
                day: r.try_get("day")?,
                provider: r.try_get("provider")?,
                currency: r.try_get("currency")?,
                kind: r.try_get("kind")?,
                amount: r.try_get("amount")?,
                count: r.try_get("n")?,
            })
        })
        .collect()
}
