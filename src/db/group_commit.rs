//! SQLite group commit: every write transaction of this process runs on one
//! dedicated connection, and transactions that queue behind each other share
//! one `COMMIT` (one WAL fsync) instead of paying one each.
//!
//! A transaction is a savepoint inside an outer `BEGIN IMMEDIATE`, except
//! the batch's first, which rolls back by rolling back the batch (it holds
//! nothing else yet) and so needs none: a savepoint makes SQLite keep a
//! copy of every page it changes and walk that copy at each statement's
//! end, which is quadratic in a large transaction (38 % of a 100,000-product
//! import). When it finishes, the savepoint is released (or rolled back) and, if another
//! transaction is already waiting for the connection, the outer transaction
//! stays open for it; the last one of the batch commits and tells every
//! member the outcome. Nobody gets an answer before its batch's `COMMIT`
//! returned, so durability is unchanged (`synchronous = FULL`): an
//! acknowledged write survives a crash or power loss, and a failed batch
//! fails every member, none of which has been acknowledged.
//!
//! Why one connection: SQLite has one writer at a time anyway, a single
//! writer keeps its page cache valid between transactions, and batching
//! needs one connection to hold the batch (hot transactions use a second,
//! synchronous one, see [`Side`]; a batch lives on one of the two). Each
//! step that changes a connection's state either runs in a spawned task or
//! is synchronous, so a caller that is cancelled (a client hanging up)
//! never leaves a half-finished `COMMIT` behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Executor};

use super::sync_sqlite::SyncConn;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// A batch commits once it has this many members even if more are waiting,
/// which bounds the latency a long queue adds.
const MAX_BATCH: usize = 64;

/// How long a member waits for its batch's outcome before checking that
/// someone is still going to commit it (the one expected to may have been
/// cancelled while queued).
const RESCUE_AFTER: Duration = Duration::from_millis(20);

pub(super) type Outcome = Option<Result<(), String>>;

pub(super) struct GroupCommit {
    writer: Arc<Mutex<Writer>>,
    counters: Arc<Counters>,
    /// Transactions waiting for the writer: while there are any, a finished
    /// transaction leaves the batch open for them.
    queued: AtomicUsize,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("queued", &self.queued.load(Ordering::Relaxed)).finish()
    }
}

/// What the writer did since start, for `/metrics`: how busy it is tells
/// whether writes are bound by the one writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    /// Transactions that held the writer (committed or rolled back).
    pub transactions: u64,
    /// Batches committed (each one `COMMIT`, one fsync).
    pub batches: u64,
    /// Time transactions held the writer, from their turn to their end.
    pub busy: Duration,
    /// Time spent in `COMMIT` (mostly the fsync).
    pub committing: Duration,
}

#[derive(Default)]
struct Counters {
    transactions: AtomicU64,
    batches: AtomicU64,
    busy_ns: AtomicU64,
    commit_ns: AtomicU64,
}

fn add_elapsed(counter: &AtomicU64, since: Instant) {
    counter.fetch_add(u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Which of the writer's two connections a transaction uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The sqlx connection: any code, through `&mut **tx`.
    Sqlx,
    /// The synchronous connection: hot paths, through the `Tx`'s methods
    /// (see [`super::sync_sqlite`]).
    InPlace,
}

pub(super) struct Writer {
    conn: AnyConnection,
    in_place: SyncConn,
    counters: Arc<Counters>,
    /// When the transaction holding the writer got it.
    turn_since: Instant,
    /// The connection on which `BEGIN IMMEDIATE` ran, while the batch is
    /// neither committed nor rolled back. A batch lives on one connection:
    /// a transaction wanting the other one commits it first.
    open: Option<Side>,
    /// Transactions released into the open batch, waiting for its `COMMIT`.
    members: usize,
    /// Counts batches, so a waiting member knows whether its batch is still open.
    batch: u64,
    /// Where the open batch's outcome will be announced.
    announce: watch::Sender<Outcome>,
    /// A transaction was abandoned and its savepoint not yet rolled back:
    /// the batch holds work that must not be committed.
    poisoned: bool,
    /// The live turn runs in a savepoint (it is not its batch's first).
    savepoint: bool,
}

/// One transaction's hold on the writer. Dropped without `commit` or
/// `rollback` (an early `?` return), it rolls back in a spawned task.
pub(super) struct Turn {
    guard: Option<OwnedMutexGuard<Writer>>,
    group: Arc<GroupCommit>,
    side: Side,
}

/// Counts a task in `queued` while it waits for the writer, also if the
/// wait is cancelled.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Self(n)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

tokio::task_local! {
    /// Open batches a request left by rolling back, whose members' writes
    /// it may have read (see [`durable`]).
    static SEEN: std::sync::Mutex<Vec<watch::Receiver<Outcome>>>;
}

/// Runs one request and returns only once every batch it may have read
/// uncommitted writes from is durable. A transaction that commits waits
/// for its batch anyway; one that rolls back (an error such as "already
/// ordered", or a replayed `Idempotency-Key`) may be answering from a
/// batch member's writes, so its answer waits too. Err when such a batch
/// failed: the answer would describe writes that never happened.
pub async fn durable<F: std::future::Future>(work: F) -> Result<F::Output, String> {
    let (out, seen) = seen_by(work).await;
    for mut rx in seen {
        let done = tokio::time::timeout(Duration::from_secs(30), rx.wait_for(Option::is_some))
            .await
            .map(|r| r.map(|done| done.clone().unwrap_or(Ok(()))));
        match done {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(e),
            Ok(Err(_)) | Err(_) => return Err("a commit batch this request read from did not finish".into()),
        }
    }
    Ok(out)
}

/// Runs `work`, returning with its output the batches it left that
/// [`durable`] must wait for.
pub(super) async fn seen_by<F: std::future::Future>(work: F) -> (F::Output, Vec<watch::Receiver<Outcome>>) {
    SEEN.scope(Default::default(), async {
        let out = work.await;
        (out, SEEN.with(|s| std::mem::take(&mut *s.lock().unwrap_or_else(|e| e.into_inner()))))
    })
    .await
}

/// Hands batches that work run elsewhere left (see [`seen_by`]) to the
/// current request's [`durable`].
pub(super) fn adopt(seen: Vec<watch::Receiver<Outcome>>) {
    if !seen.is_empty() {
        let _ = SEEN.try_with(|s| s.lock().unwrap_or_else(|e| e.into_inner()).extend(seen));
    }
}

/// Notes, for [`durable`], that the current request leaves a batch with
/// members whose writes it may have read.
fn remember(w: &Writer) {
    if w.members > 0 {
        let rx = w.announce.subscribe();
        let _ = SEEN.try_with(|s| s.lock().unwrap_or_else(|e| e.into_inner()).push(rx));
    }
}

pub(super) const SAVEPOINT: &str = "SAVEPOINT oxcart_tx";
const RELEASE: &str = "RELEASE oxcart_tx";
const ROLLBACK_TO: &str = "ROLLBACK TO oxcart_tx";

fn spawn_failed(e: tokio::task::JoinError) -> sqlx::Error {
    sqlx::Error::Protocol(format!("write transaction task failed: {e}"))
}

impl GroupCommit {
    pub(super) fn new(conn: AnyConnection, in_place: SyncConn) -> Arc<Self> {
        let (announce, _) = watch::channel(None);
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            conn,
            in_place,
            counters: counters.clone(),
            turn_since: Instant::now(),
            open: None,
            members: 0,
            batch: 0,
            announce,
            poisoned: false,
            savepoint: false,
        };
        Arc::new(Self { writer: Arc::new(Mutex::new(writer)), counters, queued: AtomicUsize::new(0) })
    }

    pub(super) fn stats(&self) -> WriterStats {
        let c = &self.counters;
        WriterStats {
            transactions: c.transactions.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            busy: Duration::from_nanos(c.busy_ns.load(Ordering::Relaxed)),
            committing: Duration::from_nanos(c.commit_ns.load(Ordering::Relaxed)),
        }
    }

    async fn lock(&self) -> OwnedMutexGuard<Writer> {
        let _queued = Queued::new(&self.queued);
        self.writer.clone().lock_owned().await
    }

    /// Waits for the writer and opens the batch on `side`'s connection, if
    /// none is open there, and a savepoint. `alone`: commit any open batch
    /// first, so that this transaction is a batch's first (and needs no
    /// savepoint), for transactions that change many pages.
    pub(super) async fn begin(self: &Arc<Self>, side: Side, alone: bool) -> Result<Turn, sqlx::Error> {
        let group = self.clone();
        if side == Side::Sqlx {
            return tokio::spawn(async move {
                let w = group.lock().await;
                open_turn(group, w, side, alone).await
            })
            .await
            .map_err(spawn_failed)?;
        }
        // In place, every step once the writer is held is synchronous, so a
        // cancelled caller cannot leave one half done, and the writer goes
        // straight to this task, not to a spawned one queued behind others
        // on the writer's thread. Only ending a batch on sqlx's connection
        // awaits it: that runs in a task of its own.
        let w = self.lock().await;
        if w.poisoned || w.open == Some(Side::Sqlx) || (alone && w.open.is_some()) {
            return tokio::spawn(open_turn(group, w, side, alone)).await.map_err(spawn_failed)?;
        }
        open_turn(group, w, side, alone).await
    }

    /// After a transaction left the batch: commits it unless someone waiting
    /// can join (then the last joiner commits). Returns the outcome when
    /// this call committed.
    async fn settle(&self, mut w: OwnedMutexGuard<Writer>) -> Option<Result<(), String>> {
        let waiting = self.queued.load(Ordering::SeqCst) > 0;
        if w.open.is_none() || (waiting && w.members < MAX_BATCH) {
            return None;
        }
        Some(w.close().await)
    }

    /// Waits for the outcome of batch `batch`; if it seems stuck, takes the
    /// writer and commits it.
    async fn outcome(&self, batch: u64, mut rx: watch::Receiver<Outcome>) -> Result<(), String> {
        loop {
            // Copied out at once: the watch's borrow must not live across an await.
            let seen = tokio::time::timeout(RESCUE_AFTER, rx.wait_for(Option::is_some))
                .await
                .map(|r| r.map(|done| done.clone().unwrap_or(Ok(()))));
            match seen {
                Ok(Ok(done)) => return done,
                Ok(Err(_)) => return Err("the writer went away before committing".into()),
                Err(_) => {
                    let mut w = self.lock().await;
                    if w.batch == batch && w.open.is_some() {
                        return w.close().await;
                    }
                    // Someone else ended ours; whoever left the writer open
                    // counted on this task, so settle what is open now.
                    self.settle(w).await;
                }
            }
        }
    }
}

impl Writer {
    /// Runs a statement without arguments on `side`'s connection.
    async fn exec(&mut self, side: Side, sql: &'static str) -> Result<(), sqlx::Error> {
        match side {
            Side::Sqlx => self.conn.execute(sql).await.map(drop),
            Side::InPlace => self.in_place.batch(sql),
        }
    }

    /// Ends the open batch: `COMMIT` if it has members, else `ROLLBACK`
    /// (nothing to keep), and announces the outcome to its members.
    async fn close(&mut self) -> Result<(), String> {
        if self.poisoned {
            let why = "a transaction in this batch was abandoned".to_string();
            self.abort(why.clone()).await;
            return Err(why);
        }
        let Some(side) = self.open else { return Ok(()) };
        let result = if self.members == 0 {
            self.exec(side, "ROLLBACK").await.map_err(|e| e.to_string())
        } else {
            let since = Instant::now();
            let committed = self.exec(side, "COMMIT").await;
            add_elapsed(&self.counters.commit_ns, since);
            self.counters.batches.fetch_add(1, Ordering::Relaxed);
            match committed {
                Ok(_) => Ok(()),
                Err(e) => {
                    // Whatever state SQLite left, start the next batch clean.
                    let _ = self.exec(side, "ROLLBACK").await;
                    Err(format!("group commit failed: {e}"))
                }
            }
        };
        self.end_batch(result.clone());
        result
    }

    /// The batch is gone (SQLite rolled it back, or a savepoint step failed
    /// so its state is unknown): roll back whatever is left, fail its members.
    async fn abort(&mut self, why: String) {
        if let Some(side) = self.open {
            let _ = self.exec(side, "ROLLBACK").await;
        }
        self.end_batch(Err(why));
    }

    /// The transaction holding the writer is done with it.
    fn end_turn(&self) {
        self.counters.transactions.fetch_add(1, Ordering::Relaxed);
        add_elapsed(&self.counters.busy_ns, self.turn_since);
    }

    fn end_batch(&mut self, result: Result<(), String>) {
        self.open = None;
        self.poisoned = false;
        self.members = 0;
        self.batch += 1;
        let (next, _) = watch::channel(None);
        std::mem::replace(&mut self.announce, next).send_replace(Some(result));
    }
}

impl Turn {
    /// The sqlx connection; panics on a turn running in place.
    pub(super) fn conn(&self) -> &AnyConnection {
        assert!(self.side == Side::Sqlx, "{IN_PLACE_ONLY}");
        &self.guard.as_ref().expect("a live turn holds the writer").conn
    }

    pub(super) fn conn_mut(&mut self) -> &mut AnyConnection {
        assert!(self.side == Side::Sqlx, "{IN_PLACE_ONLY}");
        &mut self.guard.as_mut().expect("a live turn holds the writer").conn
    }

    /// The turn runs on the synchronous connection.
    pub(super) fn in_place(&self) -> bool {
        self.side == Side::InPlace
    }

    /// Runs one statement on the synchronous connection. Synchronous, so
    /// no caller can be cancelled halfway through it.
    pub(super) fn run_in_place(&mut self, sql: &str, args: Option<AnyArguments>) -> Result<super::Answer, sqlx::Error> {
        let w = self.guard.as_mut().expect("a live turn holds the writer");
        w.in_place.run(sql, args)
    }

    /// Releases the savepoint into the batch and returns once the batch is
    /// committed (by this turn or a later member).
    pub(super) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let (w, group, side) =
            (self.guard.take().expect("a live turn holds the writer"), self.group.clone(), self.side);
        // In place the steps holding the writer are synchronous (see
        // `GroupCommit::begin`); only the wait for the batch's outcome,
        // which holds nothing, can be cancelled.
        let result = match side {
            Side::InPlace => release(group, w, side).await,
            Side::Sqlx => tokio::spawn(release(group, w, side)).await.map_err(spawn_failed)?,
        };
        result.map_err(sqlx::Error::Protocol)
    }

    pub(super) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let (mut w, group) = (self.guard.take().expect("a live turn holds the writer"), self.group.clone());
        remember(&w);
        w.poisoned = true;
        tokio::spawn(abandon(group, w)).await.map_err(spawn_failed)
    }
}

const IN_PLACE_ONLY: &str = "a transaction begun in place runs its statements through the Tx's own methods";

/// Takes the writer for a new transaction: ends a batch it cannot join,
/// and joins the open batch in a savepoint or opens one.
async fn open_turn(
    group: Arc<GroupCommit>,
    mut w: OwnedMutexGuard<Writer>,
    side: Side,
    alone: bool,
) -> Result<Turn, sqlx::Error> {
    w.turn_since = Instant::now();
    if w.poisoned {
        w.abort("a transaction in this batch was abandoned".into()).await;
    }
    if w.open.is_some_and(|open| open != side || alone) {
        // Its members learn the outcome; this turn starts afresh.
        let _ = w.close().await;
    }
    if w.open.is_none() {
        w.exec(side, "BEGIN IMMEDIATE").await?;
        w.open = Some(side);
        w.savepoint = false;
        return Ok(Turn { guard: Some(w), group, side });
    }
    w.savepoint = true;
    if let Err(e) = w.exec(side, SAVEPOINT).await {
        w.end_turn();
        group.settle(w).await;
        return Err(e);
    }
    Ok(Turn { guard: Some(w), group, side })
}

/// Releases a transaction's savepoint into the batch and waits for the
/// batch's outcome.
async fn release(group: Arc<GroupCommit>, mut w: OwnedMutexGuard<Writer>, side: Side) -> Result<(), String> {
    if w.savepoint
        && let Err(e) = w.exec(side, RELEASE).await
    {
        // The savepoint may still hold this transaction's work.
        abandon(group, w).await;
        return Err(e.to_string());
    }
    w.end_turn();
    w.members += 1;
    let (batch, rx) = (w.batch, w.announce.subscribe());
    match group.settle(w).await {
        Some(done) => done,
        // Waiting may end in committing the batch open then, which may be
        // on sqlx's connection: in a task of its own when run in place.
        None if side == Side::InPlace => tokio::spawn(async move { group.outcome(batch, rx).await })
            .await
            .unwrap_or_else(|e| Err(format!("write transaction task failed: {e}"))),
        None => group.outcome(batch, rx).await,
    }
}

/// Undoes one transaction (its savepoint, or the batch it opened), leaving
/// the rest of the batch intact. The batch is marked poisoned until then, so that if this never
/// runs (a runtime shutting down drops it) nobody commits the abandoned work.
async fn abandon(group: Arc<GroupCommit>, mut w: OwnedMutexGuard<Writer>) {
    let Some(side) = w.open else {
        // The batch was already ended (and this transaction with it).
        w.end_turn();
        w.poisoned = false;
        group.settle(w).await;
        return;
    };
    if !w.savepoint {
        // The batch's first: the batch holds nothing else.
        w.end_turn();
        w.abort("rolled back".into()).await;
        return;
    }
    let undone = match w.exec(side, ROLLBACK_TO).await {
        Ok(()) => w.exec(side, RELEASE).await,
        Err(e) => Err(e),
    };
    w.end_turn();
    match undone {
        Ok(()) => {
            w.poisoned = false;
            group.settle(w).await;
        }
        Err(e) => w.abort(format!("rolling back a savepoint failed: {e}")).await,
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(mut w) = self.guard.take() {
            remember(&w);
            w.poisoned = true;
            // Without a runtime (shutting down) the guard is simply released
            // poisoned: the next turn or commit discards the batch.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                drop(rt.spawn(abandon(self.group.clone(), w)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Db;
    use sqlx::Row;

    async fn db(dir: &tempfile::TempDir) -> Db {
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 4).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").execute(db.pool()).await.unwrap();
        db
    }

    async fn count(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(db.pool()).await.unwrap()
    }

    /// Many concurrent writers: every committed row is there, every
    /// rolled-back or dropped one is not, and they shared commits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_transactions_commit_in_groups_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let tasks: Vec<_> = (0..90i64)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let mut tx = db.begin().await.unwrap();
                    sqlx::query("INSERT INTO t (id, v) VALUES ($1, 'x')").bind(i).execute(&mut *tx).await.unwrap();
                    match i % 3 {
                        0 => tx.commit().await.unwrap(),
                        1 => tx.rollback().await.unwrap(),
                        _ => drop(tx),
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // A dropped turn rolls back in a spawned task: take a turn to let it finish.
        db.begin().await.unwrap().commit().await.unwrap();
        assert_eq!(count(&db).await, 30);
        let kept: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(db.pool()).await.unwrap();
        assert!(kept.iter().all(|i| i % 3 == 0), "only committed rows remain: {kept:?}");
        let batches = db.writer.as_ref().unwrap().writer.lock().await.batch;
        assert!(batches < 90, "90 transactions took {batches} batches");
        // Idle, the writer holds no lock: another connection writes at once.
        let mut other = db.pool().acquire().await.unwrap();
        sqlx::query("PRAGMA busy_timeout = 0").execute(&mut *other).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *other).await.unwrap();
        sqlx::query("ROLLBACK").execute(&mut *other).await.unwrap();
    }

    /// A failed statement inside one transaction (a duplicate key) undoes
    /// only that transaction; the connection goes on working.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_rolls_back_its_own_savepoint_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id, v) VALUES (1, 'a')").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id, v) VALUES (2, 'b')").execute(&mut *tx).await.unwrap();
        let dup = sqlx::query("INSERT INTO t (id, v) VALUES (1, 'c')").execute(&mut *tx).await;
        assert!(dup.is_err());
        tx.rollback().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id, v) VALUES (3, 'd')").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(db.pool()).await.unwrap();
        assert_eq!(ids, vec![1, 3]);
        // Committed means durable on disk: a fresh connection sees it.
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let other = Db::connect(&url, 1).await.unwrap();
        assert_eq!(count(&other).await, 2);
    }

    /// Transactions in place and through sqlx take turns on the writer; a
    /// failed statement in place undoes only its own transaction, and the
    /// batch members committed with it stay.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_place_and_sqlx_transactions_share_the_writer_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id, v) VALUES (1, 'a')").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        // A holds the writer so B, C and D queue behind it.
        let a = db.begin().await.unwrap();
        let (db_b, db_c, db_d) = (db.clone(), db.clone(), db.clone());
        let b = tokio::spawn(async move {
            let mut tx = db_b.begin_in_place().await.unwrap();
            assert!(tx.holds_the_writer());
            tx.write(sqlx::query("INSERT INTO t (id, v) VALUES (2, 'b')")).await.unwrap();
            let seen = tx.fetch_all(sqlx::query("SELECT id FROM t WHERE id = 2")).await.unwrap();
            assert_eq!(seen.len(), 1, "a transaction reads its own writes");
            tx.write(sqlx::query("INSERT INTO t (id, v) VALUES (3, 'b')")).await.unwrap();
            tx.commit().await
        });
        let c = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            let mut tx = db_c.begin_in_place().await.unwrap();
            tx.write(sqlx::query("INSERT INTO t (id, v) VALUES (4, 'c')")).await.unwrap();
            let dup = tx.write(sqlx::query("INSERT INTO t (id, v) VALUES (1, 'dup')")).await;
            assert!(dup.as_ref().is_err_and(super::super::is_unique_violation), "{dup:?}");
            tx.rollback().await
        });
        let d = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            let mut tx = db_d.begin().await.unwrap();
            sqlx::query("INSERT INTO t (id, v) VALUES (5, 'd')").execute(&mut *tx).await.unwrap();
            tx.commit().await
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        a.commit().await.unwrap();
        b.await.unwrap().unwrap();
        c.await.unwrap().unwrap();
        d.await.unwrap().unwrap();
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(db.pool()).await.unwrap();
        assert_eq!(ids, vec![1, 2, 3, 5]);
        // Committed means durable on disk: a fresh connection sees it.
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let other = Db::connect(&url, 1).await.unwrap();
        assert_eq!(count(&other).await, 4);
    }

    /// Rows and counts in place are what sqlx would answer: values typed as
    /// sqlx's SQLite driver types them, `$N` bound by number, changed rows
    /// counted for writes only. `&mut **tx` is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_place_answers_read_as_sqlx_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let mut tx = db.begin_in_place().await.unwrap();
        tx.write(sqlx::query("INSERT INTO t (id, v) VALUES ($2, $1), (2, 'b')").bind("a").bind(1i64)).await.unwrap();
        let changed = tx.execute(sqlx::query("UPDATE t SET v = 'z' WHERE id <= 2")).await.unwrap();
        assert_eq!(changed.rows_affected(), 2);
        let read = tx.execute(sqlx::query("SELECT * FROM t")).await.unwrap();
        assert_eq!(read.rows_affected(), 0);
        let returned = tx.fetch_all(sqlx::query("INSERT INTO t (id, v) VALUES (3, 'c') RETURNING id")).await.unwrap();
        assert_eq!(returned[0].try_get::<i64, _>("id").unwrap(), 3);
        let row = tx
            .fetch_optional(sqlx::query(
                "SELECT v, CAST(NULL AS TEXT) AS missing, 1.5 AS real, CAST(COUNT(*) AS BIGINT) AS n FROM t WHERE id = $1",
            )
            .bind(3i64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<String, _>("v").unwrap(), "c");
        assert_eq!(row.try_get::<Option<String>, _>("missing").unwrap(), None);
        assert_eq!(row.try_get::<f64, _>("real").unwrap(), 1.5);
        assert_eq!(row.try_get::<i64, _>("n").unwrap(), 1);
        assert!(row.try_get::<String, _>("n").is_err(), "a number is not text");
        let through_sqlx = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: &sqlx::AnyConnection = &tx;
        }));
        assert!(through_sqlx.is_err());
        tx.commit().await.unwrap();
        assert_eq!(count(&db).await, 3);
    }

    /// `durable` holds back an answer that rolled back out of a batch with
    /// members until that batch is committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rolled_back_answer_waits_for_the_batch_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        // A holds the writer so B's insert and C's read share one batch.
        let a = db.begin().await.unwrap();
        let (db_b, db_c) = (db.clone(), db.clone());
        let b = tokio::spawn(async move {
            let mut tx = db_b.begin().await.unwrap();
            sqlx::query("INSERT INTO t (id, v) VALUES (7, 'b')").execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let c = tokio::spawn(async move {
            super::durable(async {
                let mut tx = db_c.begin().await.unwrap();
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut *tx).await.unwrap();
                drop(tx);
                n
            })
            .await
        });
        // D queues behind C and holds the batch open for a while after C is done.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let db_d = db.clone();
        let d = tokio::spawn(async move {
            let tx = db_d.begin().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            tx.commit().await.unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let a = tokio::spawn(a.commit());
        let seen = c.await.unwrap().unwrap();
        assert_eq!(seen, 1, "C read B's row inside the batch");
        // C's answer came back only after the batch holding B was durable.
        assert_eq!(count(&db).await, 1);
        a.await.unwrap().unwrap();
        b.await.unwrap();
        d.await.unwrap();
    }
}
