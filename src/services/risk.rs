//! Fraud risk checks: every payment attempt through a provider is scored
//! by the store's rules before the provider sees it, in the transaction
//! that records the attempt. `deny` refuses the payment; `review` puts the
//! order on hold (no automatic capture, no delivery) until staff approve
//! it (it resumes and is captured) or reject it (it is cancelled, held
//! funds released, taken funds refunded, and optionally the buyer's e-mail
//! and card blocked). Velocity rules count earlier assessments, which keep
//! only keyed hashes of the e-mail, card and IP address.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::orders::{apply_move, open_contact};
use super::{App, ServiceError, ServiceResult, audit, now_ms};
use crate::db::Tx;
use crate::db::orders::{self as order_sql, OrderRow};
use crate::db::risk::{self as sql, AssessmentRow, BlockRow};
use crate::db::settings_rows::{self, Table};
use crate::domain::ids;
use crate::domain::orders::OrderStatus;
use crate::domain::risk::{self as rules, Assessment, BlockKind, Decision, Reason, Settings, Signals};
use crate::domain::validation::FieldErrors;
use crate::providers::payment::Card;

pub const ASSESSMENT: &str = "rsk";
pub const BLOCK: &str = "blk";

/// A store's settings (its own, or the defaults: no rules).
pub async fn settings_of(app: &App, store_id: &str) -> ServiceResult<Settings> {
    Ok(match settings_rows::get(app.db.pool(), Table::Risk, store_id).await? {
        Some(s) => serde_json::from_str(&s).map_err(|e| ServiceError::Internal(format!("risk settings: {e}")))?,
        None => Settings::default(),
    })
}

pub async fn settings(app: &App, ctx: &Ctx) -> ServiceResult<Settings> {
    ctx.actor.require(Permission::PaymentsRead)?;
    settings_of(app, &ctx.store.id).await
}

pub async fn put_settings(app: &App, ctx: &Ctx, input: Settings) -> ServiceResult<Settings> {
    ctx.actor.require(Permission::PaymentsManage)?;
    input.validate()?;
    let text = serde_json::to_string(&input).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut tx = app.db.begin().await?;
    settings_rows::put(&mut tx, Table::Risk, &ctx.store.id, &text, now_ms()).await?;
    audit::record(app, &mut tx, ctx, "risk.settings_changed", &ctx.store.id, json!({ "rules": input.rules.len() }))
        .await?;
    tx.commit().await?;
    Ok(input)
}

/// A keyed hash of a normalised value, the same for velocity counts and
/// blocked lists.
fn fingerprint(app: &App, store_id: &str, kind: &str, value: &str) -> String {
    let v = value.trim().to_lowercase();
    if v.is_empty() { String::new() } else { app.keyring.blind_index(store_id, &format!("risk:{kind}"), &v) }
}

/// Whether a client address is a real one (not a worker's or test label).
fn real_ip(ip: &str) -> Option<&str> {
    ip.parse::<std::net::IpAddr>().is_ok().then_some(ip)
}

/// What the caller of [`assess`] knows about the attempt.
pub struct Attempt<'a> {
    pub payment_id: &'a str,
    pub method: &'a str,
    pub amount: i64,
    pub billing_country: Option<&'a str>,
}

/// What an attempt is judged by that needs no transaction: the store's
/// rules, and the keyed hashes of who is paying. Read before the attempt's
/// transaction, so none of it is done while holding SQLite's writer.
pub(super) struct Prepared {
    settings: Settings,
    shipping_country: Option<String>,
    email_hash: String,
    card_hash: String,
    ip_hash: String,
    customer: String,
    /// (blocked-list kind, hash) pairs to look up.
    candidates: Vec<(&'static str, String)>,
}

pub(super) async fn prepare(
    app: &App,
    ctx: &Ctx,
    order: &OrderRow,
    card: Option<&Card>,
    billing_country: Option<&str>,
) -> ServiceResult<Prepared> {
    let store_id = &ctx.store.id;
    let settings = settings_of(app, store_id).await?;
    let contact = open_contact(app, store_id, order)?;
    let shipping_country = contact.shipping_address.as_ref().map(|a| a.country.clone());
    let email_hash = fingerprint(app, store_id, "email", &contact.email);
    let card_hash = card.map(|c| fingerprint(app, store_id, "card", &c.digits())).unwrap_or_default();
    let ip_hash = real_ip(&ctx.client_ip).map(|ip| fingerprint(app, store_id, "ip", ip)).unwrap_or_default();
    let mut candidates = vec![("email", email_hash.clone()), ("card", card_hash.clone()), ("ip", ip_hash.clone())];
    if let Some(domain) = rules::email_domain(&contact.email) {
        candidates.push(("email_domain", fingerprint(app, store_id, "email_domain", &domain)));
    }
    for country in [shipping_country.as_deref(), billing_country].into_iter().flatten() {
        candidates.push(("country", fingerprint(app, store_id, "country", country)));
    }
    candidates.retain(|(_, h)| !h.is_empty());
    let customer = order.customer_id.clone().unwrap_or_default();
    Ok(Prepared { settings, shipping_country, email_hash, card_hash, ip_hash, customer, candidates })
}

/// Scores a payment attempt and records it in `tx` (the attempt's own
/// transaction). A `review` puts the order on hold here.
pub(super) async fn assess(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    order: &OrderRow,
    prepared: Prepared,
    attempt: Attempt<'_>,
) -> ServiceResult<Assessment> {
    let store_id = &ctx.store.id;
    let Prepared { settings, shipping_country, email_hash, card_hash, ip_hash, customer, candidates } = prepared;
    let now = now_ms();

    // Attempts with the same card, e-mail, customer or address queue here,
    // so concurrent ones count each other (SQLite's one writer does that
    // by itself).
    let keys = [&card_hash, &email_hash, &customer, &ip_hash];
    sql::lock_keys(tx, store_id, keys.iter().map(|k| k.as_str()).filter(|k| !k.is_empty())).await?;
    let mut attempts = Vec::new();
    for (key, window) in settings.velocity_windows() {
        let value = match key {
            rules::VelocityKey::Card => &card_hash,
            rules::VelocityKey::Email => &email_hash,
            rules::VelocityKey::Customer => &customer,
            rules::VelocityKey::Ip => &ip_hash,
        };
        if !value.is_empty() {
            let since = now - i64::from(window) * 60_000;
            let n = sql::count_since(tx, store_id, key, value, since).await?;
            attempts.push((key, window, u32::try_from(n).unwrap_or(u32::MAX)));
        }
    }
    let blocked = sql::blocked(tx, store_id, &candidates).await?.iter().filter_map(|k| BlockKind::parse(k)).collect();

    // Amounts are judged on the whole order, so splitting it into small
    // payments does not slip under a threshold.
    let signals = Signals {
        amount: order.total.max(attempt.amount),
        currency: order.currency.clone(),
        guest: order.customer_id.is_none(),
        billing_country: attempt.billing_country.map(str::to_string),
        shipping_country,
        attempts,
        blocked,
    };
    let assessment = rules::assess(&settings, &signals);
    let review = if assessment.decision == Decision::Review { "pending" } else { "" };
    let row = AssessmentRow {
        id: ids::new_id(ASSESSMENT),
        order_id: order.id.clone(),
        payment_id: attempt.payment_id.to_string(),
        method: attempt.method.to_string(),
        currency: order.currency.clone(),
        amount: attempt.amount,
        score: i64::from(assessment.score),
        decision: assessment.decision.as_str().into(),
        reasons: serde_json::to_string(&assessment.reasons).map_err(|e| ServiceError::Internal(e.to_string()))?,
        customer_id: customer,
        email_hash,
        card_hash,
        ip_hash,
        review: review.into(),
        reviewed_by: String::new(),
        reviewed_at: None,
        review_note: String::new(),
        created_at: now,
    };
    sql::insert(tx, store_id, &row).await?;
    if assessment.decision == Decision::Review
        && matches!(OrderStatus::parse(&order.status), Some(OrderStatus::Placed | OrderStatus::Confirmed))
    {
        let note = format!("risk review: score {}", assessment.score);
        apply_move(app, tx, ctx, order, OrderStatus::OnHold, &note, "system").await?;
    }
    Ok(assessment)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskView {
    pub id: String,
    pub order_id: String,
    pub payment_id: String,
    pub method: String,
    pub currency: String,
    pub amount: i64,
    pub score: u32,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    /// '' (no review asked), pending, approved or rejected.
    pub review: String,
    pub reviewed_by: String,
    pub reviewed_at: Option<i64>,
    pub review_note: String,
    pub created_at: i64,
}

fn view(r: AssessmentRow) -> RiskView {
    RiskView {
        score: u32::try_from(r.score).unwrap_or(0),
        decision: Decision::parse(&r.decision).unwrap_or(Decision::Review),
        reasons: serde_json::from_str(&r.reasons).unwrap_or_default(),
        id: r.id,
        order_id: r.order_id,
        payment_id: r.payment_id,
        method: r.method,
        currency: r.currency,
        amount: r.amount,
        review: r.review,
        reviewed_by: r.reviewed_by,
        reviewed_at: r.reviewed_at,
        review_note: r.review_note,
        created_at: r.created_at,
    }
}

/// An order's assessments, oldest first (staff).
pub async fn for_order(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<Vec<RiskView>> {
    ctx.actor.require(Permission::PaymentsRead)?;
    order_sql::by_id(app.db.pool(), &ctx.store.id, order_id).await?.ok_or(ServiceError::NotFound)?;
    Ok(sql::for_order(app.db.pool(), &ctx.store.id, order_id).await?.into_iter().map(view).collect())
}

/// An order waiting for a risk review.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub order_id: String,
    pub number: i64,
    pub order_status: String,
    pub payment_status: String,
    pub total: i64,
    pub currency: String,
    /// The highest-scoring pending assessment of the order.
    pub assessment: RiskView,
}

/// The review queue: orders with a pending review, oldest first.
pub async fn queue(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ReviewItem>> {
    ctx.actor.require(Permission::PaymentsRead)?;
    let store_id = &ctx.store.id;
    let mut items: Vec<ReviewItem> = Vec::new();
    for row in sql::pending(app.db.pool(), store_id, 500).await? {
        if let Some(item) = items.iter_mut().find(|i| i.order_id == row.order_id) {
            if row.score > i64::from(item.assessment.score) {
                item.assessment = view(row);
            }
            continue;
        }
        let Some(order) = order_sql::by_id(app.db.pool(), store_id, &row.order_id).await? else { continue };
        items.push(ReviewItem {
            order_id: order.id,
            number: order.number,
            order_status: order.status,
            payment_status: order.payment_status,
            total: order.total,
            currency: order.currency,
            assessment: view(row),
        });
    }
    Ok(items)
}

/// Staff's verdict on a held order.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    #[serde(default)]
    pub note: String,
    /// On reject: put the order's e-mail address and cards on the blocked lists.
    #[serde(default)]
    pub block: bool,
}

fn no_review() -> ServiceError {
    ServiceError::Conflict { code: "no_pending_review", message: "this order is not waiting for a risk review".into() }
}

/// Approves a held order: its reviews close, it resumes where it was, and
/// authorised payments are captured when the store captures on order.
pub async fn approve(app: &App, ctx: &Ctx, order_id: &str, input: Verdict) -> ServiceResult<()> {
    ctx.actor.require(Permission::PaymentsManage)?;
    ctx.actor.require(Permission::OrdersManage)?;
    let mut errs = FieldErrors::default();
    errs.text("note", &input.note, 0, 500);
    if input.block {
        errs.add("block", "not_allowed", "only a rejection blocks");
    }
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let actor = ctx.actor.principal();
    let mut tx = app.db.begin().await?;
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    if sql::resolve(&mut tx, store_id, order_id, "approved", &actor, input.note.trim(), now_ms()).await? == 0 {
        return Err(no_review());
    }
    if order.status == OrderStatus::OnHold.as_str() {
        let back = super::orders::held_status(&mut tx, store_id, order_id).await?;
        apply_move(app, &mut tx, ctx, &order, back, "risk review approved", &actor).await?;
    }
    audit::record(app, &mut tx, ctx, "risk.approved", order_id, json!({ "number": order.number })).await?;
    super::payments::sync_order(app, &mut tx, ctx, order_id).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    if app.config.payments.capture_on_order {
        super::payments::capture_held(app, ctx, order_id).await?;
    }
    Ok(())
}

/// Rejects a held order: its reviews close and it is cancelled (stock
/// released, held funds voided); money already taken is refunded.
pub async fn reject(app: &App, ctx: &Ctx, order_id: &str, input: Verdict) -> ServiceResult<()> {
    ctx.actor.require(Permission::PaymentsManage)?;
    ctx.actor.require(Permission::OrdersManage)?;
    let mut errs = FieldErrors::default();
    errs.text("note", &input.note, 0, 500);
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let actor = ctx.actor.principal();
    // The verdict is taken under the order's lock, so a concurrent approve
    // and reject cannot both act: the second finds no pending review.
    let mut tx = app.db.begin().await?;
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let assessments = sql::for_order_in(&mut tx, store_id, order_id).await?;
    if sql::resolve(&mut tx, store_id, order_id, "rejected", &actor, input.note.trim(), now_ms()).await? == 0 {
        return Err(no_review());
    }
    if input.block {
        block_buyer(app, &mut tx, ctx, &order, &assessments).await?;
    }
    audit::record(
        app,
        &mut tx,
        ctx,
        "risk.rejected",
        order_id,
        json!({ "number": order.number, "blocked": input.block }),
    )
    .await?;
    tx.commit().await?;
    // Then the order is cancelled (stock back, held money released) and
    // money taken is refunded; should either fail, staff finish it on the
    // order page (cancel, refund), where the rejection shows.
    if order.status != OrderStatus::Cancelled.as_str() {
        let note = if input.note.trim().is_empty() { "risk review rejected" } else { input.note.trim() };
        let touched = super::orders::cancel_for_risk(app, ctx, order_id, note).await?;
        super::inventory::stock_changed(app, store_id, &touched);
    }
    super::payments::refund_taken(app, ctx, order_id, "risk review rejected").await
}

/// Lists the order's e-mail address and cards: later attempts with them
/// score `blocked_points`.
async fn block_buyer(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    order: &OrderRow,
    assessments: &[AssessmentRow],
) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let contact = open_contact(app, store_id, order)?;
    let mut entries = vec![(
        BlockKind::Email,
        fingerprint(app, store_id, "email", &contact.email),
        format!("{} (order {})", mask_email(&contact.email), order.number),
    )];
    let mut cards: Vec<&str> = assessments.iter().map(|a| a.card_hash.as_str()).filter(|h| !h.is_empty()).collect();
    cards.dedup();
    for hash in cards {
        entries.push((BlockKind::Card, hash.to_string(), format!("a card used on order {}", order.number)));
    }
    let now = now_ms();
    for (kind, value_hash, label) in entries {
        let row = BlockRow {
            id: ids::new_id(BLOCK),
            kind: kind.as_str().into(),
            value_hash,
            label,
            created_by: ctx.actor.principal(),
            created_at: now,
        };
        sql::insert_block(tx, store_id, &row).await?;
    }
    Ok(())
}

/// `jane@example.com` → `j…@example.com`.
fn mask_email(email: &str) -> String {
    match email.trim().split_once('@') {
        Some((local, domain)) => format!("{}…@{domain}", local.chars().next().unwrap_or('?')),
        None => "…".into(),
    }
}

/// A blocked-list entry as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Block {
    pub id: String,
    pub kind: BlockKind,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBlock {
    /// email, email_domain, ip, card (the card number) or country (ISO code).
    pub kind: String,
    pub value: String,
}

pub async fn blocks(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Block>> {
    ctx.actor.require(Permission::PaymentsRead)?;
    Ok(sql::blocks(app.db.pool(), &ctx.store.id)
        .await?
        .into_iter()
        .filter_map(|b| {
            Some(Block {
                kind: BlockKind::parse(&b.kind)?,
                id: b.id,
                label: b.label,
                created_by: b.created_by,
                created_at: b.created_at,
            })
        })
        .collect())
}

/// Adds a value to a blocked list (201), or finds it listed (200).
pub async fn add_block(app: &App, ctx: &Ctx, input: NewBlock) -> ServiceResult<(u16, Block)> {
    ctx.actor.require(Permission::PaymentsManage)?;
    let store_id = &ctx.store.id;
    let value = input.value.trim();
    let kind = BlockKind::parse(&input.kind);
    let mut errs = FieldErrors::default();
    let (normalised, label) = match kind {
        None => {
            errs.add("kind", "unknown_kind", "kind must be email, email_domain, ip, card or country");
            (String::new(), String::new())
        }
        Some(BlockKind::Email) => {
            if !value.contains('@') || value.len() > 254 {
                errs.add("value", "invalid_email", "not an e-mail address");
            }
            (value.to_string(), mask_email(value))
        }
        Some(BlockKind::EmailDomain) => {
            let d = value.trim_start_matches('@').to_lowercase();
            if d.is_empty() || !d.contains('.') || d.len() > 253 || d.contains(char::is_whitespace) {
                errs.add("value", "invalid_domain", "not a domain name");
            }
            (d.clone(), d)
        }
        Some(BlockKind::Ip) => {
            if real_ip(value).is_none() {
                errs.add("value", "invalid_ip", "not an IP address");
            }
            (value.to_string(), value.to_string())
        }
        Some(BlockKind::Card) => {
            let digits: String = value.chars().filter(|c| c.is_ascii_digit()).collect();
            if !crate::domain::payments::luhn_valid(&digits) {
                errs.add("value", "invalid_card_number", "not a valid card number");
            }
            let last4 = digits[digits.len().saturating_sub(4)..].to_string();
            (digits, format!("card …{last4}"))
        }
        Some(BlockKind::Country) => {
            let c = value.to_uppercase();
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                errs.add("value", "invalid_country", "a two-letter ISO country code");
            }
            (c.clone(), c)
        }
    };
    errs.finish(())?;
    let kind = kind.ok_or(ServiceError::NotFound)?;
    let row = BlockRow {
        id: ids::new_id(BLOCK),
        kind: kind.as_str().into(),
        value_hash: fingerprint(app, store_id, kind.as_str(), &normalised),
        label,
        created_by: ctx.actor.principal(),
        created_at: now_ms(),
    };
    let mut tx = app.db.begin().await?;
    let added = sql::insert_block(&mut tx, store_id, &row).await?;
    if added {
        audit::record(app, &mut tx, ctx, "risk.blocked", &row.id, json!({ "kind": row.kind, "label": row.label }))
            .await?;
    }
    tx.commit().await?;
    let listed = sql::blocks(app.db.pool(), store_id)
        .await?
        .into_iter()
        .find(|b| b.kind == row.kind && b.value_hash == row.value_hash)
        .ok_or(ServiceError::NotFound)?;
    let block = Block {
        id: listed.id,
        kind,
        label: listed.label,
        created_by: listed.created_by,
        created_at: listed.created_at,
    };
    Ok((if added { 201 } else { 200 }, block))
}

pub async fn remove_block(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::PaymentsManage)?;
    let mut tx = app.db.begin().await?;
    if !sql::delete_block(&mut tx, &ctx.store.id, id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "risk.unblocked", id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_masked() {
        assert_eq!(mask_email("jane@example.com"), "j…@example.com");
        assert_eq!(mask_email("nobody"), "…");
    }

    #[test]
    fn only_real_addresses_count() {
        assert!(real_ip("203.0.113.9").is_some());
        assert!(real_ip("::1").is_some());
        assert!(real_ip("worker").is_none());
    }
}
