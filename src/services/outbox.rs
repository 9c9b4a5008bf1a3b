//! Appending events. Call [`emit`] inside the transaction that makes the
//! change; after commit, call [`crate::services::App::wake_outbox`] so the
//! delivery worker picks the event up without waiting for its next poll.

use serde::Serialize;
use serde_json::json;

use super::{App, ServiceResult, now_ms};
use crate::db::{Tx, outbox};
use crate::domain::ids;

/// The envelope every event is delivered in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub store_id: String,
    /// Unix milliseconds.
    pub created_at: i64,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

pub async fn emit(tx: &mut Tx, store_id: &str, event_type: &str, data: serde_json::Value) -> ServiceResult<String> {
    let id = ids::new_id(ids::EVENT);
    let created_at = now_ms();
    let payload = json!({
        "id": id, "type": event_type, "store_id": store_id, "created_at": created_at, "data": data,
    });
    outbox::append(
        tx,
        &outbox::EventRow {
            id: id.clone(),
            store_id: store_id.to_string(),
            event_type: event_type.to_string(),
            payload: payload.to_string(),
            created_at,
        },
    )
    .await?;
    Ok(id)
}

impl App {
    pub fn wake_outbox(&self) {
        self.outbox_wakeup.notify_one();
    }

    pub fn wake_mail(&self) {
        self.mail_wakeup.notify_one();
    }
}

impl Event {
    pub fn from_row(row: outbox::EventRow) -> Event {
        let data = serde_json::from_str::<serde_json::Value>(&row.payload)
            .ok()
            .and_then(|mut v| v.get_mut("data").map(serde_json::Value::take))
            .unwrap_or(serde_json::Value::Null);
        Event { id: row.id, event_type: row.event_type, store_id: row.store_id, created_at: row.created_at, data }
    }
}
