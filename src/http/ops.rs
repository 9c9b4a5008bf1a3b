//! Operations endpoints: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::state::AppState;
use crate::db::webhooks;
use crate::services::now_ms;

/// Liveness: the process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

/// Readiness: the database answers.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.app.db.ping().await {
        Ok(()) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], r#"{"status":"ready","database":"ok"}"#)
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"unavailable","database":"error"}"#,
            )
        }
    }
}

/// Prometheus text format. Pool and outbox gauges are sampled on scrape.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (size, idle) = state.app.db.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    if let Ok(lag) = webhooks::oldest_pending_age_ms(&state.app.db, now_ms()).await {
        metrics::gauge!("outbox_lag_seconds").set(lag as f64 / 1000.0);
    }
    let mut body = state.metrics.render();
    if let Some(w) = state.app.db.writer_stats() {
        body.push_str(&writer_metrics(&w));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// The SQLite writer's counters, written out directly: they belong to this
/// app's database, while the `metrics` recorder is one per process (and
/// keeps the largest value any app ever set for a counter).
fn writer_metrics(w: &crate::db::WriterStats) -> String {
    [
        ("db_writer_transactions_total", w.transactions.to_string()),
        ("db_writer_batches_total", w.batches.to_string()),
        ("db_writer_busy_seconds_total", w.busy.as_secs_f64().to_string()),
        ("db_writer_commit_seconds_total", w.committing.as_secs_f64().to_string()),
    ]
    .iter()
    .map(|(name, value)| format!("# TYPE {name} counter\n{name} {value}\n"))
    .collect()
}
