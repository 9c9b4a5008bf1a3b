//! E-mail verification and password reset for customers, by one-time
//! links sent through the mail outbox. Requests for unknown addresses get
//! the same answer as for known ones.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::Ctx;
use super::{App, ServiceError, ServiceResult, audit, auth, mail, now_ms, rate_limit};
use crate::db::{Tx, customers, mail as mail_sql, sessions};
use crate::domain::validation::FieldErrors;
use crate::i18n::t;

const VERIFY_TTL_MS: i64 = 48 * 60 * 60 * 1000;
const RESET_TTL_MS: i64 = 60 * 60 * 1000;

fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Queues the verification e-mail for a new account (inside its sign-up
/// transaction).
pub async fn send_verification(app: &App, tx: &mut Tx, ctx: &Ctx, customer_id: &str, email: &str) -> ServiceResult<()> {
    let token = new_token();
    mail_sql::insert_token(
        tx,
        &ctx.store.id,
        &auth::token_hash(&token),
        "verify_email",
        customer_id,
        now_ms() + VERIFY_TTL_MS,
    )
    .await?;
    let lang = ctx.store.brand.default_language;
    let link = format!("{}/account/verify?token={token}", mail::store_url(app, &ctx.store));
    let text = format!("{}\n\n{link}\n\n{}", t(lang, "mail.verify.body"), ctx.store.brand.name);
    mail::queue(app, tx, &ctx.store, email, t(lang, "mail.verify.subject"), &text).await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub token: String,
}

pub async fn verify_email(app: &App, ctx: &Ctx, token: &str) -> ServiceResult<()> {
    let mut tx = app.db.begin().await?;
    let now = now_ms();
    let Some(customer_id) =
        mail_sql::use_token(&mut tx, &ctx.store.id, &auth::token_hash(token), "verify_email", now).await?
    else {
        return Err(ServiceError::Conflict {
            code: "invalid_token",
            message: "this link is invalid, used or expired".into(),
        });
    };
    customers::set_email_verified(&mut tx, &ctx.store.id, &customer_id, now).await?;
    let verified_ctx = Ctx { actor: super::Actor::Customer { id: customer_id.clone() }, ..ctx.clone() };
    audit::record(app, &mut tx, &verified_ctx, "auth.email_verified", &customer_id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

/// Sends a reset link if the account exists; answers the same either way.
pub async fn request_password_reset(app: &App, ctx: &Ctx, email: &str) -> ServiceResult<()> {
    rate_limit::hit(app, &ctx.store.id, &format!("reset-ip:{}", ctx.client_ip), rate_limit::RESET_PER_ADDRESS).await?;
    let index = app.email_index(&ctx.store.id, email);
    rate_limit::hit(app, &ctx.store.id, &format!("reset:{index}"), rate_limit::RESET_PER_ACCOUNT).await?;
    let Some(row) = customers::by_email_index(app.db.pool(), &ctx.store.id, &index).await? else {
        return Ok(());
    };
    if row.erased_at.is_some() {
        return Ok(());
    }
    let token = new_token();
    let lang = ctx.store.brand.default_language;
    let link = format!("{}/account/reset?token={token}", mail::store_url(app, &ctx.store));
    let text = format!("{}\n\n{link}\n\n{}", t(lang, "mail.reset.body"), ctx.store.brand.name);
    let mut tx = app.db.begin().await?;
    mail_sql::insert_token(
        &mut tx,
        &ctx.store.id,
        &auth::token_hash(&token),
        "reset_password",
        &row.id,
        now_ms() + RESET_TTL_MS,
    )
    .await?;
    mail::queue(app, &mut tx, &ctx.store, &super::pii::normalise_email(email), t(lang, "mail.reset.subject"), &text)
        .await?;
    tx.commit().await?;
    app.wake_mail();
    Ok(())
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    pub token: String,
    pub password: String,
}

/// Sets a new password from a reset link and ends every session.
pub async fn reset_password(app: &App, ctx: &Ctx, input: ResetConfirm) -> ServiceResult<()> {
    if let Err(msg) = auth::check_password_strength(&input.password) {
        let mut e = FieldErrors::default();
        e.add("password", "weak_password", msg);
        return Err(e.into());
    }
    let hash = auth::hash_password(&input.password).await?;
    let mut tx = app.db.begin().await?;
    let now = now_ms();
    let Some(customer_id) =
        mail_sql::use_token(&mut tx, &ctx.store.id, &auth::token_hash(&input.token), "reset_password", now).await?
    else {
        return Err(ServiceError::Conflict {
            code: "invalid_token",
            message: "this link is invalid, used or expired".into(),
        });
    };
    customers::set_password(&mut tx, &ctx.store.id, &customer_id, &hash, now).await?;
    let ended = sessions::delete_for_principal(&mut tx, &ctx.store.id, "customer", &customer_id).await?;
    let reset_ctx = Ctx { actor: super::Actor::Customer { id: customer_id.clone() }, ..ctx.clone() };
    audit::record(app, &mut tx, &reset_ctx, "auth.password_reset", &customer_id, json!({ "sessions_ended": ended }))
        .await?;
    tx.commit().await?;
    Ok(())
}
