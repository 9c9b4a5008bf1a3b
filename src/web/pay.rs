//! The storefront's payment step on the order page: the buyer pays by
//! card (with the issuer's challenge when asked), bank transfer, cash on
//! delivery or gift card, with no JavaScript. The forms call the same
//! payment service as the API; a form's key is its `Idempotency-Key`, so
//! a double click pays once.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use super::shell::{PageForm, Shell, error_page};
use super::shop::{csrf_ok, messages, order_token, refused, show_order, visitor};
use crate::http::state::AppState;
use crate::providers::payment::Card;
use crate::services::ServiceError;
use crate::services::payments::{self, ChallengeAnswer, PaymentRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/pay", post(pay))
        .route("/orders/{id}/payments/{payment}/challenge", post(challenge))
        .route("/orders/{id}/invoices/{invoice}", axum::routing::get(invoice))
}

/// An invoice or credit note of the order, printable (its buyer only).
async fn invoice(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, invoice)): Path<(String, String)>,
) -> Response {
    let ctx = visitor(&state, &shell, &headers).await;
    let token = order_token(&headers, &id);
    let app = &state.app;
    let (invoice, pdf) = match invoice.strip_suffix(".pdf") {
        Some(bare) => (bare.to_string(), true),
        None => (invoice, false),
    };
    match crate::services::invoices::get(app, &ctx, &invoice, token.as_deref()).await {
        Ok(i) if i.order_id == id && pdf => {
            match crate::services::invoices::pdf(app, &ctx, &invoice, token.as_deref()).await {
                Ok(bytes) => pdf_response(&invoice, bytes),
                Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
        Ok(i) if i.order_id == id => match crate::services::invoices::html(app, &ctx, &invoice, token.as_deref()).await
        {
            Ok(html) => ([(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
            Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
        },
        Ok(_) | Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "invoice page failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A PDF invoice, shown in the browser and saved under its id.
pub(crate) fn pdf_response(invoice_id: &str, bytes: Vec<u8>) -> Response {
    let name: String = invoice_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    let disposition = format!("inline; filename=\"{name}.pdf\"");
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
struct PayForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    #[serde(rename = "_key", default)]
    key: String,
    method: String,
    #[serde(default)]
    card_number: String,
    #[serde(default)]
    exp_month: String,
    #[serde(default)]
    exp_year: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    holder: String,
    #[serde(default)]
    gift_card_code: String,
    #[serde(default)]
    billing_country: String,
}

impl PayForm {
    /// The request the API would get: card fields only for card methods.
    fn request(&self) -> PaymentRequest {
        let card = (self.method == "test_card").then(|| Card {
            number: self.card_number.clone(),
            exp_month: self.exp_month.trim().parse().unwrap_or(0),
            exp_year: self.exp_year.trim().parse().unwrap_or(0),
            cvc: self.cvc.trim().to_string(),
            holder: self.holder.trim().to_string(),
        });
        let gift_card_code = (self.method == "gift_card").then(|| self.gift_card_code.clone());
        let billing_country = Some(self.billing_country.trim()).filter(|c| !c.is_empty()).map(str::to_string);
        PaymentRequest { method: self.method.clone(), amount: None, card, gift_card_code, billing_country }
    }
}

async fn pay(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<PayForm>,
) -> Response {
    if !csrf_ok(&headers, &form.csrf) {
        return refused(&shell);
    }
    let ctx = visitor(&state, &shell, &headers).await;
    let token = order_token(&headers, &id);
    let input = form.request();
    let idem = (!form.key.is_empty()).then(|| payments::payment_request(form.key.clone(), &id, &input));
    let result = payments::pay(&state.app, &ctx, &id, token.as_deref(), input, idem.as_ref()).await;
    let declined = |payment: &payments::Payment| {
        let reason = payment.details.get("decline_message").and_then(|m| m.as_str()).unwrap_or("declined");
        vec![reason.to_string()]
    };
    match result {
        Ok(crate::services::Outcome::Fresh((402, p))) => {
            show_order(&state, shell, &headers, (&id, None), StatusCode::PAYMENT_REQUIRED, declined(&p)).await
        }
        Ok(_) => Redirect::to(&shell.href(&format!("/orders/{id}#payments"))).into_response(),
        Err(e) => failed(&state, shell, &headers, &id, e).await,
    }
}

async fn failed(state: &AppState, shell: Shell, headers: &HeaderMap, id: &str, e: ServiceError) -> Response {
    match messages(e) {
        Ok(errors) => show_order(state, shell, headers, (id, None), StatusCode::UNPROCESSABLE_ENTITY, errors).await,
        Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "payment failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

#[derive(Deserialize)]
struct ChallengeForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    /// `yes` to confirm the payment, anything else to refuse it.
    approve: String,
}

async fn challenge(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, payment)): Path<(String, String)>,
    PageForm(form): PageForm<ChallengeForm>,
) -> Response {
    if !csrf_ok(&headers, &form.csrf) {
        return refused(&shell);
    }
    let ctx = visitor(&state, &shell, &headers).await;
    let token = order_token(&headers, &id);
    let answer = ChallengeAnswer { approve: form.approve == "yes" };
    match payments::answer_challenge(&state.app, &ctx, &payment, token.as_deref(), answer).await {
        Ok(p) if p.order_id == id => Redirect::to(&shell.href(&format!("/orders/{id}#payments"))).into_response(),
        Ok(_) => error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => failed(&state, shell, &headers, &id, e).await,
    }
}
