//! Cancels unpaid orders whose hold on stock ran out and releases their
//! stock. Every node may run it: each order moves in its own transaction,
//! guarded by the status it comes from, so two nodes never cancel twice.

use std::time::Duration;

use tokio::sync::watch;

use crate::services::{App, orders};

const EVERY: Duration = Duration::from_secs(2);

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    while super::wait_turn(EVERY, &mut shutdown).await {
        match orders::expire_reservations(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "unpaid orders expired and their stock released"),
            Err(e) => tracing::warn!(error = %e, "expiring unpaid orders failed"),
        }
    }
}
