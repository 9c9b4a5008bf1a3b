//! Keeps this node's search index current: follows the catalog events
//! every second, and once a minute re-indexes products whose sale price
//! started or ended (their listed price changed without a save).

use std::time::Duration;

use tokio::sync::watch;

use crate::services::{App, now_ms, search};

const FOLLOW_EVERY: Duration = Duration::from_secs(1);
const SALES_EVERY_MS: i64 = 60_000;

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let mut sales_checked = now_ms();
    while super::wait_turn(FOLLOW_EVERY, &mut shutdown).await {
        match search::follow(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(products = n, "search index followed the catalog"),
            Err(e) => tracing::warn!(error = %e, "search index could not follow the catalog"),
        }
        let now = now_ms();
        if now - sales_checked >= SALES_EVERY_MS {
            match search::apply_sale_boundaries(&app, sales_checked, now).await {
                Ok(n) => {
                    sales_checked = now;
                    if n > 0 {
                        tracing::info!(products = n, "search prices updated for sales starting or ending");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "search sale update failed"),
            }
        }
    }
}
