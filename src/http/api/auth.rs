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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginOutput {
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
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
    Ok(Json(LoginOutput { token: session.token, expires_at: session.expires_at }))
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
