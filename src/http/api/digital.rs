//! Digital goods: `/api/v1/products/{id}/files` and `/licence-keys`
//! (staff), `/api/v1/orders/{id}/payment-received` (staff record a
//! payment, which delivers digital goods), and `/downloads/{grant}` (the
//! buyer's signed link).

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::media::read_limited;
use super::respond;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, CurrentStore, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::digital::{self, DigitalFile, FileSettings, KeyStock, KeysInput};
use crate::services::idempotency::IdempotencyRequest;
use crate::services::order_payment::{self, PaymentReceived};
use crate::services::orders::Order;

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
}

/// Adds a file to a digital product: the body is the file, the query says
/// its name and how buyers' links behave. Buyers who pay from now on get a
/// signed link to it. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/products/{id}/files", tag = "digital goods", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)"), FileSettings),
    request_body(description = "The file's bytes", content(("application/octet-stream"))),
    responses(
        (status = 201, body = DigitalFile),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`not_digital`: the product is not digital"),
        (status = 413, body = Problem), (status = 422, body = Problem),
    ))]
pub async fn add_file(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    query: Result<Query<FileSettings>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(settings) = query.map_err(bad_query)?;
    digital::may_upload(&ctx)?;
    let bytes = read_limited(&headers, body, digital::MAX_FILE_BYTES, "a file").await?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let file = digital::add_file(&state.app, &ctx, &id, settings, content_type, bytes).await?;
    Ok((StatusCode::CREATED, Json(file)).into_response())
}

/// A digital product's files. Needs `catalog.read`.
#[utoipa::path(get, path = "/api/v1/products/{id}/files", tag = "digital goods", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 200, body = Vec<DigitalFile>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn files(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Vec<DigitalFile>>, ApiError> {
    Ok(Json(digital::files(&state.app, &ctx, &id).await?))
}

/// Removes a file (409 `file_in_use` while buyers' links to it still work).
#[utoipa::path(delete, path = "/api/v1/products/{id}/files/{file_id}", tag = "digital goods", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)"), ("file_id" = String, Path, description = "File id (dgf_…)")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_file(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((id, file_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    digital::remove_file(&state.app, &ctx, &id, &file_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many licence keys the product's pool holds. Needs `catalog.read`.
#[utoipa::path(get, path = "/api/v1/products/{id}/licence-keys", tag = "digital goods", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 200, body = KeyStock), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn key_stock(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<KeyStock>, ApiError> {
    Ok(Json(digital::key_stock(&state.app, &ctx, &id).await?))
}

/// Adds licence keys to the pool (all or none: a key already in the pool
/// or listed twice refuses the batch). Paid orders waiting for keys get
/// them at once. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/products/{id}/licence-keys", tag = "digital goods", security(("bearer" = [])),
    request_body = KeysInput, params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 201, body = KeyStock), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_keys(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<KeysInput>,
) -> Result<(StatusCode, Json<KeyStock>), ApiError> {
    Ok((StatusCode::CREATED, Json(digital::add_keys(&state.app, &ctx, &id, input).await?)))
}

/// Records that an unpaid order was paid in full outside Oxcart (bank
/// transfer, cash, invoice settled): it stops expiring, is confirmed if it
/// was only placed, and its digital goods are delivered. Accepts
/// `Idempotency-Key`. Needs `orders.manage`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/payment-received", tag = "orders", security(("bearer" = [])),
    request_body = PaymentReceived,
    params(("id" = String, Path, description = "Order id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = Order), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`not_unpaid` or `order_cancelled`"), (status = 422, body = Problem)))]
pub async fn payment_received(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<PaymentReceived>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, &format!("orders.payment_received:{id}"), &input));
    Ok(respond(StatusCode::OK, order_payment::record(&state.app, &ctx, &id, input, idem.as_ref()).await?))
}

/// Renews a delivered order's download links (full lifetime and count
/// again; the old addresses stop working) and e-mails them to the buyer.
/// Needs `orders.manage`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/downloads/renew", tag = "digital goods", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`no_downloads`: nothing delivered, or cancelled")))]
pub async fn renew_links(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(digital::renew_links(&state.app, &ctx, &id).await?))
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    expires: i64,
    sig: String,
}

/// `GET /downloads/{grant}?expires=…&sig=…`: a buyer's signed link. 404
/// when the signature does not match, 410 when it expired or was used up.
pub async fn download(
    State(state): State<AppState>,
    current: CurrentStore,
    Path(grant): Path<String>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::not_found())?;
    let file = digital::download(&state.app, &current.store, &grant, q.expires, &q.sig).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.file_name))
        .map_err(|_| ApiError::not_found())?;
    let content_type =
        HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    Ok((headers, file.bytes).into_response())
}
