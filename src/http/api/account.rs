//! `/api/v1/me/…`: the signed-in customer's addresses and data rights.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::domain::addresses::Address;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson};
use crate::http::state::AppState;
use crate::services::addresses::{self, SavedAddress};
use crate::services::privacy::{self, DataExport, ErasureRequest};

#[utoipa::path(get, path = "/api/v1/me/addresses", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Vec<SavedAddress>), (status = 401, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<SavedAddress>>, ApiError> {
    Ok(Json(addresses::list(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/me/addresses", tag = "customers", security(("bearer" = [])), request_body = Address,
    responses((status = 201, body = SavedAddress), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<Address>,
) -> Result<(StatusCode, Json<SavedAddress>), ApiError> {
    Ok((StatusCode::CREATED, Json(addresses::create(&state.app, &ctx, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/me/addresses/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Address id (adr_…)")),
    responses((status = 200, body = SavedAddress), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<SavedAddress>, ApiError> {
    Ok(Json(addresses::get(&state.app, &ctx, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/me/addresses/{id}", tag = "customers", security(("bearer" = [])), request_body = Address,
    params(("id" = String, Path, description = "Address id (adr_…)")),
    responses((status = 200, body = SavedAddress), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Address>,
) -> Result<Json<SavedAddress>, ApiError> {
    Ok(Json(addresses::update(&state.app, &ctx, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/me/addresses/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Address id (adr_…)")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    addresses::delete(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything the store holds about the signed-in customer.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = DataExport), (status = 401, body = Problem)))]
pub async fn export(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<DataExport>, ApiError> {
    Ok(Json(privacy::export(&state.app, &ctx).await?))
}

/// Erases the signed-in customer's personal data (confirm with the password).
#[utoipa::path(post, path = "/api/v1/me/erasure", tag = "customers", security(("bearer" = [])), request_body = ErasureRequest,
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn erase(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ErasureRequest>,
) -> Result<StatusCode, ApiError> {
    privacy::erase_me(&state.app, &ctx, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
