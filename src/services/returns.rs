//! Returns (RMA): a customer asks to send goods back within the store's
//! window (`orders.return_days` after delivery), with a reason per line;
//! staff approve or reject; when the goods arrive they are inspected —
//! resellable units go back on the shelf, damaged ones are written off —
//! and the refund owed is recorded (`domain::returns::refund`: what was
//! paid for those units, promotions and tax included, and a fair share of
//! shipping). Paying it out is the payments capability's job.
//!
//! A line never has more units in returns than were shipped: the count is
//! a guarded update, so concurrent requests cannot over-return.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Actor, Ctx, Permission};
use super::orders::{self as orders_svc, Order};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::carts::LineFacts;
use crate::db::orders::{self as order_sql, HistoryRow};
use crate::db::returns::{self as sql, ReturnLineRow, ReturnRow};
use crate::domain::catalog::{PublishStatus, is_visible};
use crate::domain::ids;
use crate::domain::money::{Currency, Money};
use crate::domain::returns::{
    Condition, PaidLine, RefundAmount, Resolution, ReturnReason, ReturnStatus, refund, transition,
};
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    pub sku: String,
    pub quantity: i64,
    pub reason: ReturnReason,
    /// For an exchange: the SKU of another variant of the same product to
    /// send instead (a different size or colour). Left out, the same item
    /// is sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_for: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<ReturnLineInput>,
    #[serde(default = "refund_by_default")]
    pub resolution: Resolution,
    #[serde(default)]
    pub comment: String,
}

fn refund_by_default() -> Resolution {
    Resolution::Refund
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionInput {
    pub sku: String,
    pub condition: Condition,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInput {
    /// The stock location resellable units go back to (code).
    pub location: String,
    /// What inspection found per SKU; SKUs left out are resellable.
    #[serde(default)]
    pub conditions: Vec<ConditionInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `approved`, `rejected` or `cancelled`.
    pub status: ReturnStatus,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub reason: ReturnReason,
    /// Known once received.
    pub condition: Option<Condition>,
    /// For an exchange sending another variant: its SKU.
    pub exchange_for: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundOwed {
    pub goods: Money,
    pub shipping: Money,
    pub total: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Return {
    pub id: String,
    pub order_id: String,
    pub order_number: i64,
    pub status: ReturnStatus,
    pub resolution: Resolution,
    pub comment: String,
    pub lines: Vec<ReturnLine>,
    /// What is owed, once the goods were received (refunds only).
    pub refund: Option<RefundOwed>,
    /// For a received exchange: the order that sends the replacement.
    pub replacement_order_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn view(order: &Order, r: ReturnRow, lines: Vec<ReturnLineRow>, line_nos: &HashMap<i64, usize>) -> Return {
    let currency = Currency::parse(&order.currency).unwrap_or(Currency::EUR);
    let money = |a: i64| Money::new(a, currency);
    let status = ReturnStatus::parse(&r.status).unwrap_or(ReturnStatus::Requested);
    let resolution = Resolution::parse(&r.resolution).unwrap_or(Resolution::Refund);
    Return {
        replacement_order_id: r.replacement_order_id.clone(),
        refund: (status == ReturnStatus::Received && resolution == Resolution::Refund).then(|| RefundOwed {
            goods: money(r.refund_goods),
            shipping: money(r.refund_shipping),
            total: money(r.refund_total),
        }),
        lines: lines
            .into_iter()
            .map(|l| {
                let ol = line_nos.get(&l.line_no).map(|i| &order.lines[*i]);
                ReturnLine {
                    sku: ol.map(|o| o.sku.clone()).unwrap_or_default(),
                    name: ol.map(|o| o.name.clone()).unwrap_or_default(),
                    quantity: l.quantity,
                    reason: ReturnReason::parse(&l.reason).unwrap_or(ReturnReason::Other),
                    condition: match l.condition.as_str() {
                        "resellable" => Some(Condition::Resellable),
                        "damaged" => Some(Condition::Damaged),
                        _ => None,
                    },
                    exchange_for: (!l.exchange_sku.is_empty()).then(|| l.exchange_sku.clone()),
                }
            })
            .collect(),
        id: r.id,
        order_id: r.order_id,
        order_number: order.number,
        status,
        resolution,
        comment: r.comment,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Order line numbers (1-based, in order) → index in `order.lines`.
fn line_index(order: &Order) -> HashMap<i64, usize> {
    (0..order.lines.len()).map(|i| (i as i64 + 1, i)).collect()
}

/// A note on the order's timeline (its status stays).
async fn timeline(
    tx: &mut crate::db::Tx,
    store_id: &str,
    order: &Order,
    note: String,
    actor: &str,
) -> ServiceResult<()> {
    let entry = HistoryRow {
        kind: "note".into(),
        from_status: Some(order.status.as_str().into()),
        to_status: order.status.as_str().into(),
        note,
        actor: actor.to_string(),
        at: now_ms(),
    };
    order_sql::add_history(tx, store_id, &order.id, &ids::new_id("ohs"), &entry).await?;
    Ok(())
}

fn actor_of(ctx: &Ctx) -> String {
    match &ctx.actor {
        Actor::Customer { .. } | Actor::Anonymous => "customer".to_string(),
        other => other.principal(),
    }
}

/// A customer (or a guest with the order's token, or staff) asks to send
/// goods back.
pub async fn request(
    app: &App,
    ctx: &Ctx,
    order_id: &str,
    token: Option<&str>,
    input: ReturnRequest,
) -> ServiceResult<Return> {
    let order = orders_svc::get(app, ctx, order_id, token).await?;
    let staff = matches!(ctx.actor, Actor::Staff { .. } | Actor::Token { .. });
    if staff {
        ctx.actor.require(Permission::OrdersManage)?;
    }
    // The window runs from the last parcel's delivery (or shipping).
    let last = order.shipments.iter().map(|s| s.delivered_at.unwrap_or(s.shipped_at)).max();
    let now = now_ms();
    match last {
        None => {
            return Err(ServiceError::Conflict { code: "nothing_shipped", message: "nothing was shipped yet".into() });
        }
        Some(at) if !staff && now > at + app.config.orders.return_days * 86_400_000 => {
            return Err(ServiceError::Conflict {
                code: "return_window_closed",
                message: format!("returns are accepted within {} days of delivery", app.config.orders.return_days),
            });
        }
        _ => {}
    }
    let store_id = &ctx.store.id;
    let mut errs = FieldErrors::default();
    errs.text("comment", &input.comment, 0, 2000);
    if input.lines.is_empty() {
        errs.add("lines", "required", "name at least one item to return");
    }
    let mut wanted: Vec<(i64, &ReturnLineInput)> = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let Some(pos) = order.lines.iter().position(|o| o.sku == l.sku) else {
            errs.add(&format!("lines[{i}].sku"), "not_in_order", "the order has no line with this SKU");
            continue;
        };
        let ol = &order.lines[pos];
        let returnable = ol.shipped - ol.returned;
        if !ol.kind.needs_shipping() {
            errs.add(
                &format!("lines[{i}].sku"),
                "not_returnable",
                "only shipped goods are sent back; digital goods and services are not",
            );
        } else if l.quantity < 1 {
            errs.add(&format!("lines[{i}].quantity"), "out_of_range", "at least 1");
        } else if l.quantity > returnable {
            errs.add(
                &format!("lines[{i}].quantity"),
                "more_than_returnable",
                format!("{returnable} of {} can be returned", ol.sku),
            );
        } else if wanted.iter().any(|(no, _)| *no == pos as i64 + 1) {
            errs.add(&format!("lines[{i}].sku"), "duplicate", "each SKU once per return");
        } else {
            wanted.push((pos as i64 + 1, l));
        }
    }
    let swaps = exchange_variants(app, store_id, &order, &input, &mut errs).await?;
    errs.finish(())?;
    let row = ReturnRow {
        id: ids::new_id("rma"),
        order_id: order.id.clone(),
        status: ReturnStatus::Requested.as_str().into(),
        resolution: input.resolution.as_str().into(),
        comment: input.comment.trim().to_string(),
        refund_goods: 0,
        refund_shipping: 0,
        refund_total: 0,
        created_at: now,
        updated_at: now,
        replacement_order_id: None,
    };
    let lines: Vec<ReturnLineRow> = wanted
        .iter()
        .map(|(no, l)| {
            let swap = swaps.get(&l.sku);
            ReturnLineRow {
                line_no: *no,
                quantity: l.quantity,
                reason: l.reason.as_str().into(),
                condition: String::new(),
                exchange_variant_id: swap.map(|f| f.variant_id.clone()).unwrap_or_default(),
                exchange_sku: swap.map(|f| f.sku.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let actor = actor_of(ctx);
    let mut tx = app.db.begin().await?;
    for l in &lines {
        if !sql::count_returned(&mut tx, store_id, &order.id, l.line_no, l.quantity).await? {
            return Err(ServiceError::Conflict {
                code: "order_changed",
                message: "another return took these units meanwhile; look again".into(),
            });
        }
    }
    sql::insert(&mut tx, store_id, &row, &lines).await?;
    timeline(&mut tx, store_id, &order, format!("return {} requested", row.id), &actor).await?;
    outbox::emit(&mut tx, store_id, "return.requested", json!({ "return_id": row.id, "order_id": order.id })).await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok(view(&order, row, lines, &line_index(&order)))
}

/// What an exchange sends: per returned line, the ordered line (or, when
/// another variant was asked for, that variant in its place) and the units.
async fn exchange_units(
    app: &App,
    store_id: &str,
    lines: &[ReturnLineRow],
    ordered: &[order_sql::LineRow],
) -> ServiceResult<Vec<(order_sql::LineRow, i64)>> {
    let ids: Vec<String> = lines.iter().map(|l| l.exchange_variant_id.clone()).filter(|v| !v.is_empty()).collect();
    let found = crate::db::carts::facts_by(app.db.pool(), app.db.dialect(), store_id, "id", &ids).await?;
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(o) = ordered.iter().find(|o| o.line_no == l.line_no) else { continue };
        if l.exchange_variant_id.is_empty() {
            out.push((o.clone(), l.quantity));
            continue;
        }
        let Some(f) = found.iter().find(|f| f.variant_id == l.exchange_variant_id) else {
            return Err(ServiceError::Conflict {
                code: "exchange_unavailable",
                message: format!("{} was asked for in exchange but no longer exists", l.exchange_sku),
            });
        };
        let options: std::collections::BTreeMap<String, String> = f.option_pairs().into_iter().collect();
        let swapped = order_sql::LineRow {
            variant_id: f.variant_id.clone(),
            sku: f.sku.clone(),
            options: serde_json::to_string(&options).map_err(|e| ServiceError::Internal(e.to_string()))?,
            weight_grams: f.weight_grams.unwrap_or(0).saturating_mul(l.quantity),
            ..o.clone()
        };
        out.push((swapped, l.quantity));
    }
    Ok(out)
}

/// The variants asked for in exchange, by returned SKU, checked: only for
/// an exchange, another variant of the same product, for sale now at the
/// price the ordered one has now (a replacement is sent at no charge, so a
/// dearer or cheaper variant would give away or keep the difference). A
/// line naming its own SKU asks for nothing different.
async fn exchange_variants(
    app: &App,
    store_id: &str,
    order: &Order,
    input: &ReturnRequest,
    errs: &mut FieldErrors,
) -> ServiceResult<HashMap<String, LineFacts>> {
    let asked: Vec<(usize, &ReturnLineInput, String)> = input
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let to = l.exchange_for.as_deref().map(str::trim).filter(|s| !s.is_empty() && *s != l.sku)?;
            Some((i, l, to.to_string()))
        })
        .collect();
    let mut out = HashMap::new();
    if asked.is_empty() {
        return Ok(out);
    }
    if input.resolution != Resolution::Exchange {
        for (i, _, _) in &asked {
            let field = format!("lines[{i}].exchange_for");
            errs.add(&field, "only_for_exchange", "another variant is sent only for an exchange");
        }
        return Ok(out);
    }
    let pool = app.db.pool();
    let ordered = order_sql::lines(pool, store_id, &order.id).await?;
    let skus: Vec<String> = asked.iter().map(|(_, _, to)| to.clone()).collect();
    let found = crate::db::carts::facts_by(pool, app.db.dialect(), store_id, "sku", &skus).await?;
    let prices = unit_prices(app, store_id, order, &ordered, &found).await?;
    let now = now_ms();
    for (i, l, to) in asked {
        let field = format!("lines[{i}].exchange_for");
        let Some(from) = ordered.iter().find(|o| o.sku == l.sku) else { continue };
        let Some(f) = found.iter().find(|f| f.sku == to) else {
            errs.add(&field, "unknown_sku", "no product variant with this SKU");
            continue;
        };
        let status = PublishStatus::parse(&f.status).unwrap_or(PublishStatus::Draft);
        if f.product_id != from.product_id {
            errs.add(&field, "not_same_product", "an exchange sends another variant of the same product");
        } else if !is_visible(status, f.publish_at, f.unpublish_at, now) {
            errs.add(&field, "unavailable", "this variant is not for sale");
        } else if !swaps_at_same_price(&prices, from, &f.variant_id) {
            errs.add(
                &field,
                "price_differs",
                "an exchange sends a variant of the same price; return this one and order the other",
            );
        } else {
            out.insert(l.sku.clone(), f.clone());
        }
    }
    Ok(out)
}

/// Unit prices now, by (variant, quantity), of each ordered line's variant
/// and of `others` (variants that might replace it) at the ordered
/// quantity, for the order's customer in its channel: one look-up.
type UnitPrices = HashMap<(String, i64), i64>;

async fn unit_prices(
    app: &App,
    store_id: &str,
    order: &Order,
    ordered: &[order_sql::LineRow],
    others: &[LineFacts],
) -> ServiceResult<UnitPrices> {
    let channel = order_sql::by_id(app.db.pool(), store_id, &order.id).await?.ok_or(ServiceError::NotFound)?.channel_id;
    let mut wants: Vec<(String, i64)> = Vec::new();
    for o in ordered {
        wants.push((o.variant_id.clone(), o.quantity));
        let same_product = others.iter().filter(|v| v.product_id == o.product_id);
        wants.extend(same_product.map(|v| (v.variant_id.clone(), o.quantity)));
    }
    let customer = order.customer_id.as_deref();
    let resolved = super::pricing::resolve_lines(app, store_id, &channel, customer, &wants, now_ms()).await?;
    Ok(wants.into_iter().zip(resolved).filter_map(|(k, r)| Some((k, r?.unit))).collect())
}

/// True when `variant_id` costs what the ordered line's variant costs now
/// (see [`unit_prices`]).
fn swaps_at_same_price(prices: &UnitPrices, from: &order_sql::LineRow, variant_id: &str) -> bool {
    let price = |v: &str| prices.get(&(v.to_string(), from.quantity));
    price(variant_id).is_some() && price(variant_id) == price(&from.variant_id)
}

/// For a return form: per returnable SKU of the order, the other variants
/// of its product for sale now, as (SKU, their options as text).
pub async fn exchange_choices(
    app: &App,
    ctx: &Ctx,
    order: &Order,
) -> ServiceResult<HashMap<String, Vec<(String, String)>>> {
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let ordered = order_sql::lines(pool, store_id, &order.id).await?;
    let mut products: Vec<String> = ordered
        .iter()
        .filter(|o| {
            o.shipped > o.returned
                && crate::domain::catalog::ProductKind::parse(&o.kind).is_some_and(|k| k.needs_shipping())
        })
        .map(|o| o.product_id.clone())
        .collect();
    products.sort();
    products.dedup();
    let variants = crate::db::carts::facts_by(pool, app.db.dialect(), store_id, "product", &products).await?;
    if variants.is_empty() {
        return Ok(HashMap::new());
    }
    let now = now_ms();
    // Only variants priced as the ordered one is now can be swapped for it
    // (see `exchange_variants`).
    let prices = unit_prices(app, store_id, order, &ordered, &variants).await?;
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for o in &ordered {
        let mut others: Vec<(String, String)> = variants
            .iter()
            .filter(|v| v.product_id == o.product_id && v.sku != o.sku)
            .filter(|v| swaps_at_same_price(&prices, o, &v.variant_id))
            .filter(|v| {
                is_visible(
                    PublishStatus::parse(&v.status).unwrap_or(PublishStatus::Draft),
                    v.publish_at,
                    v.unpublish_at,
                    now,
                )
            })
            .map(|v| {
                let text = v.option_pairs().iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
                (v.sku.clone(), if text.is_empty() { v.sku.clone() } else { text })
            })
            .collect();
        if !others.is_empty() {
            others.sort();
            out.insert(o.sku.clone(), others);
        }
    }
    Ok(out)
}

/// The returns of an order, for whoever may see the order.
pub async fn of_order(app: &App, ctx: &Ctx, order_id: &str, token: Option<&str>) -> ServiceResult<Vec<Return>> {
    let order = orders_svc::get(app, ctx, order_id, token).await?;
    let pool = app.db.pool();
    let index = line_index(&order);
    let mut out = Vec::new();
    for r in sql::of_order(pool, &ctx.store.id, order_id).await? {
        let lines = sql::lines(pool, &ctx.store.id, &r.id).await?;
        out.push(view(&order, r, lines, &index));
    }
    Ok(out)
}

/// Staff: the store's returns, newest first (optionally one status).
pub async fn list(app: &App, ctx: &Ctx, status: Option<ReturnStatus>) -> ServiceResult<Vec<Return>> {
    ctx.actor.require(Permission::OrdersRead)?;
    let pool = app.db.pool();
    let mut orders: HashMap<String, Order> = HashMap::new();
    let returns = sql::list(pool, &ctx.store.id, status.map(|s| s.as_str()), 200).await?;
    // Every return's lines in one query, not one per return.
    let ids: Vec<String> = returns.iter().map(|r| r.id.clone()).collect();
    let mut lines = sql::lines_of_many(&app.db, &ctx.store.id, &ids).await?;
    let mut out = Vec::with_capacity(returns.len());
    for r in returns {
        if !orders.contains_key(&r.order_id) {
            orders.insert(r.order_id.clone(), orders_svc::get(app, ctx, &r.order_id, None).await?);
        }
        let order = &orders[&r.order_id];
        let own = lines.remove(&r.id).unwrap_or_default();
        out.push(view(order, r, own, &line_index(order)));
    }
    Ok(out)
}

/// Staff: one return.
pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<Return> {
    ctx.actor.require(Permission::OrdersRead)?;
    let pool = app.db.pool();
    let r = sql::by_id(pool, &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    let order = orders_svc::get(app, ctx, &r.order_id, None).await?;
    let lines = sql::lines(pool, &ctx.store.id, &r.id).await?;
    Ok(view(&order, r, lines, &line_index(&order)))
}

/// Staff approve, reject or cancel a return. Rejected and cancelled
/// returns give their units back to what may be returned.
pub async fn decide(app: &App, ctx: &Ctx, id: &str, input: Decision) -> ServiceResult<Return> {
    ctx.actor.require(Permission::OrdersManage)?;
    let mut errs = FieldErrors::default();
    errs.text("note", &input.note, 0, 1000);
    if !matches!(input.status, ReturnStatus::Approved | ReturnStatus::Rejected | ReturnStatus::Cancelled) {
        errs.add("status", "invalid_status", "approved, rejected or cancelled (goods are received with /receive)");
    }
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let r = sql::by_id(pool, store_id, id).await?.ok_or(ServiceError::NotFound)?;
    let order = orders_svc::get(app, ctx, &r.order_id, None).await?;
    let from = ReturnStatus::parse(&r.status).unwrap_or(ReturnStatus::Requested);
    transition(from, input.status).map_err(|message| ServiceError::Conflict { code: "invalid_transition", message })?;
    let lines = sql::lines(pool, store_id, id).await?;
    let actor = actor_of(ctx);
    let mut tx = app.db.begin().await?;
    if !sql::set_status(&mut tx, store_id, id, from.as_str(), input.status.as_str(), now_ms()).await? {
        return Err(ServiceError::Conflict { code: "return_changed", message: "the return changed meanwhile".into() });
    }
    if !input.status.holds_units() {
        for l in &lines {
            sql::count_returned(&mut tx, store_id, &r.order_id, l.line_no, -l.quantity).await?;
        }
    }
    let note = format!(
        "return {id} {}{}",
        input.status.as_str(),
        if input.note.trim().is_empty() { String::new() } else { format!(": {}", input.note.trim()) }
    );
    timeline(&mut tx, store_id, &order, note, &actor).await?;
    outbox::emit(
        &mut tx,
        store_id,
        &format!("return.{}", input.status.as_str()),
        json!({ "return_id": id, "order_id": r.order_id }),
    )
    .await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "returns.decided",
        id,
        json!({ "from": from.as_str(), "to": input.status.as_str() }),
    )
    .await?;
    tx.commit().await?;
    app.wake_outbox();
    get(app, ctx, id).await
}

/// Staff receive and inspect the goods: resellable units go back on the
/// shelf, damaged ones are written off, and the refund owed is recorded.
pub async fn receive(app: &App, ctx: &Ctx, id: &str, input: ReceiveInput) -> ServiceResult<Return> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let r = sql::by_id(pool, store_id, id).await?.ok_or(ServiceError::NotFound)?;
    let order = orders_svc::get(app, ctx, &r.order_id, None).await?;
    let from = ReturnStatus::parse(&r.status).unwrap_or(ReturnStatus::Requested);
    let lines = sql::lines(pool, store_id, id).await?;
    let index = line_index(&order);
    let mut errs = FieldErrors::default();
    let location = crate::db::inventory::locations(pool, store_id)
        .await?
        .into_iter()
        .find(|l| l.code == input.location || l.id == input.location);
    if location.is_none() {
        errs.add("location", "unknown_location", "no stock location with this code");
    }
    for (i, c) in input.conditions.iter().enumerate() {
        let in_return = lines.iter().any(|l| index.get(&l.line_no).is_some_and(|p| order.lines[*p].sku == c.sku));
        if !in_return {
            errs.add(&format!("conditions[{i}].sku"), "not_in_return", "this return has no line with this SKU");
        }
    }
    errs.finish(())?;
    transition(from, ReturnStatus::Received)
        .map_err(|message| ServiceError::Conflict { code: "invalid_transition", message })?;
    let location = location.ok_or(ServiceError::NotFound)?;
    let condition_of =
        |sku: &str| input.conditions.iter().find(|c| c.sku == sku).map_or(Condition::Resellable, |c| c.condition);
    let actor = actor_of(ctx);
    let raw_lines = order_sql::lines(pool, store_id, &r.order_id).await?;
    let mut tx = app.db.begin().await?;
    // Units refunded by earlier returns (read before this one counts as received).
    let before: HashMap<i64, i64> = sql::refunded_units(&mut tx, store_id, &r.order_id).await?.into_iter().collect();
    if !sql::set_status(&mut tx, store_id, id, from.as_str(), ReturnStatus::Received.as_str(), now_ms()).await? {
        return Err(ServiceError::Conflict { code: "return_changed", message: "the return changed meanwhile".into() });
    }
    let mut back = Vec::new();
    for l in &lines {
        let Some(ol) = raw_lines.iter().find(|o| o.line_no == l.line_no) else { continue };
        let condition = condition_of(&ol.sku);
        sql::set_condition(&mut tx, store_id, id, l.line_no, condition.as_str()).await?;
        let physical = crate::domain::catalog::ProductKind::parse(&ol.kind).is_some_and(|k| k.needs_shipping());
        if condition == Condition::Resellable && physical {
            back.push(super::inventory::Outgoing {
                variant_id: &ol.variant_id,
                product_id: &ol.product_id,
                sku: &ol.sku,
                quantity: l.quantity,
            });
        }
    }
    let touched = super::inventory::restock_returned(app, &mut tx, &actor, store_id, id, &location.id, &back).await?;
    let owed = if r.resolution == Resolution::Refund.as_str() {
        let paid: Vec<PaidLine> = raw_lines
            .iter()
            .map(|ol| PaidLine {
                quantity: ol.quantity,
                paid: ol.line_total - ol.discount,
                tax_on_top: if order.prices_include_tax { 0 } else { ol.tax },
                refunded_before: before.get(&ol.line_no).copied().unwrap_or(0),
                now: lines.iter().find(|l| l.line_no == ol.line_no).map_or(0, |l| l.quantity),
            })
            .collect();
        let shipping_paid = order.totals.shipping.amount
            + if order.prices_include_tax { 0 } else { order.pricing.shipping.as_ref().map_or(0, |s| s.tax) };
        refund(&paid, shipping_paid)
    } else {
        RefundAmount::default()
    };
    sql::set_refund(&mut tx, store_id, id, owed.goods, owed.shipping).await?;
    let mut touched = touched;
    let mut note = format!("return {id} received at {}; refund owed {}", location.code, owed.total);
    if r.resolution == Resolution::Exchange.as_str() {
        let units = exchange_units(app, store_id, &lines, &raw_lines).await?;
        let original = order_sql::by_id(&mut tx, store_id, &r.order_id).await?.ok_or(ServiceError::NotFound)?;
        let made = super::exchanges::replacement(app, &mut tx, ctx, &original, id, &units, &actor).await?;
        sql::set_replacement(&mut tx, store_id, id, &made.order_id).await?;
        touched.extend(made.touched);
        note = format!("return {id} received at {}; replacement order {}", location.code, made.number);
    }
    timeline(&mut tx, store_id, &order, note, &actor).await?;
    outbox::emit(
        &mut tx,
        store_id,
        "return.received",
        json!({ "return_id": id, "order_id": r.order_id, "refund_owed": owed.total, "currency": order.currency }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "returns.received", id, json!({ "refund_owed": owed.total })).await?;
    tx.commit().await?;
    app.wake_outbox();
    super::inventory::stock_changed(app, store_id, &touched);
    get(app, ctx, id).await
}
