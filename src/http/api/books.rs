//! `/api/v1/reports` and hand postings: receivables ageing, payments by
//! day, provider payouts (with their fees) and write-offs.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::respond;
use crate::domain::invoices::SellerSettings;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::bookkeeping::{self, PayoutInput, Posted, WriteOffInput};
use crate::services::idempotency::IdempotencyRequest;
use crate::services::reports::{self, AgeingReport, DayTotals};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AgeingQuery {
    /// Unix ms; now by default.
    pub as_of: Option<i64>,
}

/// Accounts receivable ageing: what open orders still owe, by days past
/// due (current, 1–30, 31–60, 61–90, over 90), per currency and per order.
/// Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/reports/receivables-ageing", tag = "ledger", security(("bearer" = [])),
    params(AgeingQuery), responses((status = 200, body = AgeingReport), (status = 403, body = Problem)))]
pub async fn ageing(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<AgeingQuery>,
) -> Result<Json<AgeingReport>, ApiError> {
    Ok(Json(reports::ageing(&state.app, &ctx, q.as_of).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DaysQuery {
    /// First day, YYYY-MM-DD (UTC); 30 days before `to` by default.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (UTC); today by default.
    pub to: Option<String>,
}

/// Money captured and refunded per day, payment method and currency.
/// Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/reports/payments-by-day", tag = "ledger", security(("bearer" = [])),
    params(DaysQuery), responses((status = 200, body = [DayTotals]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn payments_by_day(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<DaysQuery>,
) -> Result<Json<Vec<DayTotals>>, ApiError> {
    Ok(Json(reports::payments_by_day(&state.app, &ctx, q.from.as_deref(), q.to.as_deref()).await?))
}

/// Records a provider's payout to the bank: the net to the bank, the fee
/// to fees, the gross off the provider's clearing account (409
/// `exceeds_balance` when it holds less). Needs `payments.manage`;
/// accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/ledger/payouts", tag = "ledger", security(("bearer" = [])), request_body = PayoutInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Posted), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn payout(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<PayoutInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "ledger.payout", &input));
    Ok(respond(StatusCode::CREATED, bookkeeping::payout(&state.app, &ctx, input, idem.as_ref()).await?))
}

/// Writes off what a shipped order still owes (409 `not_shipped`,
/// `nothing_owed`). Needs `payments.manage`; accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/write-off", tag = "ledger", security(("bearer" = [])), request_body = WriteOffInput,
    params(("id" = String, Path, description = "Order id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Posted), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn write_off(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<WriteOffInput>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, &format!("orders.write_off:{id}"), &input));
    Ok(respond(StatusCode::CREATED, bookkeeping::write_off(&state.app, &ctx, &id, input, idem.as_ref()).await?))
}

/// How the store appears as the seller on its invoices. Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/invoice-settings", tag = "invoices", security(("bearer" = [])),
    responses((status = 200, body = SellerSettings), (status = 403, body = Problem)))]
pub async fn invoice_settings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<SellerSettings>, ApiError> {
    Ok(Json(crate::services::invoices::settings(&state.app, &ctx).await?))
}

/// Sets the seller's legal name, address, VAT id, tax number, payment terms,
/// bank account and footer for invoices issued from now on. Needs
/// `settings.manage`.
#[utoipa::path(put, path = "/api/v1/invoice-settings", tag = "invoices", security(("bearer" = [])), request_body = SellerSettings,
    responses((status = 200, body = SellerSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_invoice_settings(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<SellerSettings>,
) -> Result<Json<SellerSettings>, ApiError> {
    Ok(Json(crate::services::invoices::put_settings(&state.app, &ctx, input).await?))
}
