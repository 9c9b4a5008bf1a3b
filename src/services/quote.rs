//! Prices a cart with the store's rules: its lines (already priced by
//! `cart::price_lines`), promotions and coupons, shipping to its address,
//! and tax where the goods go (or reverse charge for an EU business). The
//! arithmetic is `domain::quote`; this gathers its inputs. Cart views show
//! the result and checkout records it, so both always agree.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

use super::actor::Ctx;
use super::cart::{Contact, Priced};
use super::checkout_rules::{self, Rules};
use super::promotions::normalize_code;
use super::shipping::{Method, PickupPoint};
use super::{App, ServiceResult, now_ms};
use crate::db::catalog::ChannelRow;
use crate::db::checkout_rules as sql;
use crate::domain::orders::Totals;
use crate::domain::promotions::{Applied, Context, Line, LineAdjustment, Promotion};
use crate::domain::quote::{QuoteInput, QuoteLine, ShippingPrice, price};
use crate::domain::shipping::charge;
use crate::domain::tax::{Rate, RateTotal, reverse_charged, tax_of};

/// The shipping a customer chose (kept on the cart).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingChoice {
    /// A shipping method's code.
    pub method: String,
    /// For a pickup method: the pickup point's id.
    #[serde(default)]
    pub point: Option<String>,
}

/// A method offered for the cart, priced for it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShippingOption {
    pub code: String,
    pub name: String,
    pub carrier: String,
    /// What it costs this cart (0 above the method's free threshold), before promotions.
    pub amount: i64,
    /// Pick one of these when given (a pickup method).
    pub pickup_points: Vec<PickupPoint>,
}

/// The shipping on a cart or an order.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShippingLine {
    pub code: String,
    pub name: String,
    pub carrier: String,
    pub point: Option<PickupPoint>,
    /// The method's price, before a free-shipping promotion.
    pub list_price: i64,
    /// What is charged.
    pub amount: i64,
    pub tax: i64,
    pub tax_label: String,
}

/// An entered coupon code and what became of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CouponState {
    pub code: String,
    /// `applied`, `not_applicable` (valid, but its conditions are not met
    /// by this cart), `used_up` (no uses left, in total or for this
    /// customer) or `invalid` (unknown or no longer active).
    pub status: String,
}

/// How a cart or order was priced beyond its lines. Amounts are in minor
/// units of the cart's or order's currency.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pricing {
    pub shipping: Option<ShippingLine>,
    /// Promotions that took something off, with how much.
    pub promotions: Vec<Applied>,
    /// Tax per rate.
    pub taxes: Vec<RateTotal>,
    /// No VAT: an EU business buyer in another member state accounts for it.
    pub reverse_charge: bool,
    /// Coupon codes that applied.
    #[serde(default)]
    pub coupons: Vec<String>,
}

impl CartQuote {
    pub fn pricing(&self) -> Pricing {
        Pricing {
            shipping: self.shipping.clone(),
            promotions: self.promotions.clone(),
            taxes: self.taxes.clone(),
            reverse_charge: self.reverse_charge,
            coupons: self.used_coupons.iter().map(|c| c.code.clone()).collect(),
        }
    }
}

/// A line as priced with the rules.
#[derive(Debug, Clone)]
pub struct QuotedLine {
    pub unit_price: i64,
    pub line_total: i64,
    pub discount: i64,
    pub adjustments: Vec<LineAdjustment>,
    pub tax: i64,
    pub tax_rate: Rate,
    pub tax_label: String,
    pub weight_grams: i64,
}

/// A coupon the quote used, for checkout to take a use of.
#[derive(Debug, Clone)]
pub struct UsedCoupon {
    pub id: String,
    pub code: String,
    pub per_customer_limit: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CartQuote {
    /// One per priced line that has a price, in order.
    pub lines: Vec<QuotedLine>,
    pub options: Vec<ShippingOption>,
    pub shipping: Option<ShippingLine>,
    pub promotions: Vec<Applied>,
    pub coupons: Vec<CouponState>,
    pub used_coupons: Vec<UsedCoupon>,
    pub taxes: Vec<RateTotal>,
    pub totals: Totals,
    pub prices_include_tax: bool,
    pub reverse_charge: bool,
    /// Why checkout would refuse the cart as priced (no delivery to the
    /// address, no method chosen, …).
    pub problems: Vec<String>,
}

/// Who a per-customer coupon limit counts: the customer, or a guest's e-mail.
pub fn coupon_holder(app: &App, store_id: &str, customer: Option<&str>, contact: Option<&Contact>) -> Option<String> {
    match (customer, contact) {
        (Some(c), _) => Some(format!("customer:{c}")),
        (None, Some(c)) => Some(format!("email:{}", app.email_index(store_id, &c.email))),
        (None, None) => None,
    }
}

/// A usable code's (promotion id, use), or why it cannot be used.
type CouponUse = Result<(String, UsedCoupon), &'static str>;

struct CouponCheck {
    promotions: Vec<Promotion>,
    /// Each code with its promotion and use, or why it cannot be used.
    states: Vec<(String, CouponUse)>,
}

/// Resolves entered codes: valid ones unlock their promotion.
async fn check_coupons(
    app: &App,
    store_id: &str,
    rules: &Rules,
    codes: &[String],
    holder: Option<&str>,
    held: bool,
) -> ServiceResult<CouponCheck> {
    let mut out = CouponCheck { promotions: Vec::new(), states: Vec::new() };
    for code in codes {
        let code = normalize_code(code);
        let Some(c) = sql::coupon_by_code(app.db.pool(), store_id, &code).await? else {
            out.states.push((code, Err("invalid")));
            continue;
        };
        let promo = rules.promotions.iter().find(|p| p.id == c.promotion_id);
        let used_up = !held && c.usage_limit.is_some_and(|l| c.used >= l);
        let mine_used_up = match (c.per_customer_limit, holder) {
            (Some(limit), Some(who)) if !held => used_by(app, store_id, &c.id, who).await? >= limit,
            _ => false,
        };
        // A promotion applies once: a second code for it (or a code for an
        // automatic one) adds nothing.
        let already = promo.is_some_and(|p| !p.needs_coupon || out.promotions.iter().any(|x| x.id == p.id));
        match promo {
            None => out.states.push((code, Err("invalid"))),
            Some(_) if used_up || mine_used_up => out.states.push((code, Err("used_up"))),
            Some(_) if already => out.states.push((code, Err("not_applicable"))),
            Some(p) => {
                out.promotions.push(Promotion {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    effect: p.effect.clone(),
                    conditions: p.conditions.clone(),
                    priority: p.priority,
                    exclusive: p.exclusive,
                    code: Some(code.clone()),
                });
                let used = UsedCoupon { id: c.id, code: code.clone(), per_customer_limit: c.per_customer_limit };
                out.states.push((code, Ok((p.id.clone(), used))));
            }
        }
    }
    Ok(out)
}

async fn used_by(app: &App, store_id: &str, coupon_id: &str, who: &str) -> ServiceResult<i64> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT used FROM coupon_uses WHERE store_id = $1 AND coupon_id = $2 AND who = $3")
        .bind(store_id)
        .bind(coupon_id)
        .bind(who)
        .fetch_optional(app.db.pool())
        .await?
        .unwrap_or(0))
}

/// The inputs of a quote besides the lines.
pub struct QuoteFor<'a> {
    pub channel: &'a ChannelRow,
    pub customer: Option<&'a str>,
    pub contact: Option<&'a Contact>,
    pub choice: Option<&'a ShippingChoice>,
    pub codes: &'a [String],
    /// The codes' uses are already taken (re-pricing a placed order):
    /// their limits are not checked again.
    pub coupons_held: bool,
}

pub async fn quote(app: &App, ctx: &Ctx, priced: &[Priced], q: QuoteFor<'_>) -> ServiceResult<CartQuote> {
    let store_id = &ctx.store.id;
    let rules = checkout_rules::of_store(app, store_id).await?;
    let currency = q.channel.currency.as_str();
    let address = q.contact.and_then(|c| c.shipping_address.as_ref());
    let origin = rules.tax.origin_country.as_str();
    let (country, region) = address.map_or((origin, ""), |a| (a.country.as_str(), a.region.as_str()));
    let reverse_charge =
        rules.tax.reverse_charge && reverse_charged(origin, country, q.contact.and_then(|c| c.vat_id.as_deref()));
    let rate_of = |class: &str| -> (Rate, String) {
        if reverse_charge {
            return (Rate::ZERO, "Reverse charge".into());
        }
        match rules.rate_for(country, region, class) {
            Some(r) => (r.rate, r.label.clone()),
            None => (Rate::ZERO, "No tax".into()),
        }
    };
    let inclusive = q.channel.prices_include_tax && !reverse_charge;
    let mut lines = Vec::new();
    for p in priced {
        let Some((unit, total, _)) = &p.price else { continue };
        let (rate, label) = rate_of(&p.facts.tax_class);
        // Reverse charge on prices that include tax: the business pays the
        // price without the store's home VAT, which the price carries.
        let (unit, total) = if reverse_charge && q.channel.prices_include_tax {
            let domestic = rules.rate_for(origin, "", &p.facts.tax_class).map_or(Rate::ZERO, |r| r.rate);
            let net = unit - tax_of(*unit, domestic, true).unwrap_or(0);
            (net, net.saturating_mul(p.quantity))
        } else {
            (*unit, *total)
        };
        lines.push((
            QuoteLine {
                line: Line {
                    sku: p.facts.sku.clone(),
                    product_id: p.facts.product_id.clone(),
                    quantity: p.quantity,
                    unit_price: unit,
                    amount: total,
                },
                tax_rate: rate,
                tax_label: label,
            },
            p.kind.needs_shipping(),
            p.facts.weight_grams.unwrap_or(0).saturating_mul(p.quantity),
        ));
    }

    let holder = coupon_holder(app, store_id, q.customer, q.contact);
    let coupons = check_coupons(app, store_id, &rules, q.codes, holder.as_deref(), q.coupons_held).await?;
    let mut promotions: Vec<Promotion> = rules
        .promotions
        .iter()
        .filter(|p| !p.needs_coupon)
        .map(|p| Promotion {
            id: p.id.clone(),
            name: p.name.clone(),
            effect: p.effect.clone(),
            conditions: p.conditions.clone(),
            priority: p.priority,
            exclusive: p.exclusive,
            code: None,
        })
        .collect();
    promotions.extend(coupons.promotions.iter().cloned());
    let groups = match q.customer {
        Some(c) if promotions.iter().any(|p| !p.conditions.groups.is_empty()) => {
            crate::db::pricing::groups_of(app.db.pool(), store_id, c).await?
        }
        _ => Vec::new(),
    };

    let input = QuoteInput {
        lines: lines.iter().map(|(l, _, _)| l.clone()).collect(),
        promotions: &promotions,
        context: Context {
            channel_id: q.channel.code.clone(),
            currency: currency.to_string(),
            groups,
            now: now_ms(),
            // Free shipping only counts where a parcel will be charged for.
            ships: lines.iter().any(|(_, s, _)| *s)
                && address.is_some_and(|a| !rules.methods_for(a, currency).is_empty()),
        },
        prices_include_tax: inclusive,
        rounding: rules.tax.rounding,
    };
    let overflow =
        || super::ServiceError::Conflict { code: "amount_overflow", message: "the total is too large".into() };
    // Shipping is priced on the goods after discounts: learn that value first.
    let goods = Cell::new(0i64);
    price(input.clone(), &|g| {
        goods.set(g);
        None
    })
    .ok_or_else(overflow)?;
    let goods = goods.get();

    // Shipping: what is offered, and which is chosen.
    let ships = lines.iter().any(|(_, s, _)| *s);
    let weight: i64 = lines.iter().filter(|(_, s, _)| *s).map(|(_, _, w)| *w).sum();
    let mut problems = Vec::new();
    let offered: Vec<(&Method, i64)> = match address {
        Some(a) if ships => rules
            .methods_for(a, currency)
            .into_iter()
            .filter_map(|m| Some((m, charge(&m.rates, m.free_over, weight, goods)?)))
            .collect(),
        _ => Vec::new(),
    };
    if ships && rules.ships_in(currency) {
        match address {
            None => problems.push("give a shipping address first".to_string()),
            Some(a) if offered.is_empty() => problems.push(format!("we do not deliver this parcel to {}", a.country)),
            _ => {}
        }
    }
    let picked = q.choice.and_then(|c| offered.iter().find(|(m, _)| m.code == c.method).map(|o| (o, c)));
    let chosen: Option<(&Method, i64, Option<PickupPoint>)> = match picked {
        Some(((m, amount), _)) if m.pickup_points.is_empty() => Some((m, *amount, None)),
        Some(((m, amount), c)) => match m.pickup_points.iter().find(|p| Some(&p.id) == c.point.as_ref()) {
            Some(p) => Some((m, *amount, Some(p.clone()))),
            None => {
                problems.push(format!("choose a pickup point for {}", m.name));
                None
            }
        },
        // Without a (valid) choice, the cheapest delivery method is taken.
        None => offered
            .iter()
            .filter(|(m, _)| m.pickup_points.is_empty())
            .min_by_key(|(_, a)| *a)
            .map(|(m, a)| (*m, *a, None)),
    };
    if !offered.is_empty() && chosen.is_none() && problems.is_empty() {
        problems.push("choose a shipping method".to_string());
    }
    let (ship_rate, ship_label) =
        rate_of(if rules.rate_for(country, region, "shipping").is_some() { "shipping" } else { "standard" });
    // Reverse charge on prices with tax: shipping, like the goods, is
    // charged without the store's home VAT.
    let home_ship_rate = rules
        .rate_for(origin, "", "shipping")
        .or_else(|| rules.rate_for(origin, "", "standard"))
        .map_or(Rate::ZERO, |r| r.rate);
    let net_of_home_vat = |amount: i64| {
        if reverse_charge && q.channel.prices_include_tax {
            amount - tax_of(amount, home_ship_rate, true).unwrap_or(0)
        } else {
            amount
        }
    };
    let charged = chosen.as_ref().map(|(_, amount, _)| net_of_home_vat(*amount));
    let shipping_price =
        |_: i64| charged.map(|amount| ShippingPrice { amount, tax_rate: ship_rate, tax_label: ship_label.clone() });
    let priced_doc = price(input, &shipping_price).ok_or_else(overflow)?;
    let options = offered
        .iter()
        .map(|(m, amount)| ShippingOption {
            amount: *amount,
            code: m.code.clone(),
            name: m.name.clone(),
            carrier: m.carrier.clone(),
            pickup_points: m.pickup_points.clone(),
        })
        .collect();
    let shipping = chosen.map(|(m, _, point)| ShippingLine {
        code: m.code.clone(),
        name: m.name.clone(),
        carrier: m.carrier.clone(),
        point,
        list_price: priced_doc.shipping_list_price,
        amount: priced_doc.totals.shipping,
        tax: priced_doc.shipping_tax,
        tax_label: ship_label.clone(),
    });
    let applied_ids: Vec<&str> = priced_doc.applied.iter().map(|a| a.promotion_id.as_str()).collect();
    let mut used_coupons = Vec::new();
    let coupon_states: Vec<CouponState> = coupons
        .states
        .into_iter()
        .map(|(code, state)| {
            let status = match state {
                Ok((p, u)) if applied_ids.contains(&p.as_str()) => {
                    used_coupons.push(u);
                    "applied"
                }
                Ok(_) | Err("not_applicable") => "not_applicable",
                Err(why) => why,
            };
            CouponState { code, status: status.into() }
        })
        .collect();
    // A code that cannot be used stops checkout rather than silently
    // raising the price the customer saw.
    for c in coupon_states.iter().filter(|c| c.status == "used_up" || c.status == "invalid") {
        problems.push(format!("the coupon {} can no longer be used; remove it", c.code));
    }
    let quoted = lines
        .iter()
        .enumerate()
        .map(|(i, (l, _, w))| QuotedLine {
            unit_price: l.line.unit_price,
            line_total: l.line.amount,
            discount: priced_doc.line_discounts[i],
            adjustments: priced_doc.explanations[i].clone(),
            tax: priced_doc.line_taxes[i],
            tax_rate: l.tax_rate,
            tax_label: l.tax_label.clone(),
            weight_grams: *w,
        })
        .collect();
    Ok(CartQuote {
        lines: quoted,
        options,
        shipping,
        promotions: priced_doc.applied,
        coupons: coupon_states,
        used_coupons,
        taxes: priced_doc.taxes,
        totals: priced_doc.totals,
        prices_include_tax: inclusive,
        reverse_charge,
        problems,
    })
}
