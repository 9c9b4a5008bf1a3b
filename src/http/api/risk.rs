//! `/api/v1/risk` and `/api/v1/orders/{id}/risk`: fraud rules, the review
//! queue of held orders, staff verdicts and blocked lists.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::domain::risk::Settings;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson};
use crate::http::state::AppState;
use crate::services::risk::{self, Block, NewBlock, ReviewItem, RiskView, Verdict};

/// The store's risk rules (none by default: every attempt allowed). Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/risk/settings", tag = "risk", security(("bearer" = [])),
    responses((status = 200, body = Settings), (status = 403, body = Problem)))]
pub async fn settings(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Settings>, ApiError> {
    Ok(Json(risk::settings(&state.app, &ctx).await?))
}

/// Replaces the store's risk rules: thresholds for review and deny, and
/// rules (amount_over, velocity by card/email/customer/ip, country_mismatch,
/// guest_checkout) with their points. Needs `payments.manage`.
#[utoipa::path(put, path = "/api/v1/risk/settings", tag = "risk", security(("bearer" = [])), request_body = Settings,
    responses((status = 200, body = Settings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<Settings>,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(risk::put_settings(&state.app, &ctx, input).await?))
}

/// The recommended rules, to start from.
#[utoipa::path(get, path = "/api/v1/risk/settings/recommended", tag = "risk",
    responses((status = 200, body = Settings)))]
pub async fn recommended() -> Json<Settings> {
    Json(Settings::recommended())
}

/// Orders held for a risk review, oldest first. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/risk/reviews", tag = "risk", security(("bearer" = [])),
    responses((status = 200, body = [ReviewItem]), (status = 403, body = Problem)))]
pub async fn reviews(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    Ok(Json(risk::queue(&state.app, &ctx).await?))
}

/// Every risk assessment of an order's payment attempts. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/orders/{id}/risk", tag = "risk", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = [RiskView]), (status = 404, body = Problem)))]
pub async fn order_risk(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Vec<RiskView>>, ApiError> {
    Ok(Json(risk::for_order(&state.app, &ctx, &id).await?))
}

/// Approves a held order: it resumes and (when the store captures on
/// order) its authorised payments are captured. Needs `payments.manage`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/risk/approve", tag = "risk", security(("bearer" = [])),
    request_body = Verdict, params(("id" = String, Path, description = "Order id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "`no_pending_review`")))]
pub async fn approve(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Verdict>,
) -> Result<StatusCode, ApiError> {
    risk::approve(&state.app, &ctx, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rejects a held order: it is cancelled, stock released, held funds
/// voided and taken funds refunded; `block` lists its e-mail and cards.
/// Needs `payments.manage` and `orders.manage`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/risk/reject", tag = "risk", security(("bearer" = [])),
    request_body = Verdict, params(("id" = String, Path, description = "Order id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "`no_pending_review`")))]
pub async fn reject(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Verdict>,
) -> Result<StatusCode, ApiError> {
    risk::reject(&state.app, &ctx, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The blocked lists (values shown masked). Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/risk/blocks", tag = "risk", security(("bearer" = [])),
    responses((status = 200, body = [Block]), (status = 403, body = Problem)))]
pub async fn blocks(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<Block>>, ApiError> {
    Ok(Json(risk::blocks(&state.app, &ctx).await?))
}

/// Blocks an e-mail address, domain, IP address, card or country. Only a
/// keyed hash of the value is kept. Needs `payments.manage`.
#[utoipa::path(post, path = "/api/v1/risk/blocks", tag = "risk", security(("bearer" = [])), request_body = NewBlock,
    responses((status = 201, body = Block), (status = 200, body = Block, description = "Already listed"),
        (status = 422, body = Problem)))]
pub async fn add_block(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<NewBlock>,
) -> Result<(StatusCode, Json<Block>), ApiError> {
    let (status, block) = risk::add_block(&state.app, &ctx, input).await?;
    Ok((StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(block)))
}

/// Removes a blocked-list entry. Needs `payments.manage`.
#[utoipa::path(delete, path = "/api/v1/risk/blocks/{id}", tag = "risk", security(("bearer" = [])),
    params(("id" = String, Path, description = "Entry id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_block(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    risk::remove_block(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
