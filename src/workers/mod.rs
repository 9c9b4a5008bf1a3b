//! Background workers. Each runs until the shutdown signal, takes its work
//! from the database (so any number of nodes can run them), and finishes
//! the item in hand before stopping.

pub mod housekeeping;
pub mod jobs;
pub mod mail;
pub mod memory;
pub mod payments;
pub mod reservations;
pub mod search;
pub mod webhooks;

/// Waits `every`, or less if shutdown is signalled; false when the worker
/// should stop. The loop of a worker that runs on a schedule.
pub(crate) async fn wait_turn(every: std::time::Duration, shutdown: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(every) => {}
        _ = shutdown.changed() => {}
    }
    !*shutdown.borrow()
}
