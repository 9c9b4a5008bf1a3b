//! A thread of its own for code that holds the SQLite writer between
//! statements.
//!
//! Why: while a transaction holds the one writer, every other write waits
//! for it, and whenever its task waits (for the writer, for a batch's
//! outcome) it must be woken. On the shared runtime that task queues behind
//! whatever the request workers are busy with (parsing, pricing,
//! rendering), so each wake stretches the writer's hold. On a runtime that
//! runs nothing but such transactions the wake is immediate, the request
//! workers keep everything else, and the statements such transactions run
//! in place (see [`super::sync_sqlite`]) block no request worker.

use std::future::Future;

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::{JoinError, JoinHandle};

/// The thread and its runtime; dropping the last handle stops both (a
/// transaction still on it is dropped, which rolls it back).
pub(super) struct WriterThread {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl std::fmt::Debug for WriterThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterThread")
    }
}

impl WriterThread {
    pub(super) fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new().name("oxcart-writer".into()).spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            });
        })?;
        Ok(Self { handle, _stop: stop })
    }

    /// Runs `work` on the writer's thread, carrying the request's
    /// durability bookkeeping (see [`super::durable`]) there and back.
    pub(super) async fn run<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
    {
        // Dropped with the caller (a client hanging up, a runtime shutting
        // down), the work is dropped too, as it would be if it ran in place:
        // nothing keeps the database busy after its caller is gone.
        let done = AbortOnDrop(self.handle.spawn(super::group_commit::seen_by(work))).await;
        match done {
            Ok((out, seen)) => {
                super::group_commit::adopt(seen);
                out
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(sqlx::Error::Protocol(format!("the writer thread stopped: {e}")).into()),
        }
    }
}

/// A task that is aborted when its handle is dropped (a no-op once it finished).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
