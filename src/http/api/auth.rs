//! `/api/v1/auth`: opening and closing sessions. The token returned is used
//! as `Authorization: Bearer <token>`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, CurrentStore};
use crate::http::state::AppState;
use crate::services::auth::{self, Audience};
use crate::services::mfa;
use crate::services::recovery::{self, ResetConfirm, ResetRequest, TokenInput};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginAudience {
    Staff,
    Customer,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Sign in as staff (admin) or as a customer.
    pub audience: LoginAudience,
}

/// Either a session (`token`, `expires_at`) or, for staff with a second
/// factor, an `mfa_challenge` to send with a code to
/// `/api/v1/auth/login/second-factor`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_challenge: Option<String>,
}

impl From<auth::LoginOutcome> for LoginOutput {
    fn from(o: auth::LoginOutcome) -> Self {
        match o {
            auth::LoginOutcome::Session(s) => {
                LoginOutput { token: Some(s.token), expires_at: Some(s.expires_at), mfa_challenge: None }
            }
            auth::LoginOutcome::SecondFactor { challenge } => {
                LoginOutput { token: None, expires_at: None, mfa_challenge: Some(challenge) }
            }
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorInput {
    pub challenge: String,
    /// The 6-digit code from the authenticator app.
    pub code: String,
}

/// The second sign-in step for staff with TOTP.
#[utoipa::path(post, path = "/api/v1/auth/login/second-factor", tag = "auth", request_body = SecondFactorInput,
    responses((status = 200, body = LoginOutput), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn second_factor(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<SecondFactorInput>,
) -> Result<Json<LoginOutput>, ApiError> {
    let session = auth::complete_second_factor(&state.app, &ctx, &input.challenge, &input.code).await?;
    Ok(Json(auth::LoginOutcome::Session(session).into()))
}

/// Starts TOTP enrolment for the signed-in staff member.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = mfa::TotpSetup), (status = 409, body = Problem)))]
pub async fn totp_setup(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<mfa::TotpSetup>, ApiError> {
    Ok(Json(mfa::setup(&state.app, &ctx).await?))
}

/// Confirms TOTP enrolment with a code from the app.
#[utoipa::path(post, path = "/api/v1/me/totp/enable", tag = "auth", security(("bearer" = [])), request_body = mfa::CodeInput,
    responses((status = 204), (status = 409, body = Problem)))]
pub async fn totp_enable(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<mfa::CodeInput>,
) -> Result<StatusCode, ApiError> {
    mfa::enable(&state.app, &ctx, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Store security settings (owners).
#[utoipa::path(put, path = "/api/v1/store/security", tag = "store", security(("bearer" = [])), request_body = mfa::SecuritySettings,
    responses((status = 204), (status = 403, body = Problem)))]
pub async fn security_settings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<mfa::SecuritySettings>,
) -> Result<StatusCode, ApiError> {
    mfa::update_settings(&state.app, &ctx, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs in. Wrong e-mail and wrong password give the same answer.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = LoginOutput), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Json<LoginOutput>, ApiError> {
    let audience = match input.audience {
        LoginAudience::Staff => Audience::Staff,
        LoginAudience::Customer => Audience::Customer,
    };
    let session = auth::login(&state.app, &ctx, audience, &input.email, &input.password).await?;
    Ok(Json(session.into()))
}

/// Ends the session of the bearer token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    current: CurrentStore,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "use Authorization: Bearer <token>")
        })?;
    auth::logout(&state.app, &current.store, token.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the signed-in caller, on every device.
#[utoipa::path(post, path = "/api/v1/auth/logout-everywhere", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout_everywhere(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<StatusCode, ApiError> {
    auth::logout_everywhere(&state.app, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms the e-mail address with the token from the verification link.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = TokenInput,
    responses((status = 204), (status = 409, body = Problem)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<StatusCode, ApiError> {
    recovery::verify_email(&state.app, &ctx, &input.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a password reset link if the account exists (the answer is the same either way).
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = ResetRequest,
    responses((status = 202), (status = 429, body = Problem)))]
pub async fn request_reset(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    recovery::request_password_reset(&state.app, &ctx, &input.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the token from the reset link; every session ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = ResetConfirm,
    responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_reset(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ResetConfirm>,
) -> Result<StatusCode, ApiError> {
    recovery::reset_password(&state.app, &ctx, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
