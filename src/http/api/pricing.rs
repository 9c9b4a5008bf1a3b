//! `/api/v1/customer-groups`, `/api/v1/price-lists` and `/api/v1/prices/quote`:
//! who gets which prices.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson};
use crate::http::state::AppState;
use crate::services::pricing::{
    self, CustomerGroup, GroupInput, GroupMembers, PriceListInput, PriceListView, PriceQuote, QuoteQuery,
};

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
}

#[utoipa::path(get, path = "/api/v1/customer-groups", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Vec<CustomerGroup>), (status = 403, body = Problem)))]
pub async fn groups(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<CustomerGroup>>, ApiError> {
    Ok(Json(pricing::groups(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/customer-groups", tag = "customers", security(("bearer" = [])), request_body = GroupInput,
    responses((status = 201, body = CustomerGroup), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_group(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<GroupInput>,
) -> Result<(StatusCode, Json<CustomerGroup>), ApiError> {
    Ok((StatusCode::CREATED, Json(pricing::create_group(&state.app, &ctx, input).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    pub after: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/customer-groups/{id}/members", tag = "customers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id (cgr_…)"), MembersQuery),
    responses((status = 200, body = GroupMembers), (status = 404, body = Problem)))]
pub async fn members(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    query: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<Json<GroupMembers>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    Ok(Json(pricing::members(&state.app, &ctx, &id, q.after.as_deref(), q.limit.unwrap_or(100)).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub customer_id: String,
}

/// Adds a customer to a group; adding them again changes nothing.
#[utoipa::path(post, path = "/api/v1/customer-groups/{id}/members", tag = "customers", security(("bearer" = [])), request_body = MemberInput,
    params(("id" = String, Path, description = "Group id (cgr_…)")),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_member(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MemberInput>,
) -> Result<StatusCode, ApiError> {
    pricing::add_member(&state.app, &ctx, &id, &input.customer_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/customer-groups/{id}/members/{customer_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Group id (cgr_…)"), ("customer_id" = String, Path, description = "Customer id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((id, customer_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    pricing::remove_member(&state.app, &ctx, &id, &customer_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/price-lists", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<PriceListView>), (status = 403, body = Problem)))]
pub async fn lists(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<PriceListView>>, ApiError> {
    Ok(Json(pricing::lists(&state.app, &ctx).await?))
}

/// Creates a price list for a channel, optionally for one customer group and
/// a time window. Customers pay the lowest price that applies to them.
#[utoipa::path(post, path = "/api/v1/price-lists", tag = "catalog", security(("bearer" = [])), request_body = PriceListInput,
    responses((status = 201, body = PriceListView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<PriceListInput>,
) -> Result<(StatusCode, Json<PriceListView>), ApiError> {
    Ok((StatusCode::CREATED, Json(pricing::create_list(&state.app, &ctx, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/price-lists/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Price list id (prl_…)")),
    responses((status = 200, body = PriceListView), (status = 404, body = Problem)))]
pub async fn get_list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<PriceListView>, ApiError> {
    Ok(Json(pricing::get_list(&state.app, &ctx, &id).await?))
}

/// Replaces a price list whole, prices included.
#[utoipa::path(put, path = "/api/v1/price-lists/{id}", tag = "catalog", security(("bearer" = [])), request_body = PriceListInput,
    params(("id" = String, Path, description = "Price list id (prl_…)")),
    responses((status = 200, body = PriceListView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PriceListInput>,
) -> Result<Json<PriceListView>, ApiError> {
    Ok(Json(pricing::update_list(&state.app, &ctx, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/price-lists/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Price list id (prl_…)")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    pricing::delete_list(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a customer (or an anonymous visitor) pays now for a quantity of a
/// SKU, and which price list it comes from.
#[utoipa::path(get, path = "/api/v1/prices/quote", tag = "catalog", security(("bearer" = [])), params(QuoteQuery),
    responses((status = 200, body = PriceQuote), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn quote(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    query: Result<Query<QuoteQuery>, QueryRejection>,
) -> Result<Json<PriceQuote>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    Ok(Json(pricing::quote(&state.app, &ctx, q).await?))
}
