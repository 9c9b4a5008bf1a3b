//! Configuration: built-in defaults, then an optional TOML file, then
//! `OXCART_*` environment variables (nested keys with `__`, e.g.
//! `OXCART_WEBHOOKS__MAX_ATTEMPTS`), then command-line flags — each later
//! source wins.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// Directory for the embedded database and local files.
    pub data_dir: PathBuf,
    /// `sqlite://path` or `postgres://…`; default: `sqlite://{data_dir}/oxcart.db`.
    pub database_url: Option<String>,
    pub db_max_connections: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// `json` (default) or `pretty`.
    pub log_format: String,
    pub webhooks: WebhookConfig,
    pub security: SecurityConfig,
    /// The address people reach this installation at, for links in e-mail
    /// (default `http://{listen}`).
    pub public_url: Option<String>,
    pub mail: MailConfig,
    pub retention: RetentionConfig,
    pub search: SearchConfig,
    pub media: MediaConfig,
    pub catalog: CatalogConfig,
    pub cache: CacheConfig,
    pub orders: OrdersConfig,
    #[serde(default)]
    pub payments: PaymentsConfig,
}

/// Taking payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentsConfig {
    /// Capture card payments as soon as they are authorised (`true`), or
    /// hold the funds until the order ships (its first shipment captures
    /// them) or staff capture them.
    pub capture_on_order: bool,
    /// The secret (`whsec_…`) the test card processor signs its webhooks
    /// with; its webhooks are refused while unset.
    #[serde(default)]
    pub test_card_webhook_secret: Option<String>,
    /// How far a provider webhook's timestamp may be from now, in seconds.
    #[serde(default = "default_webhook_tolerance")]
    pub webhook_tolerance_secs: i64,
    /// A payment operation still pending after this many seconds (its
    /// answer was lost and no retry came) is completed by the reconciler.
    #[serde(default = "default_reconcile_after")]
    pub reconcile_after_secs: i64,
}

fn default_reconcile_after() -> i64 {
    120
}

fn default_webhook_tolerance() -> i64 {
    300
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            capture_on_order: true,
            test_card_webhook_secret: None,
            webhook_tolerance_secs: default_webhook_tolerance(),
            reconcile_after_secs: default_reconcile_after(),
        }
    }
}

/// Answers kept in memory for storefront reads (see `services::read_cache`),
/// each cache within a memory budget (estimated). A budget of 0 turns that
/// cache off.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheConfig {
    /// Product pages (per product, language and channel), in MiB.
    pub product_pages_mib: u64,
    /// Search and listing results, in MiB.
    pub searches_mib: u64,
    /// How long a search result is used; a scheduled publication shows in
    /// listings at most this late.
    pub search_ttl_ms: u64,
    /// What carts and checkout read of variants (facts, names, prices), in MiB.
    pub line_facts_mib: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { product_pages_mib: 64, searches_mib: 16, search_ttl_ms: 1_000, line_facts_mib: 8 }
    }
}

/// Checkout and unpaid orders.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdersConfig {
    /// How long an unpaid order holds its stock before it is cancelled
    /// and the stock released, in minutes.
    pub reservation_minutes: i64,
    /// Where orders ship from: `nearest` (the buyer's country first, then
    /// priority) or `priority` (location priority only).
    pub allocation: crate::domain::inventory::Allocation,
    /// How many days after delivery (or shipping, when no delivery was
    /// confirmed) a customer may ask to return goods.
    #[serde(default = "default_return_days")]
    pub return_days: i64,
}

fn default_return_days() -> i64 {
    30
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            reservation_minutes: 60,
            allocation: crate::domain::inventory::Allocation::Nearest,
            return_days: default_return_days(),
        }
    }
}

/// Bulk catalog work.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogConfig {
    /// Largest CSV file an import through the API or admin accepts, in bytes.
    pub max_import_bytes: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig { max_import_bytes: 256 * 1024 * 1024 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Where this node keeps its search index (default `{data_dir}/search`).
    /// Derived data: every node needs its own, and it can be deleted and
    /// rebuilt at any time.
    pub dir: Option<PathBuf>,
}

/// Product images: limits, thumbnail sizes and where the files go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaConfig {
    /// Directory of the local blob store (default `{data_dir}/media`).
    pub dir: Option<PathBuf>,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Largest width and largest height accepted, in pixels.
    pub max_dimension: u32,
    /// Largest width × height accepted (bounds decoding memory: 4 bytes a pixel).
    pub max_pixels: u64,
    /// Thumbnail widths; never larger than the picture itself.
    pub thumbnail_widths: Vec<u32>,
    /// JPEG quality, 1 to 100.
    pub jpeg_quality: u8,
    /// Images per product.
    pub max_per_product: u32,
}

impl Default for MediaConfig {
    fn default() -> Self {
        let p = crate::domain::media::Policy::default();
        MediaConfig {
            dir: None,
            max_upload_bytes: p.max_bytes,
            max_dimension: p.max_dimension,
            max_pixels: p.max_pixels,
            thumbnail_widths: p.thumbnail_widths,
            jpeg_quality: p.jpeg_quality,
            max_per_product: 50,
        }
    }
}

/// How long data is kept before housekeeping purges it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionConfig {
    /// Sent or failed e-mail (it holds personal data).
    pub mail_days: u32,
    /// How long a retried request can still be answered from its
    /// Idempotency-Key record.
    pub idempotency_hours: u32,
    /// How often the housekeeping worker runs.
    pub interval_minutes: u32,
    /// Finished background jobs and their files (uploads, exports).
    pub job_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig { mail_days: 30, idempotency_hours: 72, interval_minutes: 15, job_days: 7 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MailConfig {
    /// Where the built-in transport drops messages as `.eml` files
    /// (default `{data_dir}/mailbox`), so the demo needs no mail server.
    pub mailbox_dir: Option<PathBuf>,
    /// Sender address.
    pub from: Option<String>,
}

/// Keys for personal data at rest. Either give them here (or through
/// `OXCART_SECURITY__KEYS__<ID>`, `OXCART_SECURITY__ACTIVE_KEY`,
/// `OXCART_SECURITY__INDEX_KEY`), or point `key_file` at a TOML file with
/// `active`, `index_key` and a `[keys]` table. With neither, an embedded
/// SQLite installation creates `{data_dir}/secrets/keys.toml` on first
/// start; PostgreSQL installations must configure keys, since every node
/// needs the same ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecurityConfig {
    pub key_file: Option<PathBuf>,
    pub active_key: Option<String>,
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, String>,
    pub index_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// Attempts before a delivery is parked.
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    pub timeout_ms: u64,
    pub poll_interval_ms: u64,
    /// Allow loopback and private-network targets. Off by default (SSRF).
    pub allow_private_targets: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            db_max_connections: 16,
            max_body_bytes: 1024 * 1024,
            log_format: "json".into(),
            webhooks: WebhookConfig {
                max_attempts: 8,
                base_delay_ms: 5_000,
                max_delay_ms: 6 * 60 * 60 * 1000,
                timeout_ms: 10_000,
                poll_interval_ms: 1_000,
                allow_private_targets: false,
            },
            security: SecurityConfig::default(),
            public_url: None,
            mail: MailConfig::default(),
            retention: RetentionConfig::default(),
            search: SearchConfig::default(),
            media: MediaConfig::default(),
            catalog: CatalogConfig::default(),
            cache: CacheConfig::default(),
            orders: OrdersConfig::default(),
            payments: PaymentsConfig::default(),
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => fig = fig.merge(Toml::file_exact(path)),
            None => fig = fig.merge(Toml::file("oxcart.toml")),
        }
        fig.merge(Env::prefixed("OXCART_").split("__").ignore(&["config", "test_postgres_url"]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("oxcart.db").display()))
    }

    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_string()
    }

    pub fn search_dir(&self) -> PathBuf {
        self.search.dir.clone().unwrap_or_else(|| self.data_dir.join("search"))
    }

    pub fn mailbox_dir(&self) -> PathBuf {
        self.mail.mailbox_dir.clone().unwrap_or_else(|| self.data_dir.join("mailbox"))
    }

    pub fn media_dir(&self) -> PathBuf {
        self.media.dir.clone().unwrap_or_else(|| self.data_dir.join("media"))
    }

    pub fn media_policy(&self) -> crate::domain::media::Policy {
        let m = &self.media;
        crate::domain::media::Policy {
            max_bytes: m.max_upload_bytes,
            max_dimension: m.max_dimension,
            max_pixels: m.max_pixels,
            thumbnail_widths: m.thumbnail_widths.clone(),
            jpeg_quality: m.jpeg_quality,
        }
    }

    pub fn webhook_policy(&self) -> crate::domain::webhooks::RetryPolicy {
        crate::domain::webhooks::RetryPolicy {
            max_attempts: self.webhooks.max_attempts.max(1),
            base_delay_ms: self.webhooks.base_delay_ms,
            max_delay_ms: self.webhooks.max_delay_ms,
        }
    }
}
