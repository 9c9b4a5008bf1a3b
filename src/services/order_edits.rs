//! Staff edit an order nothing of which has shipped yet: change quantities,
//! add or remove lines, change the delivery address. The order is priced
//! again as checkout would price it now (catalog prices, promotions — its
//! coupons stay applied —, shipping to the new address, tax there), its
//! stock hold is released and taken again for the new lines, and the
//! change is recorded on its timeline. One transaction: an edit that
//! cannot be honoured (no stock, no delivery there) changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::cart::{self, Contact};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::orders::{self as orders_svc, Order, contact_slot, line_rows};
use super::quote::{QuoteFor, ShippingChoice};
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::orders::{self as sql, HistoryRow};
use crate::domain::addresses::Address;
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::orders::OrderStatus;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditLine {
    pub sku: String,
    /// The new quantity; 0 removes the line.
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderEdit {
    /// Quantities to set (lines not named stay as they are; new SKUs are added).
    #[serde(default)]
    pub lines: Vec<EditLine>,
    /// A new delivery address.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// Why (kept on the timeline).
    #[serde(default)]
    pub note: String,
}

fn refused(message: String) -> ServiceError {
    ServiceError::Conflict { code: "order_not_editable", message }
}

/// Edits an unshipped order. Accepts `Idempotency-Key`.
pub async fn edit(
    app: &App,
    ctx: &Ctx,
    order_id: &str,
    input: OrderEdit,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Order>> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let order = orders_svc::get(app, ctx, order_id, None).await?;
    if !matches!(order.status, OrderStatus::Placed | OrderStatus::Confirmed | OrderStatus::OnHold) {
        return Err(refused(format!("a {} order cannot be edited", order.status.as_str())));
    }
    if order.lines.iter().any(|l| l.shipped > 0) {
        return Err(refused("part of the order has shipped; edit no more, return or ship instead".into()));
    }
    let row = sql::by_id(pool, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let old_lines = sql::lines(pool, store_id, order_id).await?;

    // The new lines: (variant id, quantity), in the order's order, new SKUs last.
    let mut errs = FieldErrors::default();
    errs.text("note", &input.note, 0, 1000);
    let mut wanted: Vec<(String, String, i64)> =
        old_lines.iter().map(|l| (l.sku.clone(), l.variant_id.clone(), l.quantity)).collect();
    let new_skus: Vec<String> =
        input.lines.iter().filter(|e| !wanted.iter().any(|(s, _, _)| *s == e.sku)).map(|e| e.sku.clone()).collect();
    let facts = crate::db::carts::facts_by(pool, app.db.dialect(), store_id, "sku", &new_skus).await?;
    for (i, e) in input.lines.iter().enumerate() {
        if !(0..=cart::MAX_QUANTITY).contains(&e.quantity) {
            errs.add(&format!("lines[{i}].quantity"), "out_of_range", format!("0 to {}", cart::MAX_QUANTITY));
            continue;
        }
        match wanted.iter_mut().find(|(s, _, _)| *s == e.sku) {
            Some(w) => w.2 = e.quantity,
            None => match facts.iter().find(|f| f.sku == e.sku) {
                Some(f) if e.quantity > 0 => wanted.push((f.sku.clone(), f.variant_id.clone(), e.quantity)),
                Some(_) => {}
                None => errs.add(&format!("lines[{i}].sku"), "unknown_sku", "no product variant with this SKU"),
            },
        }
    }
    wanted.retain(|(_, _, q)| *q > 0);
    if wanted.is_empty() {
        errs.add("lines", "empty", "an order keeps at least one line; cancel it instead");
    }
    let address = match input.shipping_address.clone() {
        None => order.contact.shipping_address.clone(),
        Some(a) => match a.parse() {
            Ok(a) => Some(a),
            Err(e) => {
                for f in e.0 {
                    errs.add(&format!("shipping_address.{}", f.field), &f.code, f.message);
                }
                None
            }
        },
    };
    errs.finish(())?;

    // Priced as checkout would price it now.
    let ch = crate::db::catalog::channels(pool, store_id)
        .await?
        .into_iter()
        .find(|c| c.id == row.channel_id)
        .ok_or(ServiceError::NotFound)?;
    let lang = Language::parse(&row.lang).unwrap_or(ctx.store.brand.default_language);
    let pairs: Vec<(String, i64)> = wanted.iter().map(|(_, v, q)| (v.clone(), *q)).collect();
    let priced = cart::price_lines(app, ctx, &ch, row.customer_id.as_deref(), lang, &pairs).await?;
    let problems: Vec<String> =
        priced.iter().filter_map(|p| p.problem.as_ref().map(|why| format!("{}: {why}", p.facts.sku))).collect();
    if !problems.is_empty() {
        return Err(refused(problems.join("; ")));
    }
    let contact = Contact { shipping_address: address, ..order.contact.clone() };
    let choice = order
        .pricing
        .shipping
        .as_ref()
        .map(|s| ShippingChoice { method: s.code.clone(), point: s.point.as_ref().map(|p| p.id.clone()) });
    let quote_with = |codes: Vec<String>| {
        let (ch, contact, choice, priced) = (&ch, &contact, &choice, &priced);
        let customer = row.customer_id.clone();
        async move {
            let q = QuoteFor {
                channel: ch,
                customer: customer.as_deref(),
                contact: Some(contact),
                choice: choice.as_ref(),
                codes: &codes,
                coupons_held: true,
            };
            super::quote::quote(app, ctx, priced, q).await
        }
    };
    let mut quote = quote_with(order.pricing.coupons.clone()).await?;
    // Codes that no longer apply to the edited order (conditions unmet,
    // promotion ended) are dropped, and their uses given back below.
    let dropped: Vec<String> = quote.coupons.iter().filter(|c| c.status != "applied").map(|c| c.code.clone()).collect();
    if !dropped.is_empty() {
        let kept = order.pricing.coupons.iter().filter(|c| !dropped.contains(c)).cloned().collect();
        quote = quote_with(kept).await?;
    }
    if !quote.problems.is_empty() {
        return Err(refused(quote.problems.join("; ")));
    }
    if priced.iter().any(|p| p.kind.needs_shipping()) && contact.shipping_address.is_none() {
        return Err(refused("give a delivery address".into()));
    }

    let actor = ctx.actor.principal();
    let now = now_ms();
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    // The order as read above, or nobody's edit: concurrent edits, shipments
    // and cancels of one order queue on this lock and the later ones refuse.
    let locked = sql::lock_order(&mut tx, store_id, order_id).await?;
    if locked != Some((row.status.clone(), row.updated_at)) {
        return Err(ServiceError::Conflict {
            code: "order_changed",
            message: "the order changed meanwhile; look again".into(),
        });
    }
    for code in &dropped {
        if let Some(c) = crate::db::checkout_rules::coupon_by_code(&mut *tx, store_id, code).await?
            && let Some(who) =
                crate::db::checkout_rules::remove_order_coupon(&mut tx, store_id, order_id, &c.id).await?
        {
            crate::db::checkout_rules::give_back_use(&mut tx, store_id, &c.id, &who).await?;
        }
    }
    // The hold is taken again for the new lines (all or nothing).
    let mut touched =
        super::inventory::release_for_order(app, &mut tx, &actor, store_id, order_id, "order edited").await?;
    let wants: Vec<super::inventory::Want> = priced
        .iter()
        .map(|p| super::inventory::Want {
            variant_id: p.facts.variant_id.clone(),
            product_id: p.facts.product_id.clone(),
            sku: p.facts.sku.clone(),
            quantity: p.quantity,
        })
        .collect();
    let ship_to = contact.shipping_address.as_ref().map(|a| a.country.clone());
    let (owed, held) =
        super::inventory::reserve_for_order(app, &mut tx, &actor, store_id, order_id, &wants, ship_to.as_deref())
            .await?;
    touched.extend(held);
    let lines = line_rows(&priced, &owed, &quote)?;
    sql::delete_lines(&mut tx, store_id, order_id).await?;
    sql::insert_lines(&mut tx, store_id, order_id, &lines).await?;
    let t = quote.totals;
    let contact_json = serde_json::to_string(&contact).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let updated = sql::OrderRow {
        subtotal: t.subtotal,
        shipping_total: t.shipping,
        discount_total: t.discount,
        tax_total: t.tax,
        total: t.total,
        pricing: serde_json::to_string(&quote.pricing()).map_err(|e| ServiceError::Internal(e.to_string()))?,
        contact_enc: app.seal(contact_slot(store_id, order_id), &contact_json),
        prices_include_tax: quote.prices_include_tax,
        updated_at: now,
        ..row.clone()
    };
    if !sql::update_priced(&mut tx, store_id, &updated, &row.status).await? {
        return Err(ServiceError::Conflict { code: "order_changed", message: "the order changed meanwhile".into() });
    }
    super::ledger::order_changed(app, &mut tx, &row, &updated, store_id, &actor).await?;
    let before: BTreeMap<&str, i64> = old_lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
    let after: BTreeMap<&str, i64> = lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
    let mut changes: Vec<String> = Vec::new();
    for sku in before.keys().chain(after.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (b, a) = (before.get(sku).copied().unwrap_or(0), after.get(sku).copied().unwrap_or(0));
        if a != b {
            changes.push(format!("{sku} {b} → {a}"));
        }
    }
    if input.shipping_address.is_some() {
        changes.push("delivery address".into());
    }
    for code in &dropped {
        changes.push(format!("coupon {code} no longer applies"));
    }
    changes.push(format!("total {} → {}", row.total, t.total));
    let note = match input.note.trim() {
        "" => format!("edited: {}", changes.join(", ")),
        why => format!("edited: {} ({why})", changes.join(", ")),
    };
    let entry = HistoryRow {
        kind: "note".into(),
        from_status: Some(row.status.clone()),
        to_status: row.status.clone(),
        note,
        actor: actor.clone(),
        at: now,
    };
    sql::add_history(&mut tx, store_id, order_id, &ids::new_id("ohs"), &entry).await?;
    outbox::emit(
        &mut tx,
        store_id,
        "order.edited",
        json!({ "order_id": order_id, "number": row.number, "total": t.total, "previous_total": row.total }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "orders.edited", order_id, json!({ "from": row.total, "to": t.total })).await?;
    let view = orders_svc::get_in(app, &mut tx, ctx, order_id).await?;
    idempotency::complete(app, &mut tx, ctx, idem, 200, &view).await?;
    tx.commit().await?;
    app.wake_outbox();
    super::inventory::stock_changed(app, store_id, &touched);
    Ok(Outcome::Fresh(view))
}
