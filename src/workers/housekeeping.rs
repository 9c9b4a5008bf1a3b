//! Runs the retention purge on a schedule. Every node may run it: the
//! deletes are idempotent.

use std::time::Duration;

use tokio::sync::watch;

use crate::services::{App, housekeeping};

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let every = Duration::from_secs(u64::from(app.config.retention.interval_minutes.max(1)) * 60);
    refresh_statistics(&app).await;
    while super::wait_turn(every, &mut shutdown).await {
        match housekeeping::purge(&app).await {
            Ok(p) => tracing::info!(?p, "housekeeping purge"),
            Err(e) => tracing::warn!(error = %e, "housekeeping purge failed"),
        }
        refresh_statistics(&app).await;
    }
}

/// Keeps the query planner's statistics current (see `Db::refresh_statistics`).
async fn refresh_statistics(app: &App) {
    if let Err(e) = app.db.refresh_statistics().await {
        tracing::warn!(error = %e, "refreshing planner statistics failed");
    }
}
