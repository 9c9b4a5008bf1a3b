//! Test harness: starts the real server on a random port against a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database when
//! `OXCART_TEST_POSTGRES_URL` is set), with the demo stores loaded.

use std::time::Duration;

use oxcart::config::Config;
use oxcart::startup::{self, Server};
use serde_json::{Value, json};

pub use oxcart::services::demo::DEMO_PASSWORD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body on one backend. The PostgreSQL run is skipped
/// (loudly) without `OXCART_TEST_POSTGRES_URL`, and fails under CI.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::helpers::postgres_url().is_some() {
                        super::$name($crate::helpers::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

/// The PostgreSQL server to test against. Under CI its absence is an error.
pub fn postgres_url() -> Option<String> {
    match std::env::var("OXCART_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => {
            panic!("CI is set but OXCART_TEST_POSTGRES_URL is not: PostgreSQL tests must run")
        }
        _ => {
            eprintln!("SKIPPED (PostgreSQL): set OXCART_TEST_POSTGRES_URL to run this test on PostgreSQL");
            None
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db_url: String,
    server: Option<Server>,
    config: Config,
    backend: Backend,
    _dir: tempfile::TempDir,
    pg_cleanup: Option<(String, String)>,
}

pub fn test_config(backend: Backend) -> (Config, tempfile::TempDir, Option<(String, String)>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        max_body_bytes: 64 * 1024,
        db_max_connections: 8,
        ..Config::default()
    };
    config.webhooks.allow_private_targets = true;
    config.webhooks.base_delay_ms = 100;
    config.webhooks.max_delay_ms = 400;
    config.webhooks.max_attempts = 4;
    config.webhooks.poll_interval_ms = 50;
    config.webhooks.timeout_ms = 2_000;
    let mut cleanup = None;
    match backend {
        Backend::Sqlite => config.database_url = Some(format!("sqlite://{}", dir.path().join("test.db").display())),
        Backend::Postgres => {
            // PostgreSQL nodes share keys through configuration (no key file).
            let key = |b: u8| {
                use base64::Engine;
                let mut k = [b; 32];
                k[..16].copy_from_slice(&ulid::Ulid::new().to_bytes());
                base64::engine::general_purpose::STANDARD.encode(k)
            };
            config.security.keys.insert("k1".into(), key(1));
            config.security.active_key = Some("k1".into());
            config.security.index_key = Some(key(2));
            let admin = postgres_url().expect("postgres url");
            let name = format!("oxcart_t_{}", ulid::Ulid::new().to_string().to_lowercase());
            run_blocking_sql(&admin, &format!("CREATE DATABASE {name}"));
            let mut url = url::Url::parse(&admin).expect("valid postgres url");
            url.set_path(&format!("/{name}"));
            config.database_url = Some(url.to_string());
            cleanup = Some((admin, name));
        }
    }
    (config, dir, cleanup)
}

/// Runs one statement on a throw-away runtime (usable from `Drop`).
fn run_blocking_sql(url: &str, sql: &str) {
    let url = url.to_string();
    let sql = sql.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.expect("connect to postgres");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("admin statement");
        });
    })
    .join()
    .expect("admin thread");
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, dir, pg_cleanup) = test_config(backend);
    tweak(&mut config);
    let db_url = config.database_url();
    let db = startup::open_database(&config).await.expect("database opens and migrates");
    let app = startup::app(db, config.clone()).expect("app state");
    oxcart::services::demo::load(&app).await.expect("demo data loads");
    let server = startup::start(app).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp { base, client, db_url, server: Some(server), config, backend, _dir: dir, pg_cleanup }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_cleanup.take() {
            run_blocking_sql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl TestApp {
    /// URL of a path in the default store (`/x`) or another (`/s/slug/x`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }

    /// Signs in and returns the bearer token. `prefix` is `""` for the
    /// default store or `/s/{slug}`.
    pub async fn login(&self, prefix: &str, audience: &str, email: &str) -> String {
        let res = self
            .client
            .post(self.url(&format!("{prefix}/api/v1/auth/login")))
            .json(&json!({ "email": email, "password": DEMO_PASSWORD, "audience": audience }))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), 200, "login as {email} failed");
        let body: Value = res.json().await.expect("login json");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn outfitters_owner(&self) -> String {
        self.login("", "staff", "admin@outfitters.example").await
    }

    pub async fn foodbank_owner(&self) -> String {
        self.login("/s/foodbank", "staff", "admin@foodbank.example").await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Opens a direct connection to the test database, for checks that the
    /// API alone cannot make (e.g. that a rejected request wrote nothing).
    pub async fn count_rows(&self, table: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.db_url).await.expect("connect");
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut conn)
            .await
            .expect("count")
    }
}

/// Asserts a problem+json answer with the given status and code.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(ct, "application/problem+json", "errors are problem+json");
    let body: Value = res.json().await.expect("problem body");
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status);
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

impl TestApp {
    /// Starts another node on the same database, as a second `oxcart`
    /// process would: its own pool, HTTP server and workers.
    pub async fn second_node(&self) -> Server {
        self.second_node_with(|_| {}).await
    }

    pub async fn second_node_with(&self, tweak: impl FnOnce(&mut Config)) -> Server {
        let mut config = self.config.clone();
        // Each node keeps its own search index.
        config.search.dir = Some(config.data_dir.join("search-node-2"));
        tweak(&mut config);
        let db = startup::open_database(&config).await.expect("second node opens the database");
        startup::start(startup::app(db, config).expect("app state")).await.expect("second node starts")
    }

    /// Everything the database holds, as raw bytes: the SQLite files
    /// themselves, or every PostgreSQL table row rendered as text. For
    /// checking that no plaintext personal data is stored.
    pub async fn raw_database(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut all = Vec::new();
                for entry in std::fs::read_dir(self._dir.path()).unwrap() {
                    let path = entry.unwrap().path();
                    if path.file_name().unwrap().to_string_lossy().starts_with("test.db") {
                        all.extend(std::fs::read(path).unwrap());
                    }
                }
                all
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.db_url).await.expect("connect");
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let mut all = Vec::new();
                for t in tables {
                    let rows: Vec<String> =
                        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT row_to_json(t)::text FROM {t} t")))
                            .fetch_all(&mut conn)
                            .await
                            .unwrap();
                    for r in rows {
                        all.extend(r.into_bytes());
                    }
                }
                all
            }
        }
    }
}

impl TestApp {
    /// Runs the `oxcart` binary against this test's database and keys.
    pub fn oxcart_cli(&self, args: &[&str]) -> std::process::Output {
        self.oxcart_cli_env(args, &[])
    }

    pub fn oxcart_cli_env(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = self.oxcart_command(env);
        cmd.args(args).output().expect("run oxcart")
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The `oxcart` binary set up for this app's database, data folder and keys.
    pub fn oxcart_command(&self, env: &[(&str, &str)]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oxcart"));
        for (k, _) in std::env::vars() {
            if k.starts_with("OXCART_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("--database-url").arg(&self.db_url).arg("--data-dir").arg(self._dir.path());
        let sec = &self.config.security;
        for (id, key) in &sec.keys {
            cmd.env(format!("OXCART_SECURITY__KEYS__{id}"), key);
        }
        if let Some(a) = &sec.active_key {
            cmd.env("OXCART_SECURITY__ACTIVE_KEY", a);
        }
        if let Some(i) = &sec.index_key {
            cmd.env("OXCART_SECURITY__INDEX_KEY", i);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs raw SQL on the test database (to play an attacker with database access).
    pub async fn raw_sql(&self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.db_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.map(|_| ())
    }

    /// One integer from a query on the test database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.db_url).await.expect("connect");
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut conn)
            .await
            .expect("scalar query")
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl TestApp {
    /// Waits for the `n`th e-mail to the store's mailbox and returns all
    /// messages so far, oldest first.
    pub async fn mailbox(&self, store_slug: &str, at_least: usize) -> Vec<String> {
        let dir = self._dir.path().join("mailbox").join(store_slug);
        for _ in 0..200 {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .collect()
                })
                .unwrap_or_default();
            if files.len() >= at_least {
                files.sort();
                return files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {at_least} e-mails in {}", dir.display());
    }
}

/// The `token=` value of the first link in an e-mail.
pub fn link_token(mail: &str) -> String {
    let start = mail.find("token=").expect("a link with a token") + 6;
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}
