//! `/api/v1/tokens`: API tokens for partner systems and integrations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson};
use crate::http::state::AppState;
use crate::services::tokens::{self, CreatedToken, NewToken, TokenView};

#[utoipa::path(get, path = "/api/v1/tokens", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(tokens::list(&state.app, &ctx).await?))
}

/// Creates a token; its secret is in this response only. Use it as `Authorization: Bearer <secret>`.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", security(("bearer" = [])), request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(tokens::create(&state.app, &ctx, input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id (tok_…)")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tokens::revoke(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
