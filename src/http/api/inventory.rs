//! `/api/v1/stock-locations`, `/api/v1/inventory/{sku}`, stock adjustments,
//! transfers and the movement journal.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::respond;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::idempotency::IdempotencyRequest;
use crate::services::inventory::{
    self, AdjustmentInput, Location, LocationInput, LocationStock, MovementPage, SettingsInput, StockChange,
    TransferInput, VariantInventory,
};

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
}

#[utoipa::path(get, path = "/api/v1/stock-locations", tag = "inventory", security(("bearer" = [])),
    responses((status = 200, body = Vec<Location>), (status = 403, body = Problem)))]
pub async fn locations(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<Location>>, ApiError> {
    Ok(Json(inventory::locations(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/stock-locations", tag = "inventory", security(("bearer" = [])), request_body = LocationInput,
    responses((status = 201, body = Location), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_location(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<LocationInput>,
) -> Result<(StatusCode, Json<Location>), ApiError> {
    Ok((StatusCode::CREATED, Json(inventory::create_location(&state.app, &ctx, input).await?)))
}

#[utoipa::path(put, path = "/api/v1/stock-locations/{location}", tag = "inventory", security(("bearer" = [])), request_body = LocationInput,
    params(("location" = String, Path, description = "Location id (loc_…) or code")),
    responses((status = 200, body = Location), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_location(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LocationInput>,
) -> Result<Json<Location>, ApiError> {
    Ok(Json(inventory::update_location(&state.app, &ctx, &id, input).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// SKU to start after.
    pub after: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// What one location holds, by SKU.
#[utoipa::path(get, path = "/api/v1/stock-locations/{location}/stock", tag = "inventory", security(("bearer" = [])),
    params(("location" = String, Path, description = "Location id (loc_…) or code"), StockQuery),
    responses((status = 200, body = LocationStock), (status = 404, body = Problem)))]
pub async fn location_stock(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(code): Path<String>,
    query: Result<Query<StockQuery>, QueryRejection>,
) -> Result<Json<LocationStock>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let limit = q.limit.unwrap_or(100);
    Ok(Json(inventory::location_stock(&state.app, &ctx, &code, q.after.as_deref(), limit).await?))
}

/// A variant's stock at every location, its policy and what customers are told.
#[utoipa::path(get, path = "/api/v1/inventory/{sku}", tag = "inventory", security(("bearer" = [])),
    params(("sku" = String, Path, description = "Variant SKU")),
    responses((status = 200, body = VariantInventory), (status = 404, body = Problem)))]
pub async fn variant(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(sku): Path<String>,
) -> Result<Json<VariantInventory>, ApiError> {
    Ok(Json(inventory::variant(&state.app, &ctx, &sku).await?))
}

/// How a variant is sold when it runs out, and its low-stock threshold.
#[utoipa::path(put, path = "/api/v1/inventory/{sku}/settings", tag = "inventory", security(("bearer" = [])), request_body = SettingsInput,
    params(("sku" = String, Path, description = "Variant SKU")),
    responses((status = 200, body = VariantInventory), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_settings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(sku): Path<String>,
    ApiJson(input): ApiJson<SettingsInput>,
) -> Result<Json<VariantInventory>, ApiError> {
    Ok(Json(inventory::update_settings(&state.app, &ctx, &sku, input).await?))
}

/// Adjusts stock by hand (arrivals, counts, damage, losses): every line
/// or none. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/stock-adjustments", tag = "inventory", security(("bearer" = [])), request_body = AdjustmentInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = StockChange), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn adjust(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<AdjustmentInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "inventory.adjust", &input));
    Ok(respond(StatusCode::CREATED, inventory::adjust(&state.app, &ctx, input, idem.as_ref()).await?))
}

/// Moves free units between locations: every line or none. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/stock-transfers", tag = "inventory", security(("bearer" = [])), request_body = TransferInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = StockChange), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transfer(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<TransferInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "inventory.transfer", &input));
    Ok(respond(StatusCode::CREATED, inventory::transfer(&state.app, &ctx, input, idem.as_ref()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MovementQuery {
    pub sku: Option<String>,
    /// Location code.
    pub location: Option<String>,
    /// Movement id to continue before (older).
    pub before: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// The stock journal, newest first.
#[utoipa::path(get, path = "/api/v1/stock-movements", tag = "inventory", security(("bearer" = [])),
    params(MovementQuery),
    responses((status = 200, body = MovementPage), (status = 404, body = Problem)))]
pub async fn movements(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    query: Result<Query<MovementQuery>, QueryRejection>,
) -> Result<Json<MovementPage>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let page = inventory::movements(
        &state.app,
        &ctx,
        q.sku.as_deref(),
        q.location.as_deref(),
        q.before.as_deref(),
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(page))
}
