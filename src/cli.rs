//! The `oxcart` command line. Every subcommand loads the same layered
//! configuration and calls the same services the HTTP API uses.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::services::demo;
use crate::startup;

#[derive(Parser, Debug)]
#[command(
    name = "oxcart",
    version,
    about = "Oxcart runs an online business end to end: storefront, back office and partner APIs."
)]
pub struct Cli {
    /// TOML configuration file (default: ./oxcart.toml if present).
    #[arg(long, global = true, env = "OXCART_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default: SQLite in the data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory for the embedded database and local files (default: ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server (storefront, admin, API) and background workers.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Load the demo stores and accounts before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Load demo data (two stores of different kinds) into the database.
    Demo {
        /// Also generate this many products in the default store (for demos and benchmarks).
        #[arg(long, default_value_t = 0)]
        products: usize,
    },
    /// Print the effective configuration and check the database connection.
    CheckConfig,
    /// Catalog import and export (CSV; see docs/catalog-csv.md).
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Purge data past its retention period now (the server also does this on a schedule).
    Purge,
    /// Encryption keys for personal data.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The double-entry ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// The search index (derived from the database; safe to rebuild any time).
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
}

#[derive(Subcommand, Debug)]
enum SearchCommand {
    /// Build a fresh index from the database, with progress, and switch to
    /// it. A server running on the same data directory keeps answering from
    /// the old index meanwhile and picks up the new one within a second.
    Reindex,
}

#[derive(Subcommand, Debug)]
enum CatalogCommand {
    /// Create or update products from a CSV file. A file with errors is
    /// reported line by line and nothing is applied, unless --skip-bad-rows.
    Import {
        file: PathBuf,
        /// The store's slug (default: the default store).
        #[arg(long)]
        store: Option<String>,
        /// Apply the good products and skip those with bad rows.
        #[arg(long)]
        skip_bad_rows: bool,
    },
    /// Write the whole catalog of a store to a CSV file.
    Export {
        file: PathBuf,
        #[arg(long)]
        store: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Add a new key to the key file and make it active for new values.
    /// Restart the servers afterwards so they seal with it, then run `rotate`.
    New,
    /// Re-encrypt every stored value under the active key, with progress.
    /// Safe while the shop runs; resumes where it stopped if interrupted.
    Rotate,
}

#[derive(Subcommand, Debug)]
enum LedgerCommand {
    /// Check that every journal entry balances per currency and that every
    /// account's kept totals equal the sums of its lines (exit status 1 if not).
    Verify,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Recompute every store's hash chain and report the first broken entry (exit status 1 if any).
    Verify {
        /// Only this store (its slug).
        #[arg(long)]
        store: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        listen: match &cli.command {
            Command::Serve { listen, .. } => listen.clone(),
            _ => None,
        },
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("OXCART_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log_format == "pretty" {
        builder.init();
    } else {
        builder.json().with_current_span(true).with_span_list(false).init();
    }
}

/// Hides a password in a database URL for printing.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            startup::open_database(&config).await?;
            println!("migrations applied to {}", redact(&config.database_url()));
        }
        Command::Demo { products } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            print_logins(&demo::load_with_catalog(&app).await?, None);
            if products > 0 {
                let store = crate::db::stores::default_store(app.db.pool())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no store"))?;
                let ctx = crate::services::actor::Ctx {
                    store: std::sync::Arc::new(store),
                    actor: crate::services::Actor::Staff {
                        id: "demo-loader".into(),
                        role: "owner".into(),
                        permissions: crate::domain::access::BuiltinRole::Owner.permissions(),
                    },
                    client_ip: "demo".into(),
                };
                let bar = indicatif::ProgressBar::new(products as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} products ({per_sec}, {eta} left)")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let started = std::time::Instant::now();
                crate::services::demo_catalog::generate(&app, &ctx, products, |n| bar.set_position(n as u64)).await?;
                bar.finish_and_clear();
                app.db.refresh_statistics().await?;
                println!("generated {products} products in {:.1} s", started.elapsed().as_secs_f64());
            }
        }
        Command::Catalog { command } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let slug = match &command {
                CatalogCommand::Import { store, .. } | CatalogCommand::Export { store, .. } => store.clone(),
            };
            let store = match slug {
                Some(s) => crate::db::stores::by_slug(app.db.pool(), &s).await?,
                None => crate::db::stores::default_store(app.db.pool()).await?,
            }
            .ok_or_else(|| anyhow::anyhow!("no such store"))?;
            let ctx = crate::services::actor::Ctx {
                store: std::sync::Arc::new(store),
                actor: crate::services::Actor::Staff {
                    id: "cli".into(),
                    role: "owner".into(),
                    permissions: crate::domain::access::BuiltinRole::Owner.permissions(),
                },
                client_ip: "cli".into(),
            };
            match command {
                CatalogCommand::Export { file, .. } => {
                    let out = std::io::BufWriter::new(std::fs::File::create(&file)?);
                    let rows = crate::services::catalog_csv::export(&app, &ctx, out, |_, _| {}).await?;
                    println!("exported {rows} variants to {}", file.display());
                }
                CatalogCommand::Import { file, skip_bad_rows, .. } => {
                    let data = std::fs::read(&file)?;
                    let bar = indicatif::ProgressBar::new(0);
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} products ({eta} left)")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    let report =
                        crate::services::catalog_csv::import(&app, &ctx, &data, skip_bad_rows, |done, total| {
                            bar.set_length(total as u64);
                            bar.set_position(done as u64);
                        })
                        .await?;
                    bar.finish_and_clear();
                    for e in &report.errors {
                        println!("line {}: {}", e.line, e.message);
                    }
                    println!(
                        "created {}, updated {}, skipped {} products{}",
                        report.created,
                        report.updated,
                        report.skipped_products,
                        if report.rejected {
                            "; nothing applied because of the errors above (use --skip-bad-rows)"
                        } else {
                            ""
                        }
                    );
                    if report.rejected {
                        anyhow::bail!("import rejected: {} problems", report.errors.len());
                    }
                }
            }
        }
        Command::Purge => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let purged = crate::services::housekeeping::purge(&app).await?;
            println!("{}", serde_json::to_string_pretty(&purged)?);
        }
        Command::Keys { command: KeysCommand::New } => {
            if !config.security.keys.is_empty() {
                anyhow::bail!("keys are set in the configuration: add one there and set security.active_key");
            }
            let path = config.security.key_file.clone().unwrap_or_else(|| crate::keys::default_key_file(&config));
            crate::keys::load_keyring(&config)?;
            let id = crate::keys::add_key_to_file(&path)?;
            println!(
                "added key {id} to {} and made it active; restart the servers, then run `oxcart keys rotate`",
                path.display()
            );
        }
        Command::Search { command: SearchCommand::Reindex } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} products indexed ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            let progress_bar = bar.clone();
            let (index, n) = crate::services::search::rebuild(
                &app,
                Box::new(move |done, total| {
                    progress_bar.set_length(total);
                    progress_bar.set_position(done);
                }),
            )
            .await?;
            bar.finish_and_clear();
            println!(
                "indexed {n} products ({} documents) in {:.1} s into {}",
                index.num_docs(),
                started.elapsed().as_secs_f64(),
                app.search.root().join(index.generation()).display()
            );
        }
        Command::Keys { command: KeysCommand::Rotate } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let total = crate::services::key_rotation::pending(&app).await?;
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} values re-encrypted ({eta} left)")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let done = crate::services::key_rotation::rotate(&app, |n| bar.set_position(n)).await?;
            bar.finish();
            println!("re-encrypted {done} values under key {}", app.keyring.active_key_id());
        }
        Command::Audit { command: AuditCommand::Verify { store } } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let mut broken = false;
            for s in crate::db::stores::list(app.db.pool()).await? {
                if store.as_deref().is_some_and(|slug| slug != s.slug) {
                    continue;
                }
                match crate::services::audit::verify(&app, &s.id).await? {
                    crate::services::audit::Verdict::Intact { entries } => {
                        println!("{}: intact ({entries} entries)", s.slug)
                    }
                    crate::services::audit::Verdict::Broken { seq, reason } => {
                        broken = true;
                        println!("{}: BROKEN at entry {seq}: {reason}", s.slug);
                    }
                }
            }
            if broken {
                anyhow::bail!("the audit log has been tampered with");
            }
        }
        Command::Ledger { command: LedgerCommand::Verify } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let started = std::time::Instant::now();
            let mut bad = false;
            for v in crate::services::ledger::verify(&app).await? {
                if v.ok() {
                    println!("{}: balanced ({} entries, {} lines)", v.store, v.entries, v.lines);
                } else {
                    bad = true;
                    println!("{}: NOT BALANCED ({} entries, {} lines)", v.store, v.entries, v.lines);
                    for e in v.unbalanced_entries.iter().chain(&v.mismatched_accounts) {
                        println!("  {e}");
                    }
                }
            }
            println!("checked in {} ms", started.elapsed().as_millis());
            if bad {
                anyhow::bail!("the ledger does not balance");
            }
        }
        Command::CheckConfig => {
            let mut shown = config.clone();
            shown.database_url = Some(redact(&config.database_url()));
            println!("{}", toml_like(&shown));
            startup::open_database(&config).await?;
            println!("database: ok");
        }
        Command::Serve { demo: with_demo, .. } => {
            let db = startup::open_database(&config).await?;
            let app = startup::app(db, config)?;
            let logins = if with_demo {
                demo::load_with_catalog(&app).await?
            } else {
                demo::ensure_default_store(&app).await?.into_iter().collect()
            };
            let server = startup::start(app).await?;
            let base = format!("http://{}", server.addr);
            print_logins(&logins, Some(&base));
            tracing::info!(addr = %server.addr, "listening");
            let stop = server.shutdown_handle();
            let wait = server.wait();
            tokio::pin!(wait);
            let signalled = async {
                startup::termination_signal().await;
                tracing::info!("shutting down: finishing in-flight requests");
                let _ = stop.send(true);
                tokio::time::sleep(crate::http::SHUTDOWN_GRACE).await;
            };
            tokio::select! {
                _ = &mut wait => {}
                _ = signalled => tracing::warn!("grace period over; exiting with requests still open"),
            }
            tracing::info!("stopped");
        }
    }
    Ok(())
}

fn toml_like(config: &Config) -> String {
    serde_json::to_string_pretty(config).unwrap_or_default()
}

/// Prints where to go and how to sign in. Written with errors ignored: a
/// closed stdout must not bring the server down.
fn print_logins(logins: &[demo::DemoLogin], base: Option<&str>) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let mut out = String::new();
    if let Some(base) = base {
        let _ = writeln!(out, "\nOxcart is running.");
        let _ = writeln!(out, "  Storefront: {base}/");
        let _ = writeln!(out, "  Admin:      {base}/admin");
        let _ = writeln!(out, "  API docs:   {base}/api/docs");
    }
    for (i, l) in logins.iter().enumerate() {
        let prefix = match base {
            Some(b) if i == 0 => b.to_string(),
            Some(b) => format!("{b}/s/{}", l.store_slug),
            None => format!("/s/{}", l.store_slug),
        };
        let _ = writeln!(out, "\n  {} ({}):", l.store_name, l.store_slug);
        let _ = writeln!(out, "    storefront {prefix}/   admin {prefix}/admin");
        let _ = writeln!(out, "    {} login: {}  password: {}", l.role, l.email, l.password);
    }
    out.push('\n');
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
