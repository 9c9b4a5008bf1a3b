//! The reusable `Idempotency-Key` mechanism. A service that creates
//! something or moves money or stock calls [`claim`] first thing in its
//! transaction and [`complete`] just before commit, so the record and the
//! change commit together: a retry replays the first response, the same key
//! with another request is refused, and concurrent duplicates cannot both
//! execute (the second waits on the key's row, then replays).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::actor::Ctx;
use super::{ServiceError, ServiceResult, now_ms};
use crate::db::{Tx, idempotency as sql};

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

pub async fn claim(tx: &mut Tx, ctx: &Ctx, req: Option<&IdempotencyRequest>) -> ServiceResult<Begin> {
    claim_as(tx, &ctx.store.id, &ctx.actor.principal(), req).await
}

/// As [`claim`], with keys scoped to `principal` rather than the caller
/// (a guest's cart: every guest is "anonymous").
pub async fn claim_as(
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
        sql::Claim::Replay { status, body } => Ok(Begin::Replay { status, body }),
        sql::Claim::Mismatch => Err(ServiceError::IdempotencyMismatch),
        sql::Claim::InFlight => Err(ServiceError::IdempotencyInFlight),
    }
}

pub async fn complete<T: Serialize>(
    tx: &mut Tx,
    ctx: &Ctx,
    req: Option<&IdempotencyRequest>,
    status: u16,
    response: &T,
) -> ServiceResult<()> {
    complete_as(tx, &ctx.store.id, &ctx.actor.principal(), req, status, response).await
}

pub async fn complete_as<T: Serialize>(
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    req: Option<&IdempotencyRequest>,
    status: u16,
    response: &T,
) -> ServiceResult<()> {
    let Some(req) = req else { return Ok(()) };
    let body = serde_json::to_string(response).map_err(|e| ServiceError::Internal(e.to_string()))?;
    sql::complete(tx, store_id, principal, &req.key, status, &body).await?;
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
    match sql::lookup(app.db.pool(), store_id, principal, &req.key).await? {
        None => Ok(None),
        Some((hash, _, _)) if hash != req.fingerprint => Err(ServiceError::IdempotencyMismatch),
        Some((_, status, body)) => Ok(Some(super::Outcome::Replayed { status: status as u16, body })),
    }
}
