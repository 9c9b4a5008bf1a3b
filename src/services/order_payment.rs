//! Recording that an unpaid order was paid outside Oxcart (a bank
//! transfer arrived, cash on delivery, an invoice settled). The payments
//! capability's providers will drive the same step: the order becomes
//! paid, stops expiring, is confirmed if it was only placed, and gets its
//! digital goods, all in one transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::orders::{Order, apply_move, get_in};
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::orders::{self as sql, HistoryRow};
use crate::domain::ids;
use crate::domain::orders::{OrderStatus, PaymentStatus};
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentReceived {
    /// The bank's or cashier's reference, for the timeline.
    #[serde(default)]
    pub reference: String,
}

/// Marks an unpaid order paid in full. Accepts `Idempotency-Key`.
pub async fn record(
    app: &App,
    ctx: &Ctx,
    order_id: &str,
    input: PaymentReceived,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Order>> {
    ctx.actor.require(Permission::OrdersManage)?;
    let mut errs = FieldErrors::default();
    errs.text("reference", input.reference.trim(), 0, 200);
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let actor = ctx.actor.principal();
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let row = sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let status = OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Placed);
    if status == OrderStatus::Cancelled {
        return Err(ServiceError::Conflict {
            code: "order_cancelled",
            message: "a cancelled order takes no payment".into(),
        });
    }
    if PaymentStatus::parse(&row.payment_status) != Some(PaymentStatus::Unpaid) {
        return Err(ServiceError::Conflict {
            code: "not_unpaid",
            message: format!("the order's payment is {}, not unpaid", row.payment_status),
        });
    }
    if !sql::set_payment_status(
        &mut tx,
        store_id,
        order_id,
        (PaymentStatus::Unpaid.as_str(), PaymentStatus::Paid.as_str()),
        None,
    )
    .await?
    {
        return Err(ServiceError::Conflict { code: "order_changed", message: "the order changed meanwhile".into() });
    }
    let reference = input.reference.trim();
    super::payments::record_manual(&mut tx, ctx, &row, reference).await?;
    let entry = HistoryRow {
        kind: "payment".into(),
        from_status: Some(row.status.clone()),
        to_status: row.status.clone(),
        note: if reference.is_empty() { "paid".into() } else { format!("paid: {reference}") },
        actor: actor.clone(),
        at: now_ms(),
    };
    sql::add_history(&mut tx, store_id, order_id, &ids::new_id("ohs"), &entry).await?;
    outbox::emit(
        &mut tx,
        store_id,
        "order.paid",
        json!({ "order_id": order_id, "number": row.number, "total": row.total, "currency": row.currency,
                "reference": reference }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "orders.payment_recorded", order_id, json!({ "reference": reference })).await?;
    if status == OrderStatus::Placed {
        apply_move(app, &mut tx, ctx, &row, OrderStatus::Confirmed, "paid", &actor).await?;
    }
    super::digital::deliver(app, &mut tx, ctx, order_id).await?;
    let view = get_in(app, &mut tx, ctx, order_id).await?;
    idempotency::complete(app, &mut tx, ctx, idem, 200, &view).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    Ok(Outcome::Fresh(view))
}
