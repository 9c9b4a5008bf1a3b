//! The audit log: every staff action and security event, appended in the
//! transaction of the change it records, hash-chained per store, never
//! edited. `verify` walks a store's chain and reports the first break.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actor::{Ctx, Permission};
use super::{App, ServiceResult, now_ms};
use crate::db::{Tx, audit as sql};
use crate::domain::audit::{Entry, GENESIS, entry_hash};
use crate::domain::ids;

/// Appends an entry inside the caller's transaction. `summary` says what
/// changed (before/after), with ids rather than personal data.
pub async fn record(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    action: &str,
    target: &str,
    summary: Value,
) -> ServiceResult<()> {
    append(app, tx, &ctx.store.id, &ctx.actor.principal(), &ctx.client_ip, action, target, summary).await
}

/// Appends an entry in a transaction of its own (security events that
/// accompany no other change, such as a failed sign-in).
pub async fn record_alone(app: &App, ctx: &Ctx, action: &str, target: &str, summary: Value) -> ServiceResult<()> {
    let mut tx = app.db.begin().await?;
    record(app, &mut tx, ctx, action, target, summary).await?;
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn append(
    app: &App,
    tx: &mut Tx,
    store_id: &str,
    actor: &str,
    client_ip: &str,
    action: &str,
    target: &str,
    summary: Value,
) -> ServiceResult<()> {
    let head = sql::lock_head(tx, app.db.dialect(), store_id).await?;
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let id = ids::new_id("aud");
    let at = now_ms();
    let summary = summary.to_string();
    let hash = entry_hash(&prev_hash, &Entry { seq, id: &id, at, actor, client_ip, action, target, summary: &summary });
    let row = sql::AuditRow {
        seq,
        id,
        at,
        actor: actor.to_string(),
        client_ip: client_ip.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        summary,
        prev_hash,
        hash,
    };
    sql::insert(tx, store_id, &row).await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub client_ip: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub summary: Value,
    pub hash: String,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// An action (`staff.role_changed`) or a family (`auth.*`).
    pub action: Option<String>,
    /// Who did it (staff, token or customer id).
    pub actor: Option<String>,
    /// What it was done to.
    pub target: Option<String>,
    /// Return entries older than this sequence number (cursor).
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

pub async fn search(app: &App, ctx: &Ctx, q: &AuditQuery) -> ServiceResult<Vec<AuditEntry>> {
    ctx.actor.require(Permission::AuditRead)?;
    let filter = sql::Filter {
        action: q.action.as_deref().unwrap_or(""),
        actor: q.actor.as_deref().unwrap_or(""),
        target: q.target.as_deref().unwrap_or(""),
        before_seq: q.before,
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    };
    let rows = sql::search(app.db.pool(), &ctx.store.id, &filter).await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            id: r.id,
            at: r.at,
            actor: r.actor,
            client_ip: r.client_ip,
            action: r.action,
            target: r.target,
            summary: serde_json::from_str(&r.summary).unwrap_or(Value::Null),
            hash: r.hash,
        })
        .collect())
}

/// What verifying one store's chain found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact { entries: i64 },
    Broken { seq: i64, reason: &'static str },
}

pub async fn verify(app: &App, store_id: &str) -> ServiceResult<Verdict> {
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 1;
    loop {
        let page = sql::chain_page(app.db.pool(), store_id, expected_seq - 1, 1000).await?;
        if page.is_empty() {
            return Ok(Verdict::Intact { entries: expected_seq - 1 });
        }
        for r in page {
            if r.seq != expected_seq {
                return Ok(Verdict::Broken { seq: expected_seq, reason: "entry missing" });
            }
            if r.prev_hash != prev_hash {
                return Ok(Verdict::Broken { seq: r.seq, reason: "link to the previous entry does not match" });
            }
            let e = Entry {
                seq: r.seq,
                id: &r.id,
                at: r.at,
                actor: &r.actor,
                client_ip: &r.client_ip,
                action: &r.action,
                target: &r.target,
                summary: &r.summary,
            };
            if entry_hash(&prev_hash, &e) != r.hash {
                return Ok(Verdict::Broken { seq: r.seq, reason: "entry was altered" });
            }
            prev_hash = r.hash;
            expected_seq += 1;
        }
    }
}
