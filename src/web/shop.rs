//! Storefront buying pages, without JavaScript: add to cart, the cart
//! (quantities, e-mail and shipping address), placing the order, and the
//! confirmation. The cart lives in an HttpOnly cookie holding its id and
//! secret token; the confirmation page is opened by the order's token
//! kept in another cookie (or by the signed-in customer). Forms carry a
//! double-submit CSRF token. Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::{new_csrf, same_token};
use super::cookies;
use super::shell::{PageForm, Shell, error_page, render};
use crate::domain::addresses::Address;
use crate::domain::inventory::Availability;
use crate::domain::money::{Currency, Money};
use crate::domain::payments::PaymentStatus;
use crate::domain::returns::{Resolution, ReturnReason, ReturnStatus};
use crate::http::state::AppState;
use crate::i18n::format_money;
use crate::services::actor::{Actor, Ctx};
use crate::services::cart::{self, CartKey, CartView, Contact, LineInput, NewCart};
use crate::services::orders::{self, Order};
use crate::services::payments::{self, Payment};
use crate::services::quote::ShippingChoice;
use crate::services::returns::{self, Return, ReturnLineInput, ReturnRequest};
use crate::services::{Outcome, ServiceError};

const CART: &str = "oxcart_cart";
const ORDER: &str = "oxcart_order";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cart", get(cart_page))
        .route("/cart/add", post(add))
        .route("/cart/lines", post(update_line))
        .route("/cart/contact", post(save_contact))
        .route("/cart/shipping", post(choose_shipping))
        .route("/cart/coupons", post(enter_coupon))
        .route("/cart/coupons/remove", post(remove_coupon))
        .route("/cart/checkout", post(place))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/return", post(ask_return))
}

/// The CSRF token for a storefront form: the visitor's cookie if they have
/// one, else a new one and the cookie to set.
pub(crate) fn csrf_token(headers: &HeaderMap, shell: &Shell) -> (String, Option<String>) {
    match cookies::values(headers, cookies::CSRF).into_iter().find(|v| !v.is_empty()) {
        Some(t) => (t.to_string(), None),
        None => {
            let t = new_csrf();
            let cookie = cookies::set(headers, cookies::CSRF, &t, &shell.base, 7 * 24 * 3600, true);
            (t, Some(cookie))
        }
    }
}

fn with_cookies(mut res: Response, set: impl IntoIterator<Item = String>) -> Response {
    for c in set {
        if let Ok(v) = c.parse() {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

pub(super) fn csrf_ok(headers: &HeaderMap, sent: &str) -> bool {
    cookies::values(headers, cookies::CSRF).into_iter().any(|c| same_token(c, sent))
}

/// The visitor: a signed-in customer, or a guest.
pub(super) async fn visitor(state: &AppState, shell: &Shell, headers: &HeaderMap) -> Ctx {
    let actor = match super::account::customer_id(state, shell, headers).await {
        Some(id) => Actor::Customer { id },
        None => Actor::Anonymous,
    };
    Ctx { store: shell.store.clone(), actor, client_ip: shell.client_ip.clone() }
}

/// (cart id, token) from the cookie.
pub(crate) fn cart_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    cookies::values(headers, CART)
        .into_iter()
        .find_map(|v| v.split_once('.').map(|(id, token)| (id.to_string(), token.to_string())))
}

#[derive(Template)]
#[template(path = "storefront/cart.html")]
struct CartPage {
    shell: Shell,
    csrf: String,
    cart: Option<CartView>,
    /// The address form as shown (the cart's, or as typed).
    a: Address,
    email: String,
    company: String,
    vat_id: String,
    errors: Vec<String>,
    /// Idempotency key for the "place order" form.
    place_key: String,
}

impl CartPage {
    fn money(&self, m: &Money) -> String {
        format_money(self.shell.lang, *m)
    }

    /// An amount in minor units of the cart's currency.
    fn minor(&self, amount: &i64) -> String {
        let currency = self.cart.as_ref().and_then(|c| Currency::parse(&c.currency)).unwrap_or(Currency::EUR);
        format_money(self.shell.lang, Money::new(*amount, currency))
    }

    /// Whether a shipping option (and pickup point) is the cart's choice.
    fn chosen(&self, method: &str, point: &str) -> bool {
        self.cart
            .as_ref()
            .and_then(|c| c.shipping_choice.as_ref())
            .is_some_and(|s| s.method == method && s.point.as_deref().unwrap_or("") == point)
    }

    fn coupon_status(&self, status: &str) -> &'static str {
        let key = match status {
            "applied" => "cart.coupon.applied",
            "not_applicable" => "cart.coupon.not_applicable",
            "used_up" => "cart.coupon.used_up",
            _ => "cart.coupon.invalid",
        };
        crate::i18n::t(self.shell.lang, key)
    }

    fn line_money(&self, m: &Option<Money>) -> String {
        m.map(|m| format_money(self.shell.lang, m)).unwrap_or_default()
    }

    fn options_text(&self, l: &crate::services::cart::CartLine) -> String {
        l.options.values().cloned().collect::<Vec<_>>().join(" / ")
    }

    fn line_note(&self, l: &crate::services::cart::CartLine) -> String {
        let lang = self.shell.lang;
        match (&l.problem, l.availability) {
            (Some(_), _) => crate::i18n::t(lang, "cart.unavailable").to_string(),
            (None, Availability::OutOfStock) => crate::i18n::t(lang, "stock.out_of_stock").to_string(),
            (None, Availability::LowStock { quantity }) => {
                crate::i18n::t(lang, "stock.low").replace("{n}", &quantity.to_string())
            }
            (None, Availability::Backorder { .. }) => crate::i18n::t(lang, "stock.backorder").to_string(),
            (None, Availability::Preorder { .. }) => crate::i18n::t(lang, "stock.preorder").to_string(),
            _ => String::new(),
        }
    }
}

async fn show_cart(
    state: &AppState,
    shell: Shell,
    headers: &HeaderMap,
    status: StatusCode,
    errors: Vec<String>,
    typed: Option<ContactForm>,
) -> Response {
    let ctx = visitor(state, &shell, headers).await;
    let cart = match cart_cookie(headers) {
        Some((id, token)) => match cart::get(&state.app, &ctx, &CartKey { id: &id, token: Some(&token) }).await {
            Ok(c) => Some(c),
            Err(ServiceError::NotFound) => None,
            Err(e) => {
                tracing::error!(error = %e, "cart page failed");
                return error_page(shell, StatusCode::INTERNAL_SERVER_ERROR);
            }
        },
        None => None,
    };
    let (email, a, company, vat_id) = match typed {
        Some(f) => (f.email, f.address, f.company, f.vat_id),
        None => {
            let c = cart.as_ref().and_then(|c| c.contact.clone());
            (
                c.as_ref().map(|c| c.email.clone()).unwrap_or_default(),
                c.as_ref().and_then(|c| c.shipping_address.clone()).unwrap_or_default(),
                c.as_ref().and_then(|c| c.company.clone()).unwrap_or_default(),
                c.and_then(|c| c.vat_id).unwrap_or_default(),
            )
        }
    };
    let (csrf, set) = csrf_token(headers, &shell);
    let page = CartPage { shell, csrf, cart, a, email, company, vat_id, errors, place_key: new_csrf() };
    with_cookies(render(status, &page), set)
}

async fn cart_page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    show_cart(&state, shell, &headers, StatusCode::OK, Vec::new(), None).await
}

/// A post to the visitor's cart: (visitor, cart id, cart token), or the
/// answer instead (403 for a bad CSRF token, back to the cart without one).
async fn cart_form(
    state: &AppState,
    shell: &Shell,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(Ctx, String, String), Response> {
    if !csrf_ok(headers, csrf) {
        return Err(refused(shell));
    }
    let Some((id, token)) = cart_cookie(headers) else {
        return Err(Redirect::to(&shell.href("/cart")).into_response());
    };
    Ok((visitor(state, shell, headers).await, id, token))
}

pub(super) fn refused(shell: &Shell) -> Response {
    error_page(shell.clone(), StatusCode::FORBIDDEN)
}

pub(super) fn messages(e: ServiceError) -> Result<Vec<String>, ServiceError> {
    match e {
        ServiceError::Validation(f) => Ok(f.0.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()),
        ServiceError::Conflict { message, .. } => Ok(vec![message]),
        other => Err(other),
    }
}

async fn after(state: &AppState, shell: Shell, headers: &HeaderMap, result: Result<(), ServiceError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&shell.href("/cart")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_cart(state, shell, headers, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await,
            Err(e) => {
                tracing::error!(error = %e, "cart change failed");
                error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
            }
        },
    }
}

#[derive(Deserialize)]
pub struct AddForm {
    sku: String,
    quantity: Option<String>,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn add(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<AddForm>,
) -> Response {
    if !csrf_ok(&headers, &form.csrf) {
        return refused(&shell);
    }
    let ctx = visitor(&state, &shell, &headers).await;
    let quantity = form.quantity.as_deref().unwrap_or("1").trim().parse::<i64>().unwrap_or(0);
    let mut set = Vec::new();
    // The visitor's cart in the channel they shop in; a new one otherwise.
    let existing = match cart_cookie(&headers) {
        Some((id, token)) => cart::get(&state.app, &ctx, &CartKey { id: &id, token: Some(&token) })
            .await
            .ok()
            .filter(|c| c.channel == shell.channel)
            .map(|c| (id, token, c)),
        None => None,
    };
    let new_cart = NewCart { channel: Some(shell.channel.clone()), lang: Some(shell.lang) };
    let (id, token, current) = match existing {
        Some(found) => found,
        None => match cart::create(&state.app, &ctx, new_cart).await {
            Ok(c) => {
                let value = format!("{}.{}", c.cart.id, c.token);
                set.push(cookies::set(&headers, CART, &value, &shell.base, 30 * 24 * 3600, true));
                (c.cart.id.clone(), c.token, c.cart)
            }
            Err(e) => return after(&state, shell, &headers, Err(e)).await,
        },
    };
    let have = current.lines.iter().find(|l| l.sku == form.sku).map_or(0, |l| l.quantity);
    let input = LineInput { quantity: if quantity < 1 { -1 } else { have + quantity } };
    let key = CartKey { id: &id, token: Some(&token) };
    let result = cart::set_line(&state.app, &ctx, &key, &form.sku, input).await.map(|_| ());
    with_cookies(after(&state, shell, &headers, result).await, set)
}

#[derive(Deserialize)]
pub struct LineForm {
    sku: String,
    quantity: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn update_line(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<LineForm>,
) -> Response {
    let (ctx, id, token) = match cart_form(&state, &shell, &headers, &form.csrf).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let quantity = form.quantity.trim().parse::<i64>().unwrap_or(-1);
    let key = CartKey { id: &id, token: Some(&token) };
    let result = cart::set_line(&state.app, &ctx, &key, &form.sku, LineInput { quantity }).await.map(|_| ());
    after(&state, shell, &headers, result).await
}

#[derive(Deserialize)]
pub struct ContactForm {
    email: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    vat_id: String,
    #[serde(flatten)]
    address: Address,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn save_contact(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<ContactForm>,
) -> Response {
    let (ctx, id, token) = match cart_form(&state, &shell, &headers, &form.csrf).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let input = Contact {
        email: form.email.clone(),
        shipping_address: Some(form.address.clone()),
        company: Some(form.company.clone()),
        vat_id: Some(form.vat_id.clone()),
    };
    let key = CartKey { id: &id, token: Some(&token) };
    match cart::set_contact(&state.app, &ctx, &key, input).await {
        Ok(_) => Redirect::to(&shell.href("/cart")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => {
                show_cart(&state, shell, &headers, StatusCode::UNPROCESSABLE_ENTITY, errors, Some(form)).await
            }
            Err(e) => {
                tracing::error!(error = %e, "cart contact failed");
                error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
            }
        },
    }
}

#[derive(Deserialize)]
pub struct ShippingForm {
    /// `method` or `method:point`.
    #[serde(default)]
    choice: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn choose_shipping(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<ShippingForm>,
) -> Response {
    let (ctx, id, token) = match cart_form(&state, &shell, &headers, &form.csrf).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let (method, point) = match form.choice.split_once(':') {
        Some((m, p)) => (m.to_string(), Some(p.to_string())),
        None => (form.choice.clone(), None),
    };
    let key = CartKey { id: &id, token: Some(&token) };
    let result = cart::set_shipping(&state.app, &ctx, &key, ShippingChoice { method, point }).await.map(|_| ());
    after(&state, shell, &headers, result).await
}

#[derive(Deserialize)]
pub struct CouponForm {
    #[serde(default)]
    code: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn enter_coupon(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<CouponForm>,
) -> Response {
    let (ctx, id, token) = match cart_form(&state, &shell, &headers, &form.csrf).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let key = CartKey { id: &id, token: Some(&token) };
    let result = cart::add_coupon(&state.app, &ctx, &key, &form.code).await.map(|_| ());
    after(&state, shell, &headers, result).await
}

async fn remove_coupon(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<CouponForm>,
) -> Response {
    let (ctx, id, token) = match cart_form(&state, &shell, &headers, &form.csrf).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let key = CartKey { id: &id, token: Some(&token) };
    let result = match cart::remove_coupon(&state.app, &ctx, &key, &form.code).await {
        Err(ServiceError::NotFound) | Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    after(&state, shell, &headers, result).await
}

#[derive(Deserialize)]
pub struct PlaceForm {
    #[serde(rename = "_key")]
    key: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn place(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<PlaceForm>,
) -> Response {
    let (ctx, id, token) = match cart_form(&state, &shell, &headers, &form.csrf).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    // A double click places one order: the form's key is the idempotency key.
    let key = CartKey { id: &id, token: Some(&token) };
    let idem = (!form.key.is_empty()).then(|| orders::checkout_request(form.key.clone(), &ctx, &key));
    let order: Order = match orders::checkout(&state.app, &ctx, &key, idem.as_ref()).await {
        Ok(Outcome::Fresh(o)) => o,
        Ok(Outcome::Replayed { body, .. }) => match serde_json::from_str(&body) {
            Ok(o) => o,
            Err(_) => return error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
        },
        Err(e) => return after(&state, shell, &headers, Err(e)).await,
    };
    let token = order.access_token.clone().unwrap_or_default();
    let set = [
        cookies::set(&headers, ORDER, &format!("{}.{token}", order.id), &shell.base, 30 * 24 * 3600, true),
        cookies::set(&headers, CART, "", &shell.base, 0, true),
    ];
    with_cookies(Redirect::to(&shell.href(&format!("/orders/{}", order.id))).into_response(), set)
}

#[derive(Template)]
#[template(path = "storefront/order.html")]
struct OrderPage {
    shell: Shell,
    order: Order,
    returns: Vec<Return>,
    /// Per returnable SKU, the other variants an exchange may send (SKU, options).
    swaps: std::collections::HashMap<String, Vec<(String, String)>>,
    csrf: String,
    errors: Vec<String>,
    payments: Vec<Payment>,
    /// What is left to pay, in the order's currency.
    left: Money,
    /// Idempotency key for the pay form (a double click pays once).
    pay_key: String,
    /// The signed-in buyer's store credit in the order's currency, if any.
    credit: Option<Money>,
    /// Its invoice and credit notes, to print or download.
    invoices: Vec<crate::services::invoices::Invoice>,
}

impl OrderPage {
    /// Whether the buyer can start a payment now.
    fn can_pay(&self) -> bool {
        self.order.status != crate::domain::orders::OrderStatus::Cancelled
            && self.left.amount > 0
            && !self
                .payments
                .iter()
                .any(|p| matches!(p.status, PaymentStatus::Processing | PaymentStatus::RequiresAction))
    }

    fn pay_status(&self, p: &Payment) -> &'static str {
        let key = match p.status {
            PaymentStatus::Processing => "pay.status.processing",
            PaymentStatus::RequiresAction => "pay.status.requires_action",
            PaymentStatus::Awaiting => "pay.status.awaiting",
            PaymentStatus::Authorized => "pay.status.authorized",
            PaymentStatus::PartiallyCaptured => "pay.status.partially_captured",
            PaymentStatus::Captured => "pay.status.captured",
            PaymentStatus::PartiallyRefunded => "pay.status.partially_refunded",
            PaymentStatus::Refunded => "pay.status.refunded",
            PaymentStatus::Voided => "pay.status.voided",
            PaymentStatus::Failed => "pay.status.failed",
        };
        crate::i18n::t(self.shell.lang, key)
    }

    fn method_name(&self, method: &str) -> &'static str {
        let key = match method {
            "test_card" => "pay.method.test_card",
            "bank_transfer" => "pay.method.bank_transfer",
            "cash_on_delivery" => "pay.method.cash_on_delivery",
            "invoice" => "pay.method.invoice",
            "gift_card" => "pay.method.gift_card",
            _ => "pay.method.store_credit",
        };
        crate::i18n::t(self.shell.lang, key)
    }

    fn paid_money(&self, p: &Payment) -> String {
        let currency = crate::domain::money::Currency::parse(&p.currency).unwrap_or(self.left.currency);
        format_money(self.shell.lang, Money::new(p.amounts.amount, currency))
    }

    /// The transfer reference an awaited payment should quote.
    fn reference(&self, p: &Payment) -> String {
        p.details.get("reference").and_then(|r| r.as_str()).unwrap_or("").to_string()
    }

    fn money(&self, m: &Money) -> String {
        format_money(self.shell.lang, *m)
    }

    fn status_text(&self) -> String {
        let key = match self.order.status.as_str() {
            "placed" => "order.status.placed",
            "confirmed" => "order.status.confirmed",
            "cancelled" => "order.status.cancelled",
            "partially_fulfilled" | "fulfilled" => "order.status.shipped",
            "completed" => "order.status.completed",
            _ => "order.status.on_hold",
        };
        crate::i18n::t(self.shell.lang, key).to_string()
    }

    fn has_digital(&self) -> bool {
        self.order.lines.iter().any(|l| l.kind == crate::domain::catalog::ProductKind::Digital)
    }

    /// Units of a line that may still be sent back.
    fn returnable(&self, l: &crate::services::orders::OrderLine) -> i64 {
        if l.kind.needs_shipping() { l.shipped - l.returned } else { 0 }
    }

    fn swaps_of(&self, sku: &str) -> &[(String, String)] {
        self.swaps.get(sku).map_or(&[], Vec::as_slice)
    }

    fn can_return(&self) -> bool {
        self.order.lines.iter().any(|l| self.returnable(l) > 0)
    }

    fn return_status(&self, r: &Return) -> &'static str {
        let key = match r.status {
            ReturnStatus::Requested => "return.status.requested",
            ReturnStatus::Approved => "return.status.approved",
            ReturnStatus::Rejected => "return.status.rejected",
            ReturnStatus::Received => "return.status.received",
            ReturnStatus::Cancelled => "return.status.cancelled",
        };
        crate::i18n::t(self.shell.lang, key)
    }
}

/// The order's token from the visitor's cookie (a guest's proof).
pub(super) fn order_token(headers: &HeaderMap, id: &str) -> Option<String> {
    cookies::values(headers, ORDER)
        .into_iter()
        .find_map(|v| v.split_once('.').filter(|(o, _)| *o == id).map(|(_, t)| t.to_string()))
}

pub(super) async fn show_order(
    state: &AppState,
    shell: Shell,
    headers: &HeaderMap,
    (id, via): (&str, Option<&str>),
    status: StatusCode,
    errors: Vec<String>,
) -> Response {
    let ctx = visitor(state, &shell, headers).await;
    let token = order_token(headers, id).or_else(|| via.and_then(|v| order_token(headers, v)));
    let loaded = async {
        let order = orders::get(&state.app, &ctx, id, token.as_deref()).await?;
        let returns = returns::of_order(&state.app, &ctx, id, token.as_deref()).await?;
        // Only a page with a return form offers other variants.
        let returnable = order.lines.iter().any(|l| l.kind.needs_shipping() && l.shipped > l.returned);
        let swaps =
            if returnable { returns::exchange_choices(&state.app, &ctx, &order).await? } else { Default::default() };
        let payments = payments::for_order(&state.app, &ctx, id, token.as_deref()).await?;
        let left = payments::left_to_pay(&state.app, &ctx.store.id, id, order.totals.total.amount).await?;
        let mine = order.customer_id.is_some() && ctx.actor.customer_id().ok() == order.customer_id.as_deref();
        let credit = if mine {
            let currency = order.totals.total.currency;
            crate::services::accounts::credit(&state.app, &ctx, None)
                .await?
                .into_iter()
                .find(|b| b.currency == currency.code() && b.balance > 0)
                .map(|b| Money::new(b.balance, currency))
        } else {
            None
        };
        let invoices = crate::services::invoices::of_order(&state.app, &ctx, id, token.as_deref()).await?;
        Ok::<_, ServiceError>((order, returns, swaps, payments, left, (credit, invoices)))
    }
    .await;
    match loaded {
        Ok((order, returns, swaps, payments, left, (credit, invoices))) => {
            let (csrf, set) = csrf_token(headers, &shell);
            let left = Money::new(left, order.totals.total.currency);
            let pay_key = new_csrf();
            let page =
                OrderPage { shell, order, returns, swaps, csrf, errors, payments, left, pay_key, credit, invoices };
            with_cookies(render(status, &page), set)
        }
        Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "order page failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// `via`: the order whose token opens this one (a replacement sent for
/// one of its returns).
#[derive(Debug, Default, serde::Deserialize)]
struct Via {
    via: Option<String>,
}

async fn order_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Via>,
) -> Response {
    show_order(&state, shell, &headers, (&id, q.via.as_deref()), StatusCode::OK, Vec::new()).await
}

/// The return form: a quantity per SKU (`qty:<sku>`), refund or exchange
/// (`resolution`), for an exchange the variant to send per SKU
/// (`swap:<sku>`, empty for the same), one reason, a comment.
async fn ask_return(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    if !csrf_ok(&headers, &get("_csrf")) {
        return refused(&shell);
    }
    let ctx = visitor(&state, &shell, &headers).await;
    let token = order_token(&headers, &id);
    let reason = ReturnReason::parse(&get("reason")).unwrap_or(ReturnReason::Other);
    let lines: Vec<ReturnLineInput> = form
        .iter()
        .filter_map(|(k, v)| {
            let sku = k.strip_prefix("qty:")?;
            let quantity = v.trim().parse::<i64>().unwrap_or(-1);
            let exchange_for = Some(get(&format!("swap:{sku}"))).filter(|s| !s.is_empty());
            (quantity != 0).then(|| ReturnLineInput { sku: sku.to_string(), quantity, reason, exchange_for })
        })
        .collect();
    let resolution = Resolution::parse(&get("resolution")).unwrap_or(Resolution::Refund);
    // A variant chosen while asking for a refund is ignored, not an error:
    // the form shows the choice either way.
    let lines = if resolution == Resolution::Exchange {
        lines
    } else {
        lines.into_iter().map(|l| ReturnLineInput { exchange_for: None, ..l }).collect()
    };
    let input = ReturnRequest { lines, resolution, comment: get("comment") };
    match returns::request(&state.app, &ctx, &id, token.as_deref(), input).await {
        Ok(_) => Redirect::to(&shell.href(&format!("/orders/{id}"))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => {
                show_order(&state, shell, &headers, (&id, None), StatusCode::UNPROCESSABLE_ENTITY, errors).await
            }
            Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
            Err(e) => {
                tracing::error!(error = %e, "return request failed");
                error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
            }
        },
    }
}
