//! Orders: checkout turns a cart into an order in one transaction, and
//! staff move orders through their statuses (`domain::orders::transition`)
//! with every change in the order's history.
//!
//! Checkout re-prices every line on the server, holds stock for the lines
//! that are counted (`inventory::reserve_for_order`), writes an immutable
//! snapshot of lines, prices and contact, emits `order.placed`, queues the
//! confirmation e-mail and removes the cart — all or nothing, and at most
//! once per `Idempotency-Key`.
//!
//! Who sees an order: its customer, a guest holding the order's token
//! (returned once, at checkout), and staff with `orders.read`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Actor, Ctx, Permission};
use super::cart::{self, CartKey, Contact, hash_secret, new_secret};
use super::idempotency::{self, IdempotencyRequest};
use super::quote::Pricing;
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::orders::{self as sql, HistoryRow, LineRow, OrderRow};
use crate::domain::catalog::ProductKind;
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::domain::orders::{OrderStatus, PaymentStatus, transition};
use crate::domain::pricing::PriceSource;
use crate::domain::promotions::LineAdjustment;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub options: BTreeMap<String, String>,
    pub kind: ProductKind,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    /// `regular`, `sale` or `price_list:<code>`.
    pub price_source: String,
    /// Units sold beyond stock (back-order or pre-order): shipped later.
    pub backordered: i64,
    /// What promotions took off this line, and which.
    pub discount: Money,
    pub adjustments: Vec<LineAdjustment>,
    /// Tax in (or on) the line after its discount, at `tax_rate` percent.
    pub tax: Money,
    pub tax_rate: String,
    pub tax_label: String,
    /// Units shipped so far.
    #[serde(default)]
    pub shipped: i64,
    /// Units in open or received returns.
    #[serde(default)]
    pub returned: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShipmentLine {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shipment {
    pub id: String,
    /// The stock location's code.
    pub location: String,
    pub carrier: String,
    pub tracking_number: String,
    /// Where the customer follows the parcel, when the carrier offers it.
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// `shipped` or `delivered`.
    pub status: String,
    pub shipped_at: i64,
    pub delivered_at: Option<i64>,
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub shipping: Money,
    pub discount: Money,
    /// Included in the prices or added to them, as `prices_include_tax` says.
    pub tax: Money,
    pub total: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// `status` (a move), `payment` (payment recorded; the status stays)
    /// or `note` (staff's remark; the status stays).
    pub kind: String,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub note: String,
    /// Staff or token id, `customer`, or `system`.
    pub actor: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    pub id: String,
    /// The store's order number, shown to the customer.
    pub number: i64,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub currency: String,
    pub lang: Language,
    pub prices_include_tax: bool,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    /// Shipping, promotions and tax per rate, as placed.
    #[serde(default)]
    pub pricing: Pricing,
    /// Parcels sent, oldest first.
    #[serde(default)]
    pub shipments: Vec<Shipment>,
    /// Download links of digital goods (once paid).
    #[serde(default)]
    pub downloads: Vec<super::digital::DownloadLink>,
    /// Licence keys of digital goods (once paid).
    #[serde(default)]
    pub licence_keys: Vec<super::digital::LicenceKey>,
    pub contact: Contact,
    pub customer_id: Option<String>,
    /// Until when an unpaid order holds its stock (Unix ms).
    pub reserved_until: Option<i64>,
    pub placed_at: i64,
    pub history: Vec<HistoryEntry>,
    /// For a guest: send as `Order-Token` to see this order. Returned once, at checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

pub(super) fn contact_slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "orders", column: "contact", store_id, row_id: id }
}

/// An order's contact, opened from its sealed column.
pub(super) fn open_contact(app: &App, store_id: &str, row: &OrderRow) -> ServiceResult<Contact> {
    serde_json::from_str(&app.open(contact_slot(store_id, &row.id), &row.contact_enc)?)
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Until when an unpaid order placed (or left unpaid again) at `now` holds
/// its stock.
pub(super) fn payment_deadline(app: &App, now: i64) -> i64 {
    now + app.config.orders.reservation_minutes * 60_000
}

fn source_text(s: &PriceSource) -> String {
    match s {
        PriceSource::Regular => "regular".into(),
        PriceSource::Sale => "sale".into(),
        PriceSource::PriceList { code } => format!("price_list:{code}"),
    }
}

fn cart_not_orderable(message: String) -> ServiceError {
    ServiceError::Conflict { code: "cart_not_orderable", message }
}

/// The idempotency request for placing a cart's order. Its fingerprint
/// binds the key to whoever proved the cart theirs (the cart token's hash,
/// or the signed-in customer), so knowing a cart id and a key is not enough
/// to replay someone's order (with its contact details and access token).
pub fn checkout_request(key: String, ctx: &Ctx, cart: &CartKey<'_>) -> IdempotencyRequest {
    let proof = (cart.token.map(hash_secret), ctx.actor.customer_id().ok().map(str::to_string));
    IdempotencyRequest::new(key, &format!("orders.checkout:{}", cart.id), &proof)
}

/// Places the order for a cart. Accepts `Idempotency-Key` (a retry returns
/// the same order, also after the cart is gone).
pub async fn checkout(
    app: &App,
    ctx: &Ctx,
    key: &CartKey<'_>,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Order>> {
    let store_id = &ctx.store.id;
    // The cart is gone once its order exists: a retry finds its answer
    // then. (A retry while the cart is still there is refused in the
    // transaction, or answered there if the first request committed.)
    let principal = format!("cart:{}", key.id);
    let (row, lines) = match cart::open_with_lines(app, ctx, key).await {
        Ok(found) => found,
        Err(ServiceError::NotFound) => {
            let Some(req) = idem else { return Err(ServiceError::NotFound) };
            return idempotency::replay(app, store_id, &principal, req).await?.ok_or(ServiceError::NotFound);
        }
        Err(e) => return Err(e),
    };
    let ch = super::line_facts::channels(app, store_id)
        .await?
        .iter()
        .find(|c| c.id == row.channel_id)
        .cloned()
        .ok_or(ServiceError::NotFound)?;
    let currency = Currency::parse(&ch.currency).unwrap_or(Currency::EUR);
    let lang = Language::parse(&row.lang).unwrap_or(ctx.store.brand.default_language);
    let priced = cart::price_lines(app, ctx, &ch, row.customer_id.as_deref(), lang, &lines).await?;
    if priced.is_empty() {
        return Err(ServiceError::Conflict { code: "cart_empty", message: "the cart has no lines".into() });
    }
    let problems: Vec<String> =
        priced.iter().filter_map(|p| p.problem.as_ref().map(|why| format!("{}: {why}", p.facts.sku))).collect();
    if !problems.is_empty() {
        return Err(cart_not_orderable(problems.join("; ")));
    }
    let contact = cart::contact_of(app, store_id, &row)?
        .ok_or_else(|| cart_not_orderable("give an e-mail address first".into()))?;
    let ships = priced.iter().any(|p| p.kind.needs_shipping());
    if ships && contact.shipping_address.is_none() {
        return Err(cart_not_orderable("give a shipping address first".into()));
    }
    let quote = cart::quote_of(app, ctx, &ch, &row, Some(&contact), &priced).await?;
    if let Some(c) = quote.coupons.iter().find(|c| c.status == "used_up" || c.status == "invalid") {
        let code = if c.status == "used_up" { "coupon_used_up" } else { "coupon_invalid" };
        return Err(ServiceError::Conflict {
            code,
            message: format!("the coupon {} can no longer be used; remove it", c.code),
        });
    }
    if !quote.problems.is_empty() {
        return Err(cart_not_orderable(quote.problems.join("; ")));
    }
    let placing = Placing { row, ch, currency, lang, priced, quote, contact, principal, idem: idem.cloned() };
    // The transaction runs on the writer's own thread on SQLite: it holds
    // the one writer, and every checkout queues behind it.
    app.db.on_writer(place(app.clone(), ctx.clone(), placing)).await
}

/// A cart checked and priced, ready to become an order.
struct Placing {
    row: crate::db::carts::CartRow,
    ch: crate::db::catalog::ChannelRow,
    currency: Currency,
    lang: Language,
    priced: Vec<cart::Priced>,
    quote: super::quote::CartQuote,
    contact: Contact,
    principal: String,
    idem: Option<IdempotencyRequest>,
}

/// The checkout's write transaction.
async fn place(app: App, ctx: Ctx, placing: Placing) -> ServiceResult<Outcome<Order>> {
    let Placing { row, ch, currency, lang, priced, quote, contact, principal, idem } = placing;
    let (app, ctx, idem) = (&app, &ctx, idem.as_ref());
    let store_id = &ctx.store.id;
    let totals = quote.totals;
    let pricing = quote.pricing();
    let coupon_holder = super::quote::coupon_holder(app, store_id, row.customer_id.as_deref(), Some(&contact));

    let now = now_ms();
    let id = ids::new_id("ord");
    let access_token = new_secret();
    let actor = match &ctx.actor {
        Actor::Customer { .. } | Actor::Anonymous => "customer".to_string(),
        other => other.principal(),
    };
    // The hot path: every statement below goes through the Tx's methods, so
    // on SQLite they run in place on the writer (see `Db::begin_in_place`).
    let mut tx = app.db.begin_in_place().await?;
    let wants: Vec<super::inventory::Want> = priced
        .iter()
        .map(|p| super::inventory::Want {
            variant_id: p.facts.variant_id.clone(),
            product_id: p.facts.product_id.clone(),
            sku: p.facts.sku.clone(),
            quantity: p.quantity,
        })
        .collect();
    // Two checkouts of one cart: the first to remove it wins. A loser with
    // the winner's key is its retry and gets the winner's answer (read on
    // the writer, which sees a winner still waiting for its commit).
    if !crate::db::carts::delete(&mut tx, store_id, &row.id).await? {
        if let Some(req) = idem
            && let Some(done) = idempotency::replay_in(app, &mut tx, store_id, &principal, req).await?
        {
            return Ok(done);
        }
        return Err(ServiceError::Conflict {
            code: "cart_checked_out",
            message: "this cart was already ordered".into(),
        });
    }
    // Holding SQLite's one writer, the number costs nothing to take now. On
    // PostgreSQL it is taken last: its counter row queues the store's
    // checkouts from then until the commit.
    let early_number = if tx.holds_the_writer() { Some(sql::next_number(&mut tx, store_id).await?) } else { None };
    let stock = super::inventory::read_for_order(&mut tx, store_id, &wants).await?;
    let ship_to = contact.shipping_address.as_ref().map(|a| a.country.clone());
    let (owed, touched) =
        super::inventory::reserve_read(app, &mut tx, stock, &actor, (store_id, &id), &wants, ship_to.as_deref())
            .await?;
    // Each coupon that applied takes a use, within its limits (the rows
    // serialise concurrent checkouts; the loser is refused, not oversold).
    for c in &quote.used_coupons {
        let who = coupon_holder.clone().unwrap_or_default();
        if !crate::db::checkout_rules::take_use(&mut tx, store_id, &c.id, &who, c.per_customer_limit).await? {
            return Err(ServiceError::Conflict {
                code: "coupon_used_up",
                message: format!("the coupon {} has been used up; remove it and try again", c.code),
            });
        }
        crate::db::checkout_rules::record_order_coupon(&mut tx, store_id, &id, &c.id, &who).await?;
    }
    let number = match early_number {
        Some(n) => n,
        None => sql::next_number(&mut tx, store_id).await?,
    };
    let holds_stock = owed.iter().zip(&priced).any(|(o, p)| *o < p.quantity);
    // A draft order placed by staff is sold on terms: its stock is held
    // until staff cancel it, not until an unpaid deadline.
    let reserved_until = (holds_stock && row.draft_by.is_empty()).then(|| payment_deadline(app, now));
    let contact_json = serde_json::to_string(&contact).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let order_row = OrderRow {
        id: id.clone(),
        number,
        status: OrderStatus::Placed.as_str().into(),
        payment_status: PaymentStatus::Unpaid.as_str().into(),
        customer_id: row.customer_id.clone(),
        channel_id: ch.id.clone(),
        currency: currency.code().into(),
        lang: lang.code().into(),
        prices_include_tax: ch.prices_include_tax,
        subtotal: totals.subtotal,
        shipping_total: totals.shipping,
        discount_total: totals.discount,
        tax_total: totals.tax,
        total: totals.total,
        contact_enc: app.seal(contact_slot(store_id, &id), &contact_json),
        access_hash: hash_secret(&access_token),
        reserved_until,
        pricing: serde_json::to_string(&pricing).map_err(|e| ServiceError::Internal(e.to_string()))?,
        placed_at: now,
        updated_at: now,
    };
    sql::insert(&mut tx, store_id, &order_row, &app.email_index(store_id, &contact.email)).await?;
    let line_rows = line_rows(&priced, &owed, &quote)?;
    sql::insert_lines(&mut tx, store_id, &id, &line_rows).await?;
    super::ledger::order_placed(&mut tx, &order_row, &ch.code, store_id, &actor).await?;
    let placed = HistoryRow {
        kind: "status".into(),
        from_status: None,
        to_status: "placed".into(),
        note: String::new(),
        actor,
        at: now,
    };
    sql::add_history(&mut tx, store_id, &id, &ids::new_id("ohs"), &placed).await?;
    outbox::emit(
        &mut tx,
        store_id,
        "order.placed",
        json!({ "order_id": id, "number": number, "total": totals.total, "currency": currency.code() }),
    )
    .await?;
    // The answer is what was just written (not read back: this runs holding the write lock).
    let mut order = view(app, store_id, order_row, line_rows, vec![placed])?;
    confirmation_mail(app, &mut tx, ctx, &order).await?;
    order.access_token = Some(access_token);
    // Removing the cart proved no request with this key got this far.
    idempotency::record_as(app, &mut tx, store_id, &principal, idem, 201, &order).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    super::inventory::stock_changed(app, store_id, &touched);
    Ok(Outcome::Fresh(order))
}

/// An order's lines as priced: the catalog facts, the units sold beyond
/// stock, and the quote's discount and tax per line.
pub(super) fn line_rows(
    priced: &[cart::Priced],
    owed: &[i64],
    quote: &super::quote::CartQuote,
) -> ServiceResult<Vec<LineRow>> {
    priced
        .iter()
        .zip(owed)
        .zip(&quote.lines)
        .enumerate()
        .map(|(i, ((p, owed), q))| {
            let (_, _, source) = p.price.clone().ok_or_else(|| ServiceError::Internal("unpriced line".into()))?;
            Ok(LineRow {
                line_no: i as i64 + 1,
                variant_id: p.facts.variant_id.clone(),
                product_id: p.facts.product_id.clone(),
                sku: p.facts.sku.clone(),
                name: p.name.clone(),
                kind: p.kind.as_str().into(),
                options: serde_json::to_string(&p.options).unwrap_or_default(),
                quantity: p.quantity,
                unit_price: q.unit_price,
                line_total: q.line_total,
                price_source: source_text(&source),
                backordered: *owed,
                discount: q.discount,
                adjustments: serde_json::to_string(&q.adjustments).unwrap_or_else(|_| "[]".into()),
                tax: q.tax,
                tax_rate: q.tax_rate.percent_text(),
                tax_label: q.tax_label.clone(),
                weight_grams: q.weight_grams,
                shipped: 0,
                returned: 0,
            })
        })
        .collect()
}

async fn confirmation_mail(app: &App, tx: &mut crate::db::Tx, ctx: &Ctx, order: &Order) -> ServiceResult<()> {
    use crate::i18n::{format_money, t};
    let lang = order.lang;
    let lines: Vec<String> = order
        .lines
        .iter()
        .map(|l| format!("{} × {} ({}) — {}", l.quantity, l.name, l.sku, format_money(lang, l.line_total)))
        .collect();
    let subject = t(lang, "mail.order_subject")
        .replace("{number}", &order.number.to_string())
        .replace("{store}", &ctx.store.brand.name);
    let text = format!(
        "{}\n\n{}\n\n{}: {}\n\n{}",
        t(lang, "mail.order_thanks").replace("{number}", &order.number.to_string()),
        lines.join("\n"),
        t(lang, "mail.order_total"),
        format_money(lang, order.totals.total),
        ctx.store.brand.name,
    );
    super::mail::queue(app, tx, &ctx.store, &order.contact.email, &subject, &text).await
}

fn view(
    app: &App,
    store_id: &str,
    row: OrderRow,
    lines: Vec<LineRow>,
    history: Vec<HistoryRow>,
) -> ServiceResult<Order> {
    let currency = Currency::parse(&row.currency).unwrap_or(Currency::EUR);
    let money = |a: i64| Money::new(a, currency);
    let contact = open_contact(app, store_id, &row)?;
    Ok(Order {
        number: row.number,
        status: OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Placed),
        payment_status: PaymentStatus::parse(&row.payment_status).unwrap_or(PaymentStatus::Unpaid),
        currency: row.currency.clone(),
        lang: Language::parse(&row.lang).unwrap_or(Language::En),
        prices_include_tax: row.prices_include_tax,
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                options: serde_json::from_str(&l.options).unwrap_or_default(),
                kind: ProductKind::parse(&l.kind).unwrap_or(ProductKind::Physical),
                unit_price: money(l.unit_price),
                line_total: money(l.line_total),
                sku: l.sku,
                name: l.name,
                quantity: l.quantity,
                price_source: l.price_source,
                backordered: l.backordered,
                discount: money(l.discount),
                adjustments: serde_json::from_str(&l.adjustments).unwrap_or_default(),
                tax: money(l.tax),
                tax_rate: l.tax_rate,
                tax_label: l.tax_label,
                shipped: l.shipped,
                returned: l.returned,
            })
            .collect(),
        totals: OrderTotals {
            subtotal: money(row.subtotal),
            shipping: money(row.shipping_total),
            discount: money(row.discount_total),
            tax: money(row.tax_total),
            total: money(row.total),
        },
        pricing: serde_json::from_str(&row.pricing).unwrap_or_default(),
        shipments: Vec::new(),
        downloads: Vec::new(),
        licence_keys: Vec::new(),
        contact,
        customer_id: row.customer_id,
        reserved_until: row.reserved_until,
        placed_at: row.placed_at,
        history: history
            .into_iter()
            .map(|h| HistoryEntry {
                kind: h.kind,
                from: h.from_status.as_deref().and_then(OrderStatus::parse),
                to: OrderStatus::parse(&h.to_status).unwrap_or(OrderStatus::Placed),
                note: h.note,
                actor: h.actor,
                at: h.at,
            })
            .collect(),
        access_token: None,
        id: row.id,
    })
}

/// One order, for its customer, a guest with its token, or staff. The
/// token of an order also opens the replacement orders its exchanges sent
/// (a guest follows the replacement with what they already hold).
pub async fn get(app: &App, ctx: &Ctx, id: &str, token: Option<&str>) -> ServiceResult<Order> {
    let pool = app.db.pool();
    let row = sql::by_id(pool, &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    let mut allowed = match &ctx.actor {
        Actor::Customer { id } => row.customer_id.as_deref() == Some(id),
        Actor::Staff { .. } | Actor::Token { .. } => {
            ctx.actor.require(Permission::OrdersRead)?;
            true
        }
        Actor::Anonymous => false,
    } || token.is_some_and(|t| hash_secret(t) == row.access_hash);
    if !allowed && let Some(t) = token {
        let original = crate::db::returns::replaced_order_access(pool, &ctx.store.id, id).await?;
        allowed = original.is_some_and(|h| h == hash_secret(t));
    }
    if !allowed {
        return Err(ServiceError::NotFound);
    }
    let mut conn = pool.acquire().await?;
    load(app, &mut conn, &ctx.store.id, row).await
}

/// An order as a transaction sees it (for answers given before the commit).
pub(super) async fn get_in(app: &App, tx: &mut crate::db::Tx, ctx: &Ctx, id: &str) -> ServiceResult<Order> {
    let row = sql::by_id(&mut *tx, &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    load(app, tx, &ctx.store.id, row).await
}

/// The rest of an order: lines, history, shipments.
async fn load(app: &App, conn: &mut sqlx::AnyConnection, store_id: &str, row: OrderRow) -> ServiceResult<Order> {
    let id = row.id.clone();
    let lines = sql::lines(&mut *conn, store_id, &id).await?;
    let history = sql::history(&mut *conn, store_id, &id).await?;
    let shipped = crate::db::fulfilment::shipments_of(&mut *conn, store_id, &id).await?;
    let locations =
        if shipped.is_empty() { Vec::new() } else { crate::db::inventory::locations(&mut *conn, store_id).await? };
    let sku_of: std::collections::HashMap<i64, String> = lines.iter().map(|l| (l.line_no, l.sku.clone())).collect();
    let digital = if lines.iter().any(|l| l.kind == ProductKind::Digital.as_str()) {
        Some(super::digital::delivered(app, &mut *conn, store_id, &id, &lines).await?)
    } else {
        None
    };
    let mut order = view(app, store_id, row, lines, history)?;
    if let Some((links, keys)) = digital {
        order.downloads = links;
        order.licence_keys = keys;
    }
    order.shipments = shipped
        .into_iter()
        .map(|(s, lines)| Shipment {
            location: locations
                .iter()
                .find(|l| l.id == s.location_id)
                .map_or(s.location_id.clone(), |l| l.code.clone()),
            lines: lines
                .into_iter()
                .map(|(no, quantity)| ShipmentLine { sku: sku_of.get(&no).cloned().unwrap_or_default(), quantity })
                .collect(),
            tracking_url: crate::providers::carrier::by_code(&s.carrier)
                .and_then(|c| c.tracking_url(&s.tracking_number)),
            id: s.id,
            carrier: s.carrier,
            tracking_number: s.tracking_number,
            status: s.status,
            shipped_at: s.shipped_at,
            delivered_at: s.delivered_at,
        })
        .collect();
    Ok(order)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderSummary {
    pub id: String,
    pub number: i64,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub total: Money,
    pub placed_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderSummary>,
    /// Pass as `before` for older orders; absent on the last page.
    pub next: Option<String>,
}

/// Which orders to list; every field given narrows the list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    /// One order status.
    pub status: Option<String>,
    /// One payment status (`unpaid`, `paid`, …).
    pub payment_status: Option<String>,
    /// Search (staff): an order number (`1042` or `#1042`), the buyer's
    /// exact e-mail address, or a SKU the order holds.
    pub q: Option<String>,
    /// Cursor from the previous page.
    pub before: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// Orders newest first: staff see the store's, a customer their own;
/// narrowed by status, payment status and a search.
pub async fn list(app: &App, ctx: &Ctx, query: &OrderQuery) -> ServiceResult<OrderPage> {
    let customer = match &ctx.actor {
        Actor::Customer { id } => Some(id.clone()),
        _ => {
            ctx.actor.require(Permission::OrdersRead)?;
            None
        }
    };
    let mut errs = crate::domain::validation::FieldErrors::default();
    let status = query.status.as_deref().filter(|s| !s.is_empty());
    if status.is_some_and(|s| OrderStatus::parse(s).is_none()) {
        errs.add("status", "invalid_status", "not an order status");
    }
    let payment_status = query.payment_status.as_deref().filter(|s| !s.is_empty());
    if payment_status.is_some_and(|s| PaymentStatus::parse(s).is_none()) {
        errs.add("payment_status", "invalid_payment_status", "not a payment status");
    }
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if search.is_some_and(|q| q.chars().count() > 200) {
        errs.add("q", "too_long", "at most 200 characters");
    }
    errs.finish(())?;
    let before = query.before.as_deref();
    let limit = query.limit.unwrap_or(50);
    let mut filter = sql::ListFilter { customer_id: customer.as_deref(), status, payment_status, ..Default::default() };
    let email_index;
    match search {
        None => {}
        // Digits are an order number, unless no order has it (then a SKU, like an EAN).
        Some(q) if q.trim_start_matches('#').parse::<i64>().is_ok() => {
            let number: i64 = q.trim_start_matches('#').parse().unwrap_or_default();
            let probe = sql::ListFilter { number: Some(number), ..filter.clone() };
            let hit = sql::list(app.db.pool(), &ctx.store.id, &probe, (i64::MAX, ""), 1).await?;
            if hit.is_empty() && !q.starts_with('#') {
                filter.sku = Some(q);
            } else {
                filter.number = Some(number);
            }
        }
        Some(q) if q.contains('@') => {
            email_index = app.email_index(&ctx.store.id, q);
            filter.email_index = Some(&email_index);
        }
        Some(q) => filter.sku = Some(q),
    }
    let cursor = match before {
        None => (i64::MAX, String::new()),
        Some(c) => decode_cursor(c).ok_or_else(|| {
            let mut errs = crate::domain::validation::FieldErrors::default();
            errs.add("before", "invalid_cursor", "not a cursor this list returned");
            ServiceError::from(errs)
        })?,
    };
    let limit = limit.clamp(1, 200);
    let rows = sql::list(app.db.pool(), &ctx.store.id, &filter, (cursor.0, &cursor.1), limit).await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| format!("{}.{}", r.placed_at, r.id))).flatten();
    let items = rows
        .into_iter()
        .map(|r| OrderSummary {
            total: Money::new(r.total, Currency::parse(&r.currency).unwrap_or(Currency::EUR)),
            status: OrderStatus::parse(&r.status).unwrap_or(OrderStatus::Placed),
            payment_status: PaymentStatus::parse(&r.payment_status).unwrap_or(PaymentStatus::Unpaid),
            id: r.id,
            number: r.number,
            placed_at: r.placed_at,
        })
        .collect();
    Ok(OrderPage { items, next })
}

fn decode_cursor(c: &str) -> Option<(i64, String)> {
    let (at, id) = c.split_once('.')?;
    Some((at.parse().ok()?, id.to_string()))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `confirmed`, `on_hold`, `cancelled`, `completed`, or (from hold) the status it had.
    pub status: OrderStatus,
    #[serde(default)]
    pub note: String,
}

/// Staff move an order (409 with the reason when the move is not allowed).
/// Cancelling releases the stock it holds.
pub async fn change_status(app: &App, ctx: &Ctx, id: &str, input: StatusChange) -> ServiceResult<Order> {
    ctx.actor.require(Permission::OrdersManage)?;
    let mut errs = crate::domain::validation::FieldErrors::default();
    errs.text("note", &input.note, 0, 1000);
    errs.finish(())?;
    if matches!(input.status, OrderStatus::PartiallyFulfilled | OrderStatus::Fulfilled) {
        return Err(ServiceError::Conflict {
            code: "invalid_transition",
            message: "fulfilment moves come from shipments (POST /orders/{id}/shipments), or from fulfilling an \
                      order with nothing to ship (POST /orders/{id}/fulfil)"
                .into(),
        });
    }
    let actor = ctx.actor.principal();
    let touched = move_order(app, ctx, id, input.status, input.note.trim(), &actor, "cancelled").await?;
    super::inventory::stock_changed(app, &ctx.store.id, &touched);
    get(app, ctx, id, None).await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub note: String,
}

/// Staff add a remark to an order's history (the status stays).
pub async fn add_note(app: &App, ctx: &Ctx, id: &str, input: NoteInput) -> ServiceResult<Order> {
    ctx.actor.require(Permission::OrdersManage)?;
    let mut errs = crate::domain::validation::FieldErrors::default();
    errs.text("note", &input.note, 1, 1000);
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let row = sql::by_id(&mut tx, store_id, id).await?.ok_or(ServiceError::NotFound)?;
    let entry = HistoryRow {
        kind: "note".into(),
        from_status: Some(row.status.clone()),
        to_status: row.status.clone(),
        note: input.note.trim().to_string(),
        actor: ctx.actor.principal(),
        at: now_ms(),
    };
    sql::add_history(&mut tx, store_id, id, &ids::new_id("ohs"), &entry).await?;
    audit::record(app, &mut tx, ctx, "orders.note_added", id, json!({})).await?;
    tx.commit().await?;
    get(app, ctx, id, None).await
}

/// The status an order on hold came from: its last move into on_hold.
fn held_from(history: &[HistoryRow]) -> Option<OrderStatus> {
    history
        .iter()
        .rev()
        .find(|h| h.kind == "status" && h.to_status == OrderStatus::OnHold.as_str())
        .and_then(|h| h.from_status.as_deref())
        .and_then(OrderStatus::parse)
}

/// Where an order on hold resumes to.
pub(super) async fn held_status(tx: &mut crate::db::Tx, store_id: &str, id: &str) -> ServiceResult<OrderStatus> {
    let history = sql::history(&mut *tx, store_id, id).await?;
    Ok(held_from(&history).unwrap_or(OrderStatus::Placed))
}

/// Cancels an order staff rejected after a risk review; returns the
/// products whose stock changed.
pub(super) async fn cancel_for_risk(app: &App, ctx: &Ctx, id: &str, note: &str) -> ServiceResult<Vec<String>> {
    move_order(app, ctx, id, OrderStatus::Cancelled, note, &ctx.actor.principal(), "risk_rejected").await
}

/// Moves an order in one transaction; returns the products whose stock changed.
async fn move_order(
    app: &App,
    ctx: &Ctx,
    id: &str,
    to: OrderStatus,
    note: &str,
    actor: &str,
    release_reason: &str,
) -> ServiceResult<Vec<String>> {
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let row = sql::by_id(&mut tx, store_id, id).await?.ok_or(ServiceError::NotFound)?;
    apply_move(app, &mut tx, ctx, &row, to, note, actor).await?;
    if to != OrderStatus::Cancelled {
        // A paid order confirmed or resumed gets its digital goods now
        // (`deliver` does nothing for orders that are not due).
        super::digital::deliver(app, &mut tx, ctx, id).await?;
    }
    let touched = if to == OrderStatus::Cancelled {
        super::digital::revoke(&mut tx, store_id, id).await?;
        for (coupon, who) in crate::db::checkout_rules::take_order_coupons(&mut tx, store_id, id).await? {
            crate::db::checkout_rules::give_back_use(&mut tx, store_id, &coupon, &who).await?;
        }
        super::inventory::release_for_order(app, &mut tx, actor, store_id, id, release_reason).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    app.wake_outbox();
    if to == OrderStatus::Cancelled {
        super::payments::void_open(app, ctx, id).await?;
    }
    Ok(touched)
}

/// Inside a transaction: moves an order from its status in `row` to `to`
/// if the machine allows it and nobody moved it meanwhile, with a history
/// entry, an `order.<status>` event and (for people) an audit entry.
pub(super) async fn apply_move(
    app: &App,
    tx: &mut crate::db::Tx,
    ctx: &Ctx,
    row: &OrderRow,
    to: OrderStatus,
    note: &str,
    actor: &str,
) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let id = &row.id;
    let from = OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Placed);
    let history = sql::history(&mut *tx, store_id, id).await?;
    transition(from, to, held_from(&history))
        .map_err(|why| ServiceError::Conflict { code: "invalid_transition", message: why.0 })?;
    let now = now_ms();
    // Confirming accepts the order as it is paid (or will be): no deadline.
    // A hold keeps it; an unpaid order resumed to placed gets a fresh one,
    // so it still expires if nobody pays.
    let unpaid =
        matches!(PaymentStatus::parse(&row.payment_status), Some(PaymentStatus::Unpaid | PaymentStatus::Voided));
    let reserved_until = match to {
        OrderStatus::OnHold => row.reserved_until,
        OrderStatus::Placed if unpaid => Some(payment_deadline(app, now)),
        _ => None,
    };
    if !sql::set_status(tx, store_id, id, from.as_str(), to.as_str(), reserved_until, now).await? {
        return Err(ServiceError::Conflict {
            code: "order_changed",
            message: "the order changed meanwhile; look again".into(),
        });
    }
    let entry = HistoryRow {
        kind: "status".into(),
        from_status: Some(from.as_str().into()),
        to_status: to.as_str().into(),
        note: note.to_string(),
        actor: actor.to_string(),
        at: now,
    };
    sql::add_history(tx, store_id, id, &ids::new_id("ohs"), &entry).await?;
    if to == OrderStatus::Cancelled {
        super::ledger::order_cancelled(app, tx, row, store_id, actor).await?;
    }
    outbox::emit(
        tx,
        store_id,
        &format!("order.{}", to.as_str()),
        json!({ "order_id": id, "number": row.number, "from": from.as_str() }),
    )
    .await?;
    if actor != "system" {
        audit::record(app, tx, ctx, "orders.status_changed", id, json!({ "from": from.as_str(), "to": to.as_str() }))
            .await?;
    }
    status_mail(app, tx, ctx, row, to).await
}

/// Tells the customer their order was confirmed or cancelled, in the
/// order's language (shipping has its own e-mail, with tracking).
async fn status_mail(
    app: &App,
    tx: &mut crate::db::Tx,
    ctx: &Ctx,
    row: &OrderRow,
    to: OrderStatus,
) -> ServiceResult<()> {
    use crate::i18n::t;
    let (subject, body) = match to {
        OrderStatus::Confirmed => ("mail.confirmed_subject", "mail.confirmed_body"),
        OrderStatus::Cancelled => ("mail.cancelled_subject", "mail.cancelled_body"),
        _ => return Ok(()),
    };
    let contact = open_contact(app, &ctx.store.id, row)?;
    let lang = Language::parse(&row.lang).unwrap_or(ctx.store.brand.default_language);
    let number = row.number.to_string();
    let subject = t(lang, subject).replace("{number}", &number);
    let text = format!("{}\n\n{}", t(lang, body).replace("{number}", &number), ctx.store.brand.name);
    super::mail::queue(app, tx, &ctx.store, &contact.email, &subject, &text).await
}

/// Cancels unpaid orders whose hold on stock ran out, releasing the stock.
/// Returns how many were cancelled.
pub async fn expire_reservations(app: &App) -> ServiceResult<usize> {
    let mut n = 0;
    for (store_id, id) in sql::expired(app.db.pool(), now_ms(), 200).await? {
        let Some(store) = crate::db::stores::by_id(app.db.pool(), &store_id).await? else { continue };
        let ctx = Ctx { store: std::sync::Arc::new(store), actor: Actor::Anonymous, client_ip: "worker".into() };
        match move_order(app, &ctx, &id, OrderStatus::Cancelled, "payment did not arrive in time", "system", "expired")
            .await
        {
            Ok(touched) => {
                super::inventory::stock_changed(app, &store_id, &touched);
                n += 1;
            }
            // Confirmed, shipped or cancelled meanwhile: no longer ours to expire.
            Err(ServiceError::Conflict { .. }) => {
                let mut tx = app.db.begin().await?;
                sql::clear_reservation_deadline(&mut tx, &store_id, &id).await?;
                tx.commit().await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Indexes the buyer's e-mail of orders placed before the index existed, a
/// batch at a time (run once at start; a no-op query afterwards). Returns
/// how many orders it indexed.
pub async fn backfill_email_index(app: &App) -> ServiceResult<u64> {
    let mut done = 0;
    loop {
        let rows = sql::unindexed(app.db.pool(), 200).await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut tx = app.db.begin().await?;
        for (store_id, id, sealed) in &rows {
            let contact: Contact = serde_json::from_str(&app.open(contact_slot(store_id, id), sealed)?)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            sql::set_email_index(&mut tx, store_id, id, &app.email_index(store_id, &contact.email)).await?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
    }
}
