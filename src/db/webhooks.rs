//! SQL for webhook endpoints, their delivery queue and the attempt log.
//!
//! Workers on several nodes share the queue through leases: a worker claims
//! due rows by stamping `lease_owner`/`lease_until`; PostgreSQL skips rows
//! another worker holds (`FOR UPDATE SKIP LOCKED`), SQLite has one writer
//! at a time anyway. A lease that expires (crashed node) makes the row due
//! again, so delivery is at least once; receivers dedupe by event id.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, Dialect, RunOn, Tx};

#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: String,
    pub store_id: String,
    pub url: String,
    pub description: String,
    pub secret: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: i64,
}

fn endpoint_from_row(r: &AnyRow) -> Result<EndpointRow, sqlx::Error> {
    let types: String = r.try_get("event_types")?;
    Ok(EndpointRow {
        id: r.try_get("id")?,
        store_id: r.try_get("store_id")?,
        url: r.try_get("url")?,
        description: r.try_get("description")?,
        secret: r.try_get("secret")?,
        event_types: serde_json::from_str(&types).unwrap_or_default(),
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

const ENDPOINT_COLUMNS: &str = "id, store_id, url, description, secret, event_types, active, created_at";

pub async fn insert_endpoint(tx: &mut Tx, e: &EndpointRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_endpoints (store_id, id, url, description, secret, event_types, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.store_id)
    .bind(&e.id)
    .bind(&e.url)
    .bind(&e.description)
    .bind(&e.secret)
    .bind(serde_json::to_string(&e.event_types).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(e.active))
    .bind(e.created_at)
    .execute_on(tx)
    .await?;
    Ok(())
}

pub async fn endpoint<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<EndpointRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(endpoint_from_row)
        .transpose()
}

pub async fn endpoints<'e, E>(ex: E, store_id: &str) -> Result<Vec<EndpointRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE store_id = $1 AND active = 1 ORDER BY id LIMIT 200"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).fetch_all(ex).await?.iter().map(endpoint_from_row).collect()
}

/// Deactivates an endpoint and parks its pending deliveries. The rows stay
/// for the delivery log.
pub async fn deactivate(tx: &mut Tx, store_id: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE webhook_endpoints SET active = 0 WHERE store_id = $1 AND id = $2 AND active = 1")
        .bind(store_id)
        .bind(id)
        .execute_on(tx)
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'parked', last_error = 'endpoint deleted', updated_at = $1
         WHERE store_id = $2 AND endpoint_id = $3 AND status = 'pending'",
    )
    .bind(now)
    .bind(store_id)
    .bind(id)
    .execute_on(tx)
    .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: String,
    pub store_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn delivery_from_row(r: &AnyRow) -> Result<DeliveryRow, sqlx::Error> {
    Ok(DeliveryRow {
        id: r.try_get("id")?,
        store_id: r.try_get("store_id")?,
        endpoint_id: r.try_get("endpoint_id")?,
        event_id: r.try_get("event_id")?,
        event_type: r.try_get("event_type")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_response_status: r.try_get("last_response_status")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.store_id, d.endpoint_id, d.event_id, e.event_type, d.status, d.attempts,
    d.next_attempt_at, d.last_response_status, d.last_error, d.created_at, d.updated_at
    FROM webhook_deliveries d JOIN outbox_events e ON e.store_id = d.store_id AND e.id = d.event_id";

pub async fn deliveries<'e, E>(
    ex: E,
    store_id: &str,
    endpoint_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "{DELIVERY_SELECT} WHERE d.store_id = $1 AND d.endpoint_id = $2 ORDER BY d.created_at DESC, d.id DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(endpoint_id)
        .bind(limit)
        .fetch_all(ex)
        .await?
        .iter()
        .map(delivery_from_row)
        .collect()
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt_no: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub error: Option<String>,
}

/// The attempt log of the given deliveries (one query, not one per row).
pub async fn attempts_for_endpoint<'e, E>(
    ex: E,
    store_id: &str,
    endpoint_id: &str,
) -> Result<Vec<AttemptRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT a.delivery_id, a.attempt_no, a.started_at, a.duration_ms, a.response_status, a.error
         FROM webhook_attempts a JOIN webhook_deliveries d ON d.store_id = a.store_id AND d.id = a.delivery_id
         WHERE a.store_id = $1 AND d.endpoint_id = $2 ORDER BY a.delivery_id, a.attempt_no LIMIT 5000",
    )
    .bind(store_id)
    .bind(endpoint_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttemptRow {
                delivery_id: r.try_get("delivery_id")?,
                attempt_no: r.try_get("attempt_no")?,
                started_at: r.try_get("started_at")?,
                duration_ms: r.try_get("duration_ms")?,
                response_status: r.try_get("response_status")?,
                error: r.try_get("error")?,
            })
        })
        .collect()
}

/// A delivery the worker holds a lease on, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub store_id: String,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub event_created_at: i64,
}

/// Leases up to `limit` due deliveries to `owner` until `lease_until`.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
    let lock = match db.dialect() {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2
         WHERE (store_id, id) IN (
             SELECT store_id, id FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
             ORDER BY next_attempt_at LIMIT $4 {lock})
         RETURNING store_id, id"
    );
    let mut tx = db.begin().await?;
    let claimed = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let mut out = Vec::with_capacity(claimed.len());
    for row in claimed {
        let store_id: String = row.try_get("store_id")?;
        let id: String = row.try_get("id")?;
        let r = sqlx::query(
            "SELECT d.id, d.store_id, d.attempts, w.url, w.secret, e.id AS event_id, e.event_type, e.payload, e.created_at
             FROM webhook_deliveries d
             JOIN webhook_endpoints w ON w.store_id = d.store_id AND w.id = d.endpoint_id
             JOIN outbox_events e ON e.store_id = d.store_id AND e.id = d.event_id
             WHERE d.store_id = $1 AND d.id = $2",
        )
        .bind(&store_id)
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        out.push(ClaimedDelivery {
            id: r.try_get("id")?,
            store_id: r.try_get("store_id")?,
            attempts: r.try_get("attempts")?,
            url: r.try_get("url")?,
            secret: r.try_get("secret")?,
            event_id: r.try_get("event_id")?,
            event_type: r.try_get("event_type")?,
            payload: r.try_get("payload")?,
            event_created_at: r.try_get("created_at")?,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// How an attempt ended, and what happens to the delivery next.
pub struct AttemptOutcome<'a> {
    pub attempt_no: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub error: Option<&'a str>,
    /// `delivered`, `pending` (retry at `next_attempt_at`) or `parked`.
    pub new_status: &'a str,
    pub next_attempt_at: i64,
}

/// Records an attempt and releases the lease, but only if `owner` still
/// holds it: a node whose lease expired must not overwrite the new holder.
pub async fn record_attempt(
    db: &Db,
    d: &ClaimedDelivery,
    owner: &str,
    o: &AttemptOutcome<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_response_status = $4,
             last_error = $5, lease_owner = NULL, lease_until = NULL, updated_at = $6
         WHERE store_id = $7 AND id = $8 AND lease_owner = $9",
    )
    .bind(o.new_status)
    .bind(o.attempt_no)
    .bind(o.next_attempt_at)
    .bind(o.response_status)
    .bind(o.error)
    .bind(now)
    .bind(&d.store_id)
    .bind(&d.id)
    .bind(owner)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 1 {
        sqlx::query(
            "INSERT INTO webhook_attempts (store_id, delivery_id, attempt_no, started_at, duration_ms, response_status, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&d.store_id)
        .bind(&d.id)
        .bind(o.attempt_no)
        .bind(o.started_at)
        .bind(o.duration_ms)
        .bind(o.response_status)
        .bind(o.error)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(updated == 1)
}

/// Age in milliseconds of the oldest delivery that is due but not done.
pub async fn oldest_pending_age_ms(db: &Db, now: i64) -> Result<i64, sqlx::Error> {
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(db.pool())
            .await?;
    Ok(oldest.map(|t| (now - t).max(0)).unwrap_or(0))
}
