//! The second factor for staff: TOTP enrolment, the sign-in challenge, and
//! the store setting that requires it for owners.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Actor, Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms};
use crate::db::{staff, stores};
use crate::domain::crypto::Slot;
use crate::domain::totp;

fn slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "staff_users", column: "totp_secret", store_id, row_id: id }
}

fn staff_id(ctx: &Ctx) -> ServiceResult<&str> {
    match &ctx.actor {
        Actor::Staff { id, .. } => Ok(id),
        Actor::Anonymous => Err(ServiceError::Unauthenticated),
        _ => Err(ServiceError::Forbidden(Permission::StaffRead)),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32 secret to type into an authenticator app.
    pub secret: String,
    /// `otpauth://` URI to scan.
    pub otpauth_uri: String,
}

/// Starts enrolment: a new secret, not active until a code confirms it.
pub async fn setup(app: &App, ctx: &Ctx) -> ServiceResult<TotpSetup> {
    let id = staff_id(ctx)?.to_string();
    let state = staff::totp(app.db.pool(), &ctx.store.id, &id).await?.ok_or(ServiceError::NotFound)?;
    if state.enabled_at.is_some() {
        return Err(ServiceError::Conflict {
            code: "mfa_already_enabled",
            message: "a second factor is already set up".into(),
        });
    }
    let mut secret = [0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    let encoded = totp::base32_encode(&secret);
    let mut tx = app.db.begin().await?;
    staff::set_totp_secret(&mut tx, &ctx.store.id, &id, &app.seal(slot(&ctx.store.id, &id), &encoded)).await?;
    tx.commit().await?;
    Ok(TotpSetup { otpauth_uri: totp::otpauth_uri(&ctx.store.brand.name, &id, &secret), secret: encoded })
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    pub code: String,
}

/// Checks a code for a staff member and consumes its time step.
pub(crate) async fn check_code(app: &App, store_id: &str, id: &str, code: &str, enable: bool) -> ServiceResult<bool> {
    let Some(state) = staff::totp(app.db.pool(), store_id, id).await? else { return Ok(false) };
    let Some(sealed) = state.secret_enc else { return Ok(false) };
    let secret = totp::base32_decode(&app.open(slot(store_id, id), &sealed)?).unwrap_or_default();
    let Some(step) = totp::verify(&secret, code, now_ms() / 1000, state.last_step) else { return Ok(false) };
    let mut tx = app.db.begin().await?;
    let fresh = staff::use_totp_step(&mut tx, store_id, id, step, enable.then(now_ms)).await?;
    tx.commit().await?;
    Ok(fresh)
}

/// Finishes enrolment with a code from the app.
pub async fn enable(app: &App, ctx: &Ctx, input: CodeInput) -> ServiceResult<()> {
    let id = staff_id(ctx)?.to_string();
    if !check_code(app, &ctx.store.id, &id, &input.code, true).await? {
        return Err(ServiceError::Conflict { code: "invalid_code", message: "the code is wrong or expired".into() });
    }
    audit::record_alone(app, ctx, "auth.mfa_enabled", &id, json!({})).await
}

/// Whether the staff member has an active second factor.
pub async fn is_enabled(app: &App, store_id: &str, id: &str) -> ServiceResult<bool> {
    Ok(staff::totp(app.db.pool(), store_id, id).await?.is_some_and(|t| t.enabled_at.is_some()))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Owners must sign in with a second factor; until they set one up
    /// they can do nothing but that.
    pub require_owner_mfa: bool,
}

pub async fn update_settings(app: &App, ctx: &Ctx, input: SecuritySettings) -> ServiceResult<()> {
    ctx.actor.require(Permission::RolesManage)?;
    let mut tx = app.db.begin().await?;
    stores::set_require_owner_mfa(&mut tx, &ctx.store.id, input.require_owner_mfa, now_ms()).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "store.security_changed",
        &ctx.store.id,
        json!({ "before": { "require_owner_mfa": ctx.store.require_owner_mfa }, "after": { "require_owner_mfa": input.require_owner_mfa } }),
    )
    .await?;
    tx.commit().await?;
    app.reads.stores.clear();
    Ok(())
}
