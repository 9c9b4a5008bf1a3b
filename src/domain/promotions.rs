//! Promotions with no I/O: which promotions apply to a cart, in what
//! order, and how much each takes off which line.
//!
//! Promotions run by priority (higher first, then by id). Each works on
//! what earlier ones left, so stacked percentages compound and no line
//! goes below zero. An *exclusive* promotion applies only if nothing
//! applied before it, and once it applies nothing after it does.
//! Order-wide discounts are shared over the lines in proportion to what
//! each line still costs (exactly, by largest remainder), so every line
//! knows its discount: tax is computed on discounted lines and a return
//! refunds what the customer actually paid for that line.

use serde::{Deserialize, Serialize};

use super::tax::{Rate, allocate};

/// Which lines a promotion looks at; empty lists match every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineFilter {
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub product_ids: Vec<String>,
}

impl LineFilter {
    pub fn matches(&self, line: &Line) -> bool {
        (self.skus.is_empty() || self.skus.contains(&line.sku))
            && (self.product_ids.is_empty() || self.product_ids.contains(&line.product_id))
    }
}

/// A tier of a spend-more-save-more promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tier {
    /// Goods subtotal from which this tier applies, in minor units.
    pub min_subtotal: i64,
    #[schema(value_type = String, example = "10")]
    pub percent: Rate,
}

/// What a promotion does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// A percentage off the whole order.
    OrderPercent {
        #[schema(value_type = String, example = "10")]
        percent: Rate,
    },
    /// An amount off the whole order (never more than it costs).
    OrderAmount { amount: i64 },
    /// A percentage off the matching lines.
    LinePercent {
        #[schema(value_type = String, example = "20")]
        percent: Rate,
        #[serde(default)]
        filter: LineFilter,
    },
    /// An amount off each matching unit.
    UnitAmount {
        amount: i64,
        #[serde(default)]
        filter: LineFilter,
    },
    /// Buy `buy` matching units, get `get` more at `percent` off (100 =
    /// free); the cheapest units of each set are the discounted ones.
    BuyXGetY {
        buy: i64,
        get: i64,
        #[schema(value_type = String, example = "100")]
        percent: Rate,
        #[serde(default)]
        filter: LineFilter,
    },
    /// Shipping costs nothing.
    FreeShipping,
    /// The highest tier the goods subtotal reaches: a percentage off the order.
    Tiered { tiers: Vec<Tier> },
}

impl Effect {
    /// Why an effect cannot be saved, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        match self {
            Effect::OrderAmount { amount } | Effect::UnitAmount { amount, .. } if *amount <= 0 => {
                Some("the amount must be positive")
            }
            Effect::BuyXGetY { buy, get, .. } if *buy < 1 || *get < 1 => Some("buy and get are at least 1"),
            Effect::Tiered { tiers } if tiers.is_empty() => Some("give at least one tier"),
            Effect::Tiered { tiers } if tiers.windows(2).any(|w| w[0].min_subtotal >= w[1].min_subtotal) => {
                Some("tiers must rise by minimum subtotal")
            }
            _ => None,
        }
    }
}

/// When a promotion may apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conditions {
    /// Channel ids; empty means every channel.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Customer group ids; empty means everyone (guests included).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Goods subtotal needed, in minor units.
    #[serde(default)]
    pub min_subtotal: Option<i64>,
    /// Currency the amounts are in; the promotion applies only there.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub starts_at: Option<i64>,
    #[serde(default)]
    pub ends_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    pub effect: Effect,
    pub conditions: Conditions,
    pub priority: i64,
    pub exclusive: bool,
    /// The coupon code that unlocked it, for promotions that need one.
    pub code: Option<String>,
}

/// A cart line as promotions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sku: String,
    pub product_id: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub amount: i64,
}

/// Who and where: what conditions are checked against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub channel_id: String,
    pub currency: String,
    pub groups: Vec<String>,
    pub now: i64,
    /// Whether anything ships (free shipping frees nothing otherwise).
    pub ships: bool,
}

/// One promotion's share of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineAdjustment {
    pub promotion_id: String,
    pub name: String,
    pub amount: i64,
}

/// A promotion that applied, and how much it took off in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Applied {
    pub promotion_id: String,
    pub name: String,
    pub code: Option<String>,
    /// Off the goods.
    pub amount: i64,
    /// Off shipping (free shipping), once shipping is priced.
    pub shipping: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Discount per line, in the order given.
    pub line_discounts: Vec<i64>,
    /// Which promotions make up each line's discount.
    pub explanations: Vec<Vec<LineAdjustment>>,
    pub applied: Vec<Applied>,
    /// The promotion that makes shipping free, if one does.
    pub free_shipping: Option<String>,
}

impl Outcome {
    pub fn discount(&self) -> i64 {
        self.line_discounts.iter().sum()
    }
}

fn eligible(p: &Promotion, cx: &Context, subtotal: i64) -> bool {
    let c = &p.conditions;
    (c.channels.is_empty() || c.channels.contains(&cx.channel_id))
        && (c.groups.is_empty() || c.groups.iter().any(|g| cx.groups.contains(g)))
        && c.min_subtotal.is_none_or(|m| subtotal >= m)
        && c.currency.as_ref().is_none_or(|cur| *cur == cx.currency)
        && c.starts_at.is_none_or(|s| cx.now >= s)
        && c.ends_at.is_none_or(|e| cx.now < e)
}

/// A percentage of an amount, rounded half away from zero, never above it.
fn percent_of(amount: i64, p: Rate) -> i64 {
    p.of(amount).unwrap_or(amount).min(amount)
}

/// What one promotion takes off each line, given what the lines still cost.
fn discounts(effect: &Effect, lines: &[Line], left: &[i64], subtotal: i64) -> Vec<i64> {
    let order_wide = |total: i64| allocate(total.min(left.iter().sum()), left);
    match effect {
        Effect::OrderPercent { percent } => order_wide(percent_of(left.iter().sum(), *percent)),
        Effect::OrderAmount { amount } => order_wide(*amount),
        Effect::Tiered { tiers } => match tiers.iter().rev().find(|t| subtotal >= t.min_subtotal) {
            Some(t) => order_wide(percent_of(left.iter().sum(), t.percent)),
            None => vec![0; lines.len()],
        },
        Effect::LinePercent { percent, filter } => {
            lines.iter().zip(left).map(|(l, x)| if filter.matches(l) { percent_of(*x, *percent) } else { 0 }).collect()
        }
        Effect::UnitAmount { amount, filter } => lines
            .iter()
            .zip(left)
            .map(|(l, x)| if filter.matches(l) { amount.saturating_mul(l.quantity).min(*x) } else { 0 })
            .collect(),
        Effect::BuyXGetY { buy, get, percent, filter } => {
            // Units cheapest last; each full set of buy + get gives its
            // `get` cheapest units the discount.
            let mut units: Vec<(i64, usize)> = Vec::new();
            for (i, l) in lines.iter().enumerate().filter(|(_, l)| filter.matches(l)) {
                units.extend(std::iter::repeat_n((l.unit_price, i), l.quantity.max(0) as usize));
            }
            units.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let sets = units.len() as i64 / (buy + get);
            let discounted = (sets * get) as usize;
            let mut out = vec![0i64; lines.len()];
            for (price, i) in units.iter().rev().take(discounted) {
                out[*i] += percent_of(*price, *percent);
            }
            out.iter().zip(left).map(|(d, x)| (*d).min(*x)).collect()
        }
        Effect::FreeShipping => vec![0; lines.len()],
    }
}

/// Applies the promotions to the lines. `promotions` are those the cart may
/// use: automatic ones, and those whose coupon the customer entered.
pub fn apply(promotions: &[Promotion], lines: &[Line], cx: &Context) -> Outcome {
    let subtotal: i64 = lines.iter().map(|l| l.amount).sum();
    let mut order: Vec<&Promotion> = promotions
        .iter()
        .filter(|p| eligible(p, cx, subtotal))
        .filter(|p| cx.ships || !matches!(p.effect, Effect::FreeShipping))
        .collect();
    order.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
    // Each promotion applies once, however it was unlocked.
    order.dedup_by(|a, b| a.id == b.id);
    let mut left: Vec<i64> = lines.iter().map(|l| l.amount).collect();
    let mut out = Outcome {
        line_discounts: vec![0; lines.len()],
        explanations: vec![Vec::new(); lines.len()],
        ..Outcome::default()
    };
    for p in order {
        if p.exclusive && !out.applied.is_empty() {
            continue;
        }
        let taken = discounts(&p.effect, lines, &left, subtotal);
        let amount: i64 = taken.iter().sum();
        let frees_shipping = matches!(p.effect, Effect::FreeShipping) && out.free_shipping.is_none();
        if amount == 0 && !frees_shipping {
            continue;
        }
        for (i, d) in taken.iter().enumerate().filter(|(_, d)| **d > 0) {
            left[i] -= d;
            out.line_discounts[i] += d;
            out.explanations[i].push(LineAdjustment { promotion_id: p.id.clone(), name: p.name.clone(), amount: *d });
        }
        if frees_shipping {
            out.free_shipping = Some(p.id.clone());
        }
        out.applied.push(Applied {
            promotion_id: p.id.clone(),
            name: p.name.clone(),
            code: p.code.clone(),
            amount,
            shipping: 0,
        });
        if p.exclusive {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> Rate {
        Rate::parse_percent(s).unwrap()
    }

    fn line(sku: &str, quantity: i64, unit_price: i64) -> Line {
        Line { sku: sku.into(), product_id: format!("p-{sku}"), quantity, unit_price, amount: unit_price * quantity }
    }

    fn promo(id: &str, effect: Effect) -> Promotion {
        Promotion {
            id: id.into(),
            name: id.into(),
            effect,
            conditions: Conditions::default(),
            priority: 0,
            exclusive: false,
            code: None,
        }
    }

    fn cx() -> Context {
        Context { channel_id: "web".into(), currency: "EUR".into(), now: 100, ships: true, ..Context::default() }
    }

    #[test]
    fn an_order_percentage_is_shared_over_the_lines_exactly() {
        let lines = [line("A", 1, 1000), line("B", 2, 500), line("C", 1, 333)];
        let out = apply(&[promo("ten", Effect::OrderPercent { percent: pct("10") })], &lines, &cx());
        assert_eq!(out.discount(), 233, "10 % of 23.33 = 2.333 → 2.33");
        assert_eq!(out.line_discounts, vec![100, 100, 33]);
        assert_eq!(
            out.explanations[2],
            vec![LineAdjustment { promotion_id: "ten".into(), name: "ten".into(), amount: 33 }]
        );
    }

    #[test]
    fn stacked_promotions_compound_by_priority_and_never_go_below_zero() {
        let lines = [line("A", 1, 1000)];
        let mut first = promo("first", Effect::OrderPercent { percent: pct("50") });
        first.priority = 10;
        let second = promo("second", Effect::OrderAmount { amount: 800 });
        let out = apply(&[second, first], &lines, &cx());
        assert_eq!(out.applied.iter().map(|a| a.amount).collect::<Vec<_>>(), vec![500, 500]);
        assert_eq!(out.discount(), 1000, "capped at what the line costs");
    }

    #[test]
    fn an_exclusive_promotion_stands_alone() {
        let lines = [line("A", 1, 1000)];
        let mut vip = promo("vip", Effect::OrderPercent { percent: pct("30") });
        vip.exclusive = true;
        vip.priority = 5;
        let small = promo("small", Effect::OrderAmount { amount: 100 });
        let out = apply(&[small.clone(), vip.clone()], &lines, &cx());
        assert_eq!(out.applied.len(), 1);
        assert_eq!(out.discount(), 300);
        // Behind a stackable one that already applied, the exclusive one is skipped.
        let mut early = small;
        early.priority = 9;
        let out = apply(&[early, vip], &lines, &cx());
        assert_eq!(out.applied.iter().map(|a| a.promotion_id.as_str()).collect::<Vec<_>>(), vec!["small"]);
    }

    #[test]
    fn buy_two_get_one_free_gives_the_cheapest_units() {
        let lines = [line("A", 2, 1000), line("B", 1, 400), line("C", 1, 700)];
        let effect = Effect::BuyXGetY { buy: 2, get: 1, percent: pct("100"), filter: LineFilter::default() };
        let out = apply(&[promo("b2g1", effect)], &lines, &cx());
        // Four units make one set of three: the cheapest unit (B) is free.
        assert_eq!(out.line_discounts, vec![0, 400, 0]);
    }

    #[test]
    fn conditions_decide_eligibility() {
        let lines = [line("A", 1, 1000)];
        let mut p = promo("p", Effect::OrderAmount { amount: 100 });
        p.conditions.min_subtotal = Some(1001);
        assert!(apply(&[p.clone()], &lines, &cx()).applied.is_empty());
        p.conditions = Conditions { groups: vec!["vip".into()], ..Conditions::default() };
        assert!(apply(&[p.clone()], &lines, &cx()).applied.is_empty());
        let mut vip = cx();
        vip.groups = vec!["vip".into()];
        assert_eq!(apply(&[p.clone()], &lines, &vip).discount(), 100);
        p.conditions = Conditions { starts_at: Some(50), ends_at: Some(100), ..Conditions::default() };
        assert!(apply(&[p.clone()], &lines, &cx()).applied.is_empty(), "ends before now");
        p.conditions = Conditions { currency: Some("USD".into()), ..Conditions::default() };
        assert!(apply(&[p], &lines, &cx()).applied.is_empty());
    }

    #[test]
    fn free_shipping_and_tiers_and_line_filters() {
        let lines = [line("A", 1, 6000), line("B", 3, 1000)];
        let tiers = Effect::Tiered {
            tiers: vec![
                Tier { min_subtotal: 5000, percent: pct("5") },
                Tier { min_subtotal: 8000, percent: pct("10") },
            ],
        };
        let per_unit =
            Effect::UnitAmount { amount: 150, filter: LineFilter { skus: vec!["B".into()], product_ids: vec![] } };
        let out =
            apply(&[promo("ship", Effect::FreeShipping), promo("tier", tiers), promo("unit", per_unit)], &lines, &cx());
        assert_eq!(out.free_shipping.as_deref(), Some("ship"));
        assert!(out.applied.iter().any(|a| a.promotion_id == "ship" && a.amount == 0));
        // 9000 subtotal reaches the 10 % tier: 900 off, then 150 × 3 off B.
        assert_eq!(out.discount(), 900 + 450);
        assert_eq!(out.line_discounts[1], 300 + 450);
    }
}
