//! Storage: one pool over SQLite or PostgreSQL, chosen by the database URL.
//!
//! We use sqlx's `Any` driver so every query is written once. The SQL we
//! write is the common subset both engines read the same way (`$1`
//! placeholders, BIGINT/INTEGER, TEXT, 0/1 flags, Unix-millisecond times);
//! where the engines differ (row locking, upserts that need it) a module
//! asks [`Db::dialect`] and picks the statement. Each table module in this
//! folder owns the SQL for one business area and knows nothing of HTTP.

pub mod accounts;
pub mod addresses;
pub mod attributes;
pub mod audit;
pub mod bank;
pub mod carts;
pub mod catalog;
pub mod catalog_bulk;
pub mod categories;
pub mod checkout_rules;
pub mod collections;
pub mod customers;
pub mod digital;
pub mod fulfilment;
mod group_commit;
pub use group_commit::{WriterStats, durable};
pub mod idempotency;
pub mod inventory;
pub mod invoices;
pub mod jobs;
pub mod ledger;
pub mod mail;
pub mod media;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod pricing;
pub mod rate_limits;
pub mod reports;
pub mod returns;
pub mod risk;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod settings_rows;
pub mod staff;
pub mod stores;
mod sync_sqlite;
pub mod tokens;
pub mod webhooks;
mod writer_thread;

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

/// A write transaction. On PostgreSQL a pooled transaction; on SQLite a
/// turn on the one writer, committed together with the transactions queued
/// behind it (see [`group_commit`]). Most code reads and writes through
/// `&mut **tx` like a plain connection; hot paths opened with
/// [`Db::begin_in_place`] use the `Tx`'s own methods only (on SQLite they run
/// on the writer's synchronous connection, see [`sync_sqlite`]).
pub struct Tx {
    inner: TxInner,
}

/// What one statement answered: its rows and how many rows it changed.
#[derive(Default)]
pub(crate) struct Answer {
    pub rows: Vec<sqlx::any::AnyRow>,
    pub rows_affected: u64,
}

enum TxInner {
    Pooled(Transaction<'static, Any>),
    Grouped(group_commit::Turn),
}

/// A query as `sqlx::query(..).bind(..)` builds it.
pub type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    /// Panics in a [`Db::begin_in_place`] transaction on SQLite: its
    /// statements run on a connection sqlx does not drive.
    fn deref(&self) -> &sqlx::AnyConnection {
        match &self.inner {
            TxInner::Pooled(t) => t,
            TxInner::Grouped(t) => t.conn(),
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.inner {
            TxInner::Pooled(t) => t,
            TxInner::Grouped(t) => t.conn_mut(),
        }
    }
}

impl Tx {
    /// The engine this transaction runs on (only SQLite uses the writer).
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            TxInner::Pooled(_) => Dialect::Postgres,
            TxInner::Grouped(_) => Dialect::Sqlite,
        }
    }

    /// True when this transaction holds SQLite's one writer from its first
    /// statement to its commit ([`Db::begin_in_place`] on SQLite), so what
    /// it read cannot change before it commits.
    pub fn holds_the_writer(&self) -> bool {
        matches!(&self.inner, TxInner::Grouped(t) if t.in_place())
    }

    /// Runs a statement on the writer's synchronous connection (only when
    /// [`Tx::holds_the_writer`]).
    fn run_in_place(&mut self, mut query: AnyQuery<'_>) -> Result<Answer, sqlx::Error> {
        use sqlx::Execute;
        let TxInner::Grouped(turn) = &mut self.inner else { unreachable!("only SQLite's writer runs in place") };
        let args = query.take_arguments().map_err(sqlx::Error::Encode)?;
        turn.run_in_place(query.sql().as_str(), args)
    }

    /// Runs a write whose answer nobody needs.
    pub async fn write(&mut self, query: AnyQuery<'_>) -> Result<(), sqlx::Error> {
        self.execute(query).await.map(drop)
    }

    /// Runs a statement; how many rows it changed.
    pub async fn execute(&mut self, query: AnyQuery<'_>) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
        if !self.holds_the_writer() {
            return query.execute(&mut **self).await;
        }
        let answer = self.run_in_place(query)?;
        Ok(sqlx::any::AnyQueryResult { rows_affected: answer.rows_affected, last_insert_id: None })
    }

    /// Runs a query; its rows.
    pub async fn fetch_all(&mut self, query: AnyQuery<'_>) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        if !self.holds_the_writer() {
            return query.fetch_all(&mut **self).await;
        }
        Ok(self.run_in_place(query)?.rows)
    }

    /// Runs a query; its first row.
    pub async fn fetch_optional(&mut self, query: AnyQuery<'_>) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error> {
        if !self.holds_the_writer() {
            return query.fetch_optional(&mut **self).await;
        }
        Ok(self.run_in_place(query)?.rows.into_iter().next())
    }

    /// Returns once the transaction is durable.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pooled(t) => t.commit().await,
            TxInner::Grouped(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pooled(t) => t.rollback().await,
            TxInner::Grouped(t) => t.rollback().await,
        }
    }
}

/// Where a read runs: the pool, a plain connection, or a write transaction
/// (through its own methods, so it also works in place on SQLite's writer,
/// where `&mut **tx` would panic). Lets one read function serve all three.
pub trait Source: Send {
    fn fetch_all<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Vec<AnyRow>, sqlx::Error>>
    where
        Self: 'f;
    fn fetch_optional<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Option<AnyRow>, sqlx::Error>>
    where
        Self: 'f;
}

impl Source for &AnyPool {
    fn fetch_all<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Vec<AnyRow>, sqlx::Error>>
    where
        Self: 'f,
    {
        Box::pin(query.fetch_all(self))
    }
    fn fetch_optional<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Option<AnyRow>, sqlx::Error>>
    where
        Self: 'f,
    {
        Box::pin(query.fetch_optional(self))
    }
}

impl Source for &mut AnyConnection {
    fn fetch_all<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Vec<AnyRow>, sqlx::Error>>
    where
        Self: 'f,
    {
        Box::pin(query.fetch_all(self))
    }
    fn fetch_optional<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Option<AnyRow>, sqlx::Error>>
    where
        Self: 'f,
    {
        Box::pin(query.fetch_optional(self))
    }
}

impl Source for &mut Tx {
    fn fetch_all<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Vec<AnyRow>, sqlx::Error>>
    where
        Self: 'f,
    {
        Box::pin(Tx::fetch_all(self, query))
    }
    fn fetch_optional<'f>(self, query: AnyQuery<'f>) -> BoxFuture<'f, Result<Option<AnyRow>, sqlx::Error>>
    where
        Self: 'f,
    {
        Box::pin(Tx::fetch_optional(self, query))
    }
}

/// Runs a query built by `sqlx::query(..).bind(..)` on a [`Source`] (or a
/// write on a [`Tx`]) keeping the builder chain: `.fetch_all_on(tx)` where
/// `.fetch_all(&mut **tx)` would not run in place.
pub trait RunOn<'q>: Sized {
    fn fetch_all_on<'f, S: Source + 'f>(self, src: S) -> BoxFuture<'f, Result<Vec<AnyRow>, sqlx::Error>>
    where
        'q: 'f;
    fn fetch_optional_on<'f, S: Source + 'f>(self, src: S) -> BoxFuture<'f, Result<Option<AnyRow>, sqlx::Error>>
    where
        'q: 'f;
    /// The first row; `RowNotFound` when there is none.
    fn fetch_one_on<'f, S: Source + 'f>(self, src: S) -> BoxFuture<'f, Result<AnyRow, sqlx::Error>>
    where
        'q: 'f;
    fn execute_on<'f>(self, tx: &'f mut Tx) -> BoxFuture<'f, Result<sqlx::any::AnyQueryResult, sqlx::Error>>
    where
        'q: 'f;
}

impl<'q> RunOn<'q> for AnyQuery<'q> {
    fn fetch_all_on<'f, S: Source + 'f>(self, src: S) -> BoxFuture<'f, Result<Vec<AnyRow>, sqlx::Error>>
    where
        'q: 'f,
    {
        src.fetch_all(self)
    }
    fn fetch_optional_on<'f, S: Source + 'f>(self, src: S) -> BoxFuture<'f, Result<Option<AnyRow>, sqlx::Error>>
    where
        'q: 'f,
    {
        src.fetch_optional(self)
    }
    fn fetch_one_on<'f, S: Source + 'f>(self, src: S) -> BoxFuture<'f, Result<AnyRow, sqlx::Error>>
    where
        'q: 'f,
    {
        let row = src.fetch_optional(self);
        Box::pin(async move { row.await?.ok_or(sqlx::Error::RowNotFound) })
    }
    fn execute_on<'f>(self, tx: &'f mut Tx) -> BoxFuture<'f, Result<sqlx::any::AnyQueryResult, sqlx::Error>>
    where
        'q: 'f,
    {
        Box::pin(tx.execute(self))
    }
}

/// Rows read as `T` (tuples, or types deriving `FromRow`): the reads that
/// used `query_as` run through [`RunOn`] and map here.
pub fn rows_as<T: for<'r> sqlx::FromRow<'r, AnyRow>>(rows: Vec<AnyRow>) -> Result<Vec<T>, sqlx::Error> {
    rows.iter().map(T::from_row).collect()
}

/// Which SQL engine sits behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite has one writer at a time: this process's write transactions
    /// queue for one connection (first come, first served, instead of in
    /// SQLite's busy handler, which sleeps in growing steps) and commit in
    /// groups. None on PostgreSQL.
    writer: Option<std::sync::Arc<group_commit::GroupCommit>>,
    /// Where hot write transactions run on SQLite (see [`Db::on_writer`]).
    writer_thread: Option<std::sync::Arc<writer_thread::WriterThread>>,
}

impl Db {
    /// Connects (creating the SQLite file if needed) without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        // SQLite: only the first connection may create the file; the pool
        // opens it with `mode=rw`. Were the file deleted while the server
        // runs, a connection opened later would otherwise create an empty
        // one at the same path, and, finding no lock of its own process on
        // the old `-shm` index still there, truncate it under the live
        // connections' memory map (SIGBUS). The tests delete their data
        // directory while the last writes may still be finishing.
        let with_mode = |mode: &str| {
            if dialect == Dialect::Sqlite && !url.contains("mode=") {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode={mode}")
            } else {
                url.to_string()
            }
        };
        let (create, open) =
            (AnyConnectOptions::from_str(&with_mode("rwc"))?, AnyConnectOptions::from_str(&with_mode("rw"))?);
        let (writer, writer_thread) = match dialect {
            Dialect::Sqlite => {
                let mut conn = AnyConnection::connect_with(&create).await?;
                configure(&mut conn, dialect).await?;
                let path = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.get_filename().to_path_buf();
                let in_place = sync_sqlite::SyncConn::open(&path)?;
                let thread = writer_thread::WriterThread::start().map_err(sqlx::Error::Io)?;
                (Some(group_commit::GroupCommit::new(conn, in_place)), Some(std::sync::Arc::new(thread)))
            }
            Dialect::Postgres => (None, None),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| Box::pin(async move { configure(conn, dialect).await }))
            .connect_with(open)
            .await?;
        Ok(Self { pool, dialect, writer, writer_thread })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.dialect {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool, for reads that need no transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so a read-then-write never fails to upgrade.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let inner = match &self.writer {
            Some(writer) => TxInner::Grouped(writer.begin(group_commit::Side::Sqlx, false).await?),
            None => TxInner::Pooled(self.pool.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// As [`Db::begin_in_place`], for a transaction that changes many rows
    /// (bulk saves): on SQLite it commits whatever batch is open and starts
    /// one of its own, as a savepoint would make each of its statements
    /// slower the more it has written (see [`group_commit`]).
    pub async fn begin_bulk(&self) -> Result<Tx, sqlx::Error> {
        let Some(writer) = &self.writer else { return self.begin().await };
        Ok(Tx { inner: TxInner::Grouped(writer.begin(group_commit::Side::InPlace, true).await?) })
    }

    /// A write transaction whose statements all go through the `Tx`'s own
    /// methods, never `&mut **tx` (which panics): on SQLite they run in
    /// place on the writer's synchronous connection, with no hand-off to a
    /// connection thread. Elsewhere it is [`Db::begin`]. Hot paths opt in,
    /// best on the writer's thread ([`Db::on_writer`]): their statements
    /// block the thread that runs them.
    pub async fn begin_in_place(&self) -> Result<Tx, sqlx::Error> {
        let Some(writer) = &self.writer else { return self.begin().await };
        Ok(Tx { inner: TxInner::Grouped(writer.begin(group_commit::Side::InPlace, false).await?) })
    }

    /// Runs `work`, a write transaction that holds the SQLite writer (best
    /// one begun with [`Db::begin_in_place`]), on a thread kept for such
    /// work (see [`writer_thread`]). On PostgreSQL it runs where it is
    /// called. The result and durability are as if it ran there.
    pub async fn on_writer<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: std::future::Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
    {
        match &self.writer_thread {
            Some(thread) => thread.run(work).await,
            None => work.await,
        }
    }

    /// Runs `work` as a [`Db::begin_in_place`] write transaction on the
    /// writer's thread.
    pub async fn write_in_place<F>(&self, work: F) -> Result<(), sqlx::Error>
    where
        F: for<'t> FnOnce(&'t mut Tx) -> futures::future::BoxFuture<'t, Result<(), sqlx::Error>> + Send + 'static,
    {
        let db = self.clone();
        self.on_writer(async move {
            let mut tx = db.begin_in_place().await?;
            work(&mut tx).await?;
            tx.commit().await
        })
        .await
    }

    /// Runs one write statement as a transaction of its own (on SQLite
    /// through the writer, so it never waits in SQLite's busy handler).
    pub async fn write<'q>(
        &self,
        statement: sqlx::query::Query<'q, Any, <Any as sqlx::Database>::Arguments>,
    ) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
        let mut tx = self.begin().await?;
        let done = statement.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// The SQLite writer's counters (None on PostgreSQL).
    pub fn writer_stats(&self) -> Option<WriterStats> {
        self.writer.as_ref().map(|w| w.stats())
    }

    /// Refreshes the query planner's statistics. Without them both engines
    /// may walk a whole table for what an index answers (measured: a
    /// 12-product price lookup read all 30,000 prices of a store on both),
    /// so this runs after bulk loads and on the housekeeping schedule.
    pub async fn refresh_statistics(&self) -> Result<(), sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => {
                let mut conn = self.pool.acquire().await?;
                // Samples about 1,000 rows per index: milliseconds, however large.
                sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *conn).await?;
                sqlx::query("ANALYZE").execute(&mut *conn).await?;
            }
            Dialect::Postgres => {
                sqlx::query("ANALYZE").execute(&self.pool).await?;
            }
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// Pool size and idle connections, for the metrics endpoint.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Session settings for every connection.
/// Every SQLite connection's settings. Durability first: FULL syncs the
/// WAL on every commit, so an acknowledged write survives power loss.
const SQLITE_PRAGMAS: [&str; 7] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA foreign_keys = ON",
    // No memory map (each pooled connection would map the file again,
    // inflating RSS; see docs/design.md), and a larger private cache for
    // hot indexes.
    "PRAGMA mmap_size = 0",
    "PRAGMA cache_size = -4096",
    // Statement journals (multi-row inserts inside a transaction) in
    // memory, not in temporary files.
    "PRAGMA temp_store = MEMORY",
];

async fn configure(conn: &mut AnyConnection, dialect: Dialect) -> Result<(), sqlx::Error> {
    match dialect {
        Dialect::Sqlite => {
            for pragma in SQLITE_PRAGMAS {
                conn.execute(pragma).await?;
            }
        }
        Dialect::Postgres => {
            conn.execute("SET synchronous_commit = on").await?;
        }
    }
    Ok(())
}

/// True when the error is a unique-constraint violation on either engine.
/// SQLite reports no constraint names, so callers map it by context.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::Db;

    /// A database file deleted under a running process is an error for
    /// connections opened later, never an empty new file at the same path
    /// (which would truncate the live connections' `-shm` index).
    #[tokio::test]
    async fn a_deleted_sqlite_file_is_not_created_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()), 4).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)").execute(db.pool()).await.unwrap();
        assert!(path.exists(), "the first connection creates the file");
        std::fs::remove_file(&path).unwrap();
        // Four at once: the pool must open new connections for some of them.
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..4 {
            match db.pool().acquire().await {
                Ok(conn) => held.push(conn),
                Err(_) => refused += 1,
            }
        }
        assert!(refused > 0, "a connection opened after the deletion failed");
        assert!(!path.exists(), "no new database file at the old path");
    }
}
