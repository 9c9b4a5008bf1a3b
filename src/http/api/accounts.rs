//! `/api/v1/gift-cards` and store credit: balances the store owes its
//! customers, issued and granted by staff, checked and spent by buyers.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::payments::PageQuery;
use super::respond;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::accounts::{
    self, CodeInput, CreditBalance, CreditInput, GiftCardBalance, GiftCardInput, GiftCardPage, IssuedGiftCard,
};
use crate::services::idempotency::IdempotencyRequest;

/// Issues a gift card (sold or given away); the code is in this answer
/// only. Needs `payments.manage`; accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/gift-cards", tag = "payments", security(("bearer" = [])), request_body = GiftCardInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = IssuedGiftCard), (status = 403, body = Problem), (status = 409, body = Problem, description = "`code_taken`"), (status = 422, body = Problem)))]
pub async fn issue(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<GiftCardInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "gift_cards.issue", &input));
    Ok(respond(StatusCode::CREATED, accounts::issue_gift_card(&state.app, &ctx, input, idem.as_ref()).await?))
}

/// The store's gift cards, newest first. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/gift-cards", tag = "payments", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = GiftCardPage), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<PageQuery>,
) -> Result<Json<GiftCardPage>, ApiError> {
    Ok(Json(accounts::gift_cards(&state.app, &ctx, q.before.as_deref(), q.limit).await?))
}

/// A gift card's balance, for whoever holds its code (sent in the body so
/// it stays out of logs and histories).
#[utoipa::path(post, path = "/api/v1/gift-cards/balance", tag = "payments", request_body = CodeInput,
    responses((status = 200, body = GiftCardBalance), (status = 404, body = Problem)))]
pub async fn balance(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<CodeInput>,
) -> Result<Json<GiftCardBalance>, ApiError> {
    Ok(Json(accounts::gift_card_balance(&state.app, &ctx, input).await?))
}

/// Grants store credit to a customer. Needs `payments.manage`; accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/store-credit", tag = "payments", security(("bearer" = [])), request_body = CreditInput,
    params(("id" = String, Path, description = "Customer id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = [CreditBalance]), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn grant_credit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<CreditInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, &format!("store_credit.grant:{id}"), &input));
    Ok(respond(StatusCode::OK, accounts::grant_credit(&state.app, &ctx, &id, input, idem.as_ref()).await?))
}

/// A customer's store credit. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/customers/{id}/store-credit", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 200, body = [CreditBalance]), (status = 403, body = Problem)))]
pub async fn customer_credit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Vec<CreditBalance>>, ApiError> {
    Ok(Json(accounts::credit(&state.app, &ctx, Some(&id)).await?))
}

/// The signed-in customer's store credit.
#[utoipa::path(get, path = "/api/v1/me/store-credit", tag = "payments",
    responses((status = 200, body = [CreditBalance]), (status = 401, body = Problem)))]
pub async fn my_credit(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<CreditBalance>>, ApiError> {
    Ok(Json(accounts::credit(&state.app, &ctx, None).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct CurrencyQuery {
    /// ISO 4217; the store's currency by default.
    pub currency: Option<String>,
}

/// The signed-in customer's store credit statement (newest first, with the
/// balance after each line).
#[utoipa::path(get, path = "/api/v1/me/store-credit/statement", tag = "payments", params(CurrencyQuery),
    responses((status = 200, body = crate::services::ledger::Statement), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "No store credit in this currency")))]
pub async fn my_credit_statement(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<CurrencyQuery>,
) -> Result<Json<crate::services::ledger::Statement>, ApiError> {
    let currency = q.currency.unwrap_or_else(|| ctx.store.currency.clone());
    Ok(Json(crate::services::ledger::my_credit_statement(&state.app, &ctx, &currency).await?))
}

/// The signed-in customer's payments, newest first.
#[utoipa::path(get, path = "/api/v1/me/payments", tag = "payments",
    responses((status = 200, body = [crate::services::payments::Payment]), (status = 401, body = Problem)))]
pub async fn my_payments(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<crate::services::payments::Payment>>, ApiError> {
    Ok(Json(crate::services::payments::mine(&state.app, &ctx).await?))
}

/// Adds all that is left on a gift card to the signed-in customer's store
/// credit. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/me/store-credit/top-up", tag = "payments", request_body = CodeInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = [CreditBalance]), (status = 401, body = Problem),
        (status = 409, body = Problem, description = "`unknown_gift_card`, `gift_card_empty`, `gift_card_expired`")))]
pub async fn top_up(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<CodeInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "store_credit.top_up", &input));
    Ok(respond(StatusCode::OK, accounts::top_up_with_gift_card(&state.app, &ctx, input, idem.as_ref()).await?))
}
