//! Sends queued e-mail: leases pending messages, opens them, hands them to
//! the transport, and marks them sent; a failure is retried when the lease
//! runs out, up to a limit.

use std::time::Duration;

use tokio::sync::watch;

use crate::db::{mail, stores};
use crate::providers::mail::{Message, Transport};
use crate::services::{App, now_ms};

const LEASE_MS: i64 = 30_000;
const MAX_ATTEMPTS: i64 = 5;

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let transport = Transport::Mailbox(app.config.mailbox_dir());
    let poll = Duration::from_millis(app.config.webhooks.poll_interval_ms.max(10));
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = now_ms();
        match mail::claim(&app.db, now, now + LEASE_MS, 20).await {
            Ok(batch) => {
                for m in batch {
                    deliver(&app, &transport, m).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "claiming mail failed"),
        }
        tokio::select! {
            _ = app.mail_wakeup.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn deliver(app: &App, transport: &Transport, m: mail::PendingMail) {
    let result = async {
        let json =
            app.open(crate::services::mail::slot(&m.store_id, &m.id), &m.message_enc).map_err(|e| e.to_string())?;
        let message: Message = serde_json::from_str(&json).map_err(|e| e.to_string())?;
        let slug = stores::by_id(app.db.pool(), &m.store_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|s| s.slug)
            .unwrap_or_else(|| m.store_id.clone());
        transport.send(&slug, &m.id, &message).await
    }
    .await;
    let (status, error) = match &result {
        Ok(()) => ("sent", None),
        Err(_) if m.attempts >= MAX_ATTEMPTS => ("failed", result.as_ref().err().map(String::as_str)),
        // Stays pending; the lease running out schedules the retry.
        Err(e) => {
            tracing::warn!(mail = %m.id, error = %e, "sending mail failed; will retry");
            return;
        }
    };
    if let Err(e) = mail::finish(&app.db, &m.store_id, &m.id, status, error, now_ms()).await {
        tracing::warn!(mail = %m.id, error = %e, "recording mail status failed");
    }
}
