//! Exchanges: when the goods of an exchange return arrive, the customer is
//! sent the same items again, or another variant of the same product where
//! the return asked for one (a different size or colour). The replacement is an order of its own (so
//! it is picked, shipped and tracked like any other), for the returned
//! units at no charge, already paid and confirmed, holding stock from the
//! moment the return is received. Created inside the receipt's
//! transaction: a received exchange always has its replacement.

use serde_json::json;

use super::actor::Ctx;
use super::orders::contact_slot;
use super::quote::Pricing;
use super::{App, ServiceError, ServiceResult, now_ms, outbox};
use crate::db::orders::{self as sql, HistoryRow, LineRow, OrderRow};
use crate::domain::catalog::ProductKind;
use crate::domain::ids;
use crate::domain::orders::{OrderStatus, PaymentStatus};

pub(super) struct Replacement {
    pub order_id: String,
    pub number: i64,
    /// Products whose stock changed.
    pub touched: Vec<String>,
}

/// A replacement order for `units` (the line to send, units returned) of
/// `original`, returned by return `return_id`: the original line, or
/// another variant of the same product in its place. Only shipped goods are
/// replaced; digital goods and services are not sent back and forth.
pub(super) async fn replacement(
    app: &App,
    tx: &mut crate::db::Tx,
    ctx: &Ctx,
    original: &OrderRow,
    return_id: &str,
    units: &[(LineRow, i64)],
    actor: &str,
) -> ServiceResult<Replacement> {
    let store_id = &ctx.store.id;
    let goods: Vec<(&LineRow, i64)> = units
        .iter()
        .filter(|(l, n)| *n > 0 && ProductKind::parse(&l.kind).is_some_and(|k| k.needs_shipping()))
        .map(|(l, n)| (l, *n))
        .collect();
    if goods.is_empty() {
        return Err(ServiceError::Conflict {
            code: "nothing_to_exchange",
            message: "an exchange replaces shipped goods; this return holds none".into(),
        });
    }
    let id = ids::new_id("ord");
    let now = now_ms();
    let contact_json = app.open(contact_slot(store_id, &original.id), &original.contact_enc)?;
    let contact: super::cart::Contact =
        serde_json::from_str(&contact_json).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let wants: Vec<super::inventory::Want> = goods
        .iter()
        .map(|(l, n)| super::inventory::Want {
            variant_id: l.variant_id.clone(),
            product_id: l.product_id.clone(),
            sku: l.sku.clone(),
            quantity: *n,
        })
        .collect();
    let ship_to = contact.shipping_address.as_ref().map(|a| a.country.clone());
    let (owed, touched) =
        super::inventory::reserve_for_order(app, tx, actor, store_id, &id, &wants, ship_to.as_deref()).await?;
    let number = sql::next_number(tx, store_id).await?;
    let row = OrderRow {
        id: id.clone(),
        number,
        status: OrderStatus::Confirmed.as_str().into(),
        // Nothing is owed: the customer paid with the original order.
        payment_status: PaymentStatus::Paid.as_str().into(),
        customer_id: original.customer_id.clone(),
        channel_id: original.channel_id.clone(),
        currency: original.currency.clone(),
        lang: original.lang.clone(),
        prices_include_tax: original.prices_include_tax,
        subtotal: 0,
        shipping_total: 0,
        discount_total: 0,
        tax_total: 0,
        total: 0,
        contact_enc: app.seal(contact_slot(store_id, &id), &contact_json),
        // Seen by the customer's account or by staff; a guest follows it by e-mail.
        access_hash: super::cart::hash_secret(&super::cart::new_secret()),
        reserved_until: None,
        pricing: serde_json::to_string(&Pricing::default()).map_err(|e| ServiceError::Internal(e.to_string()))?,
        placed_at: now,
        updated_at: now,
    };
    sql::insert(tx, store_id, &row, &app.email_index(store_id, &contact.email)).await?;
    let lines: Vec<LineRow> = goods
        .iter()
        .zip(&owed)
        .enumerate()
        .map(|(i, ((l, n), backordered))| LineRow {
            line_no: i as i64 + 1,
            quantity: *n,
            unit_price: 0,
            line_total: 0,
            price_source: "exchange".into(),
            backordered: *backordered,
            discount: 0,
            adjustments: "[]".into(),
            tax: 0,
            tax_rate: "0".into(),
            tax_label: String::new(),
            shipped: 0,
            returned: 0,
            ..(*l).clone()
        })
        .collect();
    sql::insert_lines(tx, store_id, &id, &lines).await?;
    let entry = HistoryRow {
        kind: "status".into(),
        from_status: None,
        to_status: OrderStatus::Confirmed.as_str().into(),
        note: format!("replacement for order {} (return {return_id})", original.number),
        actor: actor.to_string(),
        at: now,
    };
    sql::add_history(tx, store_id, &id, &ids::new_id("ohs"), &entry).await?;
    outbox::emit(
        tx,
        store_id,
        "order.placed",
        json!({ "order_id": id, "number": number, "total": 0, "currency": original.currency,
                "replacement_for": original.id, "return_id": return_id }),
    )
    .await?;
    Ok(Replacement { order_id: id, number, touched })
}
