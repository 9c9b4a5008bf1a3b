//! Admin order pages: the list with a status filter (`/admin/orders`) and
//! one order with its lines, totals, contact, history and the status moves
//! staff may make (`/admin/orders/{id}`), with its pick list, shipments
//! (ship, confirm delivery) and fulfilment of orders that ship nothing.
//! Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{back_or_show, failure, messages};
use super::shell::{Shell, render};
use crate::domain::money::Money;
use crate::domain::orders::{OrderStatus, PaymentStatus};
use crate::domain::payments::PaymentStatus as PayStatus;
use crate::domain::returns::{Condition, ReturnStatus};
use crate::http::state::AppState;
use crate::i18n::format_money;
use crate::services::ServiceError;
use crate::services::fulfilment::{self, PickList, ShipmentInput, ShipmentLineInput};
use crate::services::idempotency::IdempotencyRequest;
use crate::services::inventory::{self, Location};
use crate::services::invoices::{self, Invoice};
use crate::services::ledger::{self, JournalLine};
use crate::services::order_edits::{self, EditLine, OrderEdit};
use crate::services::orders::{self, NoteInput, Order, OrderSummary, StatusChange};
use crate::services::payments::{self, MoneyRequest, Payment};
use crate::services::returns::{self, ConditionInput, Decision, ReceiveInput, Return};
use crate::services::risk::{self, RiskView, Verdict};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orders", get(list))
        .route("/admin/orders/{id}", get(detail))
        .route("/admin/orders/{id}/status", post(change))
        .route("/admin/orders/{id}/notes", post(note))
        .route("/admin/orders/{id}/ship", post(ship))
        .route("/admin/orders/{id}/shipments/{shipment}/delivered", post(delivered))
        .route("/admin/orders/{id}/fulfil", post(fulfil))
        .route("/admin/orders/{id}/payment-received", post(payment_received))
        .route("/admin/orders/{id}/payments/{payment}/{action}", post(payment_action))
        .route("/admin/orders/{id}/invoice", post(issue_invoice))
        .route("/admin/orders/{id}/risk/{verdict}", post(risk_verdict))
        .route("/admin/invoices/{id}", get(invoice_page))
        .route("/admin/orders/{id}/downloads/renew", post(renew_links))
        .route("/admin/orders/{id}/edit", post(edit_order))
        .route("/admin/orders/{id}/returns/{rma}/decision", post(decide_return))
        .route("/admin/orders/{id}/returns/{rma}/receive", post(receive_return))
}

fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t).map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct ListPage {
    shell: Shell,
    csrf: String,
    orders: Vec<OrderSummary>,
    statuses: Vec<&'static str>,
    payment_statuses: Vec<&'static str>,
    status: String,
    payment_status: String,
    q: String,
    next: Option<String>,
}

impl ListPage {
    fn money(&self, m: &Money) -> String {
        format_money(self.shell.lang, *m)
    }

    fn when(&self, t: &i64) -> String {
        when(*t)
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    payment_status: Option<String>,
    q: Option<String>,
    before: Option<String>,
}

async fn list(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    let query = orders::OrderQuery {
        status: q.status.clone(),
        payment_status: q.payment_status.clone(),
        q: q.q.clone(),
        before: q.before.clone(),
        limit: Some(50),
    };
    match orders::list(&state.app, &s.ctx, &query).await {
        Ok(page) => render(
            StatusCode::OK,
            &ListPage {
                shell,
                csrf: s.csrf.clone(),
                orders: page.items,
                statuses: OrderStatus::ALL.iter().map(|s| s.as_str()).collect(),
                payment_statuses: PaymentStatus::ALL.iter().map(|s| s.as_str()).collect(),
                status: q.status.unwrap_or_default(),
                payment_status: q.payment_status.unwrap_or_default(),
                q: q.q.unwrap_or_default(),
                next: page.next,
            },
        ),
        Err(e) => failure(&shell, e),
    }
}

#[derive(Template)]
#[template(path = "admin/order.html")]
struct DetailPage {
    shell: Shell,
    csrf: String,
    order: Order,
    /// Moves staff may make from here.
    moves: Vec<&'static str>,
    /// What to pick where, while the order can ship.
    pick: Option<PickList>,
    locations: Vec<Location>,
    /// Idempotency keys for the shipment and edit forms.
    ship_key: String,
    edit_key: String,
    pay_key: String,
    returns: Vec<Return>,
    errors: Vec<String>,
    /// The order's payments with their timelines (with `payments.read`).
    payments: Vec<Payment>,
    invoices: Vec<Invoice>,
    /// The order's journal lines (with `ledger.read`).
    journal: Vec<JournalLine>,
    /// Risk assessments of its payment attempts (with `payments.read`).
    risk: Vec<RiskView>,
}

impl DetailPage {
    fn minor(&self, amount: &i64) -> String {
        format_money(self.shell.lang, Money::new(*amount, self.order.totals.total.currency))
    }

    fn can_capture(&self, p: &Payment) -> bool {
        matches!(p.status, PayStatus::Authorized | PayStatus::PartiallyCaptured | PayStatus::Awaiting)
    }

    fn can_refund(&self, p: &Payment) -> bool {
        p.amounts.captured > p.amounts.refunded
    }

    fn can_void(&self, p: &Payment) -> bool {
        matches!(p.status, PayStatus::Authorized | PayStatus::Awaiting | PayStatus::RequiresAction)
    }

    fn review_pending(&self) -> bool {
        self.risk.iter().any(|r| r.review == "pending")
    }

    fn has_invoice(&self) -> bool {
        self.invoices.iter().any(|i| i.document.kind == crate::domain::invoices::InvoiceKind::Invoice)
    }

    fn money(&self, m: &Money) -> String {
        format_money(self.shell.lang, *m)
    }

    fn when(&self, t: &i64) -> String {
        when(*t)
    }

    /// Units of a line still to ship.
    fn outstanding(&self, l: &crate::services::orders::OrderLine) -> i64 {
        if l.kind.needs_shipping() { l.quantity - l.shipped } else { 0 }
    }

    /// Whether the order may still be edited (nothing shipped, not closed).
    fn editable(&self) -> bool {
        matches!(self.order.status, OrderStatus::Placed | OrderStatus::Confirmed | OrderStatus::OnHold)
            && self.order.lines.iter().all(|l| l.shipped == 0)
    }

    fn ships_anything(&self) -> bool {
        self.order.lines.iter().any(|l| l.kind.needs_shipping())
    }
}

/// The statuses an order may be moved to by hand from `status`.
fn moves(order: &Order) -> Vec<&'static str> {
    let held =
        order.history.iter().rev().find(|h| h.kind == "status" && h.to == OrderStatus::OnHold).and_then(|h| h.from);
    [OrderStatus::Confirmed, OrderStatus::OnHold, OrderStatus::Completed, OrderStatus::Cancelled, OrderStatus::Placed]
        .into_iter()
        .filter(|to| crate::domain::orders::transition(order.status, *to, held).is_ok())
        .map(|s| s.as_str())
        .collect()
}

async fn show(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    id: &str,
    errors: Vec<String>,
) -> Response {
    let app = &state.app;
    let loaded = async {
        let order = orders::get(app, &s.ctx, id, None).await?;
        let can_ship = matches!(order.status, OrderStatus::Confirmed | OrderStatus::PartiallyFulfilled);
        let pick = if can_ship { Some(fulfilment::pick_list(app, &s.ctx, id).await?) } else { None };
        let returns = returns::of_order(app, &s.ctx, id, None).await?;
        // Parts the member may not see are left out rather than refused.
        let payments = allowed(payments::for_order(app, &s.ctx, id, None).await)?;
        let invoices = allowed(invoices::of_order(app, &s.ctx, id, None).await)?;
        let journal = allowed(ledger::entries_for(app, &s.ctx, id).await)?;
        let risk = allowed(risk::for_order(app, &s.ctx, id).await)?;
        let wants_location = can_ship || returns.iter().any(|r| r.status == ReturnStatus::Approved);
        let locations =
            if wants_location { inventory::locations(app, &s.ctx).await.unwrap_or_default() } else { Vec::new() };
        Ok::<_, ServiceError>((order, pick, locations, returns, (payments, invoices, journal, risk)))
    }
    .await;
    match loaded {
        Ok((order, pick, locations, returns, (payments, invoices, journal, risk))) => {
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::CONFLICT };
            let moves = moves(&order);
            let page = DetailPage {
                shell,
                csrf: s.csrf.clone(),
                order,
                moves,
                pick,
                locations,
                ship_key: crate::domain::ids::new_id("key"),
                edit_key: crate::domain::ids::new_id("key"),
                pay_key: crate::domain::ids::new_id("key"),
                returns,
                errors,
                payments,
                invoices,
                journal,
                risk,
            };
            render(status, &page)
        }
        Err(e) => failure(&shell, e),
    }
}

async fn detail(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, &id, Vec::new()).await
}

async fn change(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let Some(status) = OrderStatus::parse(&form.get("status")) else {
        return show(&state, shell, &s, &id, vec!["status: choose a status".into()]).await;
    };
    match orders::change_status(&state.app, &s.ctx, &id, StatusChange { status, note: form.get("note") }).await {
        Ok(_) => Redirect::to(&shell.href(&format!("/admin/orders/{id}"))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, &id, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn note(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match orders::add_note(&state.app, &s.ctx, &id, NoteInput { note: form.get("note") }).await {
        Ok(_) => Redirect::to(&shell.href(&format!("/admin/orders/{id}"))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, &id, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

/// Back to the order after a change, or the order with the refusal's messages.
async fn after<T>(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    id: &str,
    r: Result<T, ServiceError>,
) -> Response {
    back_or_show(shell, &format!("/admin/orders/{id}"), r, |shell, errors| show(state, shell, s, id, errors)).await
}

/// The shipment form: a location, carrier and tracking number, and a
/// quantity per SKU (`qty:<sku>`); its key makes a double submit ship once.
async fn ship(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let lines: Vec<ShipmentLineInput> = form
        .pairs()
        .iter()
        .filter_map(|(k, v)| {
            let sku = k.strip_prefix("qty:")?;
            let quantity = v.trim().parse::<i64>().unwrap_or(-1);
            (quantity != 0).then(|| ShipmentLineInput { sku: sku.to_string(), quantity })
        })
        .collect();
    let input = ShipmentInput {
        location: form.get("location"),
        carrier: "manual".into(),
        tracking_number: form.get("tracking_number"),
        lines: Some(lines),
    };
    let key = form.get("_key");
    let idem = (!key.is_empty()).then(|| IdempotencyRequest::new(key, &format!("orders.ship:{id}"), &input));
    let result = fulfilment::ship(&state.app, &s.ctx, &id, input, idem.as_ref()).await;
    after(&state, shell, &s, &id, result).await
}

async fn delivered(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, shipment)): Path<(String, String)>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = fulfilment::deliver(&state.app, &s.ctx, &id, &shipment).await;
    after(&state, shell, &s, &id, result).await
}

async fn fulfil(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = fulfilment::fulfil_without_shipping(&state.app, &s.ctx, &id).await;
    after(&state, shell, &s, &id, result).await
}

/// Staff record money that arrived outside Oxcart; the key makes a double
/// submit record it once.
async fn payment_received(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = crate::services::order_payment::PaymentReceived { reference: form.get("reference") };
    let key = form.get("_key");
    let idem =
        (!key.is_empty()).then(|| IdempotencyRequest::new(key, &format!("orders.payment_received:{id}"), &input));
    let result = crate::services::order_payment::record(&state.app, &s.ctx, &id, input, idem.as_ref()).await;
    after(&state, shell, &s, &id, result).await
}

async fn renew_links(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = crate::services::digital::renew_links(&state.app, &s.ctx, &id).await;
    after(&state, shell, &s, &id, result).await
}

async fn decide_return(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, rma)): Path<(String, String)>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let status = match form.get("status").as_str() {
        "approved" => ReturnStatus::Approved,
        "rejected" => ReturnStatus::Rejected,
        _ => ReturnStatus::Cancelled,
    };
    let result = returns::decide(&state.app, &s.ctx, &rma, Decision { status, note: form.get("note") }).await;
    after(&state, shell, &s, &id, result).await
}

/// Receipt with inspection: SKUs ticked `damaged:<sku>` are written off.
async fn receive_return(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, rma)): Path<(String, String)>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let conditions = form
        .pairs()
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("damaged:"))
        .map(|sku| ConditionInput { sku: sku.to_string(), condition: Condition::Damaged })
        .collect();
    let input = ReceiveInput { location: form.get("location"), conditions };
    let result = returns::receive(&state.app, &s.ctx, &rma, input).await;
    after(&state, shell, &s, &id, result).await
}

/// A list the member may not read is shown empty.
fn allowed<T>(r: Result<Vec<T>, ServiceError>) -> Result<Vec<T>, ServiceError> {
    match r {
        Err(ServiceError::Forbidden(_)) => Ok(Vec::new()),
        other => other,
    }
}

/// Capture, refund (`amount` as a decimal, all that is left when empty) or
/// void a payment; the form's key makes a double submit act once.
async fn payment_action(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, payment, action)): Path<(String, String, String)>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let app = &state.app;
    let order = match orders::get(app, &s.ctx, &id, None).await {
        Ok(o) => o,
        Err(e) => return failure(&shell, e),
    };
    let text = form.get("amount");
    let amount = match text.trim() {
        "" => None,
        t => match Money::parse(t, order.totals.total.currency) {
            Ok(m) => Some(m.amount),
            Err(e) => return show(&state, shell, &s, &id, vec![format!("amount: {e}")]).await,
        },
    };
    let input = MoneyRequest { amount, note: form.get("note") };
    let key = form.get("_key");
    let idem = (!key.is_empty()).then(|| IdempotencyRequest::new(key, &format!("payments.{action}:{payment}"), &input));
    let result = match action.as_str() {
        "capture" => payments::capture(app, &s.ctx, &payment, input, idem.as_ref()).await,
        "refund" => payments::refund(app, &s.ctx, &payment, input, idem.as_ref()).await,
        "void" => payments::void(app, &s.ctx, &payment, input, idem.as_ref()).await,
        _ => return failure(&shell, ServiceError::NotFound),
    };
    after(&state, shell, &s, &id, result.map(|_| ())).await
}

/// Staff's verdict on an order held for a risk review: `approve`, or
/// `reject` (with `block` ticked to block the buyer).
async fn risk_verdict(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path((id, verdict)): Path<(String, String)>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = Verdict { note: form.get("note"), block: !form.get("block").is_empty() };
    let result = match verdict.as_str() {
        "approve" => risk::approve(&state.app, &s.ctx, &id, input).await,
        "reject" => risk::reject(&state.app, &s.ctx, &id, input).await,
        _ => return failure(&shell, ServiceError::NotFound),
    };
    after(&state, shell, &s, &id, result).await
}

async fn issue_invoice(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = invoices::issue(&state.app, &s.ctx, &id).await;
    after(&state, shell, &s, &id, result.map(|_| ())).await
}

/// An invoice or credit note as its printable page.
async fn invoice_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    if let Some(bare) = id.strip_suffix(".pdf") {
        return match invoices::pdf(&state.app, &s.ctx, bare, None).await {
            Ok(bytes) => super::pay::pdf_response(bare, bytes),
            Err(e) => failure(&shell, e),
        };
    }
    match invoices::html(&state.app, &s.ctx, &id, None).await {
        Ok(html) => ([(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => failure(&shell, e),
    }
}

/// The edit form: a quantity per SKU (`qty:<sku>`), and one SKU to add.
async fn edit_order(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let mut lines: Vec<EditLine> = form
        .pairs()
        .iter()
        .filter_map(|(k, v)| {
            let sku = k.strip_prefix("qty:")?;
            Some(EditLine { sku: sku.to_string(), quantity: v.trim().parse().unwrap_or(-1) })
        })
        .collect();
    let add = form.get("add_sku").trim().to_string();
    if !add.is_empty() {
        lines.push(EditLine { sku: add, quantity: form.get("add_quantity").trim().parse().unwrap_or(1) });
    }
    let key = form.get("_key");
    let input = OrderEdit { lines, shipping_address: None, note: form.get("note") };
    let idem = (!key.is_empty()).then(|| IdempotencyRequest::new(key, &format!("orders.edit:{id}"), &input));
    let result = order_edits::edit(&state.app, &s.ctx, &id, input, idem.as_ref()).await;
    after(&state, shell, &s, &id, result).await
}
