//! Carts: a visitor (guest or signed-in customer) collects lines in a
//! channel, gives an e-mail and a shipping address, and checks out
//! (`services::checkout`). Prices are always computed here from the
//! catalog and price lists; a client never sends one.
//!
//! A guest proves a cart is theirs with the secret token returned when it
//! was created (`Cart-Token` header); a customer's own carts need only
//! their sign-in. Anyone else is told the cart does not exist.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::actor::{Actor, Ctx};
use super::quote::{CartQuote, CouponState, Pricing, QuoteFor, ShippingChoice, ShippingOption};
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::carts::{self as sql, CartRow, LineFacts};
use crate::db::catalog::ChannelRow;
use crate::domain::addresses::Address;
use crate::domain::catalog::{ProductKind, PublishStatus, is_visible, pick_translation};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::inventory::Availability;
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::domain::orders::line_total;
use crate::domain::pricing::PriceSource;
use crate::domain::promotions::LineAdjustment;
use crate::domain::validation::{FieldErrors, is_plausible_email};

/// Most distinct lines in a cart, and units of one line.
pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 999;

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCart {
    /// Channel code (default `web`): decides currency and prices.
    #[serde(default)]
    pub channel: Option<String>,
    /// Language of names on the cart and the order (default: the store's).
    #[serde(default)]
    pub lang: Option<Language>,
}

/// Who may see or change a cart: the holder of its token, or its customer.
pub struct CartKey<'a> {
    pub id: &'a str,
    pub token: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    pub email: String,
    /// Needed when something ships.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// A business buyer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// A business buyer's EU VAT id: with it, sales to another member
    /// state are reverse charged (no VAT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartLine {
    pub sku: String,
    pub product_id: String,
    pub name: String,
    pub options: BTreeMap<String, String>,
    pub kind: ProductKind,
    pub quantity: i64,
    /// Now, for this quantity (volume and list prices applied).
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
    pub availability: Availability,
    /// Why this line cannot be ordered as it is, if it cannot:
    /// `unavailable` (no longer sold) or `no_price` (not sold in this channel).
    pub problem: Option<String>,
    /// What promotions take off this line, and which.
    pub discount: Option<Money>,
    pub adjustments: Vec<LineAdjustment>,
    /// Tax in (or on) the line after its discount, and its rate's label.
    pub tax: Option<Money>,
    pub tax_label: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartView {
    pub id: String,
    pub channel: String,
    pub currency: String,
    pub lang: Language,
    pub lines: Vec<CartLine>,
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    /// Included in the prices or added to them, as `prices_include_tax` says.
    pub tax: Money,
    pub total: Money,
    pub prices_include_tax: bool,
    pub contact: Option<Contact>,
    /// Methods that deliver to the address, priced for this cart.
    pub shipping_options: Vec<ShippingOption>,
    /// The chosen shipping (without a choice, the cheapest delivery).
    pub shipping_choice: Option<ShippingChoice>,
    pub coupons: Vec<CouponState>,
    pub pricing: Pricing,
    /// Why checkout would refuse the cart now, if it would.
    pub problems: Vec<String>,
    /// For a draft order: the staff member who started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft_by: Option<String>,
    /// Whether checkout would accept it now (stock is checked at checkout).
    pub ready: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedCart {
    /// Send as `Cart-Token` with every request for this cart. Shown once.
    pub token: String,
    pub cart: CartView,
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn contact_slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "carts", column: "contact", store_id, row_id: id }
}

async fn channel(app: &App, store_id: &str, code: &str) -> ServiceResult<ChannelRow> {
    super::line_facts::channels(app, store_id).await?.iter().find(|c| c.code == code).cloned().ok_or_else(|| {
        let mut errs = FieldErrors::default();
        errs.add("channel", "unknown_channel", "no channel with this code");
        errs.into()
    })
}

async fn channel_by_id(app: &App, store_id: &str, id: &str) -> ServiceResult<ChannelRow> {
    super::line_facts::channels(app, store_id)
        .await?
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| ServiceError::Internal(format!("cart channel {id} is gone")))
}

pub async fn create(app: &App, ctx: &Ctx, input: NewCart) -> ServiceResult<CreatedCart> {
    let code = input.channel.as_deref().unwrap_or("web");
    let ch = channel(app, &ctx.store.id, code).await?;
    let token = new_secret();
    let id = ids::new_id("crt");
    let customer_id = match &ctx.actor {
        Actor::Customer { id } => Some(id.clone()),
        _ => None,
    };
    let row = CartRow {
        contact_enc: String::new(),
        shipping_choice: String::new(),
        coupon_codes: "[]".into(),
        draft_by: String::new(),
        token_hash: hash_secret(&token),
        customer_id,
        channel_id: ch.id.clone(),
        lang: input.lang.unwrap_or(ctx.store.brand.default_language).code().to_string(),
        updated_at: now_ms(),
        id,
    };
    let (store_id, stored) = (ctx.store.id.clone(), row.clone());
    app.db.write_in_place(move |tx| Box::pin(async move { sql::insert(tx, &store_id, &stored).await })).await?;
    // A new cart has no lines yet.
    let cart = view_of(app, ctx, &row, &[]).await?;
    Ok(CreatedCart { token, cart })
}

/// The cart if `key` opens it; not found otherwise (a stranger learns nothing).
pub async fn open(app: &App, ctx: &Ctx, key: &CartKey<'_>) -> ServiceResult<CartRow> {
    let row = sql::by_id(app.db.pool(), &ctx.store.id, key.id).await?.ok_or(ServiceError::NotFound)?;
    opened_by(ctx, key, row)
}

/// As [`open`], with the cart's lines (variant, quantity), in one query.
pub async fn open_with_lines(app: &App, ctx: &Ctx, key: &CartKey<'_>) -> ServiceResult<(CartRow, Vec<(String, i64)>)> {
    let (row, lines) = sql::with_lines(app.db.pool(), &ctx.store.id, key.id).await?.ok_or(ServiceError::NotFound)?;
    Ok((opened_by(ctx, key, row)?, lines))
}

fn opened_by(ctx: &Ctx, key: &CartKey<'_>, row: CartRow) -> ServiceResult<CartRow> {
    let by_token = key.token.is_some_and(|t| hash_secret(t) == row.token_hash);
    let by_customer = row.draft_by.is_empty()
        && matches!((&ctx.actor, &row.customer_id), (Actor::Customer { id }, Some(c)) if id == c);
    // A draft order is staff's to fill and place.
    let by_staff = !row.draft_by.is_empty() && ctx.actor.require(super::actor::Permission::OrdersManage).is_ok();
    if by_token || by_customer || by_staff { Ok(row) } else { Err(ServiceError::NotFound) }
}

pub async fn get(app: &App, ctx: &Ctx, key: &CartKey<'_>) -> ServiceResult<CartView> {
    let (row, lines) = open_with_lines(app, ctx, key).await?;
    view_of(app, ctx, &row, &lines).await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// Units wanted; 0 removes the line.
    pub quantity: i64,
}

/// Sets how many of a SKU the cart holds (0 removes it).
pub async fn set_line(app: &App, ctx: &Ctx, key: &CartKey<'_>, sku: &str, input: LineInput) -> ServiceResult<CartView> {
    let (row, lines) = open_with_lines(app, ctx, key).await?;
    let mut errs = FieldErrors::default();
    if !(0..=MAX_QUANTITY).contains(&input.quantity) {
        errs.add("quantity", "out_of_range", format!("quantity is 0 to {MAX_QUANTITY}"));
    }
    let Some(f) = super::line_facts::by_sku(app, &ctx.store.id, sku).await?.map(|s| s.facts.clone()) else {
        errs.add("sku", "unknown_sku", "no product variant with this SKU");
        return Err(errs.into());
    };
    let now = now_ms();
    let status = PublishStatus::parse(&f.status).unwrap_or(PublishStatus::Draft);
    if input.quantity > 0 && !is_visible(status, f.publish_at, f.unpublish_at, now) {
        errs.add("sku", "unavailable", "this product is not for sale");
    }
    if input.quantity > 0 && lines.len() >= MAX_LINES && !lines.iter().any(|(v, _)| *v == f.variant_id) {
        errs.add("sku", "too_many_lines", format!("a cart holds at most {MAX_LINES} different items"));
    }
    errs.finish(())?;
    let (store_id, cart_id, quantity) = (ctx.store.id.clone(), row.id.clone(), input.quantity);
    app.db
        .write_in_place(move |tx| {
            Box::pin(async move { sql::set_line(tx, &store_id, &cart_id, &f.variant_id, quantity, now).await })
        })
        .await?;
    view(app, ctx, &row).await
}

/// A customer who just signed in takes the cart they filled as a guest:
/// it becomes theirs (their price lists apply, the order lands in their
/// account), and the lines of any other cart of theirs join it
/// (quantities added up to the limit), that cart being removed.
pub async fn claim(app: &App, ctx: &Ctx, key: &CartKey<'_>) -> ServiceResult<CartView> {
    let me = ctx.actor.customer_id()?.to_string();
    let mut row = open(app, ctx, key).await?;
    if row.customer_id.as_deref().is_some_and(|c| c != me) {
        return Err(ServiceError::NotFound);
    }
    let store_id = &ctx.store.id;
    let now = now_ms();
    let mut tx = app.db.begin().await?;
    sql::set_customer(&mut tx, store_id, &row.id, &me, now).await?;
    let mut lines: HashMap<String, i64> = sql::lines(&mut *tx, store_id, &row.id).await?.into_iter().collect();
    for other in sql::of_customer(&mut tx, store_id, &me).await?.into_iter().filter(|c| *c != row.id) {
        for (variant_id, quantity) in sql::lines(&mut *tx, store_id, &other).await? {
            let have = lines.get(&variant_id).copied();
            if have.is_none() && lines.len() >= MAX_LINES {
                continue;
            }
            let merged = (have.unwrap_or(0) + quantity).min(MAX_QUANTITY);
            sql::set_line(&mut tx, store_id, &row.id, &variant_id, merged, now).await?;
            lines.insert(variant_id, merged);
        }
        // Gone already or not, it is merged.
        let _gone = sql::delete(&mut tx, store_id, &other).await?;
    }
    tx.commit().await?;
    row.customer_id = Some(me);
    view(app, ctx, &row).await
}

/// Sets the e-mail and shipping address (validated per country).
pub async fn set_contact(app: &App, ctx: &Ctx, key: &CartKey<'_>, input: Contact) -> ServiceResult<CartView> {
    let mut row = open(app, ctx, key).await?;
    let mut errs = FieldErrors::default();
    let email = input.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        errs.add("email", "invalid_format", "email must be a valid e-mail address");
    }
    let address = match input.shipping_address {
        None => None,
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
    let company = input.company.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if let Some(c) = &company {
        errs.text("company", c, 1, 200);
    }
    let vat_id = input.vat_id.map(|v| crate::domain::tax::normalize_vat_id(&v)).filter(|v| !v.is_empty());
    if vat_id.as_deref().is_some_and(|v| crate::domain::tax::vat_id_country(v).is_none()) {
        errs.add("vat_id", "invalid_vat_id", "not a valid EU VAT id (country prefix and number)");
    }
    errs.finish(())?;
    let contact = Contact { email, shipping_address: address, company, vat_id };
    let sealed = app.seal(
        contact_slot(&ctx.store.id, &row.id),
        &serde_json::to_string(&contact).map_err(|e| ServiceError::Internal(e.to_string()))?,
    );
    let (store_id, cart_id, stored) = (ctx.store.id.clone(), row.id.clone(), sealed.clone());
    app.db
        .write_in_place(move |tx| {
            Box::pin(async move { sql::update_contact(tx, &store_id, &cart_id, &stored, now_ms()).await })
        })
        .await?;
    row.contact_enc = sealed;
    view(app, ctx, &row).await
}

pub fn contact_of(app: &App, store_id: &str, row: &CartRow) -> ServiceResult<Option<Contact>> {
    if row.contact_enc.is_empty() {
        return Ok(None);
    }
    let plain = app.open(contact_slot(store_id, &row.id), &row.contact_enc)?;
    Ok(Some(serde_json::from_str(&plain).map_err(|e| ServiceError::Internal(e.to_string()))?))
}

/// A cart line priced now.
#[derive(Debug, Clone)]
pub struct Priced {
    pub facts: LineFacts,
    pub name: String,
    pub options: BTreeMap<String, String>,
    pub kind: ProductKind,
    pub quantity: i64,
    /// (unit, line total, where the price came from), when it has one.
    pub price: Option<(i64, i64, PriceSource)>,
    pub problem: Option<String>,
}

/// Prices lines for `customer` in a channel now, in `lang`: visibility,
/// the channel's volume and sale prices, and the customer's price lists.
pub async fn price_lines(
    app: &App,
    ctx: &Ctx,
    ch: &ChannelRow,
    customer: Option<&str>,
    lang: Language,
    lines: &[(String, i64)],
) -> ServiceResult<Vec<Priced>> {
    let store_id = &ctx.store.id;
    let variant_ids: Vec<String> = lines.iter().map(|(v, _)| v.clone()).collect();
    let sheets = super::line_facts::by_ids(app, store_id, &variant_ids).await?;
    let now = now_ms();
    let resolved = super::pricing::resolve_lines(app, store_id, &ch.id, customer, lines, now).await?;
    let mut out = Vec::with_capacity(lines.len());
    for ((variant_id, quantity), resolved) in lines.iter().zip(resolved) {
        // A variant deleted since it was added: the line goes.
        let Some(sheet) = sheets.get(variant_id) else { continue };
        let f = sheet.facts.clone();
        let name = pick_translation(&sheet.names, lang, ctx.store.brand.default_language)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| f.sku.clone());
        let status = PublishStatus::parse(&f.status).unwrap_or(PublishStatus::Draft);
        let price = resolved.and_then(|r| line_total(r.unit, *quantity).map(|total| (r.unit, total, r.source)));
        let problem = if !is_visible(status, f.publish_at, f.unpublish_at, now) {
            Some("unavailable".to_string())
        } else if price.is_none() {
            Some("no_price".to_string())
        } else {
            None
        };
        out.push(Priced {
            options: f.option_pairs().into_iter().collect(),
            kind: ProductKind::parse(&f.kind).unwrap_or(ProductKind::Physical),
            name,
            quantity: *quantity,
            price,
            problem,
            facts: f,
        });
    }
    Ok(out)
}

/// The shipping choice and coupon codes kept on a cart.
pub fn choices_of(row: &CartRow) -> (Option<ShippingChoice>, Vec<String>) {
    (serde_json::from_str(&row.shipping_choice).ok(), serde_json::from_str(&row.coupon_codes).unwrap_or_default())
}

/// Prices a cart's lines with the store's rules (promotions, shipping, tax).
pub async fn quote_of(
    app: &App,
    ctx: &Ctx,
    ch: &ChannelRow,
    row: &CartRow,
    contact: Option<&Contact>,
    priced: &[Priced],
) -> ServiceResult<CartQuote> {
    let (choice, codes) = choices_of(row);
    let q = QuoteFor {
        channel: ch,
        customer: row.customer_id.as_deref(),
        contact,
        choice: choice.as_ref(),
        codes: &codes,
        coupons_held: false,
    };
    super::quote::quote(app, ctx, priced, q).await
}

pub async fn view(app: &App, ctx: &Ctx, row: &CartRow) -> ServiceResult<CartView> {
    let lines = sql::lines(app.db.pool(), &ctx.store.id, &row.id).await?;
    view_of(app, ctx, row, &lines).await
}

/// The view of a cart whose lines (variant, quantity) are known.
async fn view_of(app: &App, ctx: &Ctx, row: &CartRow, lines: &[(String, i64)]) -> ServiceResult<CartView> {
    let ch = channel_by_id(app, &ctx.store.id, &row.channel_id).await?;
    let currency = Currency::parse(&ch.currency).unwrap_or(Currency::EUR);
    let money = |a: i64| Money::new(a, currency);
    let lang = Language::parse(&row.lang).unwrap_or(ctx.store.brand.default_language);
    let priced = price_lines(app, ctx, &ch, row.customer_id.as_deref(), lang, lines).await?;
    let product_ids: Vec<String> = priced.iter().map(|p| p.facts.product_id.clone()).collect();
    // What the store page shows (this node's changes at once, others' within
    // a second): checkout checks stock again in its transaction.
    let stock = super::inventory::products_stock(app, &ctx.store.id, &product_ids).await?;
    let contact = contact_of(app, &ctx.store.id, row)?;
    let quote = quote_of(app, ctx, &ch, row, contact.as_ref(), &priced).await?;
    let mut quoted = quote.lines.iter();
    let lines: Vec<CartLine> = priced
        .into_iter()
        .map(|p| {
            let q = p.price.as_ref().and_then(|_| quoted.next());
            CartLine {
                availability: stock.get(&p.facts.variant_id).copied().unwrap_or(Availability::Available),
                sku: p.facts.sku,
                product_id: p.facts.product_id,
                name: p.name,
                options: p.options,
                kind: p.kind,
                quantity: p.quantity,
                unit_price: q.map(|q| money(q.unit_price)),
                line_total: q.map(|q| money(q.line_total)),
                problem: p.problem,
                discount: q.map(|q| money(q.discount)),
                adjustments: q.map(|q| q.adjustments.clone()).unwrap_or_default(),
                tax: q.map(|q| money(q.tax)),
                tax_label: q.map(|q| q.tax_label.clone()),
            }
        })
        .collect();
    let ships = lines.iter().any(|l| l.kind.needs_shipping());
    let ready = !lines.is_empty()
        && lines.iter().all(|l| l.problem.is_none() && l.availability.sellable())
        && quote.problems.is_empty()
        && contact.as_ref().is_some_and(|c| !ships || c.shipping_address.is_some());
    let (choice, _) = choices_of(row);
    let t = quote.totals;
    Ok(CartView {
        id: row.id.clone(),
        channel: ch.code,
        currency: currency.code().into(),
        lang,
        lines,
        subtotal: money(t.subtotal),
        discount: money(t.discount),
        shipping: money(t.shipping),
        tax: money(t.tax),
        total: money(t.total),
        prices_include_tax: quote.prices_include_tax,
        contact,
        shipping_options: quote.options.clone(),
        shipping_choice: quote
            .shipping
            .as_ref()
            .map(|s| ShippingChoice { method: s.code.clone(), point: s.point.as_ref().map(|p| p.id.clone()) })
            .or(choice),
        coupons: quote.coupons.clone(),
        pricing: quote.pricing(),
        problems: quote.problems,
        draft_by: Some(row.draft_by.clone()).filter(|d| !d.is_empty()),
        ready,
    })
}

/// Chooses how the cart ships: a method offered for its address (and a
/// pickup point for a pickup method).
pub async fn set_shipping(app: &App, ctx: &Ctx, key: &CartKey<'_>, input: ShippingChoice) -> ServiceResult<CartView> {
    let row = open(app, ctx, key).await?;
    let view_now = view(app, ctx, &row).await?;
    let mut errs = FieldErrors::default();
    match view_now.shipping_options.iter().find(|o| o.code == input.method) {
        None => errs.add("method", "unknown_method", "not a shipping method offered for this cart's address"),
        Some(o) if o.pickup_points.is_empty() && input.point.is_some() => {
            errs.add("point", "not_pickup", "this method delivers to the address; it has no pickup points")
        }
        Some(o)
            if !o.pickup_points.is_empty() && !o.pickup_points.iter().any(|p| Some(&p.id) == input.point.as_ref()) =>
        {
            errs.add("point", "unknown_point", "choose one of this method's pickup points")
        }
        Some(_) => {}
    }
    errs.finish(())?;
    let (_, codes) = choices_of(&row);
    save_choices(app, ctx, row, Some(&input), &codes).await
}

async fn save_choices(
    app: &App,
    ctx: &Ctx,
    mut row: CartRow,
    choice: Option<&ShippingChoice>,
    codes: &[String],
) -> ServiceResult<CartView> {
    store_choices(app, ctx, &mut row, choice, codes).await?;
    view(app, ctx, &row).await
}

/// Writes the cart's shipping choice and coupon codes.
async fn store_choices(
    app: &App,
    ctx: &Ctx,
    row: &mut CartRow,
    choice: Option<&ShippingChoice>,
    codes: &[String],
) -> ServiceResult<()> {
    let internal = |e: serde_json::Error| ServiceError::Internal(e.to_string());
    row.shipping_choice = match choice {
        Some(c) => serde_json::to_string(c).map_err(internal)?,
        None => String::new(),
    };
    row.coupon_codes = serde_json::to_string(codes).map_err(internal)?;
    let (store_id, cart_id) = (ctx.store.id.clone(), row.id.clone());
    let (shipping, coupons) = (row.shipping_choice.clone(), row.coupon_codes.clone());
    app.db
        .write_in_place(move |tx| {
            Box::pin(async move { sql::update_choices(tx, &store_id, &cart_id, &shipping, &coupons, now_ms()).await })
        })
        .await?;
    Ok(())
}

/// Most coupon codes one cart holds.
pub const MAX_COUPONS: usize = 5;

/// Enters a coupon code. Unknown, inactive or used-up codes are refused
/// (422); a valid code whose conditions the cart does not meet yet is kept
/// and shown as `not_applicable`.
pub async fn add_coupon(app: &App, ctx: &Ctx, key: &CartKey<'_>, code: &str) -> ServiceResult<CartView> {
    let row = open(app, ctx, key).await?;
    let code = super::promotions::normalize_code(code);
    let (choice, mut codes) = choices_of(&row);
    let mut errs = FieldErrors::default();
    if codes.contains(&code) {
        return view(app, ctx, &row).await;
    }
    if codes.len() >= MAX_COUPONS {
        errs.add("code", "too_many_coupons", format!("a cart takes at most {MAX_COUPONS} codes"));
        return Err(errs.into());
    }
    codes.push(code.clone());
    let mut trial = CartRow { coupon_codes: serde_json::to_string(&codes).unwrap_or_default(), ..row.clone() };
    let trial_view = view(app, ctx, &trial).await?;
    match trial_view.coupons.iter().find(|c| c.code == code).map(|c| c.status.as_str()) {
        Some("invalid") => errs.add("code", "invalid_coupon", "this code is unknown or no longer valid"),
        Some("used_up") => errs.add("code", "coupon_used_up", "this code has no uses left"),
        _ => {}
    }
    errs.finish(())?;
    // The cart as priced with the code is the answer: no second pricing.
    store_choices(app, ctx, &mut trial, choice.as_ref(), &codes).await?;
    Ok(trial_view)
}

pub async fn remove_coupon(app: &App, ctx: &Ctx, key: &CartKey<'_>, code: &str) -> ServiceResult<CartView> {
    let row = open(app, ctx, key).await?;
    let code = super::promotions::normalize_code(code);
    let (choice, mut codes) = choices_of(&row);
    let before = codes.len();
    codes.retain(|c| *c != code);
    if codes.len() == before {
        return Err(ServiceError::NotFound);
    }
    save_choices(app, ctx, row, choice.as_ref(), &codes).await
}
