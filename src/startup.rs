//! Builds the application once, for `main` and for tests alike: connects
//! and migrates the database, starts the workers, serves HTTP, and shuts
//! everything down gracefully.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::db::Db;
use crate::http::state::AppState;
use crate::services::App;
use crate::workers;

/// The process-wide metrics recorder (installed once, shared by every
/// server in the process, as in tests).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &crate::http::LATENCY_BUCKETS,
                )
                .expect("static buckets are valid")
                .install_recorder()
                .expect("metrics recorder installs once")
        })
        .clone()
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = Db::connect(&config.database_url(), config.db_max_connections).await?;
    db.migrate().await?;
    Ok(db)
}

/// The application's shared state; loads (or first creates) the keyring.
pub fn app(db: Db, config: Config) -> anyhow::Result<App> {
    let keyring = crate::keys::load_keyring(&config)?;
    let blobs = Arc::new(crate::providers::blob::LocalDirBlobStore::new(config.media_dir()));
    Ok(App {
        db,
        outbox_wakeup: Arc::new(Notify::new()),
        mail_wakeup: Arc::new(Notify::new()),
        jobs_wakeup: Arc::new(Notify::new()),
        keyring: Arc::new(keyring),
        blobs,
        price_lists: Arc::new(crate::services::pricing::list_cache()),
        checkout_rules: Arc::new(crate::services::checkout_rules::cache()),
        reads: Arc::new(crate::services::read_cache::Reads::new(&config.cache)),
        search: Arc::new(crate::services::search::SearchService::new(config.search_dir())),
        payments: Arc::new(crate::providers::payment::Providers::default()),
        config: Arc::new(config),
    })
}

/// A running server: its address and the switch that stops it.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops accepting, lets in-flight requests finish, stops the workers.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(crate::http::SHUTDOWN_GRACE + Duration::from_secs(5), self.task).await;
    }

    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Binds the listener, starts the HTTP server and the workers.
pub async fn start(app: App) -> anyhow::Result<Server> {
    let listener = TcpListener::bind(&app.config.listen).await?;
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    crate::services::search::attach(&app).await?;
    let backfill = app.clone();
    tokio::spawn(async move {
        match crate::services::orders::backfill_email_index(&backfill).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "indexed the buyer e-mail of older orders"),
            Err(e) => tracing::warn!(error = %e, "indexing older orders' e-mail failed"),
        }
    });
    let worker = workers::webhooks::Worker::new(app.db.clone(), &app.config)?;
    let worker_task = tokio::spawn(worker.run(app.outbox_wakeup.clone(), shutdown_rx.clone()));
    let mail_task = tokio::spawn(workers::mail::run(app.clone(), shutdown_rx.clone()));
    let housekeeping_task = tokio::spawn(workers::housekeeping::run(app.clone(), shutdown_rx.clone()));
    let search_task = tokio::spawn(workers::search::run(app.clone(), shutdown_rx.clone()));
    let jobs_task = tokio::spawn(workers::jobs::run(app.clone(), shutdown_rx.clone()));
    let reservations_task = tokio::spawn(workers::reservations::run(app.clone(), shutdown_rx.clone()));
    let payments_task = tokio::spawn(workers::payments::run(app.clone(), shutdown_rx.clone()));
    let memory_task = tokio::spawn(workers::memory::run(shutdown_rx.clone()));

    let state = AppState { app: app.clone(), metrics: metrics_handle() };
    let service = crate::http::service(state);
    let make = service.into_make_service_with_connect_info::<SocketAddr>();
    let mut http_shutdown = shutdown_rx.clone();
    let db = app.db.clone();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, make).with_graceful_shutdown(async move {
            let _ = http_shutdown.wait_for(|stop| *stop).await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "http server failed");
        }
        let _ = worker_task.await;
        let _ = mail_task.await;
        let _ = housekeeping_task.await;
        let _ = search_task.await;
        let _ = jobs_task.await;
        let _ = payments_task.await;
        let _ = reservations_task.await;
        let _ = memory_task.await;
        db.close().await;
    });
    Ok(Server { addr, shutdown: shutdown_tx, task })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
