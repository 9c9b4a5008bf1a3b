//! Runs background jobs (catalog import and export). Every node runs this
//! worker; a job is claimed under a lease, so each runs on one node at a time.

use std::time::Duration;

use tokio::sync::watch;

use crate::services::{App, jobs};

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let owner = format!("jobs-{}", crate::domain::ids::new_id("wrk"));
    loop {
        // Drain what is due, then wait for a new job or the poll interval
        // (jobs queued on another node, or a lease that ran out).
        loop {
            if *shutdown.borrow() {
                return;
            }
            match jobs::run_next(&app, &owner).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "job worker");
                    break;
                }
            }
        }
        tokio::select! {
            _ = app.jobs_wakeup.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}
