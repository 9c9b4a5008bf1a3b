//! `/api/v1/storefront/search` (everyone), `/api/v1/products` listing
//! (staff: the same query with every status), suggestions, and the
//! attribute and product-type definitions that facets come from.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use crate::domain::locale::Language;
use crate::domain::validation::FieldErrors;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, CurrentStore};
use crate::http::state::AppState;
use crate::search::Sort;
use crate::services::attributes::{self, AttributeInput, AttributeView, ProductTypeInput, ProductTypeView};
use crate::services::collections::{self, CollectionHeading, CollectionInput, CollectionView};
use crate::services::search::{self, SearchCard, SearchParams, SearchResult};

/// The query string of a search, read by hand because filters repeat
/// (`f=colour:red&f=colour:blue`). Returns the language asked for too.
pub fn parse_params(raw: Option<&str>, staff: bool) -> Result<(SearchParams, Option<Language>), ApiError> {
    let mut p = SearchParams { limit: 24, ..Default::default() };
    let mut lang = None;
    let mut errs = FieldErrors::default();
    let int = |errs: &mut FieldErrors, key: &str, v: &str| match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.add(key, "invalid_number", "a whole number");
            None
        }
    };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.into_owned();
        match k.as_ref() {
            "q" => p.q = v,
            "lang" => lang = Language::parse(&v),
            "channel" => p.channel = Some(v),
            "category" if !v.is_empty() => p.category = Some(v),
            "category" => {}
            "f" => match v.split_once(':') {
                Some((code, value)) if !code.is_empty() && !value.is_empty() => {
                    p.facets.entry(code.to_string()).or_default().push(value.to_string());
                }
                _ => errs.add("f", "invalid_filter", "filters are code:value, e.g. colour:red"),
            },
            "kind" => p.kinds.push(v),
            "price_min" if !v.is_empty() => p.price_min = int(&mut errs, "price_min", &v),
            "price_max" if !v.is_empty() => p.price_max = int(&mut errs, "price_max", &v),
            "price_min" | "price_max" => {}
            "sort" => match Sort::parse(&v) {
                Some(s) => p.sort = s,
                None => errs.add("sort", "invalid_sort", "relevance, price_asc, price_desc, newest or best_selling"),
            },
            "cursor" if !v.is_empty() => p.cursor = Some(v),
            "cursor" => {}
            "limit" => p.limit = int(&mut errs, "limit", &v).unwrap_or(24).clamp(1, 100) as usize,
            "status" if staff => p.statuses.push(v),
            other => errs.add(other, "unknown_parameter", "not a search parameter"),
        }
    }
    errs.finish((p, lang)).map_err(ApiError::validation)
}

/// Searches the published catalog: full text in the visitor's language
/// (falling back to the store's), filters, facets with counts, sorting and
/// cursor pagination.
#[utoipa::path(get, path = "/api/v1/storefront/search", tag = "search",
    params(
        ("q" = Option<String>, Query, description = "Words to find; empty lists everything"),
        ("lang" = Option<String>, Query, description = "en, de, es, pt or zh (default: the store's)"),
        ("channel" = Option<String>, Query, description = "Channel code (default `web`)"),
        ("category" = Option<String>, Query, description = "Category id or slug: products in it or below it"),
        ("f" = Option<Vec<String>>, Query, description = "Facet filter `code:value`, repeatable; values of one code are alternatives"),
        ("kind" = Option<Vec<String>>, Query, description = "Product kind, repeatable"),
        ("price_min" = Option<i64>, Query, description = "Minor units, inclusive"),
        ("price_max" = Option<i64>, Query, description = "Minor units, exclusive"),
        ("sort" = Option<String>, Query, description = "relevance (default), price_asc, price_desc, newest, best_selling"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 24)"),
    ),
    responses((status = 200, body = SearchResult), (status = 404, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn storefront(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResult>, ApiError> {
    let (mut params, lang) = parse_params(raw.as_deref(), false)?;
    params.customer = ctx.actor.customer_id().ok().map(str::to_string);
    let lang = lang.unwrap_or(ctx.store.brand.default_language);
    Ok(Json(search::search(&state.app, &ctx.store, lang, params, None).await?))
}

/// Product names completing what was typed, for a search box.
#[utoipa::path(get, path = "/api/v1/storefront/search/suggest", tag = "search",
    params(("q" = String, Query, description = "Text typed so far"), ("lang" = Option<String>, Query, description = "Language")),
    responses((status = 200, body = Vec<SearchCard>)))]
pub async fn suggest(
    State(state): State<AppState>,
    current: CurrentStore,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<SearchCard>>, ApiError> {
    let (params, lang) = parse_params(raw.as_deref(), false)?;
    let lang = lang.unwrap_or(current.store.brand.default_language);
    Ok(Json(search::suggest(&state.app, &current.store, lang, &params.q).await?))
}

/// Staff product list: the storefront search over every status (filter
/// with `status`, repeatable). Needs `catalog.read`.
#[utoipa::path(get, path = "/api/v1/products", tag = "search", security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, description = "Words or a SKU"),
        ("status" = Option<Vec<String>>, Query, description = "draft, published, archived; repeatable"),
        ("category" = Option<String>, Query, description = "Category id or slug"),
        ("f" = Option<Vec<String>>, Query, description = "Facet filter `code:value`"),
        ("sort" = Option<String>, Query, description = "As the storefront search"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<i64>, Query, description = "1 to 100"),
    ),
    responses((status = 200, body = SearchResult), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn staff(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResult>, ApiError> {
    let (params, lang) = parse_params(raw.as_deref(), true)?;
    let lang = lang.unwrap_or(ctx.store.brand.default_language);
    let store = ctx.store.clone();
    Ok(Json(search::search(&state.app, &store, lang, params, Some(&ctx)).await?))
}

#[utoipa::path(get, path = "/api/v1/attributes", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<AttributeView>), (status = 403, body = Problem)))]
pub async fn list_attributes(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<AttributeView>>, ApiError> {
    Ok(Json(attributes::list(&state.app, &ctx).await?))
}

/// Defines a typed attribute. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/attributes", tag = "catalog", security(("bearer" = [])), request_body = AttributeInput,
    responses((status = 201, body = AttributeView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_attribute(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<AttributeInput>,
) -> Result<(StatusCode, Json<AttributeView>), ApiError> {
    Ok((StatusCode::CREATED, Json(attributes::create(&state.app, &ctx, input).await?)))
}

/// Edits an attribute's names, unit, facet flag and choices (its code and
/// kind stay). Needs `catalog.manage`.
#[utoipa::path(put, path = "/api/v1/attributes/{id}", tag = "catalog", security(("bearer" = [])), request_body = AttributeInput,
    params(("id" = String, Path, description = "Attribute id")),
    responses((status = 200, body = AttributeView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_attribute(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AttributeInput>,
) -> Result<Json<AttributeView>, ApiError> {
    Ok(Json(attributes::update(&state.app, &ctx, &id, input).await?))
}

/// Deletes an attribute nothing uses. Needs `catalog.manage`.
#[utoipa::path(delete, path = "/api/v1/attributes/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Attribute id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_attribute(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    attributes::delete(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/product-types", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProductTypeView>), (status = 403, body = Problem)))]
pub async fn list_types(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<ProductTypeView>>, ApiError> {
    Ok(Json(attributes::list_types(&state.app, &ctx).await?))
}

/// Defines a product type: which attributes its products carry. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/product-types", tag = "catalog", security(("bearer" = [])), request_body = ProductTypeInput,
    responses((status = 201, body = ProductTypeView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_type(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<ProductTypeInput>,
) -> Result<(StatusCode, Json<ProductTypeView>), ApiError> {
    Ok((StatusCode::CREATED, Json(attributes::create_type(&state.app, &ctx, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/collections", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<CollectionView>), (status = 403, body = Problem)))]
pub async fn list_collections(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<CollectionView>>, ApiError> {
    Ok(Json(collections::list(&state.app, &ctx).await?))
}

/// Creates a manual (listed products) or rule-based (saved search) collection. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/collections", tag = "catalog", security(("bearer" = [])), request_body = CollectionInput,
    responses((status = 201, body = CollectionView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_collection(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<CollectionInput>,
) -> Result<(StatusCode, Json<CollectionView>), ApiError> {
    Ok((StatusCode::CREATED, Json(collections::create(&state.app, &ctx, input).await?)))
}

/// Replaces a collection whole.
#[utoipa::path(put, path = "/api/v1/collections/{id}", tag = "catalog", security(("bearer" = [])), request_body = CollectionInput,
    params(("id" = String, Path, description = "Collection id (col_…)")),
    responses((status = 200, body = CollectionView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_collection(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CollectionInput>,
) -> Result<Json<CollectionView>, ApiError> {
    Ok(Json(collections::update(&state.app, &ctx, &id, input).await?))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CollectionPage {
    pub collection: CollectionHeading,
    pub products: SearchResult,
}

/// A collection with its visible products; takes the search filters too.
#[utoipa::path(get, path = "/api/v1/storefront/collections/{slug}", tag = "search",
    params(("slug" = String, Path, description = "Collection slug")),
    responses((status = 200, body = CollectionPage), (status = 404, body = Problem)))]
pub async fn storefront_collection(
    State(state): State<AppState>,
    current: CurrentStore,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CollectionPage>, ApiError> {
    let (params, lang) = parse_params(raw.as_deref(), false)?;
    let lang = lang.unwrap_or(current.store.brand.default_language);
    let (collection, products) = collections::page(&state.app, &current.store, &slug, lang, params).await?;
    Ok(Json(CollectionPage { collection, products }))
}
