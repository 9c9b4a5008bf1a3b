//! A priced document with no I/O: lines, then promotions, then shipping
//! (priced on the discounted goods), then tax on what is left, then the
//! totals. Cart views and checkout both price through here, so what a
//! customer sees is what the order records.
//!
//! The invariant, for any input: total = subtotal − discount + shipping
//! (+ tax when prices exclude it), the discount is the sum of the lines'
//! discounts, and the tax is the sum of the lines' and shipping's taxes and
//! of the per-rate totals.

use super::orders::Totals;
use super::promotions::{self, Applied, Context, LineAdjustment, Promotion};
use super::tax::{self, Rate, RateTotal, Rounding, Taxable};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteLine {
    pub line: promotions::Line,
    pub tax_rate: Rate,
    pub tax_label: String,
}

/// What a shipping method charges, with the tax it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingPrice {
    pub amount: i64,
    pub tax_rate: Rate,
    pub tax_label: String,
}

#[derive(Clone)]
pub struct QuoteInput<'a> {
    pub lines: Vec<QuoteLine>,
    pub promotions: &'a [Promotion],
    pub context: Context,
    pub prices_include_tax: bool,
    pub rounding: Rounding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub line_discounts: Vec<i64>,
    pub line_taxes: Vec<i64>,
    pub explanations: Vec<Vec<LineAdjustment>>,
    pub applied: Vec<Applied>,
    /// Shipping before a free-shipping promotion; what is charged is in `totals`.
    pub shipping_list_price: i64,
    pub shipping_tax: i64,
    pub taxes: Vec<RateTotal>,
    pub totals: Totals,
}

/// Prices a document. `shipping` prices the parcel from the discounted
/// goods value (None: nothing ships, or no method is chosen). None when
/// an amount overflows.
pub fn price(input: QuoteInput<'_>, shipping: &dyn Fn(i64) -> Option<ShippingPrice>) -> Option<Quote> {
    let plain: Vec<promotions::Line> = input.lines.iter().map(|l| l.line.clone()).collect();
    let outcome = promotions::apply(input.promotions, &plain, &input.context);
    let discounted: Vec<i64> =
        plain.iter().zip(&outcome.line_discounts).map(|(l, d)| l.amount.checked_sub(*d)).collect::<Option<_>>()?;
    let goods_after = discounted.iter().try_fold(0i64, |a, x| a.checked_add(*x))?;
    let ship = shipping(goods_after);
    let list_price = ship.as_ref().map_or(0, |s| s.amount);
    let charged = if outcome.free_shipping.is_some() { 0 } else { list_price };
    let mut applied = outcome.applied.clone();
    for a in applied.iter_mut().filter(|a| outcome.free_shipping.as_ref() == Some(&a.promotion_id)) {
        a.shipping = list_price;
    }
    // Free shipping with nothing to ship took nothing off.
    applied.retain(|a| a.amount > 0 || a.shipping > 0);

    let mut items: Vec<Taxable> = input
        .lines
        .iter()
        .zip(&discounted)
        .map(|(l, amount)| Taxable { amount: *amount, rate: l.tax_rate, label: l.tax_label.clone() })
        .collect();
    if let Some(s) = &ship {
        items.push(Taxable { amount: charged, rate: s.tax_rate, label: s.tax_label.clone() });
    }
    let taxed = tax::compute(&items, input.prices_include_tax, input.rounding)?;
    let mut line_taxes = taxed.per_item.clone();
    let shipping_tax = if ship.is_some() { line_taxes.pop().unwrap_or(0) } else { 0 };
    let line_totals: Vec<i64> = plain.iter().map(|l| l.amount).collect();
    let totals = Totals::compute(&line_totals, charged, outcome.discount(), taxed.total(), input.prices_include_tax)?;
    Some(Quote {
        line_discounts: outcome.line_discounts,
        line_taxes,
        explanations: outcome.explanations,
        applied,
        shipping_list_price: list_price,
        shipping_tax,
        taxes: taxed.by_rate.into_iter().filter(|r| r.net != 0 || r.tax != 0).collect(),
        totals,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::promotions::{Conditions, Effect, LineFilter, Tier};

    fn pct(s: &str) -> Rate {
        Rate::parse_percent(s).unwrap()
    }

    fn qline(sku: &str, quantity: i64, unit: i64, rate: &str) -> QuoteLine {
        QuoteLine {
            line: promotions::Line {
                sku: sku.into(),
                product_id: sku.into(),
                quantity,
                unit_price: unit,
                amount: unit * quantity,
            },
            tax_rate: pct(rate),
            tax_label: format!("VAT {rate}%"),
        }
    }

    fn flat(amount: i64, rate: &str) -> impl Fn(i64) -> Option<ShippingPrice> {
        let rate = pct(rate);
        move |_| Some(ShippingPrice { amount, tax_rate: rate, tax_label: "VAT".into() })
    }

    fn input(lines: Vec<QuoteLine>, promotions: &[Promotion], inclusive: bool) -> QuoteInput<'_> {
        QuoteInput {
            lines,
            promotions,
            context: Context { channel_id: "web".into(), currency: "EUR".into(), ships: true, ..Context::default() },
            prices_include_tax: inclusive,
            rounding: Rounding::Line,
        }
    }

    #[test]
    fn eu_vat_inclusive_example() {
        // A shirt at 19.99 (19 %) ×2, a book at 12.00 (7 %), shipping 4.90 (19 %).
        let lines = vec![qline("SHIRT", 2, 1999, "19"), qline("BOOK", 1, 1200, "7")];
        let q = price(input(lines, &[], true), &flat(490, "19")).unwrap();
        assert_eq!(q.totals.subtotal, 5198);
        assert_eq!(q.totals.total, 5688, "tax is inside the prices");
        // 39.98 × 19/119 = 6.383 → 6.38; 12.00 × 7/107 = 0.785 → 0.79; 4.90 × 19/119 = 0.782 → 0.78.
        assert_eq!(q.line_taxes, vec![638, 79]);
        assert_eq!(q.shipping_tax, 78);
        assert_eq!(q.totals.tax, 795);
    }

    #[test]
    fn us_sales_tax_exclusive_example() {
        // Two items at 10.00 and 5.50 with 8.875 % added, no shipping.
        let lines = vec![qline("A", 1, 1000, "8.875"), qline("B", 1, 550, "8.875")];
        let q = price(input(lines.clone(), &[], false), &|_| None).unwrap();
        // Per line: 0.8875 → 0.89 and 0.4881 → 0.49.
        assert_eq!((q.totals.tax, q.totals.total), (138, 1688));
        let mut doc = input(lines, &[], false);
        doc.rounding = Rounding::Document;
        let q = price(doc, &|_| None).unwrap();
        // Per document: 15.50 × 8.875 % = 1.3756 → 1.38.
        assert_eq!((q.totals.tax, q.totals.total), (138, 1688));
    }

    #[test]
    fn discounts_lower_the_taxable_amount_and_free_shipping_is_explained() {
        let promos = [
            Promotion {
                id: "ten".into(),
                name: "10 % off".into(),
                effect: Effect::OrderPercent { percent: pct("10") },
                conditions: Conditions::default(),
                priority: 0,
                exclusive: false,
                code: Some("WELCOME10".into()),
            },
            Promotion {
                id: "ship".into(),
                name: "Free shipping".into(),
                effect: Effect::FreeShipping,
                conditions: Conditions { min_subtotal: Some(5000), ..Conditions::default() },
                priority: 0,
                exclusive: false,
                code: None,
            },
        ];
        let lines = vec![qline("A", 1, 10000, "19")];
        let q = price(input(lines, &promos, true), &flat(490, "19")).unwrap();
        assert_eq!(q.totals.discount, 1000);
        assert_eq!(q.totals.shipping, 0);
        assert_eq!(q.shipping_list_price, 490);
        assert_eq!(q.applied.iter().find(|a| a.promotion_id == "ship").map(|a| a.shipping), Some(490));
        // 90.00 × 19/119 = 14.37.
        assert_eq!(q.totals.tax, 1437);
        assert_eq!(q.totals.total, 9000);
    }

    fn arb_effect() -> impl Strategy<Value = Effect> {
        let rate = (0u32..=1_000_000).prop_map(|m| Rate::from_millionths(m).unwrap());
        prop_oneof![
            rate.clone().prop_map(|percent| Effect::OrderPercent { percent }),
            (1i64..50_000).prop_map(|amount| Effect::OrderAmount { amount }),
            rate.clone().prop_map(|percent| Effect::LinePercent { percent, filter: LineFilter::default() }),
            (1i64..5_000).prop_map(|amount| Effect::UnitAmount { amount, filter: LineFilter::default() }),
            (1i64..4, 1i64..3, rate.clone()).prop_map(|(buy, get, percent)| Effect::BuyXGetY {
                buy,
                get,
                percent,
                filter: LineFilter::default()
            }),
            Just(Effect::FreeShipping),
            (0i64..20_000, rate)
                .prop_map(|(m, percent)| Effect::Tiered { tiers: vec![Tier { min_subtotal: m, percent }] }),
        ]
    }

    proptest! {
        #[test]
        fn totals_always_add_up(
            raw in prop::collection::vec((1i64..20, 0i64..100_000, 0usize..4), 1..8),
            effects in prop::collection::vec((arb_effect(), -3i64..3, any::<bool>()), 0..4),
            ship in prop::option::of(0i64..3_000),
            inclusive in any::<bool>(),
            document in any::<bool>(),
        ) {
            let rates = ["19", "7", "0", "8.875"];
            let lines: Vec<QuoteLine> = raw
                .iter()
                .enumerate()
                .map(|(i, (q, unit, r))| qline(&format!("S{i}"), *q, *unit, rates[*r]))
                .collect();
            let promos: Vec<Promotion> = effects
                .into_iter()
                .enumerate()
                .map(|(i, (effect, priority, exclusive))| Promotion {
                    id: format!("p{i}"),
                    name: format!("p{i}"),
                    effect,
                    conditions: Conditions::default(),
                    priority,
                    exclusive,
                    code: None,
                })
                .collect();
            let mut inp = input(lines.clone(), &promos, inclusive);
            inp.rounding = if document { Rounding::Document } else { Rounding::Line };
            let shipping = move |_| ship.map(|amount| ShippingPrice { amount, tax_rate: pct("19"), tax_label: "VAT 19%".into() });
            let q = price(inp, &shipping).unwrap();
            let t = q.totals;
            let sum_lines: i64 = lines.iter().map(|l| l.line.amount).sum();
            prop_assert_eq!(t.subtotal, sum_lines);
            prop_assert_eq!(t.discount, q.line_discounts.iter().sum::<i64>());
            prop_assert_eq!(t.tax, q.line_taxes.iter().sum::<i64>() + q.shipping_tax);
            prop_assert_eq!(t.tax, q.taxes.iter().map(|r| r.tax).sum::<i64>());
            let expected = sum_lines + t.shipping - t.discount + if inclusive { 0 } else { t.tax };
            prop_assert_eq!(t.total, expected);
            for ((l, d), tax) in lines.iter().zip(&q.line_discounts).zip(&q.line_taxes) {
                prop_assert!(*d >= 0 && *d <= l.line.amount, "line discount within the line");
                prop_assert!(*tax >= 0);
                if inclusive {
                    prop_assert!(*tax <= l.line.amount - d, "tax inside what is paid");
                }
            }
            let explained: i64 = q.explanations.iter().flatten().map(|e| e.amount).sum();
            prop_assert_eq!(explained, t.discount, "every cent of discount is explained");
            prop_assert!(t.shipping == 0 || t.shipping == ship.unwrap_or(0));
        }
    }
}
