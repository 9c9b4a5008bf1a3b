//! Fulfilment: what to pick where (the pick list), shipments from a stock
//! location with carrier and tracking number (whole or partial), delivery
//! confirmation, and fulfilling orders that ship nothing (services, fees,
//! digital goods).
//!
//! A shipment is one transaction: the lines' shipped counts rise (never
//! past what was ordered), the units leave the shelf (from the order's
//! hold at that location first: `inventory::ship_for_order`), the order
//! moves to partially fulfilled or fulfilled, and the customer gets an
//! e-mail with the tracking number. It accepts `Idempotency-Key`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::orders::{self as orders_svc, Order, apply_move};
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::fulfilment::{self as sql, ShipmentRow};
use crate::db::orders::{self as order_sql, LineRow};
use crate::domain::catalog::ProductKind;
use crate::domain::ids;
use crate::domain::orders::OrderStatus;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLineInput {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInput {
    /// The stock location the parcel leaves from (code).
    pub location: String,
    #[serde(default = "manual")]
    pub carrier: String,
    #[serde(default)]
    pub tracking_number: String,
    /// What the parcel holds; left out: everything still to ship that the
    /// order holds at this location.
    #[serde(default)]
    pub lines: Option<Vec<ShipmentLineInput>>,
}

fn manual() -> String {
    "manual".into()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickLocation {
    pub location: String,
    pub name: String,
    pub lines: Vec<PickLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickList {
    pub order_id: String,
    pub number: i64,
    /// Units the order holds, per location.
    pub locations: Vec<PickLocation>,
    /// Units still to ship that no location holds (back-ordered).
    pub waiting: Vec<PickLine>,
}

fn ships(l: &LineRow) -> bool {
    ProductKind::parse(&l.kind).unwrap_or(ProductKind::Physical).needs_shipping()
}

/// What to pick where for an order's outstanding lines.
pub async fn pick_list(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<PickList> {
    ctx.actor.require(Permission::OrdersRead)?;
    let pool = app.db.pool();
    let store_id = &ctx.store.id;
    let order = order_sql::by_id(pool, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let lines = order_sql::lines(pool, store_id, order_id).await?;
    let locations = crate::db::inventory::locations(pool, store_id).await?;
    let held: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT variant_id, location_id, quantity FROM stock_reservations
         WHERE store_id = $1 AND order_id = $2 ORDER BY location_id, variant_id",
    )
    .bind(store_id)
    .bind(order_id)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<PickLocation> = Vec::new();
    let mut covered: HashMap<&str, i64> = HashMap::new();
    for (variant, location, quantity) in &held {
        let Some(line) = lines.iter().find(|l| l.variant_id == *variant) else { continue };
        let Some(loc) = locations.iter().find(|l| l.id == *location) else { continue };
        *covered.entry(line.variant_id.as_str()).or_default() += quantity;
        let pick = PickLine { sku: line.sku.clone(), name: line.name.clone(), quantity: *quantity };
        match out.iter_mut().find(|p| p.location == loc.code) {
            Some(p) => p.lines.push(pick),
            None => out.push(PickLocation { location: loc.code.clone(), name: loc.name.clone(), lines: vec![pick] }),
        }
    }
    let waiting = lines
        .iter()
        .filter(|l| ships(l))
        .filter_map(|l| {
            let left = l.quantity - l.shipped - covered.get(l.variant_id.as_str()).copied().unwrap_or(0);
            (left > 0).then(|| PickLine { sku: l.sku.clone(), name: l.name.clone(), quantity: left })
        })
        .collect();
    Ok(PickList { order_id: order.id, number: order.number, locations: out, waiting })
}

/// Lines that are delivered: shipped goods, and digital goods (sent over
/// the network once paid). Services and fees are done by people.
fn delivered_goods(l: &LineRow) -> bool {
    matches!(ProductKind::parse(&l.kind), Some(ProductKind::Physical | ProductKind::Digital))
}

/// The fulfilment status once `lines` are as they are: fulfilled when
/// every line of goods was delivered whole.
pub(super) fn status_after(lines: &[LineRow]) -> OrderStatus {
    if lines.iter().filter(|l| delivered_goods(l)).all(|l| l.shipped >= l.quantity) {
        OrderStatus::Fulfilled
    } else {
        OrderStatus::PartiallyFulfilled
    }
}

fn refuse_status(status: OrderStatus) -> ServiceError {
    let message = match status {
        OrderStatus::Placed => "confirm the order before shipping it".to_string(),
        OrderStatus::OnHold => "the order is on hold; resume it first".to_string(),
        other => format!("a {} order ships nothing more", other.as_str()),
    };
    ServiceError::Conflict { code: "invalid_transition", message }
}

/// Records a parcel leaving a location. Accepts `Idempotency-Key`.
pub async fn ship(
    app: &App,
    ctx: &Ctx,
    order_id: &str,
    input: ShipmentInput,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Order>> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let mut errs = FieldErrors::default();
    match crate::providers::carrier::by_code(&input.carrier) {
        None => {
            let known = crate::providers::carrier::codes().join(", ");
            errs.add("carrier", "unknown_carrier", format!("carriers: {known}"));
        }
        Some(c) if !c.accepts_tracking(input.tracking_number.trim()) => {
            errs.add("tracking_number", "invalid_tracking", "not a tracking number of this carrier");
        }
        Some(_) => {}
    }
    let location = crate::db::inventory::locations(pool, store_id)
        .await?
        .into_iter()
        .find(|l| l.code == input.location || l.id == input.location);
    if location.is_none() {
        errs.add("location", "unknown_location", "no stock location with this code");
    }
    let order = order_sql::by_id(pool, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let status = OrderStatus::parse(&order.status).unwrap_or(OrderStatus::Placed);
    if !matches!(status, OrderStatus::Confirmed | OrderStatus::PartiallyFulfilled) {
        return Err(refuse_status(status));
    }
    let lines = order_sql::lines(pool, store_id, order_id).await?;
    let location = match (location, errs.finish(())) {
        (Some(l), Ok(())) => l,
        (_, Err(e)) => return Err(e.into()),
        (None, Ok(())) => unreachable!("a missing location is a field error"),
    };
    // What the parcel holds: (line, units).
    let wanted: Vec<(&LineRow, i64)> = match &input.lines {
        Some(given) => {
            let mut errs = FieldErrors::default();
            let mut out = Vec::new();
            for (i, g) in given.iter().enumerate() {
                match lines.iter().find(|l| l.sku == g.sku) {
                    None => errs.add(&format!("lines[{i}].sku"), "not_in_order", "the order has no line with this SKU"),
                    Some(l) if !ships(l) => {
                        errs.add(&format!("lines[{i}].sku"), "not_shippable", "services and digital goods do not ship")
                    }
                    Some(_) if g.quantity < 1 => {
                        errs.add(&format!("lines[{i}].quantity"), "out_of_range", "at least 1")
                    }
                    Some(l) if g.quantity > l.quantity - l.shipped => errs.add(
                        &format!("lines[{i}].quantity"),
                        "more_than_outstanding",
                        format!("{} of {} still to ship", l.quantity - l.shipped, l.sku),
                    ),
                    Some(l) if out.iter().any(|(o, _): &(&LineRow, i64)| o.line_no == l.line_no) => {
                        errs.add(&format!("lines[{i}].sku"), "duplicate", "each SKU once per shipment")
                    }
                    Some(l) => out.push((l, g.quantity)),
                }
            }
            if given.is_empty() {
                errs.add("lines", "required", "a shipment holds at least one line");
            }
            errs.finish(out)?
        }
        None => {
            let held: Vec<(String, i64)> = sqlx::query_as(
                "SELECT variant_id, quantity FROM stock_reservations
                 WHERE store_id = $1 AND order_id = $2 AND location_id = $3",
            )
            .bind(store_id)
            .bind(order_id)
            .bind(&location.id)
            .fetch_all(pool)
            .await?;
            lines
                .iter()
                .filter(|l| ships(l))
                .filter_map(|l| {
                    let here = held.iter().find(|(v, _)| *v == l.variant_id).map_or(0, |(_, q)| *q);
                    let n = here.min(l.quantity - l.shipped);
                    (n > 0).then_some((l, n))
                })
                .collect()
        }
    };
    if wanted.is_empty() {
        return Err(ServiceError::Conflict {
            code: "nothing_to_ship",
            message: format!("the order holds nothing still to ship at {}", location.code),
        });
    }

    let actor = ctx.actor.principal();
    let now = now_ms();
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    // From here the order is ours: its status is checked again under the lock.
    let locked = order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let now_status = OrderStatus::parse(&locked.0).unwrap_or(OrderStatus::Placed);
    if !matches!(now_status, OrderStatus::Confirmed | OrderStatus::PartiallyFulfilled) {
        return Err(refuse_status(now_status));
    }
    for (l, n) in &wanted {
        if !sql::ship_line(&mut tx, store_id, order_id, l.line_no, &l.variant_id, *n).await? {
            return Err(ServiceError::Conflict {
                code: "order_changed",
                message: format!("{} was shipped meanwhile; look again", l.sku),
            });
        }
    }
    let outgoing: Vec<super::inventory::Outgoing> = wanted
        .iter()
        .map(|(l, n)| super::inventory::Outgoing {
            variant_id: &l.variant_id,
            product_id: &l.product_id,
            sku: &l.sku,
            quantity: *n,
        })
        .collect();
    let touched =
        super::inventory::ship_for_order(app, &mut tx, &actor, store_id, order_id, &location.id, &outgoing).await?;
    let shipment = ShipmentRow {
        id: ids::new_id("shp"),
        location_id: location.id.clone(),
        carrier: input.carrier.clone(),
        tracking_number: input.tracking_number.trim().to_string(),
        status: "shipped".into(),
        actor: actor.clone(),
        shipped_at: now,
        delivered_at: None,
    };
    sql::insert_shipment(&mut tx, store_id, order_id, &shipment).await?;
    for (l, n) in &wanted {
        sql::insert_shipment_line(&mut tx, store_id, &shipment.id, l.line_no, *n).await?;
    }
    let after = order_sql::lines(&mut tx, store_id, order_id).await?;
    let to = status_after(&after);
    // The order row as this transaction sees it (the status guard holds).
    let row = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let note =
        format!("shipment {} from {} ({} {})", shipment.id, location.code, shipment.carrier, shipment.tracking_number);
    if OrderStatus::parse(&row.status) != Some(to) {
        apply_move(app, &mut tx, ctx, &row, to, note.trim_end(), &actor).await?;
    }
    outbox::emit(
        &mut tx,
        store_id,
        "order.shipped",
        json!({ "order_id": order_id, "number": row.number, "shipment_id": shipment.id,
                "carrier": shipment.carrier, "tracking_number": shipment.tracking_number }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "orders.shipped", order_id, json!({ "shipment": shipment.id })).await?;
    let view = orders_svc::get_in(app, &mut tx, ctx, order_id).await?;
    shipped_mail(app, &mut tx, ctx, &view, &shipment).await?;
    idempotency::complete(app, &mut tx, ctx, idem, 201, &view).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    super::inventory::stock_changed(app, store_id, &touched);
    capture_on_fulfilment(app, ctx, order_id).await;
    Ok(Outcome::Fresh(view))
}

/// A store that captures on fulfilment takes the money the order's
/// payments hold once goods leave. A refused capture leaves the payment
/// authorised for staff to see; the shipment stands.
async fn capture_on_fulfilment(app: &App, ctx: &Ctx, order_id: &str) {
    if app.config.payments.capture_on_order {
        return;
    }
    if let Err(e) = super::payments::capture_held(app, ctx, order_id).await {
        tracing::warn!(order = %order_id, error = %e, "capture on fulfilment failed");
    }
}

async fn shipped_mail(
    app: &App,
    tx: &mut crate::db::Tx,
    ctx: &Ctx,
    order: &Order,
    s: &ShipmentRow,
) -> ServiceResult<()> {
    use crate::i18n::t;
    let lang = order.lang;
    let subject = t(lang, "mail.shipped_subject").replace("{number}", &order.number.to_string());
    let tracking = if s.tracking_number.is_empty() {
        String::new()
    } else {
        format!("\n{}: {} ({})", t(lang, "mail.tracking"), s.tracking_number, s.carrier)
    };
    let text = format!(
        "{}{tracking}\n\n{}",
        t(lang, "mail.shipped_body").replace("{number}", &order.number.to_string()),
        ctx.store.brand.name
    );
    super::mail::queue(app, tx, &ctx.store, &order.contact.email, &subject, &text).await
}

/// Confirms a shipment arrived. When every parcel of a fulfilled order has
/// arrived, the order is completed.
pub async fn deliver(app: &App, ctx: &Ctx, order_id: &str, shipment_id: &str) -> ServiceResult<Order> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let actor = ctx.actor.principal();
    let mut tx = app.db.begin().await?;
    // Deliveries of one order queue here, so the last one sees the others.
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let row = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let shipments = sql::shipments_of(&mut *tx, store_id, order_id).await?;
    if !shipments.iter().any(|(s, _)| s.id == shipment_id) {
        return Err(ServiceError::NotFound);
    }
    if !sql::mark_delivered(&mut tx, store_id, order_id, shipment_id, now_ms()).await? {
        return Err(ServiceError::Conflict {
            code: "already_delivered",
            message: "this shipment is already marked delivered".into(),
        });
    }
    outbox::emit(&mut tx, store_id, "shipment.delivered", json!({ "order_id": order_id, "shipment_id": shipment_id }))
        .await?;
    audit::record(app, &mut tx, ctx, "orders.delivered", order_id, json!({ "shipment": shipment_id })).await?;
    let all_arrived = shipments.iter().all(|(s, _)| s.id == shipment_id || s.status == "delivered");
    if all_arrived && OrderStatus::parse(&row.status) == Some(OrderStatus::Fulfilled) {
        apply_move(app, &mut tx, ctx, &row, OrderStatus::Completed, "every parcel arrived", &actor).await?;
    }
    tx.commit().await?;
    app.wake_outbox();
    orders_svc::get(app, ctx, order_id, None).await
}

/// Fulfils a confirmed order that ships nothing (services, fees; digital
/// goods once delivered).
pub async fn fulfil_without_shipping(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<Order> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let row = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let lines = order_sql::lines(&mut tx, store_id, order_id).await?;
    if lines.iter().any(|l| ships(l) && l.shipped < l.quantity) {
        return Err(ServiceError::Conflict {
            code: "goods_to_ship",
            message: "this order has goods to ship; record shipments instead".into(),
        });
    }
    if lines.iter().any(|l| delivered_goods(l) && l.shipped < l.quantity) {
        return Err(ServiceError::Conflict {
            code: "digital_not_delivered",
            message: "digital goods are delivered when the order is paid".into(),
        });
    }
    let status = OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Placed);
    if !matches!(status, OrderStatus::Confirmed | OrderStatus::PartiallyFulfilled) {
        return Err(refuse_status(status));
    }
    for l in lines.iter().filter(|l| !delivered_goods(l) && l.shipped < l.quantity) {
        sql::ship_line(&mut tx, store_id, order_id, l.line_no, &l.variant_id, l.quantity - l.shipped).await?;
    }
    let actor = ctx.actor.principal();
    apply_move(app, &mut tx, ctx, &row, OrderStatus::Fulfilled, "nothing to ship", &actor).await?;
    tx.commit().await?;
    app.wake_outbox();
    capture_on_fulfilment(app, ctx, order_id).await;
    orders_svc::get(app, ctx, order_id, None).await
}
