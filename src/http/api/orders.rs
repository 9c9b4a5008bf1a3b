//! `/api/v1/carts` and `/api/v1/orders`: a visitor's cart, checkout, and
//! orders for customers (their own), guests (with the order's token) and
//! staff.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::respond;
use crate::domain::returns::ReturnStatus;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::cart::{self, CartKey, CartView, Contact, CreatedCart, LineInput, NewCart};
use crate::services::drafts::{self, DraftInput};
use crate::services::fulfilment::{self, PickList, ShipmentInput};
use crate::services::idempotency::IdempotencyRequest;
use crate::services::order_edits::{self, OrderEdit};
use crate::services::orders::{self, NoteInput, Order, OrderPage, OrderQuery, StatusChange};
use crate::services::quote::ShippingChoice;
use crate::services::returns::{self, Decision, ReceiveInput, Return, ReturnRequest};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Starts a cart. A signed-in customer's cart is theirs; a guest keeps the
/// returned token.
#[utoipa::path(post, path = "/api/v1/carts", tag = "orders", request_body = NewCart,
    responses((status = 201, body = CreatedCart), (status = 422, body = Problem)))]
pub async fn create_cart(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<NewCart>,
) -> Result<(StatusCode, Json<CreatedCart>), ApiError> {
    Ok((StatusCode::CREATED, Json(cart::create(&state.app, &ctx, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/carts/{id}", tag = "orders",
    params(("id" = String, Path, description = "Cart id (crt_…)"), ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem)))]
pub async fn get_cart(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::get(&state.app, &ctx, &key).await?))
}

/// Sets how many of a SKU the cart holds (0 removes it). Prices come from
/// the catalog, never from the client.
#[utoipa::path(put, path = "/api/v1/carts/{id}/lines/{sku}", tag = "orders", request_body = LineInput,
    params(("id" = String, Path, description = "Cart id"), ("sku" = String, Path, description = "Variant SKU"),
        ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_line(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((id, sku)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<LineInput>,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::set_line(&state.app, &ctx, &key, &sku, input).await?))
}

/// Sets the e-mail and shipping address.
#[utoipa::path(put, path = "/api/v1/carts/{id}/contact", tag = "orders", request_body = Contact,
    params(("id" = String, Path, description = "Cart id"), ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_contact(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<Contact>,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::set_contact(&state.app, &ctx, &key, input).await?))
}

/// Chooses the shipping method (and pickup point) among those offered.
#[utoipa::path(put, path = "/api/v1/carts/{id}/shipping", tag = "orders", request_body = ShippingChoice,
    params(("id" = String, Path, description = "Cart id"), ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_shipping(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ShippingChoice>,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::set_shipping(&state.app, &ctx, &key, input).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponCode {
    pub code: String,
}

/// Enters a coupon code (422 when unknown, inactive or used up).
#[utoipa::path(post, path = "/api/v1/carts/{id}/coupons", tag = "orders", request_body = CouponCode,
    params(("id" = String, Path, description = "Cart id"), ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_coupon(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CouponCode>,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::add_coupon(&state.app, &ctx, &key, &input.code).await?))
}

#[utoipa::path(delete, path = "/api/v1/carts/{id}/coupons/{code}", tag = "orders",
    params(("id" = String, Path, description = "Cart id"), ("code" = String, Path, description = "Coupon code"),
        ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 404, body = Problem)))]
pub async fn remove_coupon(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((id, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::remove_coupon(&state.app, &ctx, &key, &code).await?))
}

/// Places the order: re-prices, holds stock, records it and answers with
/// the confirmation. Accepts `Idempotency-Key`: a retry returns the same order.
#[utoipa::path(post, path = "/api/v1/carts/{id}/checkout", tag = "orders",
    params(("id" = String, Path, description = "Cart id"), ("Cart-Token" = Option<String>, Header, description = "The guest's cart token"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Order), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn checkout(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, ApiError> {
    let cart_key = CartKey { id: &id, token: header(&headers, "cart-token") };
    let idem = key.map(|k| orders::checkout_request(k, &ctx, &cart_key));
    Ok(respond(StatusCode::CREATED, orders::checkout(&state.app, &ctx, &cart_key, idem.as_ref()).await?))
}

/// Orders, newest first: the store's for staff, their own for a customer.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(OrderQuery),
    responses((status = 200, body = OrderPage), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    query: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Json<OrderPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    if matches!(ctx.actor, crate::services::actor::Actor::Anonymous) {
        return Err(crate::services::ServiceError::Unauthenticated.into());
    }
    let page = orders::list(&state.app, &ctx, &q).await?;
    Ok(Json(page))
}

/// One order with its lines, totals and history.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Order id (ord_…)"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = Order), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(orders::get(&state.app, &ctx, &id, header(&headers, "order-token")).await?))
}

/// Moves an order to another status (409 with the reason when not allowed).
#[utoipa::path(post, path = "/api/v1/orders/{id}/status", tag = "orders", security(("bearer" = [])), request_body = StatusChange,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change_status(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatusChange>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(orders::change_status(&state.app, &ctx, &id, input).await?))
}

/// Adds a staff note to the order's history.
#[utoipa::path(post, path = "/api/v1/orders/{id}/notes", tag = "orders", security(("bearer" = [])), request_body = NoteInput,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 201, body = Order), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_note(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    Ok((StatusCode::CREATED, Json(orders::add_note(&state.app, &ctx, &id, input).await?)))
}

/// A signed-in customer takes the cart they filled as a guest (send its
/// `Cart-Token`); lines of their other carts join it.
#[utoipa::path(post, path = "/api/v1/carts/{id}/claim", tag = "orders", security(("bearer" = [])),
    params(("id" = String, Path, description = "Cart id"), ("Cart-Token" = Option<String>, Header, description = "The guest's cart token")),
    responses((status = 200, body = CartView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn claim_cart(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<CartView>, ApiError> {
    let key = CartKey { id: &id, token: header(&headers, "cart-token") };
    Ok(Json(cart::claim(&state.app, &ctx, &key).await?))
}

/// What to pick where for the order's outstanding lines.
#[utoipa::path(get, path = "/api/v1/orders/{id}/pick-list", tag = "fulfilment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = PickList), (status = 404, body = Problem)))]
pub async fn pick_list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<PickList>, ApiError> {
    Ok(Json(fulfilment::pick_list(&state.app, &ctx, &id).await?))
}

/// Records a parcel leaving a stock location (whole or partial); moves the
/// order to partially fulfilled or fulfilled. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/shipments", tag = "fulfilment", security(("bearer" = [])),
    request_body = ShipmentInput,
    params(("id" = String, Path, description = "Order id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Order), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn ship(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ShipmentInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, &format!("orders.ship:{id}"), &input));
    Ok(respond(StatusCode::CREATED, fulfilment::ship(&state.app, &ctx, &id, input, idem.as_ref()).await?))
}

/// Confirms a parcel arrived; an order whose parcels all arrived completes.
#[utoipa::path(post, path = "/api/v1/orders/{id}/shipments/{shipment}/delivered", tag = "fulfilment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id"), ("shipment" = String, Path, description = "Shipment id (shp_…)")),
    responses((status = 200, body = Order), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delivered(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((id, shipment)): Path<(String, String)>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(fulfilment::deliver(&state.app, &ctx, &id, &shipment).await?))
}

/// Fulfils a confirmed order that ships nothing (services, fees, digital goods).
#[utoipa::path(post, path = "/api/v1/orders/{id}/fulfil", tag = "fulfilment", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn fulfil(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(fulfilment::fulfil_without_shipping(&state.app, &ctx, &id).await?))
}

/// Asks to return shipped goods (the order's customer, a guest with its
/// `Order-Token`, or staff), within the store's return window.
#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "returns", request_body = ReturnRequest,
    params(("id" = String, Path, description = "Order id"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 201, body = Return), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_return(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ReturnRequest>,
) -> Result<(StatusCode, Json<Return>), ApiError> {
    let token = header(&headers, "order-token");
    Ok((StatusCode::CREATED, Json(returns::request(&state.app, &ctx, &id, token, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/returns", tag = "returns",
    params(("id" = String, Path, description = "Order id"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = Vec<Return>), (status = 404, body = Problem)))]
pub async fn order_returns(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<Return>>, ApiError> {
    Ok(Json(returns::of_order(&state.app, &ctx, &id, header(&headers, "order-token")).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReturnsQuery {
    /// requested, approved, rejected, received or cancelled.
    pub status: Option<ReturnStatus>,
}

/// The store's returns, newest first.
#[utoipa::path(get, path = "/api/v1/returns", tag = "returns", security(("bearer" = [])), params(ReturnsQuery),
    responses((status = 200, body = Vec<Return>), (status = 403, body = Problem)))]
pub async fn list_returns(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    query: Result<Query<ReturnsQuery>, QueryRejection>,
) -> Result<Json<Vec<Return>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    Ok(Json(returns::list(&state.app, &ctx, q.status).await?))
}

#[utoipa::path(get, path = "/api/v1/returns/{id}", tag = "returns", security(("bearer" = [])),
    params(("id" = String, Path, description = "Return id (rma_…)")),
    responses((status = 200, body = Return), (status = 404, body = Problem)))]
pub async fn get_return(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Return>, ApiError> {
    Ok(Json(returns::get(&state.app, &ctx, &id).await?))
}

/// Approves, rejects or cancels a return.
#[utoipa::path(post, path = "/api/v1/returns/{id}/decision", tag = "returns", security(("bearer" = [])), request_body = Decision,
    params(("id" = String, Path, description = "Return id")),
    responses((status = 200, body = Return), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide_return(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Decision>,
) -> Result<Json<Return>, ApiError> {
    Ok(Json(returns::decide(&state.app, &ctx, &id, input).await?))
}

/// Records the goods' arrival and inspection: restocks resellable units
/// and records the refund owed.
#[utoipa::path(post, path = "/api/v1/returns/{id}/receive", tag = "returns", security(("bearer" = [])), request_body = ReceiveInput,
    params(("id" = String, Path, description = "Return id")),
    responses((status = 200, body = Return), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn receive_return(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReceiveInput>,
) -> Result<Json<Return>, ApiError> {
    Ok(Json(returns::receive(&state.app, &ctx, &id, input).await?))
}

/// Edits an order nothing of which has shipped: quantities, lines, the
/// delivery address; priced again and its stock held again. Accepts
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/edit", tag = "orders", security(("bearer" = [])),
    request_body = OrderEdit,
    params(("id" = String, Path, description = "Order id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = Order), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn edit_order(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<OrderEdit>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, &format!("orders.edit:{id}"), &input));
    Ok(respond(StatusCode::OK, order_edits::edit(&state.app, &ctx, &id, input, idem.as_ref()).await?))
}

/// Starts a draft order (phone or B2B sale) for a customer; fill it with
/// the cart endpoints (staff need no cart token for drafts) and place it
/// with `POST /api/v1/carts/{id}/checkout`.
#[utoipa::path(post, path = "/api/v1/draft-orders", tag = "orders", security(("bearer" = [])), request_body = DraftInput,
    responses((status = 201, body = CartView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_draft(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<DraftInput>,
) -> Result<(StatusCode, Json<CartView>), ApiError> {
    Ok((StatusCode::CREATED, Json(drafts::create(&state.app, &ctx, input).await?)))
}

/// Open draft orders, most recently changed first.
#[utoipa::path(get, path = "/api/v1/draft-orders", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = Vec<CartView>), (status = 403, body = Problem)))]
pub async fn list_drafts(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<CartView>>, ApiError> {
    Ok(Json(drafts::list(&state.app, &ctx).await?))
}
