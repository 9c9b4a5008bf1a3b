//! Admin draft orders (phone and B2B sales): the open drafts with a form
//! to start one for a customer or an e-mail (`/admin/drafts`), and one
//! draft (`/admin/drafts/{id}`) with its lines, contact and address,
//! shipping, coupons and totals, placed as an order with one button (its
//! key makes a double submit place one order). Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::admin::StaffSession;
use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{back_or_show, failure, messages};
use super::shell::{Shell, render};
use crate::domain::addresses::Address;
use crate::domain::money::Money;
use crate::http::state::AppState;
use crate::i18n::format_money;
use crate::services::cart::{self, CartKey, CartView, Contact, LineInput};
use crate::services::drafts::{self, DraftInput};
use crate::services::quote::ShippingChoice;
use crate::services::{Outcome, ServiceError, orders};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/drafts", get(list).post(create))
        .route("/admin/drafts/{id}", get(detail))
        .route("/admin/drafts/{id}/lines", post(lines))
        .route("/admin/drafts/{id}/contact", post(contact))
        .route("/admin/drafts/{id}/shipping", post(shipping))
        .route("/admin/drafts/{id}/coupons", post(coupon))
        .route("/admin/drafts/{id}/place", post(place))
}

#[derive(Template)]
#[template(path = "admin/drafts.html")]
struct ListPage {
    shell: Shell,
    csrf: String,
    drafts: Vec<CartView>,
    channels: Vec<String>,
    errors: Vec<String>,
}

impl ListPage {
    fn money(&self, m: &Money) -> String {
        format_money(self.shell.lang, *m)
    }
}

#[derive(Template)]
#[template(path = "admin/draft.html")]
struct DraftPage {
    shell: Shell,
    csrf: String,
    draft: CartView,
    address: Address,
    /// Idempotency key of the place-order form.
    place_key: String,
    errors: Vec<String>,
}

impl DraftPage {
    fn money(&self, m: &Money) -> String {
        format_money(self.shell.lang, *m)
    }

    fn minor(&self, amount: &i64) -> String {
        let currency =
            crate::domain::money::Currency::parse(&self.draft.currency).unwrap_or(crate::domain::money::Currency::EUR);
        format_money(self.shell.lang, Money::new(*amount, currency))
    }

    fn chosen(&self, method: &str, point: &str) -> bool {
        self.draft
            .shipping_choice
            .as_ref()
            .is_some_and(|c| c.method == method && c.point.as_deref().unwrap_or("") == point)
    }
}

async fn show_list(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    status: StatusCode,
    errors: Vec<String>,
) -> Response {
    let drafts = match drafts::list(&state.app, &s.ctx).await {
        Ok(d) => d,
        Err(e) => return failure(&shell, e),
    };
    let channels = crate::db::catalog::channels(state.app.db.pool(), &s.ctx.store.id)
        .await
        .map(|cs| cs.into_iter().map(|c| c.code).collect())
        .unwrap_or_default();
    render(status, &ListPage { shell, csrf: s.csrf.clone(), drafts, channels, errors })
}

async fn list(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_list(&state, shell, &s, StatusCode::OK, Vec::new()).await
}

/// Starts a draft: for the customer with this e-mail when there is one.
async fn create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let email = form.get("customer_email");
    let mut customer_id = None;
    if !email.trim().is_empty() {
        let index = state.app.email_index(&s.ctx.store.id, &email);
        match crate::db::customers::by_email_index(state.app.db.pool(), &s.ctx.store.id, &index).await {
            Ok(Some(c)) => customer_id = Some(c.id),
            Ok(None) => {
                let msg = crate::i18n::t(shell.lang, "admin.no_such_customer").to_string();
                return show_list(&state, shell, &s, StatusCode::UNPROCESSABLE_ENTITY, vec![msg]).await;
            }
            Err(e) => return failure(&shell, ServiceError::from(e)),
        }
    }
    let channel = Some(form.get("channel")).filter(|c| !c.is_empty());
    match drafts::create(&state.app, &s.ctx, DraftInput { channel, lang: None, customer_id }).await {
        Ok(d) => Redirect::to(&shell.href(&format!("/admin/drafts/{}", d.id))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_list(&state, shell, &s, StatusCode::UNPROCESSABLE_ENTITY, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn show(state: &AppState, shell: Shell, s: &StaffSession, id: &str, errors: Vec<String>) -> Response {
    let key = CartKey { id, token: None };
    let draft = match cart::get(&state.app, &s.ctx, &key).await {
        Ok(d) if d.draft_by.is_some() => d,
        Ok(_) => return failure(&shell, ServiceError::NotFound),
        Err(e) => return failure(&shell, e),
    };
    let address = draft.contact.as_ref().and_then(|c| c.shipping_address.clone()).unwrap_or_default();
    let status = super::admin_forms::form_status(&errors);
    let page =
        DraftPage { shell, csrf: s.csrf.clone(), draft, address, place_key: crate::domain::ids::new_id("key"), errors };
    render(status, &page)
}

async fn detail(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, &id, Vec::new()).await
}

/// Back to the draft, or the draft with the reasons it was refused.
async fn after<T>(state: &AppState, shell: Shell, s: &StaffSession, id: &str, r: Result<T, ServiceError>) -> Response {
    back_or_show(shell, &format!("/admin/drafts/{id}"), r, |shell, errors| show(state, shell, s, id, errors)).await
}

/// Quantities per SKU (`qty:<sku>`, 0 removes) and one SKU to add.
async fn lines(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let key = CartKey { id: &id, token: None };
    let mut changes: Vec<(String, i64)> = form
        .pairs()
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("qty:")?.to_string(), v.trim().parse::<i64>().unwrap_or(-1))))
        .collect();
    let add = form.get("add_sku");
    if !add.trim().is_empty() {
        changes.push((add.trim().to_string(), form.get("add_quantity").trim().parse().unwrap_or(1)));
    }
    let mut result: Result<(), ServiceError> = Ok(());
    for (sku, quantity) in changes {
        if let Err(e) = cart::set_line(&state.app, &s.ctx, &key, &sku, LineInput { quantity }).await {
            result = Err(e);
            break;
        }
    }
    after(&state, shell, &s, &id, result).await
}

async fn contact(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let address = Address {
        name: form.get("name"),
        line1: form.get("line1"),
        line2: form.get("line2"),
        city: form.get("city"),
        region: form.get("region"),
        postal_code: form.get("postal_code"),
        country: form.get("country"),
        phone: form.get("phone"),
    };
    let input = Contact {
        email: form.get("email"),
        shipping_address: Some(address),
        company: Some(form.get("company")),
        vat_id: Some(form.get("vat_id")),
    };
    let result = cart::set_contact(&state.app, &s.ctx, &CartKey { id: &id, token: None }, input).await;
    after(&state, shell, &s, &id, result).await
}

/// `choice` is `method` or `method:point`.
async fn shipping(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let choice = form.get("choice");
    let (method, point) = match choice.split_once(':') {
        Some((m, p)) => (m.to_string(), Some(p.to_string())),
        None => (choice.clone(), None),
    };
    let key = CartKey { id: &id, token: None };
    let result = cart::set_shipping(&state.app, &s.ctx, &key, ShippingChoice { method, point }).await;
    after(&state, shell, &s, &id, result).await
}

async fn coupon(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let key = CartKey { id: &id, token: None };
    let result = cart::add_coupon(&state.app, &s.ctx, &key, form.get("code").trim()).await;
    after(&state, shell, &s, &id, result).await
}

/// Places the draft as an order and shows the order.
async fn place(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let key = CartKey { id: &id, token: None };
    let form_key = form.get("_key");
    let idem = (!form_key.is_empty()).then(|| orders::checkout_request(form_key, &s.ctx, &key));
    let placed = orders::checkout(&state.app, &s.ctx, &key, idem.as_ref()).await;
    let order_id = match placed {
        Ok(Outcome::Fresh(o)) => o.id,
        Ok(Outcome::Replayed { body, .. }) => serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_string))
            .unwrap_or_default(),
        Err(e) => return after::<()>(&state, shell, &s, &id, Err(e)).await,
    };
    Redirect::to(&shell.href(&format!("/admin/orders/{order_id}"))).into_response()
}
