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
/// subscribe to its type. Returns how many deliveries were queued.
pub async fn append(tx: &mut Tx, event: &EventRow) -> Result<usize, sqlx::Error> {
    tx.defer(
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
    let endpoints = tx
        .fetch_all(
            sqlx::query("SELECT id, event_types FROM webhook_endpoints WHERE store_id = $1 AND active = 1")
                .bind(&event.store_id),
        )
        .await?;
    let mut queued = 0;
    for ep in endpoints {
        let endpoint_id: String = ep.try_get("id")?;
        let types: String = ep.try_get("event_types")?;
        let patterns: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        if !webhooks::matches(&patterns, &event.event_type) {
            continue;
        }
        tx.defer(
            sqlx::query(
                "INSERT INTO webhook_deliveries (store_id, id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, $5)",
            )
            .bind(&event.store_id)
            .bind(ids::new_id(ids::DELIVERY))
            .bind(&endpoint_id)
            .bind(&event.id)
            .bind(event.created_at),
        )
        .await?;
        queued += 1;
    }
    Ok(queued)
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
