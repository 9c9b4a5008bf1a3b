//! Gives heap memory the server freed back to the operating system.
//!
//! glibc keeps freed memory in per-thread arenas for reuse and returns
//! little of it by itself, so after a burst of work (re-indexing thousands
//! of products, a bulk import, a load peak) a server keeps holding memory
//! it no longer uses. Trimming every few seconds is cheap: with little
//! free memory there is little to walk.

use std::time::Duration;

use tokio::sync::watch;

const EVERY: Duration = Duration::from_secs(5);

pub async fn run(mut shutdown: watch::Receiver<bool>) {
    while super::wait_turn(EVERY, &mut shutdown).await {
        // Walks every arena; off the async workers.
        let _ = tokio::task::spawn_blocking(release_free_memory).await;
    }
}

/// Returns free heap pages to the operating system (glibc only; elsewhere
/// the allocator is left to do as it does).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only takes the allocator's own locks and
    // releases memory that no live allocation uses; any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
}
