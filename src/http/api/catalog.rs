//! `/api/v1/channels`, `/api/v1/products` (staff) and
//! `/api/v1/storefront/products/{slug}` (everyone): the catalog.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::media::StoreProductWithImages;
use crate::domain::locale::Language;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, CurrentStore};
use crate::http::state::AppState;
use crate::services::catalog::{self, Channel, ChannelInput, ProductInput, ProductView};
use crate::services::categories::{self, CategoryInput, CategoryPage, CategoryView};
use crate::services::product_page;

#[utoipa::path(get, path = "/api/v1/channels", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<Channel>), (status = 403, body = Problem)))]
pub async fn channels(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<Channel>>, ApiError> {
    Ok(Json(catalog::channels(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "catalog", security(("bearer" = [])), request_body = ChannelInput,
    responses((status = 201, body = Channel), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_channel(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ChannelInput>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    Ok((StatusCode::CREATED, Json(catalog::create_channel(&state.app, &ctx, input).await?)))
}

/// Creates a product with its texts, variants and prices. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", security(("bearer" = [])), request_body = ProductInput,
    responses((status = 201, body = ProductView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<(StatusCode, Json<ProductView>), ApiError> {
    Ok((StatusCode::CREATED, Json(catalog::create(&state.app, &ctx, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 200, body = ProductView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    Ok(Json(catalog::get(&state.app, &ctx, &id).await?))
}

/// Replaces a product whole; variants keep their ids by SKU.
#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])), request_body = ProductInput,
    params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 200, body = ProductView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<Json<ProductView>, ApiError> {
    Ok(Json(catalog::update(&state.app, &ctx, &id, input).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StorefrontQuery {
    /// Language wanted (falls back to the store's default).
    pub lang: Option<String>,
    /// Channel code (default `web`).
    pub channel: Option<String>,
}

/// A published product as customers see it, by any of its slugs. With a
/// customer's bearer token, prices include their groups' price lists.
#[utoipa::path(get, path = "/api/v1/storefront/products/{slug}", tag = "catalog", params(("slug" = String, Path, description = "Product slug"), StorefrontQuery),
    responses((status = 200, body = StoreProductWithImages), (status = 404, body = Problem)))]
pub async fn storefront_product(
    State(state): State<AppState>,
    current: CurrentStore,
    ApiCtx(ctx): ApiCtx,
    Path(slug): Path<String>,
    query: Result<Query<StorefrontQuery>, QueryRejection>,
) -> Result<Json<StoreProductWithImages>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let lang = q.lang.as_deref().and_then(Language::parse).unwrap_or(current.store.brand.default_language);
    let channel = q.channel.as_deref().unwrap_or("web");
    let customer = ctx.actor.customer_id().ok();
    let shown = product_page::storefront_product(&state.app, &current.store, &slug, lang, channel, customer).await?;
    let (product, images) = (shown.product, super::media::under_store(shown.images, &current.base_path));
    Ok(Json(StoreProductWithImages { product, images }))
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<CategoryView>), (status = 403, body = Problem)))]
pub async fn categories(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<CategoryView>>, ApiError> {
    Ok(Json(categories::list(&state.app, &ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "catalog", security(("bearer" = [])), request_body = CategoryInput,
    responses((status = 201, body = CategoryView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_category(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<(StatusCode, Json<CategoryView>), ApiError> {
    Ok((StatusCode::CREATED, Json(categories::create(&state.app, &ctx, input).await?)))
}

/// Replaces a category's parent, position and texts.
#[utoipa::path(put, path = "/api/v1/categories/{id}", tag = "catalog", security(("bearer" = [])), request_body = CategoryInput,
    params(("id" = String, Path, description = "Category id")),
    responses((status = 200, body = CategoryView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_category(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<Json<CategoryView>, ApiError> {
    Ok(Json(categories::update(&state.app, &ctx, &id, input).await?))
}

/// Deletes a category without subcategories; its products only leave it.
#[utoipa::path(delete, path = "/api/v1/categories/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Category id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_category(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    categories::delete(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CategoryQuery {
    pub lang: Option<String>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
    /// Page size, 1 to 100 (default 24).
    pub limit: Option<i64>,
}

/// A category with its visible products (and those of its subcategories), paged.
#[utoipa::path(get, path = "/api/v1/storefront/categories/{slug}", tag = "catalog", params(("slug" = String, Path, description = "Category slug"), CategoryQuery),
    responses((status = 200, body = CategoryPage), (status = 404, body = Problem)))]
pub async fn storefront_category(
    State(state): State<AppState>,
    current: CurrentStore,
    Path(slug): Path<String>,
    query: Result<Query<CategoryQuery>, QueryRejection>,
) -> Result<Json<CategoryPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let lang = q.lang.as_deref().and_then(Language::parse).unwrap_or(current.store.brand.default_language);
    let page =
        categories::page(&state.app, &current.store, &slug, lang, q.after.as_deref(), q.limit.unwrap_or(24).max(1))
            .await?;
    Ok(Json(page))
}
