//! Services: one function per use case. A service checks who is asking,
//! applies the domain rules, writes in one transaction (with its outbox
//! events) and commits. HTTP handlers, pages and the CLI all call these, so
//! every entry point enforces the same rules.

pub mod accounts;
pub mod actor;
pub mod addresses;
pub mod attributes;
pub mod audit;
pub mod auth;
pub mod bookkeeping;
pub mod cart;
pub mod catalog;
pub mod catalog_batch;
pub mod catalog_csv;
pub mod categories;
pub mod checkout_rules;
pub mod collections;
pub mod customers;
pub mod demo;
pub mod demo_catalog;
pub mod digital;
pub mod drafts;
pub mod exchanges;
pub mod fulfilment;
pub mod housekeeping;
pub mod idempotency;
pub mod inventory;
pub mod invoices;
pub mod jobs;
pub mod key_rotation;
pub mod ledger;
pub mod line_facts;
pub mod mail;
pub mod media;
pub mod mfa;
pub mod order_edits;
pub mod order_payment;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod pii;
pub mod pricing;
pub mod privacy;
pub mod product_page;
pub mod promotions;
pub mod quote;
pub mod rate_limit;
pub mod read_cache;
pub mod reconciliation;
pub mod recovery;
pub mod reports;
pub mod returns;
pub mod risk;
pub mod roles;
pub mod search;
pub mod shipping;
pub mod staff;
pub mod store_cache;
pub mod stores;
pub mod tax_rules;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::db::Db;
use crate::domain::validation::FieldErrors;

pub use actor::{Actor, Permission};

/// What every service needs: the database, configuration, and a way to wake
/// the outbox worker after a commit.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub outbox_wakeup: Arc<Notify>,
    pub mail_wakeup: Arc<Notify>,
    pub jobs_wakeup: Arc<Notify>,
    pub keyring: Arc<crate::domain::crypto::Keyring>,
    pub search: Arc<search::SearchService>,
    /// Where uploaded files (product images) are kept.
    pub blobs: Arc<dyn crate::providers::blob::BlobStore>,
    /// Each store's price lists, kept briefly (see `pricing::applicable_lists`).
    pub price_lists: Arc<pricing::ListCache>,
    /// Each store's tax, shipping and promotion rules, kept briefly.
    pub checkout_rules: Arc<checkout_rules::RulesCache>,
    /// Answers kept for storefront reads (product pages, searches, stores).
    pub reads: Arc<read_cache::Reads>,
    /// The payment providers (card processor, transfers, cash, invoices).
    pub payments: Arc<crate::providers::payment::Providers>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("missing permission: {0}")]
    Forbidden(Permission),
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Something that existed and ended (an expired download link).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInFlight,
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("temporarily unavailable; retry in {retry_after} s")]
    Unavailable { retry_after: u64 },
    /// Content of a kind the service does not take (an upload that is not
    /// a supported image, judged by its bytes).
    #[error("{message}")]
    UnsupportedContent { code: &'static str, message: String },
    /// Content over a size limit.
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<FieldErrors> for ServiceError {
    fn from(e: FieldErrors) -> Self {
        ServiceError::Validation(e)
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Current time in Unix milliseconds (UTC). Services read the clock; the
/// domain is handed times.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Result of an idempotent operation: done now, or the stored first answer.
pub enum Outcome<T> {
    Fresh(T),
    Replayed { status: u16, body: String },
}
