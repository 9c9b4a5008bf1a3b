//! `/api/v1/tax`, `/api/v1/shipping-zones` and `/api/v1/promotions`: the
//! rules carts and checkout price with, managed by staff.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson};
use crate::http::state::AppState;
use crate::services::promotions::{self, Coupon, CouponInput, PromotionInput, PromotionView};
use crate::services::shipping::{self, Method, MethodInput, Zone, ZoneInput};
use crate::services::tax_rules::{self, TaxConfig, TaxRate, TaxRateInput, TaxSettings};

#[utoipa::path(get, path = "/api/v1/tax", tag = "checkout rules", security(("bearer" = [])),
    responses((status = 200, body = TaxConfig), (status = 403, body = Problem)))]
pub async fn tax(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<TaxConfig>, ApiError> {
    Ok(Json(tax_rules::get(&state.app, &ctx).await?))
}

/// Where the store sells from, how tax is rounded, and reverse charge.
#[utoipa::path(put, path = "/api/v1/tax/settings", tag = "checkout rules", security(("bearer" = [])),
    request_body = TaxSettings, responses((status = 200, body = TaxSettings), (status = 422, body = Problem)))]
pub async fn tax_settings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<TaxSettings>,
) -> Result<Json<TaxSettings>, ApiError> {
    Ok(Json(tax_rules::set_settings(&state.app, &ctx, input).await?))
}

/// Sets the rate for a country (and region) and tax class.
#[utoipa::path(put, path = "/api/v1/tax/rates", tag = "checkout rules", security(("bearer" = [])),
    request_body = TaxRateInput, responses((status = 200, body = TaxRate), (status = 422, body = Problem)))]
pub async fn put_tax_rate(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<TaxRateInput>,
) -> Result<Json<TaxRate>, ApiError> {
    Ok(Json(tax_rules::put_rate(&state.app, &ctx, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/tax/rates/{id}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Tax rate id (txr_…)")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_tax_rate(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tax_rules::delete_rate(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/shipping-zones", tag = "checkout rules", security(("bearer" = [])),
    responses((status = 200, body = Vec<Zone>), (status = 403, body = Problem)))]
pub async fn zones(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<Zone>>, ApiError> {
    Ok(Json(shipping::zones(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/shipping-zones", tag = "checkout rules", security(("bearer" = [])),
    request_body = ZoneInput, responses((status = 201, body = Zone), (status = 422, body = Problem)))]
pub async fn create_zone(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ZoneInput>,
) -> Result<(StatusCode, Json<Zone>), ApiError> {
    Ok((StatusCode::CREATED, Json(shipping::create_zone(&state.app, &ctx, input).await?)))
}

#[utoipa::path(put, path = "/api/v1/shipping-zones/{id}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id (shz_…)")), request_body = ZoneInput,
    responses((status = 200, body = Zone), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_zone(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ZoneInput>,
) -> Result<Json<Zone>, ApiError> {
    Ok(Json(shipping::update_zone(&state.app, &ctx, &id, input).await?))
}

/// Removes a zone with its methods.
#[utoipa::path(delete, path = "/api/v1/shipping-zones/{id}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id")), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_zone(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    shipping::delete_zone(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/shipping-zones/{id}/methods", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id")), request_body = MethodInput,
    responses((status = 201, body = Method), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_method(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(zone): Path<String>,
    ApiJson(input): ApiJson<MethodInput>,
) -> Result<(StatusCode, Json<Method>), ApiError> {
    Ok((StatusCode::CREATED, Json(shipping::create_method(&state.app, &ctx, &zone, input).await?)))
}

#[utoipa::path(put, path = "/api/v1/shipping-zones/{id}/methods/{method}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id"), ("method" = String, Path, description = "Method id (shm_…)")),
    request_body = MethodInput,
    responses((status = 200, body = Method), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_method(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((zone, method)): Path<(String, String)>,
    ApiJson(input): ApiJson<MethodInput>,
) -> Result<Json<Method>, ApiError> {
    Ok(Json(shipping::update_method(&state.app, &ctx, &zone, &method, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/shipping-zones/{id}/methods/{method}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Zone id"), ("method" = String, Path, description = "Method id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_method(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((_zone, method)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    shipping::delete_method(&state.app, &ctx, &method).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/promotions", tag = "checkout rules", security(("bearer" = [])),
    responses((status = 200, body = Vec<PromotionView>), (status = 403, body = Problem)))]
pub async fn list_promotions(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<PromotionView>>, ApiError> {
    Ok(Json(promotions::list(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/promotions", tag = "checkout rules", security(("bearer" = [])),
    request_body = PromotionInput, responses((status = 201, body = PromotionView), (status = 422, body = Problem)))]
pub async fn create_promotion(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<PromotionInput>,
) -> Result<(StatusCode, Json<PromotionView>), ApiError> {
    Ok((StatusCode::CREATED, Json(promotions::create(&state.app, &ctx, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Promotion id (prm_…)")),
    responses((status = 200, body = PromotionView), (status = 404, body = Problem)))]
pub async fn get_promotion(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<PromotionView>, ApiError> {
    Ok(Json(promotions::get(&state.app, &ctx, &id).await?))
}

/// Changes a promotion (deactivate with `active: false`; uses stay recorded).
#[utoipa::path(put, path = "/api/v1/promotions/{id}", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Promotion id")), request_body = PromotionInput,
    responses((status = 200, body = PromotionView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_promotion(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PromotionInput>,
) -> Result<Json<PromotionView>, ApiError> {
    Ok(Json(promotions::update(&state.app, &ctx, &id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/promotions/{id}/coupons", tag = "checkout rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "Promotion id")), request_body = CouponInput,
    responses((status = 201, body = Coupon), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_coupon(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CouponInput>,
) -> Result<(StatusCode, Json<Coupon>), ApiError> {
    Ok((StatusCode::CREATED, Json(promotions::add_coupon(&state.app, &ctx, &id, input).await?)))
}
