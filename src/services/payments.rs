//! Taking payment for orders: a buyer pays (card, transfer, cash on
//! delivery, invoice), completes a card challenge when asked, and staff
//! capture, void and refund. Every provider call happens between two
//! transactions: the first records the operation as pending and reserves
//! its amount, the second settles it with the ledger posting, the order's
//! payment status and the events. A crash or time-out in between leaves a
//! pending operation that a retry with the same `Idempotency-Key` completes
//! (the provider gets the same key, so it does the work once).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::actor::{Actor, Ctx, Permission};
use super::cart::hash_secret;
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::orders::apply_move;
use super::{App, Outcome, ServiceError, ServiceResult, audit, ledger, now_ms, outbox};
use crate::db::Tx;
use crate::db::orders::{self as order_sql, HistoryRow, OrderRow};
use crate::db::payments::{self as sql, GateMove, OperationRow, PaymentRow};
use crate::domain::ids;
use crate::domain::ledger as books;
use crate::domain::money::Currency;
use crate::domain::orders::{OrderStatus, PaymentStatus as OrderPaymentStatus};
use crate::domain::payments::{self as rules, Amounts, Gate, PaymentStatus};
use crate::domain::risk::Decision;
use crate::domain::validation::FieldErrors;
use crate::providers::payment::{Authorization, Authorize, Card, PaymentProvider, ProviderError, Providers};

pub const PAYMENT: &str = "pay";
pub const OPERATION: &str = "pop";

/// What a buyer (or staff taking a payment) sends.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// `test_card`, `bank_transfer`, `cash_on_delivery` or `invoice`.
    pub method: String,
    /// Minor units; by default what the order still owes.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Card details, for card methods only. Passed to the processor and
    /// never stored.
    #[serde(default)]
    pub card: Option<Card>,
    /// The gift card's code, for `gift_card`.
    #[serde(default)]
    pub gift_card_code: Option<String>,
    /// The billing address's country (ISO 3166 code), for the risk checks.
    #[serde(default)]
    pub billing_country: Option<String>,
}

/// What identifies a payment request for `Idempotency-Key` purposes: no
/// card number (only its last digits and expiry).
#[derive(Serialize)]
struct RequestFingerprint<'a> {
    order: &'a str,
    method: &'a str,
    amount: Option<i64>,
    card: Option<(String, u32, u32)>,
    gift_card: Option<String>,
    billing_country: Option<&'a str>,
}

/// A step the buyer must take before the payment can go on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextAction {
    /// `challenge`: answer the card issuer's step-up challenge.
    pub kind: &'static str,
    /// Where to send the answer (`POST {"approve": true|false}`).
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperationView {
    pub id: String,
    /// authorize, capture, void, refund.
    pub kind: String,
    pub amount: i64,
    /// pending, succeeded, failed.
    pub status: String,
    pub failure_code: String,
    pub note: String,
    pub actor: String,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: String,
    pub order_id: String,
    pub method: String,
    pub status: PaymentStatus,
    pub currency: String,
    #[serde(flatten)]
    pub amounts: Amounts,
    /// Card brand, last four digits and expiry; transfer reference and
    /// instructions; the decline reason.
    #[schema(value_type = Object)]
    pub details: Value,
    pub next_action: Option<NextAction>,
    /// The timeline, oldest first (staff only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<OperationView>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn amounts(p: &PaymentRow) -> Amounts {
    Amounts {
        amount: p.amount,
        captured: p.captured,
        refunded: p.refunded,
        pending_capture: p.pending_capture,
        pending_refund: p.pending_refund,
    }
}

pub(super) fn gate(p: &PaymentRow) -> Gate {
    Gate::parse(&p.gate).unwrap_or(Gate::Failed)
}

fn view(p: PaymentRow, ops: Vec<OperationRow>) -> Payment {
    let status = rules::status(gate(&p), &amounts(&p));
    let next_action = (status == PaymentStatus::RequiresAction)
        .then(|| NextAction { kind: "challenge", url: format!("/api/v1/payments/{}/challenge", p.id) });
    Payment {
        status,
        amounts: amounts(&p),
        details: serde_json::from_str(&p.details).unwrap_or(Value::Null),
        next_action,
        operations: ops
            .into_iter()
            .map(|o| OperationView {
                id: o.id,
                kind: o.kind,
                amount: o.amount,
                status: o.status,
                failure_code: o.failure_code,
                note: o.note,
                actor: o.actor,
                created_at: o.created_at,
                settled_at: o.settled_at,
            })
            .collect(),
        id: p.id,
        order_id: p.order_id,
        method: p.provider,
        currency: p.currency,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

fn conflict(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Conflict { code, message: message.into() }
}

fn refused(r: rules::Refused) -> ServiceError {
    ServiceError::Conflict { code: r.code, message: r.message }
}

/// Who may pay an order: its customer, a guest holding its token, or staff
/// allowed to manage payments. Anyone else is told it does not exist.
async fn payable_order(app: &App, ctx: &Ctx, order_id: &str, token: Option<&str>) -> ServiceResult<OrderRow> {
    let row = order_sql::by_id(app.db.pool(), &ctx.store.id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let allowed = match &ctx.actor {
        Actor::Customer { id } => row.customer_id.as_deref() == Some(id),
        Actor::Staff { .. } | Actor::Token { .. } => {
            ctx.actor.require(Permission::PaymentsManage)?;
            true
        }
        Actor::Anonymous => false,
    } || token.is_some_and(|t| hash_secret(t) == row.access_hash);
    if allowed { Ok(row) } else { Err(ServiceError::NotFound) }
}

/// The idempotency principal: a guest is known by the order it pays.
fn principal(ctx: &Ctx, order_id: &str) -> String {
    match ctx.actor {
        Actor::Anonymous => format!("order:{order_id}"),
        _ => ctx.actor.principal(),
    }
}

/// The key an operation is found by on retry: the caller's key, scoped.
fn request_key(principal: &str, idem: Option<&IdempotencyRequest>) -> Option<String> {
    idem.map(|r| hex::encode(Sha256::digest(format!("{principal}\n{}", r.key).as_bytes())))
}

/// The request's fingerprint for `Idempotency-Key` (no card number).
pub fn payment_request(key: String, order_id: &str, input: &PaymentRequest) -> IdempotencyRequest {
    let fp = RequestFingerprint {
        order: order_id,
        method: &input.method,
        amount: input.amount,
        card: input.card.as_ref().map(|c| (c.last4(), c.exp_month, c.exp_year)),
        gift_card: input.gift_card_code.as_deref().map(|c| super::accounts::code_hash(order_id, c)),
        billing_country: input.billing_country.as_deref(),
    };
    IdempotencyRequest::new(key, "payments.create", &fp)
}

fn provider<'a>(app: &'a App, code: &str) -> ServiceResult<&'a dyn PaymentProvider> {
    app.payments.by_code(code).ok_or_else(|| ServiceError::Internal(format!("unknown payment provider {code}")))
}

/// What an order of `total` still needs: its total less what its live
/// payments hold or took (failed ones hold nothing; a released one keeps
/// only what it captured).
fn left_of(total: i64, payments: &[PaymentRow]) -> i64 {
    let held: i64 = payments
        .iter()
        .map(|p| match gate(p) {
            Gate::Failed => 0,
            Gate::Closed => p.captured - p.refunded,
            _ => p.amount - p.refunded,
        })
        .sum();
    (total - held).max(0)
}

/// What an order still needs to be paid (for the storefront's pay form).
pub async fn left_to_pay(app: &App, store_id: &str, order_id: &str, total: i64) -> ServiceResult<i64> {
    Ok(left_of(total, &sql::for_order(app.db.pool(), store_id, order_id).await?))
}

/// The ledger party of an order: its customer, or the order for a guest.
pub fn party_of(order: &OrderRow) -> String {
    order.customer_id.clone().unwrap_or_else(|| order.id.clone())
}

/// Starts a payment for an order (201 when the provider answered, 202
/// while it has not). Accepts `Idempotency-Key`.
pub async fn pay(
    app: &App,
    ctx: &Ctx,
    order_id: &str,
    token: Option<&str>,
    input: PaymentRequest,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let order = payable_order(app, ctx, order_id, token).await?;
    let store_id = &ctx.store.id;
    let principal = principal(ctx, order_id);
    let mut errs = FieldErrors::default();
    let provider = match app.payments.by_code(&input.method) {
        Some(p) => Some(p),
        None => {
            let known = app.payments.codes().join(", ");
            errs.add("method", "unknown_method", format!("method must be one of {known}"));
            None
        }
    };
    if let Some(p) = provider {
        match (&input.card, p.takes_cards()) {
            (None, true) => errs.add("card", "required", "card details are required for this method"),
            (Some(_), false) => errs.add("card", "not_allowed", "this method takes no card"),
            (Some(card), true) => check_card(card, &mut errs),
            (None, false) => {}
        }
    }
    if input.amount.is_some_and(|a| a <= 0) {
        errs.add("amount", "invalid_amount", "amount must be more than zero");
    }
    match (input.method.as_str(), &input.gift_card_code) {
        ("gift_card", None) => errs.add("gift_card_code", "required", "the gift card's code is required"),
        ("gift_card", Some(_)) | (_, None) => {}
        (_, Some(_)) => errs.add("gift_card_code", "not_allowed", "only the gift_card method takes a code"),
    }
    if input.billing_country.as_deref().is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic())) {
        errs.add("billing_country", "invalid_country", "billing_country must be a two-letter ISO code");
    }
    if input.method == "store_credit" && order.customer_id.is_none() {
        errs.add("method", "not_allowed", "store credit pays only a signed-in customer's order");
    }
    errs.finish(())?;
    let provider = provider.ok_or(ServiceError::NotFound)?;
    if Providers::is_balance(provider.code()) {
        return pay_from_balance(app, ctx, &principal, order_id, &input, idem).await;
    }
    let currency = Currency::parse(&order.currency).unwrap_or(Currency::EUR);
    let key = request_key(&principal, idem);
    let billing_country = input.billing_country.as_deref().map(str::to_uppercase);
    let risk = super::risk::prepare(app, ctx, &order, input.card.as_ref(), billing_country.as_deref()).await?;

    // Step 1: record the payment and its pending authorisation.
    let mut tx = app.db.begin_in_place().await?;
    match idempotency::claim_as(app, &mut tx, store_id, &principal, idem).await {
        Ok(Begin::Proceed) => {}
        Ok(Begin::Replay { status, body }) => return Ok(Outcome::Replayed { status, body }),
        Err(ServiceError::IdempotencyInFlight) => {
            drop(tx);
            return resume(app, ctx, &principal, key.as_deref(), idem, input.card.as_ref()).await;
        }
        Err(e) => return Err(e),
    }
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    if order.status == OrderStatus::Cancelled.as_str() {
        return Err(conflict("order_cancelled", "a cancelled order takes no payment"));
    }
    let existing = sql::for_order_in(&mut tx, store_id, order_id).await?;
    if existing.iter().any(|p| matches!(gate(p), Gate::Processing)) {
        return Err(conflict("payment_processing", "another payment for this order is still being processed"));
    }
    let owed = left_of(order.total, &existing);
    let amount = input.amount.unwrap_or(owed);
    if amount == 0 || amount > owed {
        return Err(conflict(
            "exceeds_outstanding",
            format!("the order has {owed} left to pay in {}; this payment asks {amount}", order.currency),
        ));
    }
    let now = now_ms();
    let payment_id = ids::new_id(PAYMENT);
    let attempt = super::risk::Attempt {
        payment_id: &payment_id,
        method: provider.code(),
        amount,
        billing_country: billing_country.as_deref(),
    };
    let risk = super::risk::assess(app, &mut tx, ctx, &order, risk, attempt).await?;
    let denied = risk.decision == Decision::Deny;
    let payment = PaymentRow {
        id: payment_id,
        order_id: order_id.to_string(),
        provider: provider.code().to_string(),
        provider_ref: String::new(),
        gate: if denied { Gate::Failed } else { Gate::Processing }.as_str().into(),
        currency: currency.code().into(),
        amount,
        captured: 0,
        refunded: 0,
        pending_capture: 0,
        pending_refund: 0,
        details: "{}".into(),
        party: party_of(&order),
        created_at: now,
        updated_at: now,
    };
    if denied {
        // Refused before any provider sees it: a failed payment, so the
        // buyer hears why and a retry with the same key gets the same.
        let payment = PaymentRow {
            details: json!({ "decline_code": "risk_denied",
                             "decline_message": "the payment was refused by the store's fraud checks" })
            .to_string(),
            ..payment
        };
        sql::insert(&mut tx, store_id, &payment).await?;
        let op = OperationRow {
            status: "failed".into(),
            failure_code: "risk_denied".into(),
            settled_at: Some(now),
            ..new_operation(&payment.id, "authorize", amount, key, &ctx.actor.principal(), "")
        };
        sql::insert_operation(&mut tx, store_id, &op).await?;
        emit(&mut tx, store_id, "payment.failed", &payment).await?;
        let answer = finish(app, &mut tx, store_id, &principal, idem, 402, &payment.id).await?;
        tx.commit().await?;
        app.wake_outbox();
        return Ok(Outcome::Fresh((402, answer)));
    }
    sql::insert(&mut tx, store_id, &payment).await?;
    let op = new_operation(&payment.id, "authorize", amount, key, &ctx.actor.principal(), "");
    sql::insert_operation(&mut tx, store_id, &op).await?;
    tx.commit().await?;

    // Step 2: ask the provider; step 3: settle.
    let answer = provider
        .authorize(Authorize {
            key: &op.id,
            amount,
            currency,
            reference: &order.number.to_string(),
            card: input.card.as_ref(),
        })
        .await;
    settle_authorization(app, ctx, &principal, idem, &payment.id, &op, provider, answer).await
}

/// Pays from a balance the store keeps (a gift card, the customer's store
/// credit) in one transaction: the balance is spent by a conditional
/// update, so concurrent payments can never spend more than it holds.
async fn pay_from_balance(
    app: &App,
    ctx: &Ctx,
    principal: &str,
    order_id: &str,
    input: &PaymentRequest,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let store_id = &ctx.store.id;
    let card = match &input.gift_card_code {
        Some(code) => Some(super::accounts::find_card(app, store_id, code).await.map_err(|e| match e {
            ServiceError::NotFound => conflict("unknown_gift_card", "no gift card has this code"),
            other => other,
        })?),
        None => None,
    };
    let mut tx = app.db.begin_in_place().await?;
    match idempotency::claim_as(app, &mut tx, store_id, principal, idem).await? {
        Begin::Proceed => {}
        Begin::Replay { status, body } => return Ok(Outcome::Replayed { status, body }),
    }
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    if order.status == OrderStatus::Cancelled.as_str() {
        return Err(conflict("order_cancelled", "a cancelled order takes no payment"));
    }
    let existing = sql::for_order_in(&mut tx, store_id, order_id).await?;
    let owed = left_of(order.total, &existing);
    let now = now_ms();
    let (holder, available) = match &card {
        Some(c) => {
            if c.currency != order.currency {
                return Err(conflict(
                    "currency_mismatch",
                    format!("the gift card is in {}, the order in {}", c.currency, order.currency),
                ));
            }
            if c.disabled || c.expires_at.is_some_and(|t| t <= now) {
                return Err(conflict("gift_card_expired", "the gift card has expired"));
            }
            (c.id.clone(), c.balance)
        }
        None => {
            let customer = order.customer_id.clone().ok_or(ServiceError::NotFound)?;
            let balances = crate::db::accounts::credit_in(&mut tx, store_id, &customer).await?;
            let available = balances.iter().find(|(c, _)| *c == order.currency).map_or(0, |(_, b)| *b);
            (customer, available)
        }
    };
    let amount = input.amount.unwrap_or(owed.min(available));
    if amount == 0 || amount > owed {
        return Err(conflict(
            "exceeds_outstanding",
            format!("the order has {owed} left to pay in {}; this payment asks {amount}", order.currency),
        ));
    }
    let spent = match &card {
        Some(c) => crate::db::accounts::spend_gift_card(&mut tx, store_id, &c.id, amount, now).await?,
        None => crate::db::accounts::spend_credit(&mut tx, store_id, &holder, &order.currency, amount, now).await?,
    };
    if !spent {
        return Err(conflict("insufficient_balance", format!("the balance does not cover {amount}")));
    }
    let details = match &card {
        Some(c) => json!({ "gift_card_id": c.id, "last4": c.last4 }),
        None => json!({}),
    };
    let payment = PaymentRow {
        id: ids::new_id(PAYMENT),
        order_id: order_id.to_string(),
        provider: input.method.clone(),
        provider_ref: holder,
        gate: Gate::Open.as_str().into(),
        currency: order.currency.clone(),
        amount,
        captured: 0,
        refunded: 0,
        pending_capture: 0,
        pending_refund: 0,
        details: details.to_string(),
        party: party_of(&order),
        created_at: now,
        updated_at: now,
    };
    sql::insert(&mut tx, store_id, &payment).await?;
    let authorize = OperationRow {
        status: "succeeded".into(),
        settled_at: Some(now),
        ..new_operation(&payment.id, "authorize", amount, request_key(principal, idem), &ctx.actor.principal(), "")
    };
    sql::insert_operation(&mut tx, store_id, &authorize).await?;
    captured_in(&mut tx, store_id, &payment, amount, &ctx.actor.principal(), "spent from balance").await?;
    sync_order(app, &mut tx, ctx, order_id).await?;
    let answer = finish(app, &mut tx, store_id, principal, idem, 201, &payment.id).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    Ok(Outcome::Fresh((201, answer)))
}

/// The card checks a buyer should hear about before anything is recorded.
fn check_card(card: &Card, errs: &mut FieldErrors) {
    if !rules::luhn_valid(&card.digits()) {
        errs.add("card.number", "invalid_card_number", "the card number is not valid");
    }
    if !(1..=12).contains(&card.exp_month) || !(2000..=2100).contains(&card.exp_year) {
        errs.add("card.exp_month", "invalid_expiry", "the expiry date is not valid");
    }
    if !(3..=4).contains(&card.cvc.len()) || !card.cvc.bytes().all(|b| b.is_ascii_digit()) {
        errs.add("card.cvc", "invalid_cvc", "the security code must be 3 or 4 digits");
    }
    if card.holder.chars().count() > 200 {
        errs.add("card.holder", "too_long", "the holder's name must be at most 200 characters");
    }
}

fn new_operation(
    payment_id: &str,
    kind: &str,
    amount: i64,
    request_key: Option<String>,
    actor: &str,
    note: &str,
) -> OperationRow {
    OperationRow {
        id: ids::new_id(OPERATION),
        payment_id: payment_id.to_string(),
        kind: kind.to_string(),
        amount,
        status: "pending".into(),
        request_key,
        failure_code: String::new(),
        note: note.to_string(),
        actor: actor.to_string(),
        created_at: now_ms(),
        settled_at: None,
    }
}

/// A retry of a request whose operation is still pending (the provider
/// did not answer, or the process stopped): asks the provider again with
/// the same key and settles.
async fn resume(
    app: &App,
    ctx: &Ctx,
    principal: &str,
    key: Option<&str>,
    idem: Option<&IdempotencyRequest>,
    card: Option<&Card>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin_in_place().await?;
    let op = match key {
        Some(k) => sql::operation_by_key(&mut tx, store_id, k).await?,
        None => None,
    };
    let Some(op) = op.filter(|o| o.status == "pending") else {
        return Err(ServiceError::IdempotencyInFlight);
    };
    let payment = sql::by_id(&mut tx, store_id, &op.payment_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut tx, store_id, &payment.order_id).await?.ok_or(ServiceError::NotFound)?;
    drop(tx);
    let provider = provider(app, &payment.provider)?;
    let currency = Currency::parse(&payment.currency).unwrap_or(Currency::EUR);
    match op.kind.as_str() {
        "authorize" => {
            let answer = provider
                .authorize(Authorize {
                    key: &op.id,
                    amount: op.amount,
                    currency,
                    reference: &order.number.to_string(),
                    card,
                })
                .await;
            settle_authorization(app, ctx, principal, idem, &payment.id, &op, provider, answer).await
        }
        "capture" => {
            let answer = provider.capture(&op.id, &payment.provider_ref, op.amount).await;
            settle_money(app, ctx, principal, idem, &payment.id, &op, answer).await
        }
        "refund" => {
            let answer = provider.refund(&op.id, &payment.provider_ref, op.amount).await;
            settle_money(app, ctx, principal, idem, &payment.id, &op, answer).await
        }
        _ => Err(ServiceError::IdempotencyInFlight),
    }
}

/// Records the provider's answer to an authorisation, and captures at once
/// when the store captures on order.
#[allow(clippy::too_many_arguments)]
async fn settle_authorization(
    app: &App,
    ctx: &Ctx,
    principal: &str,
    idem: Option<&IdempotencyRequest>,
    payment_id: &str,
    op: &OperationRow,
    provider: &dyn PaymentProvider,
    answer: Result<Authorization, ProviderError>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let store_id = &ctx.store.id;
    let answer = match answer {
        Err(ProviderError::Timeout) => {
            // Nothing is known yet: the operation stays pending for a retry.
            return Ok(Outcome::Fresh((202, current(app, store_id, payment_id).await?)));
        }
        Err(ProviderError::Invalid { code, message } | ProviderError::Refused { code, message }) => {
            Authorization::Declined { code, message, details: json!({}) }
        }
        Ok(a) => a,
    };
    // Capture on order: the funds are taken as soon as they are held,
    // unless the order is on hold (a risk review, or staff paused it).
    let capture_now = matches!(answer, Authorization::Authorized { .. })
        && provider.holds_funds()
        && app.config.payments.capture_on_order
        && capture_allowed(app, store_id, payment_id).await;
    let captured = match (&answer, capture_now) {
        (Authorization::Authorized { provider_ref, .. }, true) => {
            provider.capture(&format!("{}.capture", op.id), provider_ref, op.amount).await.is_ok()
        }
        _ => false,
    };
    let now = now_ms();
    let mut tx = app.db.begin_in_place().await?;
    if !sql::settle_operation(&mut tx, store_id, &op.id, op_status(&answer), decline_code(&answer), "", now).await? {
        // A concurrent retry settled it first.
        drop(tx);
        return Ok(Outcome::Fresh((200, current(app, store_id, payment_id).await?)));
    }
    let (to, provider_ref, details) = match &answer {
        Authorization::Authorized { provider_ref, details } => (Gate::Open, provider_ref.as_str(), details.clone()),
        Authorization::RequiresAction { provider_ref, details } => {
            (Gate::RequiresAction, provider_ref.as_str(), details.clone())
        }
        Authorization::Awaiting { provider_ref, details } => (Gate::Awaiting, provider_ref.as_str(), details.clone()),
        Authorization::Pending { provider_ref, details } => (Gate::Processing, provider_ref.as_str(), details.clone()),
        Authorization::Declined { code, message, details } => {
            let mut d = details.clone();
            d["decline_code"] = json!(code);
            d["decline_message"] = json!(message);
            (Gate::Failed, "", d)
        }
    };
    let details = merged_details(&mut tx, store_id, payment_id, details).await?;
    let m = GateMove {
        from: Gate::Processing.as_str(),
        to: to.as_str(),
        provider_ref: Some(provider_ref),
        details: Some(&details),
    };
    sql::set_gate(&mut tx, store_id, payment_id, m, now).await?;
    let mut payment = sql::by_id(&mut tx, store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    let event = match to {
        Gate::Failed => "payment.failed",
        Gate::Processing => "payment.processing",
        Gate::RequiresAction => "payment.requires_action",
        Gate::Awaiting => "payment.awaiting",
        _ => "payment.authorized",
    };
    emit(&mut tx, store_id, event, &payment).await?;
    if captured {
        payment = captured_in(&mut tx, store_id, &payment, op.amount, "system", "captured on order").await?;
    }
    sync_order(app, &mut tx, ctx, &payment.order_id).await?;
    let status = match to {
        Gate::Failed => 402,
        Gate::Processing => 202,
        _ => 201,
    };
    let answer = finish(app, &mut tx, store_id, principal, idem, status, payment_id).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    if to == Gate::Open {
        release_if_cancelled(app, ctx, &payment.order_id).await?;
    }
    Ok(Outcome::Fresh((status, answer)))
}

/// Whether money held for a payment's order may be taken on its own: not
/// while the order is on hold (a risk review, or staff paused it), nor once
/// it is cancelled (its authorisations are released instead).
async fn capture_allowed(app: &App, store_id: &str, payment_id: &str) -> bool {
    let Ok(Some(status)) = sql::order_status_of(app.db.pool(), store_id, payment_id).await else { return false };
    status != OrderStatus::OnHold.as_str() && status != OrderStatus::Cancelled.as_str()
}

/// An authorisation that came through after its order was cancelled (a
/// challenge answered late, a webhook, a reconciled answer) is released.
async fn release_if_cancelled(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<()> {
    let order = order_sql::by_id(app.db.pool(), &ctx.store.id, order_id).await?;
    if order.is_some_and(|o| o.status == OrderStatus::Cancelled.as_str()) {
        void_open(app, ctx, order_id).await?;
    }
    Ok(())
}

fn op_status(a: &Authorization) -> &'static str {
    if matches!(a, Authorization::Declined { .. }) { "failed" } else { "succeeded" }
}

fn decline_code(a: &Authorization) -> &'static str {
    match a {
        Authorization::Declined { code, .. } => code,
        _ => "",
    }
}

/// The stored details with the provider's new ones laid over them.
async fn merged_details(tx: &mut Tx, store_id: &str, payment_id: &str, new: Value) -> ServiceResult<String> {
    let p = sql::by_id(tx, store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    let mut d: Value = serde_json::from_str(&p.details).unwrap_or(json!({}));
    if let (Some(base), Value::Object(extra)) = (d.as_object_mut(), new) {
        base.extend(extra);
    }
    Ok(d.to_string())
}

/// The payment's view as stored, with its answer recorded for the key.
async fn finish(
    app: &App,
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    idem: Option<&IdempotencyRequest>,
    status: u16,
    payment_id: &str,
) -> ServiceResult<Payment> {
    let p = sql::by_id(tx, store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    let answer = view(p, Vec::new());
    idempotency::complete_as(app, tx, store_id, principal, idem, status, &answer).await?;
    Ok(answer)
}

async fn current(app: &App, store_id: &str, payment_id: &str) -> ServiceResult<Payment> {
    let p = sql::get(app.db.pool(), store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    Ok(view(p, Vec::new()))
}

async fn emit(tx: &mut Tx, store_id: &str, event: &str, p: &PaymentRow) -> ServiceResult<()> {
    let status = rules::status(gate(p), &amounts(p));
    outbox::emit(
        tx,
        store_id,
        event,
        json!({ "payment_id": p.id, "order_id": p.order_id, "method": p.provider, "status": status.as_str(),
                "currency": p.currency, "amount": p.amount, "captured": p.captured, "refunded": p.refunded }),
    )
    .await?;
    Ok(())
}

/// Records a capture that already happened (the provider answered, or the
/// money arrived) in `tx`: its operation, the amounts, the posting and the
/// event. The payment as it is after.
pub(super) async fn captured_in(
    tx: &mut Tx,
    store_id: &str,
    p: &PaymentRow,
    amount: i64,
    actor: &str,
    note: &str,
) -> ServiceResult<PaymentRow> {
    let now = now_ms();
    let op = OperationRow {
        status: "succeeded".into(),
        settled_at: Some(now),
        ..new_operation(&p.id, "capture", amount, None, actor, note)
    };
    sql::insert_operation(tx, store_id, &op).await?;
    if !sql::reserve_capture(tx, store_id, &p.id, amount, now).await? {
        return Err(conflict("exceeds_authorized", "the capture no longer fits what is authorised"));
    }
    sql::settle_capture(tx, store_id, &p.id, amount, true, now).await?;
    let p = sql::by_id(tx, store_id, &p.id).await?.ok_or(ServiceError::NotFound)?;
    post_capture(tx, store_id, &p, amount, actor).await?;
    emit(tx, store_id, "payment.captured", &p).await?;
    Ok(p)
}

/// Staff recorded by hand that an order was paid in full outside Oxcart
/// (`order_payment::record`): the awaited payments are captured and, for
/// whatever they do not cover, a bank transfer payment is recorded as
/// received, so the payments and the ledger agree with the order.
pub(super) async fn record_manual(tx: &mut Tx, ctx: &Ctx, order: &OrderRow, reference: &str) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let actor = ctx.actor.principal();
    let note = if reference.is_empty() { "received".to_string() } else { format!("received: {reference}") };
    let payments = sql::for_order_in(tx, store_id, &order.id).await?;
    let mut left = order.total - payments.iter().map(|p| p.captured - p.refunded).sum::<i64>();
    for p in payments.iter().filter(|p| gate(p) == Gate::Awaiting) {
        let amount = (p.amount - p.captured - p.pending_capture).min(left);
        if amount > 0 {
            captured_in(tx, store_id, p, amount, &actor, &note).await?;
            left -= amount;
        }
    }
    if left > 0 {
        let now = now_ms();
        let p = PaymentRow {
            id: ids::new_id(PAYMENT),
            order_id: order.id.clone(),
            provider: "bank_transfer".into(),
            provider_ref: reference.to_string(),
            gate: Gate::Awaiting.as_str().into(),
            currency: order.currency.clone(),
            amount: left,
            captured: 0,
            refunded: 0,
            pending_capture: 0,
            pending_refund: 0,
            details: json!({ "reference": reference, "recorded_by_staff": true }).to_string(),
            party: party_of(order),
            created_at: now,
            updated_at: now,
        };
        sql::insert(tx, store_id, &p).await?;
        captured_in(tx, store_id, &p, left, &actor, &note).await?;
    }
    Ok(())
}

/// Where a payment's money sits: the method's holding account, or the gift
/// card's or customer's balance it was spent from.
fn holding(p: &PaymentRow) -> books::AccountRef {
    let holder = if p.provider == "store_credit" { &p.party } else { &p.provider_ref };
    books::holding_account(&p.provider, holder)
}

/// Posts money captured: it sits with the method's holding account, and
/// the buyer owes that much less.
async fn post_capture(tx: &mut Tx, store_id: &str, p: &PaymentRow, amount: i64, actor: &str) -> ServiceResult<()> {
    let currency = Currency::parse(&p.currency).unwrap_or(Currency::EUR);
    let entry = books::payment_captured(holding(p), &p.party, currency, amount)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    ledger::post(tx, store_id, "payment_captured", &p.order_id, &format!("payment {} captured", p.id), actor, &entry)
        .await?;
    Ok(())
}

/// The order's payment status recomputed from its payments; when it becomes
/// paid, the order is confirmed and its digital goods delivered, as when
/// staff record a payment by hand.
pub(super) async fn sync_order(app: &App, tx: &mut Tx, ctx: &Ctx, order_id: &str) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    order_sql::lock_order(tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut *tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let payments = sql::for_order_in(tx, store_id, order_id).await?;
    let open: i64 = payments.iter().filter(|p| gate(p) == Gate::Open).map(|p| p.amount - p.captured).sum();
    let captured: i64 = payments.iter().map(|p| p.captured).sum();
    let refunded: i64 = payments.iter().map(|p| p.refunded).sum();
    let to = rules::order_status(order.total, open, captured, refunded);
    let from = OrderPaymentStatus::parse(&order.payment_status).unwrap_or(OrderPaymentStatus::Unpaid);
    if to == from || (from == OrderPaymentStatus::Voided && to == OrderPaymentStatus::Unpaid) {
        // Paid while on hold and resumed since: confirm it now.
        if to == OrderPaymentStatus::Paid && order.status == OrderStatus::Placed.as_str() {
            apply_move(app, tx, ctx, &order, OrderStatus::Confirmed, "paid", &ctx.actor.principal()).await?;
            super::digital::deliver(app, tx, ctx, order_id).await?;
        }
        return Ok(());
    }
    // Money held or taken ends the deadline for payment; an order left
    // with nothing (a payment voided or failed) gets a fresh one, so it
    // still expires if nobody pays.
    let unpaid = matches!(to, OrderPaymentStatus::Unpaid | OrderPaymentStatus::Voided);
    let reserved_until = (unpaid && order.status == OrderStatus::Placed.as_str())
        .then(|| super::orders::payment_deadline(app, now_ms()));
    if !order_sql::set_payment_status(tx, store_id, order_id, (from.as_str(), to.as_str()), reserved_until).await? {
        return Err(conflict("order_changed", "the order changed meanwhile"));
    }
    let actor = ctx.actor.principal();
    let entry = HistoryRow {
        kind: "payment".into(),
        from_status: Some(order.status.clone()),
        to_status: order.status.clone(),
        note: format!("payment {} → {}", from.as_str(), to.as_str()),
        actor: actor.clone(),
        at: now_ms(),
    };
    order_sql::add_history(tx, store_id, order_id, &ids::new_id("ohs"), &entry).await?;
    if to == OrderPaymentStatus::Paid {
        outbox::emit(
            tx,
            store_id,
            "order.paid",
            json!({ "order_id": order_id, "number": order.number, "total": order.total, "currency": order.currency }),
        )
        .await?;
        if order.status == OrderStatus::Placed.as_str() {
            apply_move(app, tx, ctx, &order, OrderStatus::Confirmed, "paid", &actor).await?;
        }
        super::digital::deliver(app, tx, ctx, order_id).await?;
    }
    Ok(())
}

/// A staff request to capture, refund or void.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyRequest {
    /// Minor units; by default all that is left (to capture or refund).
    #[serde(default)]
    pub amount: Option<i64>,
    /// Why, for the timeline.
    #[serde(default)]
    pub note: String,
}

/// Staff begin an operation: check, reserve, record it pending.
struct Started {
    payment: PaymentRow,
    op: OperationRow,
}

enum Begun {
    Started(Box<Started>),
    Replayed { status: u16, body: String },
    Resume,
}

async fn begin_operation(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    kind: &str,
    input: &MoneyRequest,
    idem: Option<&IdempotencyRequest>,
    actor: &str,
) -> ServiceResult<Begun> {
    let mut errs = FieldErrors::default();
    errs.text("note", &input.note, 0, 500);
    if input.amount.is_some_and(|a| a <= 0) {
        errs.add("amount", "invalid_amount", "amount must be more than zero");
    }
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let principal = ctx.actor.principal();
    let mut tx = app.db.begin_in_place().await?;
    match idempotency::claim(app, &mut tx, ctx, idem).await {
        Ok(Begin::Proceed) => {}
        Ok(Begin::Replay { status, body }) => return Ok(Begun::Replayed { status, body }),
        Err(ServiceError::IdempotencyInFlight) => return Ok(Begun::Resume),
        Err(e) => return Err(e),
    }
    if !sql::lock(&mut tx, store_id, payment_id).await? {
        return Err(ServiceError::NotFound);
    }
    let p = sql::by_id(&mut tx, store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    let (g, a) = (gate(&p), amounts(&p));
    let now = now_ms();
    let amount = match kind {
        "capture" => {
            let amount = input.amount.unwrap_or(a.amount - a.captured - a.pending_capture);
            rules::check_capture(g, &a, amount).map_err(refused)?;
            if !sql::reserve_capture(&mut tx, store_id, payment_id, amount, now).await? {
                return Err(conflict("exceeds_authorized", "the capture no longer fits what is authorised"));
            }
            amount
        }
        "refund" => {
            let amount = input.amount.unwrap_or(a.captured - a.refunded - a.pending_refund);
            rules::check_refund(g, &a, amount).map_err(refused)?;
            if !sql::reserve_refund(&mut tx, store_id, payment_id, amount, now).await? {
                return Err(conflict("exceeds_captured", "the refund no longer fits what is captured"));
            }
            amount
        }
        _ => {
            rules::check_void(g, &a).map_err(refused)?;
            if !sql::set_gate(
                &mut tx,
                store_id,
                payment_id,
                GateMove { from: g.as_str(), to: Gate::Processing.as_str(), provider_ref: None, details: None },
                now,
            )
            .await?
            {
                return Err(conflict("payment_changed", "the payment changed meanwhile"));
            }
            a.amount - a.captured
        }
    };
    let note = if kind == "void" { format!("from:{}", g.as_str()) } else { input.note.trim().to_string() };
    let op = new_operation(payment_id, kind, amount, request_key(&principal, idem), actor, &note);
    sql::insert_operation(&mut tx, store_id, &op).await?;
    tx.commit().await?;
    Ok(Begun::Started(Box::new(Started { payment: p, op })))
}

/// Staff capture authorised funds (all that is left by default; partial and
/// repeated captures allowed up to the authorised amount). Accepts
/// `Idempotency-Key`.
pub async fn capture(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    input: MoneyRequest,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    ctx.actor.require(Permission::PaymentsManage)?;
    move_money(app, ctx, payment_id, "capture", input, idem).await
}

/// Staff refund captured money (all that is left by default; partial and
/// repeated refunds allowed up to what was captured). Accepts
/// `Idempotency-Key`.
pub async fn refund(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    input: MoneyRequest,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    ctx.actor.require(Permission::PaymentsManage)?;
    move_money(app, ctx, payment_id, "refund", input, idem).await
}

/// A capture or refund: reserved and recorded pending, sent to the
/// provider, settled. The caller checked the actor may.
async fn move_money(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    kind: &str,
    input: MoneyRequest,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let principal = ctx.actor.principal();
    let Started { payment, op } = match begin_operation(app, ctx, payment_id, kind, &input, idem, &principal).await? {
        Begun::Started(s) => *s,
        Begun::Replayed { status, body } => return Ok(Outcome::Replayed { status, body }),
        Begun::Resume => {
            return resume(app, ctx, &principal, request_key(&principal, idem).as_deref(), idem, None).await;
        }
    };
    let provider = provider(app, &payment.provider)?;
    let answer = match kind {
        "capture" => provider.capture(&op.id, &payment.provider_ref, op.amount).await,
        _ => provider.refund(&op.id, &payment.provider_ref, op.amount).await,
    };
    settle_money(app, ctx, &principal, idem, payment_id, &op, answer).await
}

/// Settles a pending capture or refund with the provider's answer: the
/// amounts move (or the reservation is released), and a success is posted
/// to the ledger, announced, audited and reflected on the order. A
/// time-out leaves it pending (202); a settlement that another retry made
/// first answers with the payment as it is.
async fn settle_money(
    app: &App,
    ctx: &Ctx,
    principal: &str,
    idem: Option<&IdempotencyRequest>,
    payment_id: &str,
    op: &OperationRow,
    answer: Result<(), ProviderError>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let store_id = &ctx.store.id;
    let capture = op.kind == "capture";
    let failure = match &answer {
        Err(ProviderError::Timeout) => return Ok(Outcome::Fresh((202, current(app, store_id, payment_id).await?))),
        Err(ProviderError::Invalid { code, .. } | ProviderError::Refused { code, .. }) => Some(*code),
        Ok(()) => None,
    };
    let now = now_ms();
    let mut tx = app.db.begin_in_place().await?;
    let status = if failure.is_some() { "failed" } else { "succeeded" };
    if !sql::settle_operation(&mut tx, store_id, &op.id, status, failure.unwrap_or(""), &op.note, now).await? {
        drop(tx);
        return Ok(Outcome::Fresh((200, current(app, store_id, payment_id).await?)));
    }
    if capture {
        sql::settle_capture(&mut tx, store_id, payment_id, op.amount, failure.is_none(), now).await?;
    } else {
        sql::settle_refund(&mut tx, store_id, payment_id, op.amount, failure.is_none(), now).await?;
    }
    let p = sql::by_id(&mut tx, store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(code) = failure {
        tx.commit().await?;
        return Err(conflict(code, format!("the provider refused the {}", op.kind)));
    }
    if capture {
        post_capture(&mut tx, store_id, &p, op.amount, &op.actor).await?;
        emit(&mut tx, store_id, "payment.captured", &p).await?;
    } else {
        post_refund(app, &mut tx, ctx, &p, op, now).await?;
    }
    let action = if capture { "payments.captured" } else { "payments.refunded" };
    audit::record(app, &mut tx, ctx, action, payment_id, json!({ "amount": op.amount, "note": op.note })).await?;
    sync_order(app, &mut tx, ctx, &p.order_id).await?;
    let answer = finish(app, &mut tx, store_id, principal, idem, 200, payment_id).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    Ok(Outcome::Fresh((200, answer)))
}

/// A refund that happened: a balance it came from gets it back, the ledger
/// records it, and an invoiced order gets a credit note.
async fn post_refund(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    p: &PaymentRow,
    op: &OperationRow,
    now: i64,
) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let order = order_sql::by_id(&mut *tx, store_id, &p.order_id).await?.ok_or(ServiceError::NotFound)?;
    let currency = Currency::parse(&p.currency).unwrap_or(Currency::EUR);
    put_back(tx, store_id, p, op.amount, now).await?;
    // A cancelled order's sale was reversed, leaving the money as owed to
    // the buyer: the refund settles that. Otherwise it is a refund expense.
    let debit = if order.status == OrderStatus::Cancelled.as_str() {
        books::Account::Receivable.of(&p.party)
    } else {
        books::Account::Refunds.of(&ledger::channel_code(app, store_id, &order.channel_id).await?)
    };
    let entry =
        books::refunded(debit, holding(p), currency, op.amount).map_err(|e| ServiceError::Internal(e.to_string()))?;
    ledger::post(tx, store_id, "refund", &p.order_id, &format!("payment {} refunded", p.id), &op.actor, &entry).await?;
    emit(tx, store_id, "payment.refunded", p).await?;
    super::invoices::credit_for_refund(app, tx, ctx, &p.order_id, op.amount).await?;
    Ok(())
}

/// Money refunded from a balance the store keeps goes back on it.
async fn put_back(tx: &mut Tx, store_id: &str, p: &PaymentRow, amount: i64, now: i64) -> ServiceResult<()> {
    use crate::db::accounts::{add_credit, restore_gift_card};
    let restored = match p.provider.as_str() {
        "gift_card" => restore_gift_card(tx, store_id, &p.provider_ref, amount, now).await?,
        "store_credit" => {
            add_credit(tx, store_id, &p.party, &p.currency, amount, now).await?;
            true
        }
        _ => true,
    };
    if restored { Ok(()) } else { Err(ServiceError::Internal("a gift card refund exceeded the card's value".into())) }
}

/// Captures what an order's payments hold and have not taken: an order
/// approved after a risk review (when the store captures on order), or
/// one that ships (when it captures on fulfilment). The store's policy
/// acts here, so the caller's own payment rights are not asked.
pub(super) async fn capture_held(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<()> {
    for p in sql::for_order(app.db.pool(), &ctx.store.id, order_id).await? {
        let holds = app.payments.by_code(&p.provider).is_some_and(|x| x.holds_funds());
        if gate(&p) == Gate::Open && holds && p.amount > p.captured + p.pending_capture {
            let input = MoneyRequest { amount: None, note: "captured after risk review".into() };
            move_money(app, ctx, &p.id, "capture", input, None).await?;
        }
    }
    Ok(())
}

/// Refunds all an order's payments took and still hold (an order rejected
/// after a risk review).
pub(super) async fn refund_taken(app: &App, ctx: &Ctx, order_id: &str, note: &str) -> ServiceResult<()> {
    for p in sql::for_order(app.db.pool(), &ctx.store.id, order_id).await? {
        if p.captured > p.refunded + p.pending_refund {
            let input = MoneyRequest { amount: None, note: note.into() };
            move_money(app, ctx, &p.id, "refund", input, None).await?;
        }
    }
    Ok(())
}

/// Completes operations a crash or a lost answer left pending and that no
/// retry with their key came back for, once they are older than
/// `payments.reconcile_after_secs`: a capture, refund or void is sent
/// again with its own key (the provider does each once) and settled; an
/// authorisation is looked up with the provider and settled with what it
/// says, or failed when the provider has no record of it. Returns how many
/// it settled.
pub async fn reconcile_stuck(app: &App) -> ServiceResult<usize> {
    let pool = app.db.pool();
    let before = now_ms() - app.config.payments.reconcile_after_secs * 1000;
    let mut settled = 0;
    for (store_id, op) in sql::stuck_operations(pool, before, 100).await? {
        let Some(store) = crate::db::stores::by_id(pool, &store_id).await? else { continue };
        let ctx = Ctx { store: std::sync::Arc::new(store), actor: Actor::Anonymous, client_ip: "worker".into() };
        let Some(p) = sql::get(pool, &store_id, &op.payment_id).await? else { continue };
        let provider = provider(app, &p.provider)?;
        let done = match op.kind.as_str() {
            "capture" => {
                let answer = provider.capture(&op.id, &p.provider_ref, op.amount).await;
                settle_money(app, &ctx, "system", None, &p.id, &op, answer).await
            }
            "refund" => {
                let answer = provider.refund(&op.id, &p.provider_ref, op.amount).await;
                settle_money(app, &ctx, "system", None, &p.id, &op, answer).await
            }
            "void" => {
                let answer = provider.void(&op.id, &p.provider_ref).await;
                settle_void(app, &ctx, ("system", true), None, &p.id, &op, "reconciled", answer).await
            }
            _ => {
                let answer = match provider.lookup(&op.id).await {
                    Ok(Some(found)) => Ok(found),
                    Ok(None) => Err(ProviderError::Refused {
                        code: "no_record",
                        message: "the provider has no record of this payment".into(),
                    }),
                    Err(e) => Err(e),
                };
                settle_authorization(app, &ctx, "system", None, &p.id, &op, provider, answer).await
            }
        };
        match done {
            // Still no answer: the next round tries again.
            Ok(Outcome::Fresh((202, _))) => {}
            Ok(_) => settled += 1,
            // A refusal is settled too (as failed); anything else is logged.
            Err(ServiceError::Conflict { .. }) => settled += 1,
            Err(e) => tracing::warn!(operation = %op.id, error = %e, "reconciling a pending payment operation failed"),
        }
    }
    Ok(settled)
}

/// Staff release what is authorised and not captured. Accepts
/// `Idempotency-Key`.
pub async fn void(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    input: MoneyRequest,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    ctx.actor.require(Permission::PaymentsManage)?;
    void_as(app, ctx, payment_id, input, idem, false).await
}

/// Releases what a cancelled order's payments still hold or await (the
/// order was cancelled by staff, or expired unpaid). Money already
/// captured stays for staff to refund. Failures are logged: the payment
/// stays as it was for staff to void by hand.
pub async fn void_open(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<()> {
    for p in sql::for_order(app.db.pool(), &ctx.store.id, order_id).await? {
        let live = matches!(gate(&p), Gate::Open | Gate::Awaiting | Gate::RequiresAction);
        if live && p.captured < p.amount && p.pending_capture == 0 {
            let input = MoneyRequest { amount: None, note: "order cancelled".into() };
            if let Err(e) = void_as(app, ctx, &p.id, input, None, true).await {
                tracing::warn!(payment = %p.id, error = %e, "could not release a cancelled order's payment");
            }
        }
    }
    Ok(())
}

async fn void_as(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    input: MoneyRequest,
    idem: Option<&IdempotencyRequest>,
    system: bool,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let principal = if system { "system".to_string() } else { ctx.actor.principal() };
    let Started { payment, op } = match begin_operation(app, ctx, payment_id, "void", &input, idem, &principal).await? {
        Begun::Started(s) => *s,
        Begun::Replayed { status, body } => return Ok(Outcome::Replayed { status, body }),
        Begun::Resume => return Err(ServiceError::IdempotencyInFlight),
    };
    let answer = provider(app, &payment.provider)?.void(&op.id, &payment.provider_ref).await;
    settle_void(app, ctx, (&principal, system), idem, payment_id, &op, &input.note, answer).await
}

/// Settles a void with the provider's answer: the payment is released, or
/// back at the gate it had (the note of the operation keeps it).
#[allow(clippy::too_many_arguments)]
async fn settle_void(
    app: &App,
    ctx: &Ctx,
    (principal, system): (&str, bool),
    idem: Option<&IdempotencyRequest>,
    payment_id: &str,
    op: &OperationRow,
    note: &str,
    answer: Result<(), ProviderError>,
) -> ServiceResult<Outcome<(u16, Payment)>> {
    let store_id = &ctx.store.id;
    let back = op.note.strip_prefix("from:").unwrap_or("open");
    let now = now_ms();
    let mut tx = app.db.begin_in_place().await?;
    let (status, to) = match &answer {
        Ok(()) => ("succeeded", Gate::Closed.as_str()),
        Err(_) => ("failed", back),
    };
    let code = match &answer {
        Err(ProviderError::Invalid { code, .. } | ProviderError::Refused { code, .. }) => code,
        Err(ProviderError::Timeout) => "timeout",
        Ok(()) => "",
    };
    if !sql::settle_operation(&mut tx, store_id, &op.id, status, code, note, now).await? {
        drop(tx);
        return Ok(Outcome::Fresh((200, current(app, store_id, payment_id).await?)));
    }
    let m = GateMove { from: Gate::Processing.as_str(), to, provider_ref: None, details: None };
    sql::set_gate(&mut tx, store_id, payment_id, m, now).await?;
    if answer.is_err() {
        tx.commit().await?;
        return Err(conflict("void_failed", "the provider did not release the payment; try again"));
    }
    let p = sql::by_id(&mut tx, store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    emit(&mut tx, store_id, "payment.voided", &p).await?;
    if !system {
        audit::record(app, &mut tx, ctx, "payments.voided", payment_id, json!({ "note": note.trim() })).await?;
    }
    sync_order(app, &mut tx, ctx, &p.order_id).await?;
    let answer = finish(app, &mut tx, store_id, principal, idem, 200, payment_id).await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok(Outcome::Fresh((200, answer)))
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeAnswer {
    /// Whether the card holder approved the payment at their bank.
    pub approve: bool,
}

/// The buyer's answer to a card challenge: the payment is authorised (and
/// captured, when the store captures on order) or fails.
pub async fn answer_challenge(
    app: &App,
    ctx: &Ctx,
    payment_id: &str,
    token: Option<&str>,
    input: ChallengeAnswer,
) -> ServiceResult<Payment> {
    let store_id = &ctx.store.id;
    let p = sql::get(app.db.pool(), store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    payable_order(app, ctx, &p.order_id, token).await?;
    if gate(&p) != Gate::RequiresAction {
        return Err(conflict("no_challenge", "this payment is not waiting for a challenge"));
    }
    let provider = provider(app, &p.provider)?;
    let answer = provider.complete_action(&p.provider_ref, input.approve).await.map_err(|e| match e {
        ProviderError::Timeout => ServiceError::Unavailable { retry_after: 5 },
        other => conflict("challenge_failed", other.to_string()),
    })?;
    let captured = capture_now(app, store_id, provider, &p, &answer).await;
    let mut tx = app.db.begin_in_place().await?;
    let outcome = match &answer {
        Authorization::Authorized { .. } => json!({ "challenge": "passed" }),
        _ => json!({ "challenge": "failed" }),
    };
    let Some(p) = conclude(app, &mut tx, ctx, &p, &[Gate::RequiresAction], &answer, outcome, captured).await? else {
        return Err(conflict("no_challenge", "the challenge was already answered"));
    };
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    release_if_cancelled(app, ctx, &p.order_id).await?;
    Ok(view(p, Vec::new()))
}

/// Captures at once when the store captures on order and the answer
/// authorised funds that are held; whether that capture succeeded.
async fn capture_now(
    app: &App,
    store_id: &str,
    provider: &dyn PaymentProvider,
    p: &PaymentRow,
    answer: &Authorization,
) -> bool {
    matches!(answer, Authorization::Authorized { .. })
        && provider.holds_funds()
        && app.config.payments.capture_on_order
        && capture_allowed(app, store_id, &p.id).await
        && provider.capture(&format!("{}.capture", p.id), &p.provider_ref, p.amount).await.is_ok()
}

/// A payment waiting on an outcome (the holder's challenge, the provider's
/// webhook) gets it, in `tx`: authorised (and captured, when `captured`)
/// or failed. Only from one of the gates in `from`; None when the payment
/// had moved on (another answer came first).
#[allow(clippy::too_many_arguments)]
async fn conclude(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    p: &PaymentRow,
    from: &[Gate],
    answer: &Authorization,
    details: Value,
    captured: bool,
) -> ServiceResult<Option<PaymentRow>> {
    let store_id = &ctx.store.id;
    let now = now_ms();
    let (to, details) = match answer {
        Authorization::Authorized { .. } => (Gate::Open, details),
        Authorization::Declined { code, message, .. } => {
            let mut d = details;
            d["decline_code"] = json!(code);
            d["decline_message"] = json!(message);
            (Gate::Failed, d)
        }
        _ => return Ok(None),
    };
    let details = merged_details(tx, store_id, &p.id, details).await?;
    let mut moved = false;
    for g in from {
        let m = GateMove { from: g.as_str(), to: to.as_str(), provider_ref: None, details: Some(&details) };
        if sql::set_gate(tx, store_id, &p.id, m, now).await? {
            moved = true;
            break;
        }
    }
    if !moved {
        return Ok(None);
    }
    let mut p = sql::by_id(tx, store_id, &p.id).await?.ok_or(ServiceError::NotFound)?;
    emit(tx, store_id, if to == Gate::Open { "payment.authorized" } else { "payment.failed" }, &p).await?;
    if captured {
        p = captured_in(tx, store_id, &p, p.amount, "system", "captured on order").await?;
    }
    sync_order(app, tx, ctx, &p.order_id).await?;
    Ok(Some(p))
}

/// What a provider's webhook said, once verified.
#[derive(Debug, Deserialize)]
struct ProviderEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: ProviderEventData,
}

#[derive(Debug, Deserialize)]
struct ProviderEventData {
    /// The provider's reference of the charge.
    charge: String,
    #[serde(default)]
    decline_code: Option<String>,
}

/// How a webhook was taken.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventReceipt {
    /// `applied`, `ignored` (the payment had already moved on: a charge
    /// that succeeded never goes back), `duplicate` (seen before) or
    /// `unknown` (no payment has this charge).
    pub outcome: &'static str,
}

/// The signature headers of an incoming webhook.
pub struct Signed<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

/// A provider's signed webhook: verified (signature and timestamp),
/// applied once (a replay finds its event row), and applied in a way that
/// does not depend on arrival order: a charge that succeeded stays
/// succeeded whatever arrives after, and `charge.succeeded` also rescues a
/// payment an earlier `charge.failed` closed.
pub async fn provider_webhook(
    app: &App,
    ctx: &Ctx,
    provider_code: &str,
    signed: Signed<'_>,
    body: &[u8],
) -> ServiceResult<EventReceipt> {
    let unauthenticated = || ServiceError::Unauthenticated;
    let secret = match provider_code {
        "test_card" => app.config.payments.test_card_webhook_secret.as_deref(),
        _ => None,
    }
    .ok_or(ServiceError::NotFound)?;
    let timestamp: i64 = signed.timestamp.parse().map_err(|_| unauthenticated())?;
    let now_secs = now_ms() / 1000;
    crate::domain::webhooks::verify(
        secret,
        signed.id,
        timestamp,
        body,
        signed.signature,
        now_secs,
        app.config.payments.webhook_tolerance_secs,
    )
    .map_err(|_| unauthenticated())?;
    let event: ProviderEvent = serde_json::from_slice(body).map_err(|e| {
        ServiceError::Validation(FieldErrors::single("body", "invalid_event", format!("not an event: {e}")))
    })?;
    if event.id != signed.id {
        return Err(ServiceError::Validation(FieldErrors::single(
            "id",
            "mismatch",
            "the body's id is not the signed id",
        )));
    }
    let answer = match event.kind.as_str() {
        "charge.succeeded" => Authorization::Authorized { provider_ref: event.data.charge.clone(), details: json!({}) },
        "charge.failed" => Authorization::Declined {
            code: "card_declined",
            message: event.data.decline_code.clone().unwrap_or_else(|| "the charge failed".into()),
            details: json!({}),
        },
        other => {
            return Err(ServiceError::Validation(FieldErrors::single(
                "type",
                "unknown_event",
                format!("{other} is not an event this provider sends"),
            )));
        }
    };
    let store_id = &ctx.store.id;
    if sql::event_seen(app.db.pool(), store_id, provider_code, &event.id).await? {
        return Ok(EventReceipt { outcome: "duplicate" });
    }
    let payment = sql::by_provider_ref(app.db.pool(), store_id, provider_code, &event.data.charge).await?;
    let provider = provider(app, provider_code)?;
    let captured = match &payment {
        Some(p) if matches!(gate(p), Gate::Processing | Gate::Failed) => {
            capture_now(app, store_id, provider, p, &answer).await
        }
        _ => false,
    };
    let mut tx = app.db.begin_in_place().await?;
    let outcome = match &payment {
        None => "unknown",
        Some(p) => {
            let from: &[Gate] = match answer {
                Authorization::Authorized { .. } => &[Gate::Processing, Gate::Failed],
                _ => &[Gate::Processing],
            };
            let details = json!({ "confirmed_by": "webhook" });
            match conclude(app, &mut tx, ctx, p, from, &answer, details, captured).await? {
                Some(_) => "applied",
                None => "ignored",
            }
        }
    };
    let payment_id = payment.as_ref().map(|p| p.id.as_str());
    if !sql::record_event(&mut tx, store_id, provider_code, &event.id, &event.kind, payment_id, outcome, now_ms())
        .await?
    {
        // The same event, applied concurrently: that one counts.
        drop(tx);
        return Ok(EventReceipt { outcome: "duplicate" });
    }
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    if let (Some(p), "applied") = (&payment, outcome) {
        release_if_cancelled(app, ctx, &p.order_id).await?;
    }
    Ok(EventReceipt { outcome })
}

/// A signed-in customer's own payments, newest first (no timelines).
pub async fn mine(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Payment>> {
    let customer = ctx.actor.customer_id()?;
    let rows = sql::of_party(app.db.pool(), &ctx.store.id, customer, 50).await?;
    Ok(rows.into_iter().map(|p| view(p, Vec::new())).collect())
}

/// One payment with its timeline, for staff.
pub async fn get(app: &App, ctx: &Ctx, payment_id: &str) -> ServiceResult<Payment> {
    ctx.actor.require(Permission::PaymentsRead)?;
    let store_id = &ctx.store.id;
    let p = sql::get(app.db.pool(), store_id, payment_id).await?.ok_or(ServiceError::NotFound)?;
    let ops = sql::operations(app.db.pool(), store_id, payment_id).await?;
    Ok(view(p, ops))
}

/// An order's payments, for whoever may see the order (the timeline for staff only).
pub async fn for_order(app: &App, ctx: &Ctx, order_id: &str, token: Option<&str>) -> ServiceResult<Vec<Payment>> {
    let store_id = &ctx.store.id;
    let staff = matches!(ctx.actor, Actor::Staff { .. } | Actor::Token { .. });
    if staff {
        ctx.actor.require(Permission::PaymentsRead)?;
        order_sql::by_id(app.db.pool(), store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    } else {
        super::orders::get(app, ctx, order_id, token).await?;
    }
    let mut out = Vec::new();
    for p in sql::for_order(app.db.pool(), store_id, order_id).await? {
        let ops = if staff { sql::operations(app.db.pool(), store_id, &p.id).await? } else { Vec::new() };
        out.push(view(p, ops));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentPage {
    pub payments: Vec<Payment>,
    pub next: Option<String>,
}

/// The store's payments, newest first.
pub async fn list(app: &App, ctx: &Ctx, before: Option<&str>, limit: Option<i64>) -> ServiceResult<PaymentPage> {
    ctx.actor.require(Permission::PaymentsRead)?;
    let limit = limit.unwrap_or(50).clamp(1, 200);
    let rows = sql::list(app.db.pool(), &ctx.store.id, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let payments: Vec<Payment> = rows.into_iter().take(limit as usize).map(|p| view(p, Vec::new())).collect();
    let next = if more { payments.last().map(|p| p.id.clone()) } else { None };
    Ok(PaymentPage { payments, next })
}
