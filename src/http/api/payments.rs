//! `/api/v1/orders/{id}/payments`, `/api/v1/payments` and `/api/v1/ledger`:
//! buyers pay orders, staff capture, void and refund, and accountants read
//! the journal.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::respond;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::idempotency::IdempotencyRequest;
use crate::services::invoices::{self, Invoice, InvoicePage};
use crate::services::ledger::{self, AccountBalance, JournalLine, Statement, TrialBalance};
use crate::services::payments::{
    self, ChallengeAnswer, EventReceipt, MoneyRequest, Payment, PaymentPage, PaymentRequest, Signed,
};
use crate::services::reconciliation::{self, BankLine, BankLinePage, ImportReport, MatchInput, StatementFormat};
use crate::services::{Outcome, ServiceResult};

fn order_token(headers: &HeaderMap) -> Option<&str> {
    headers.get("order-token").and_then(|v| v.to_str().ok())
}

/// Answers with the status the service chose (201 authorised or awaiting,
/// 202 still processing, 402 declined, 200 for operations).
fn answer(outcome: ServiceResult<Outcome<(u16, Payment)>>) -> Result<Response, ApiError> {
    Ok(match outcome? {
        Outcome::Fresh((status, payment)) => {
            respond(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Outcome::Fresh(payment))
        }
        Outcome::Replayed { status, body } => respond(StatusCode::OK, Outcome::<Payment>::Replayed { status, body }),
    })
}

/// Pays an order: by its customer, a guest with the order's token, or staff
/// (`payments.manage`). Card details go to the processor and are never
/// stored. 201 when authorised (captured too, when the store captures on
/// order) or awaiting money; 202 while the processor has not answered (retry
/// with the same `Idempotency-Key`); 402 when declined, with the reason.
#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "payments", request_body = PaymentRequest,
    params(("id" = String, Path, description = "Order id"), ("Order-Token" = Option<String>, Header, description = "A guest's order token"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Payment), (status = 202, body = Payment), (status = 402, body = Payment),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "`exceeds_outstanding`, `order_cancelled`, `payment_processing`"),
        (status = 422, body = Problem)))]
pub async fn pay(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<PaymentRequest>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| payments::payment_request(k, &id, &input));
    answer(payments::pay(&state.app, &ctx, &id, order_token(&headers), input, idem.as_ref()).await)
}

/// An order's payments (the timeline for staff).
#[utoipa::path(get, path = "/api/v1/orders/{id}/payments", tag = "payments",
    params(("id" = String, Path, description = "Order id"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = [Payment]), (status = 404, body = Problem)))]
pub async fn order_payments(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<Payment>>, ApiError> {
    Ok(Json(payments::for_order(&state.app, &ctx, &id, order_token(&headers)).await?))
}

/// The buyer's answer to a card challenge (3-D Secure step-up).
#[utoipa::path(post, path = "/api/v1/payments/{id}/challenge", tag = "payments", request_body = ChallengeAnswer,
    params(("id" = String, Path, description = "Payment id"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = Payment), (status = 404, body = Problem), (status = 409, body = Problem, description = "`no_challenge`")))]
pub async fn challenge(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ChallengeAnswer>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(payments::answer_challenge(&state.app, &ctx, &id, order_token(&headers), input).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Cursor from the previous page's `next`.
    pub before: Option<String>,
    pub limit: Option<i64>,
}

/// The store's payments, newest first. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PaymentPage), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<PageQuery>,
) -> Result<Json<PaymentPage>, ApiError> {
    Ok(Json(payments::list(&state.app, &ctx, q.before.as_deref(), q.limit).await?))
}

/// One payment with its timeline. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Payment id")),
    responses((status = 200, body = Payment), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(payments::get(&state.app, &ctx, &id).await?))
}

fn money_request(key: Option<String>, operation: &str, id: &str, input: &MoneyRequest) -> Option<IdempotencyRequest> {
    key.map(|k| IdempotencyRequest::new(k, &format!("payments.{operation}:{id}"), input))
}

/// Captures authorised funds, or records that awaited money arrived (all
/// that is left by default; partial and repeated captures up to the
/// authorised amount). Needs `payments.manage`; accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payments/{id}/capture", tag = "payments", security(("bearer" = [])), request_body = MoneyRequest,
    params(("id" = String, Path, description = "Payment id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = Payment), (status = 202, body = Payment), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`exceeds_authorized`, `payment_closed`, `requires_action`, …")))]
pub async fn capture(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<MoneyRequest>,
) -> Result<Response, ApiError> {
    let idem = money_request(key, "capture", &id, &input);
    answer(payments::capture(&state.app, &ctx, &id, input, idem.as_ref()).await)
}

/// Refunds captured money (all that is left by default; never more than
/// captured). Needs `payments.manage`; accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payments/{id}/refunds", tag = "payments", security(("bearer" = [])), request_body = MoneyRequest,
    params(("id" = String, Path, description = "Payment id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = Payment), (status = 202, body = Payment), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`exceeds_captured`, `nothing_captured`")))]
pub async fn refund(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<MoneyRequest>,
) -> Result<Response, ApiError> {
    let idem = money_request(key, "refund", &id, &input);
    answer(payments::refund(&state.app, &ctx, &id, input, idem.as_ref()).await)
}

/// Releases what is authorised and not captured. Needs `payments.manage`;
/// accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payments/{id}/void", tag = "payments", security(("bearer" = [])), request_body = MoneyRequest,
    params(("id" = String, Path, description = "Payment id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = Payment), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`already_voided`, `fully_captured`, `capture_in_flight`")))]
pub async fn void(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<MoneyRequest>,
) -> Result<Response, ApiError> {
    let idem = money_request(key, "void", &id, &input);
    answer(payments::void(&state.app, &ctx, &id, input, idem.as_ref()).await)
}

/// Every account with postings and its balance. Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/ledger/accounts", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = [AccountBalance]), (status = 403, body = Problem)))]
pub async fn accounts(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
) -> Result<Json<Vec<AccountBalance>>, ApiError> {
    Ok(Json(ledger::accounts(&state.app, &ctx).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatementQuery {
    /// ISO 4217 code.
    pub currency: String,
    /// Cursor from the previous page's `next`.
    pub before: Option<String>,
    pub limit: Option<i64>,
}

/// An account's statement, newest first, with the balance after each line.
/// Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{account}/statement", tag = "ledger", security(("bearer" = [])),
    params(("account" = String, Path, description = "`code` or `code:party`, e.g. `receivable:cus_…`"), StatementQuery),
    responses((status = 200, body = Statement), (status = 404, body = Problem)))]
pub async fn statement(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(account): Path<String>,
    Query(q): Query<StatementQuery>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(ledger::statement(&state.app, &ctx, &account, &q.currency, q.before.as_deref(), q.limit).await?))
}

/// The trial balance: per currency, total debits equal total credits.
/// Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = TrialBalance), (status = 403, body = Problem)))]
pub async fn trial_balance(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<TrialBalance>, ApiError> {
    Ok(Json(ledger::trial_balance(&state.app, &ctx).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReferenceQuery {
    /// An order, payment or gift card id.
    pub reference: String,
}

/// The journal lines recording one order (or other reference), in posting
/// order. Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", security(("bearer" = [])), params(ReferenceQuery),
    responses((status = 200, body = [JournalLine]), (status = 403, body = Problem)))]
pub async fn entries(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<ReferenceQuery>,
) -> Result<Json<Vec<JournalLine>>, ApiError> {
    Ok(Json(ledger::entries_for(&state.app, &ctx, &q.reference).await?))
}

/// The whole journal as CSV, one row per line, for an accounting system.
/// Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/ledger/journal.csv", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
pub async fn journal_csv(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Response, ApiError> {
    let csv = ledger::export_csv(&state.app, &ctx).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"journal.csv\""),
        ],
        csv,
    )
        .into_response())
}

/// A payment provider's signed webhook (Standard Webhooks headers:
/// `webhook-id`, `webhook-timestamp`, `webhook-signature`). Verified,
/// applied once, and in an order-independent way.
#[utoipa::path(post, path = "/api/v1/providers/{provider}/webhooks", tag = "payments", request_body(content = String, content_type = "application/json", description = "The event, as signed"),
    params(("provider" = String, Path, description = "Provider code, e.g. `test_card`")),
    responses((status = 200, body = EventReceipt), (status = 401, body = Problem, description = "bad signature or stale timestamp"),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn provider_webhook(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<EventReceipt>, ApiError> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = Signed { id: h("webhook-id"), timestamp: h("webhook-timestamp"), signature: h("webhook-signature") };
    Ok(Json(payments::provider_webhook(&state.app, &ctx, &provider, signed, &body).await?))
}

/// Imports a bank statement (`Content-Type: application/xml` for ISO 20022
/// camt.053, `text/csv` for CSV with `date,amount,currency,reference,bank_ref`
/// columns) and captures the awaited payments its credits pay. Needs
/// `payments.manage`; accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/bank-statements", tag = "payments", security(("bearer" = [])),
    request_body(content = String, content_type = "application/xml", description = "camt.053 XML, or CSV with text/csv"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = ImportReport), (status = 403, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "`validation_failed`: the statement cannot be read")))]
pub async fn import_statement(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    headers: HeaderMap,
    IdempotencyKey(key): IdempotencyKey,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match content_type.split(';').next().unwrap_or("").trim() {
        "application/xml" | "text/xml" => StatementFormat::Camt053,
        "text/csv" => StatementFormat::Csv,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send camt.053 as application/xml or a CSV statement as text/csv",
            ));
        }
    };
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "the statement is not UTF-8 text")
    })?;
    let idem = key.map(|k| IdempotencyRequest::new(k, "bank.import", &text));
    Ok(respond(StatusCode::OK, reconciliation::import(&state.app, &ctx, format, text, idem.as_ref()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LineQuery {
    /// `matched` or `unmatched`.
    pub status: Option<String>,
    pub before: Option<String>,
    pub limit: Option<i64>,
}

/// Bank statement lines, newest first. Needs `payments.read`.
#[utoipa::path(get, path = "/api/v1/bank-lines", tag = "payments", security(("bearer" = [])), params(LineQuery),
    responses((status = 200, body = BankLinePage), (status = 403, body = Problem)))]
pub async fn bank_lines(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<LineQuery>,
) -> Result<Json<BankLinePage>, ApiError> {
    Ok(Json(reconciliation::lines(&state.app, &ctx, q.status.as_deref(), q.before.as_deref(), q.limit).await?))
}

/// Matches an unmatched line to an awaited payment by hand. Needs `payments.manage`.
#[utoipa::path(post, path = "/api/v1/bank-lines/{id}/match", tag = "payments", security(("bearer" = [])), request_body = MatchInput,
    params(("id" = String, Path, description = "Bank line id")),
    responses((status = 200, body = BankLine), (status = 404, body = Problem), (status = 409, body = Problem, description = "`line_matched`, `does_not_fit`")))]
pub async fn match_line(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MatchInput>,
) -> Result<Json<BankLine>, ApiError> {
    Ok(Json(reconciliation::match_line(&state.app, &ctx, &id, input).await?))
}

/// Issues the order's invoice (201), or answers with the one it has (200).
/// Needs `orders.manage`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/invoice", tag = "invoices", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 201, body = Invoice), (status = 200, body = Invoice), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`order_cancelled`")))]
pub async fn issue_invoice(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (status, invoice) = invoices::issue(&state.app, &ctx, &id).await?;
    Ok((StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(invoice)).into_response())
}

/// An order's invoice and credit notes, for staff and the order's buyer.
#[utoipa::path(get, path = "/api/v1/orders/{id}/invoices", tag = "invoices",
    params(("id" = String, Path, description = "Order id"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = [Invoice]), (status = 404, body = Problem)))]
pub async fn order_invoices(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<Invoice>>, ApiError> {
    Ok(Json(invoices::of_order(&state.app, &ctx, &id, order_token(&headers)).await?))
}

/// The store's invoices and credit notes, newest first. Needs `ledger.read`.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = InvoicePage), (status = 403, body = Problem)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Query(q): Query<PageQuery>,
) -> Result<Json<InvoicePage>, ApiError> {
    Ok(Json(invoices::list(&state.app, &ctx, q.before.as_deref(), q.limit).await?))
}

/// One invoice or credit note: JSON, or `.html` (printable, in the order's
/// language), `.pdf` (the same, as a PDF) or `.xml` (UBL 2.1, EN 16931) by
/// the path's ending.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "Invoice id, optionally ending in .html, .pdf or .xml"), ("Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = Invoice), (status = 404, body = Problem)))]
pub async fn get_invoice(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = order_token(&headers);
    if let Some(id) = id.strip_suffix(".html") {
        let page = invoices::html(&state.app, &ctx, id, token).await?;
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    if let Some(id) = id.strip_suffix(".pdf") {
        let pdf = invoices::pdf(&state.app, &ctx, id, token).await?;
        return Ok(crate::web::pay::pdf_response(id, pdf));
    }
    if let Some(id) = id.strip_suffix(".xml") {
        let xml = invoices::ubl(&state.app, &ctx, id, token).await?;
        return Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response());
    }
    Ok(Json(invoices::get(&state.app, &ctx, &id, token).await?).into_response())
}
