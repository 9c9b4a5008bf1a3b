//! Completes payment operations whose answer was lost (see
//! `services::payments::reconcile_stuck`). Every node may run it: each
//! operation settles once (`… WHERE status = 'pending'`), and providers
//! treat a repeated key as the same request.

use std::time::Duration;

use tokio::sync::watch;

use crate::services::{App, payments};

const EVERY: Duration = Duration::from_secs(5);

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    while super::wait_turn(EVERY, &mut shutdown).await {
        match payments::reconcile_stuck(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(operations = n, "pending payment operations reconciled"),
            Err(e) => tracing::warn!(error = %e, "reconciling payment operations failed"),
        }
    }
}
