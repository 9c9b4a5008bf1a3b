//! SQL for payments and their operations. Amounts move in two steps, each
//! one conditional statement: an operation reserves its amount before the
//! provider is called (`pending_*`, refused when it would exceed the
//! limit) and settles it after, so concurrent requests can never together
//! capture or refund more than allowed; `CHECK` constraints are the backstop.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: String,
    pub order_id: String,
    pub provider: String,
    pub provider_ref: String,
    pub gate: String,
    pub currency: String,
    pub amount: i64,
    pub captured: i64,
    pub refunded: i64,
    pub pending_capture: i64,
    pub pending_refund: i64,
    pub details: String,
    pub party: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, order_id, provider, provider_ref, gate, currency, amount, captured, refunded,
    pending_capture, pending_refund, details, party, created_at, updated_at";

fn payment(r: &AnyRow) -> Result<PaymentRow, sqlx::Error> {
    Ok(PaymentRow {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        provider: r.try_get("provider")?,
        provider_ref: r.try_get("provider_ref")?,
        gate: r.try_get("gate")?,
        currency: r.try_get("currency")?,
        amount: r.try_get("amount")?,
        captured: r.try_get("captured")?,
        refunded: r.try_get("refunded")?,
        pending_capture: r.try_get("pending_capture")?,
        pending_refund: r.try_get("pending_refund")?,
        details: r.try_get("details")?,
        party: r.try_get("party")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert(tx: &mut Tx, store_id: &str, p: &PaymentRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO payments (store_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    );
    tx.write(
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store_id)
            .bind(&p.id)
            .bind(&p.order_id)
            .bind(&p.provider)
            .bind(&p.provider_ref)
            .bind(&p.gate)
            .bind(&p.currency)
            .bind(p.amount)
            .bind(p.captured)
            .bind(p.refunded)
            .bind(p.pending_capture)
            .bind(p.pending_refund)
            .bind(&p.details)
            .bind(&p.party)
            .bind(p.created_at)
            .bind(p.updated_at),
    )
    .await
}

pub async fn by_id(tx: &mut Tx, store_id: &str, id: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND id = $2");
    tx.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(id))
        .await?
        .as_ref()
        .map(payment)
        .transpose()
}

pub async fn get(pool: &sqlx::AnyPool, store_id: &str, id: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(payment)
        .transpose()
}

pub async fn for_order(pool: &sqlx::AnyPool, store_id: &str, order_id: &str) -> Result<Vec<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND order_id = $2 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id).fetch_all(pool).await?;
    rows.iter().map(payment).collect()
}

/// The status of a payment's order (one read where the payment and its
/// order would be two).
pub async fn order_status_of(
    pool: &sqlx::AnyPool,
    store_id: &str,
    payment_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT o.status FROM payments p JOIN orders o ON o.store_id = p.store_id AND o.id = p.order_id
         WHERE p.store_id = $1 AND p.id = $2",
    )
    .bind(store_id)
    .bind(payment_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| r.try_get(0)).transpose()
}

/// The order's payments as a transaction sees them.
pub async fn for_order_in(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<Vec<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND order_id = $2 ORDER BY id");
    let rows = tx.fetch_all(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(order_id)).await?;
    rows.iter().map(payment).collect()
}

/// Newest first, before the cursor id, optionally of one status gate.
pub async fn list(
    pool: &sqlx::AnyPool,
    store_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(before.unwrap_or("~"))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(payment).collect()
}

/// A party's (a customer's) payments, newest first.
pub async fn of_party(
    pool: &sqlx::AnyPool,
    store_id: &str,
    party: &str,
    limit: i64,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND party = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(party).bind(limit).fetch_all(pool).await?;
    rows.iter().map(payment).collect()
}

/// A gate move: from the gate the caller saw to another, with the
/// provider's reference and the details when they change.
pub struct GateMove<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub provider_ref: Option<&'a str>,
    pub details: Option<&'a str>,
}

/// Moves the payment's gate, only from the gate the caller saw.
pub async fn set_gate(tx: &mut Tx, store_id: &str, id: &str, m: GateMove<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let GateMove { from, to, provider_ref, details } = m;
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE payments SET gate = $4, provider_ref = COALESCE($5, provider_ref),
                        details = COALESCE($6, details), updated_at = $7
                 WHERE store_id = $1 AND id = $2 AND gate = $3",
            )
            .bind(store_id)
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(provider_ref)
            .bind(details)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Reserves `amount` for a capture when it fits what is authorised and
/// not yet captured or reserved, and the gate allows captures.
pub async fn reserve_capture(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    amount: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE payments SET pending_capture = pending_capture + $3, updated_at = $4
                 WHERE store_id = $1 AND id = $2 AND gate IN ('open', 'awaiting')
                   AND captured + pending_capture + $3 <= amount",
            )
            .bind(store_id)
            .bind(id)
            .bind(amount)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Reserves `amount` for a refund when it fits what is captured and not
/// yet refunded or reserved.
pub async fn reserve_refund(tx: &mut Tx, store_id: &str, id: &str, amount: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE payments SET pending_refund = pending_refund + $3, updated_at = $4
                 WHERE store_id = $1 AND id = $2 AND refunded + pending_refund + $3 <= captured",
            )
            .bind(store_id)
            .bind(id)
            .bind(amount)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Settles a reserved capture: captured when it succeeded, released when not.
pub async fn settle_capture(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    amount: i64,
    ok: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let captured = if ok { amount } else { 0 };
    tx.write(
        sqlx::query(
            "UPDATE payments SET pending_capture = pending_capture - $3, captured = captured + $4,
                    gate = CASE WHEN gate = 'awaiting' AND $4 > 0 THEN 'open' ELSE gate END, updated_at = $5
             WHERE store_id = $1 AND id = $2",
        )
        .bind(store_id)
        .bind(id)
        .bind(amount)
        .bind(captured)
        .bind(now),
    )
    .await
}

/// Settles a reserved refund.
pub async fn settle_refund(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    amount: i64,
    ok: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let refunded = if ok { amount } else { 0 };
    tx.write(
        sqlx::query(
            "UPDATE payments SET pending_refund = pending_refund - $3, refunded = refunded + $4, updated_at = $5
             WHERE store_id = $1 AND id = $2",
        )
        .bind(store_id)
        .bind(id)
        .bind(amount)
        .bind(refunded)
        .bind(now),
    )
    .await
}

/// An operation sent (or about to be sent) to a provider.
#[derive(Debug, Clone)]
pub struct OperationRow {
    pub id: String,
    pub payment_id: String,
    pub kind: String,
    pub amount: i64,
    pub status: String,
    pub request_key: Option<String>,
    pub failure_code: String,
    pub note: String,
    pub actor: String,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

const OP_COLUMNS: &str =
    "id, payment_id, kind, amount, status, request_key, failure_code, note, actor, created_at, settled_at";

fn operation(r: &AnyRow) -> Result<OperationRow, sqlx::Error> {
    Ok(OperationRow {
        id: r.try_get("id")?,
        payment_id: r.try_get("payment_id")?,
        kind: r.try_get("kind")?,
        amount: r.try_get("amount")?,
        status: r.try_get("status")?,
        request_key: r.try_get("request_key")?,
        failure_code: r.try_get("failure_code")?,
        note: r.try_get("note")?,
        actor: r.try_get("actor")?,
        created_at: r.try_get("created_at")?,
        settled_at: r.try_get("settled_at")?,
    })
}

pub async fn insert_operation(tx: &mut Tx, store_id: &str, o: &OperationRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO payment_operations (store_id, {OP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    tx.write(
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store_id)
            .bind(&o.id)
            .bind(&o.payment_id)
            .bind(&o.kind)
            .bind(o.amount)
            .bind(&o.status)
            .bind(&o.request_key)
            .bind(&o.failure_code)
            .bind(&o.note)
            .bind(&o.actor)
            .bind(o.created_at)
            .bind(o.settled_at),
    )
    .await
}

/// Settles a pending operation. False when it was already settled (by a
/// concurrent retry): the caller then does nothing more.
pub async fn settle_operation(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    status: &str,
    failure_code: &str,
    note: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE payment_operations SET status = $3, failure_code = $4, note = $5, settled_at = $6
                 WHERE store_id = $1 AND id = $2 AND status = 'pending'",
            )
            .bind(store_id)
            .bind(id)
            .bind(status)
            .bind(failure_code)
            .bind(note)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn operations(
    pool: &sqlx::AnyPool,
    store_id: &str,
    payment_id: &str,
) -> Result<Vec<OperationRow>, sqlx::Error> {
    let sql =
        format!("SELECT {OP_COLUMNS} FROM payment_operations WHERE store_id = $1 AND payment_id = $2 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(payment_id).fetch_all(pool).await?;
    rows.iter().map(operation).collect()
}

pub async fn operation_by_key(
    tx: &mut Tx,
    store_id: &str,
    request_key: &str,
) -> Result<Option<OperationRow>, sqlx::Error> {
    let sql = format!("SELECT {OP_COLUMNS} FROM payment_operations WHERE store_id = $1 AND request_key = $2");
    tx.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(request_key))
        .await?
        .as_ref()
        .map(operation)
        .transpose()
}

pub async fn operation_by_id(tx: &mut Tx, store_id: &str, id: &str) -> Result<Option<OperationRow>, sqlx::Error> {
    let sql = format!("SELECT {OP_COLUMNS} FROM payment_operations WHERE store_id = $1 AND id = $2");
    tx.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(id))
        .await?
        .as_ref()
        .map(operation)
        .transpose()
}

/// Locks the payment row for the rest of the transaction (PostgreSQL; on
/// SQLite the writer is already exclusive).
pub async fn lock(tx: &mut Tx, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(sqlx::query("UPDATE payments SET gate = gate WHERE store_id = $1 AND id = $2").bind(store_id).bind(id))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a provider's event was already taken.
pub async fn event_seen(
    pool: &sqlx::AnyPool,
    store_id: &str,
    provider: &str,
    event_id: &str,
) -> Result<bool, sqlx::Error> {
    let row =
        sqlx::query("SELECT 1 AS one FROM provider_events WHERE store_id = $1 AND provider = $2 AND event_id = $3")
            .bind(store_id)
            .bind(provider)
            .bind(event_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.is_some())
}

/// Records a provider's event; false when it was already recorded.
#[allow(clippy::too_many_arguments)]
pub async fn record_event(
    tx: &mut Tx,
    store_id: &str,
    provider: &str,
    event_id: &str,
    kind: &str,
    payment_id: Option<&str>,
    outcome: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "INSERT INTO provider_events (store_id, provider, event_id, kind, payment_id, outcome, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(store_id)
            .bind(provider)
            .bind(event_id)
            .bind(kind)
            .bind(payment_id)
            .bind(outcome)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The payment a provider knows by `provider_ref`.
pub async fn by_provider_ref(
    pool: &sqlx::AnyPool,
    store_id: &str,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE store_id = $1 AND provider = $2 AND provider_ref = $3");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(payment)
        .transpose()
}

/// Operations still pending that were started before `before` (Unix ms),
/// newest first, so ones no provider can resolve never hold up newer ones:
/// (store id, operation).
pub async fn stuck_operations(
    pool: &sqlx::AnyPool,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, OperationRow)>, sqlx::Error> {
    let sql = format!(
        "SELECT store_id, {OP_COLUMNS} FROM payment_operations WHERE status = 'pending' AND created_at < $1
         ORDER BY created_at DESC LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(before).bind(limit).fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get("store_id")?, operation(r)?))).collect()
}
