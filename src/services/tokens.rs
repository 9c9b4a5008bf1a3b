//! API tokens for machines: created by staff, shown once, stored as a hash,
//! scoped to permissions the creator holds, expirable and revocable, with
//! the time of last use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::actor::{Actor, Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms, rate_limit};
use crate::db::tokens;
use crate::domain::access::{may_grant, parse_permissions};
use crate::domain::ids;
use crate::domain::validation::FieldErrors;

/// Tokens look like `oxc.tok_<ulid>.<secret>`; the prefix lets secret
/// scanners recognise a leaked one.
const PREFIX: &str = "oxc.";

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    pub permissions: Vec<String>,
    /// Unix milliseconds; omit for a token that does not expire.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenView,
    /// The bearer secret. Shown only in this response.
    pub secret: String,
}

impl From<tokens::TokenRow> for TokenView {
    fn from(t: tokens::TokenRow) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            permissions: t.permissions,
            created_by: t.created_by,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub async fn create(app: &App, ctx: &Ctx, input: NewToken) -> ServiceResult<CreatedToken> {
    ctx.actor.require(Permission::TokensManage)?;
    rate_limit::hit(app, &ctx.store.id, &format!("tokens:{}", ctx.actor.principal()), rate_limit::TOKENS_PER_PRINCIPAL)
        .await?;
    let mut errs = FieldErrors::default();
    errs.text("name", &input.name, 1, 80);
    let perms = match parse_permissions(&input.permissions) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            errs.add("permissions", "required", "a token needs at least one permission");
            Default::default()
        }
        Err(unknown) => {
            errs.add("permissions", "unknown_permission", format!("unknown permissions: {}", unknown.join(", ")));
            Default::default()
        }
    };
    if input.expires_at.is_some_and(|t| t <= now_ms()) {
        errs.add("expires_at", "in_the_past", "expires_at must be in the future");
    }
    errs.finish(())?;
    if !may_grant(&ctx.actor.permissions(), &perms) {
        return Err(ServiceError::Conflict {
            code: "scope_exceeds_own_rights",
            message: "a token can only carry permissions its creator holds".into(),
        });
    }
    let mut secret_bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut secret_bytes);
    let secret_part = URL_SAFE_NO_PAD.encode(secret_bytes);
    let row = tokens::TokenRow {
        id: ids::new_id("tok"),
        name: input.name.trim().to_string(),
        secret_hash: hash(&secret_part),
        permissions: perms.iter().map(|p| p.code().to_string()).collect(),
        created_by: ctx.actor.principal(),
        created_at: now_ms(),
        expires_at: input.expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    let secret = format!("{PREFIX}{}.{secret_part}", row.id);
    let mut tx = app.db.begin().await?;
    tokens::insert(&mut tx, &ctx.store.id, &row).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "token.created",
        &row.id,
        json!({ "name": row.name, "permissions": row.permissions, "expires_at": row.expires_at }),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { token: row.into(), secret })
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<TokenView>> {
    ctx.actor.require(Permission::TokensManage)?;
    Ok(tokens::list(app.db.pool(), &ctx.store.id).await?.into_iter().map(TokenView::from).collect())
}

pub async fn revoke(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::TokensManage)?;
    if !ids::is_valid("tok", id) {
        return Err(ServiceError::NotFound);
    }
    let mut tx = app.db.begin().await?;
    if !tokens::revoke(&mut tx, &ctx.store.id, id, now_ms()).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "token.revoked", id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a bearer value is shaped like an API token.
pub fn is_token(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

/// The machine actor behind a token, if it is valid in this store now.
pub async fn authenticate(app: &App, store_id: &str, bearer: &str) -> ServiceResult<Option<Actor>> {
    let Some((id, secret)) = bearer.strip_prefix(PREFIX).and_then(|r| r.split_once('.')) else {
        return Ok(None);
    };
    if !ids::is_valid("tok", id) {
        return Ok(None);
    }
    let Some(row) = tokens::by_id(app.db.pool(), store_id, id).await? else { return Ok(None) };
    let now = now_ms();
    let matches = bool::from(hash(secret).as_bytes().ct_eq(row.secret_hash.as_bytes()));
    if !matches || row.revoked_at.is_some() || row.expires_at.is_some_and(|t| t <= now) {
        return Ok(None);
    }
    // A write at most once a minute per token, not one per request.
    if row.last_used_at.is_none_or(|t| t < now - tokens::TOUCH_EVERY_MS) {
        let mut tx = app.db.begin().await?;
        tokens::touch(&mut tx, store_id, id, now).await?;
        tx.commit().await?;
    }
    Ok(Some(Actor::Token { id: row.id, permissions: parse_permissions(&row.permissions).unwrap_or_default() }))
}
