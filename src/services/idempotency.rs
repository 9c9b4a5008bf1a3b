//! The reusable `Idempotency-Key` mechanism. A service that creates
//! something or moves money or stock calls [`claim`] first thing in its
//! transaction and [`complete`] just before commit, so the record and the
//! change commit together: a retry replays the first response, the same key
//! with another request is refused, and concurrent duplicates cannot both
//! execute (the second waits on the key's row, then replays).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::actor::Ctx;
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::{Tx, idempotency as sql};
use crate::domain::crypto::Slot;

/// A client's key together with a fingerprint of what it asked for.
#[derive(Debug, Clone)]
pub struct IdempotencyRequest {
    pub key: String,
    pub fingerprint: String,
}

impl IdempotencyRequest {
    /// Fingerprints the operation name and its parsed input (not the raw
    /// bytes, so whitespace or key order in the JSON do not matter).
    pub fn new<T: Serialize>(key: String, operation: &str, input: &T) -> Self {
        let mut h = Sha256::new();
        h.update(operation.as_bytes());
        h.update([0]);
        h.update(serde_json::to_vec(input).unwrap_or_default());
        IdempotencyRequest { key, fingerprint: hex::encode(h.finalize()) }
    }
}

pub enum Begin {
    Proceed,
    Replay { status: u16, body: String },
}

pub async fn claim(app: &App, tx: &mut Tx, ctx: &Ctx, req: Option<&IdempotencyRequest>) -> ServiceResult<Begin> {
    claim_as(app, tx, &ctx.store.id, &ctx.actor.principal(), req).await
}

/// Stored answers hold personal data (an order's contact, licence keys),
/// so they are sealed like it. The slot binds each to its key.
fn slot<'a>(store_id: &'a str, row_id: &'a str) -> Slot<'a> {
    Slot { table: "idempotency_keys", column: "response", store_id, row_id }
}

/// The answer to store for a key: serialised, then sealed.
fn sealed_answer<T: Serialize>(
    app: &App,
    store_id: &str,
    principal: &str,
    req: &IdempotencyRequest,
    response: &T,
) -> ServiceResult<String> {
    let body = serde_json::to_string(response).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(app.seal(slot(store_id, &format!("{principal}\n{}", req.key)), &body))
}

/// Answers stored before sealing (they expire within a day) read as they are.
fn open_body(app: &App, store_id: &str, principal: &str, key: &str, stored: String) -> ServiceResult<String> {
    if crate::domain::crypto::Keyring::key_id_of(&stored).is_none() {
        return Ok(stored);
    }
    app.open(slot(store_id, &format!("{principal}\n{key}")), &stored)
}

/// As [`claim`], with keys scoped to `principal` rather than the caller
/// (a guest's cart: every guest is "anonymous").
pub async fn claim_as(
    app: &App,
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    req: Option<&IdempotencyRequest>,
) -> ServiceResult<Begin> {
    let Some(req) = req else {
        return Ok(Begin::Proceed);
    };
    match sql::claim(tx, store_id, principal, &req.key, &req.fingerprint, now_ms()).await? {
        sql::Claim::Fresh => Ok(Begin::Proceed),
        sql::Claim::Replay { status, body } => {
            Ok(Begin::Replay { status, body: open_body(app, store_id, principal, &req.key, body)? })
        }
        sql::Claim::Mismatch => Err(ServiceError::IdempotencyMismatch),
        sql::Claim::InFlight => Err(ServiceError::IdempotencyInFlight),
    }
}

pub async fn complete<T: Serialize>(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    req: Option<&IdempotencyRequest>,
    status: u16,
    response: &T,
) -> ServiceResult<()> {
    complete_as(app, tx, &ctx.store.id, &ctx.actor.principal(), req, status, response).await
}

pub async fn complete_as<T: Serialize>(
    app: &App,
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    req: Option<&IdempotencyRequest>,
    status: u16,
    response: &T,
) -> ServiceResult<()> {
    let Some(req) = req else { return Ok(()) };
    let sealed = sealed_answer(app, store_id, principal, req, response)?;
    sql::complete(tx, store_id, principal, &req.key, status, &sealed).await?;
    Ok(())
}

/// The first answer for a key already completed, read before any work
/// (for operations whose inputs are gone once done, like a checked-out cart).
pub async fn replay<T>(
    app: &super::App,
    store_id: &str,
    principal: &str,
    req: &IdempotencyRequest,
) -> ServiceResult<Option<super::Outcome<T>>> {
    let found = sql::lookup(app.db.pool(), store_id, principal, &req.key).await?;
    replayed(app, store_id, principal, req, found)
}

/// As [`replay`], read inside a transaction (which sees what the
/// transactions committed with it on SQLite's writer have written).
pub async fn replay_in<T>(
    app: &super::App,
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    req: &IdempotencyRequest,
) -> ServiceResult<Option<super::Outcome<T>>> {
    let found = sql::lookup_in(tx, store_id, principal, &req.key).await?;
    replayed(app, store_id, principal, req, found)
}

/// Records a key with its answer in one write, for an operation whose own change already
/// proved no earlier request with this key succeeded or is in flight: a
/// checkout that removed the cart (the key is scoped to the cart).
pub async fn record_as<T: Serialize>(
    app: &App,
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    req: Option<&IdempotencyRequest>,
    status: u16,
    response: &T,
) -> ServiceResult<()> {
    let Some(req) = req else { return Ok(()) };
    let sealed = sealed_answer(app, store_id, principal, req, response)?;
    sql::record(tx, store_id, principal, &req.key, &req.fingerprint, status, &sealed, now_ms()).await?;
    Ok(())
}

fn replayed<T>(
    app: &super::App,
    store_id: &str,
    principal: &str,
    req: &IdempotencyRequest,
    found: Option<(String, i64, String)>,
) -> ServiceResult<Option<super::Outcome<T>>> {
    match found {
        None => Ok(None),
        Some((hash, _, _)) if hash != req.fingerprint => Err(ServiceError::IdempotencyMismatch),
        Some((_, status, body)) => {
            let body = open_body(app, store_id, principal, &req.key, body)?;
            Ok(Some(super::Outcome::Replayed { status: status as u16, body }))
        }
    }
}
