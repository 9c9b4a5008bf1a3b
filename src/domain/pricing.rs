//! Which price a customer pays: the channel's own price (or its running
//! sale) unless a price list that applies to them is lower. Lists apply by
//! channel, optional customer group and optional time window; among all
//! that apply the lowest unit price for the quantity wins, so adding a
//! customer to a group can only lower what they pay (the rule Medusa and
//! Shopify B2B follow too), and list order never matters.

use serde::Serialize;

use super::catalog::{PriceTier, tier_for};

/// A price list's window and audience, as far as the rule needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListScope {
    pub channel_id: String,
    /// `None`: everyone in the channel.
    pub group_id: Option<String>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
}

impl ListScope {
    /// Whether the list applies to a customer in `groups` buying in
    /// `channel_id` at `now` (start inclusive, end exclusive).
    pub fn applies(&self, channel_id: &str, groups: &[String], now: i64) -> bool {
        self.channel_id == channel_id
            && self.group_id.as_ref().is_none_or(|g| groups.contains(g))
            && self.starts_at.is_none_or(|t| t <= now)
            && self.ends_at.is_none_or(|t| now < t)
    }
}

/// One volume tier of a price list: from `min_qty` units on, `amount` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ListTier {
    pub min_qty: i64,
    pub amount: i64,
}

/// Where a resolved price came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceSource {
    Regular,
    Sale,
    PriceList { code: String },
}

/// A unit price for a quantity, with the regular price it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub unit: i64,
    /// The channel's own price for this quantity without sale, when one exists.
    pub regular: Option<i64>,
    pub source: PriceSource,
}

/// The price for `qty` units given the channel's tiers and the tiers of every
/// list that applies (by list code). `None` when nothing prices this
/// quantity (the variant is not for sale to this customer here).
/// Ties go to the channel's price, then to the first list code.
pub fn resolve(base: &[PriceTier], lists: &[(&str, &[ListTier])], qty: i64, now: i64) -> Option<Resolved> {
    let regular_tier = tier_for(base, qty);
    let mut best = regular_tier.map(|t| {
        let unit = t.unit_amount(now);
        let source = if unit != t.amount { PriceSource::Sale } else { PriceSource::Regular };
        (unit, source)
    });
    let mut by_code: Vec<&(&str, &[ListTier])> = lists.iter().collect();
    by_code.sort_by_key(|(code, _)| *code);
    for (code, tiers) in by_code {
        let Some(t) = tiers.iter().filter(|t| t.min_qty <= qty).max_by_key(|t| t.min_qty) else { continue };
        if best.as_ref().is_none_or(|(unit, _)| t.amount < *unit) {
            best = Some((t.amount, PriceSource::PriceList { code: (*code).to_string() }));
        }
    }
    best.map(|(unit, source)| Resolved { unit, regular: regular_tier.map(|t| t.amount), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(min_qty: i64, amount: i64) -> PriceTier {
        PriceTier { min_qty, amount, sale_amount: None, sale_starts_at: None, sale_ends_at: None }
    }

    #[test]
    fn scope_checks_channel_group_and_window() {
        let s =
            ListScope { channel_id: "web".into(), group_id: Some("g1".into()), starts_at: Some(10), ends_at: Some(20) };
        let g = vec!["g1".to_string()];
        assert!(s.applies("web", &g, 10), "start is inclusive");
        assert!(!s.applies("web", &g, 20), "end is exclusive");
        assert!(!s.applies("b2b", &g, 15), "other channel");
        assert!(!s.applies("web", &[], 15), "not in the group");
        let everyone = ListScope { group_id: None, starts_at: None, ends_at: None, ..s };
        assert!(everyone.applies("web", &[], 0));
    }

    #[test]
    fn lowest_applicable_price_wins_per_quantity() {
        let base = [tier(1, 1000), tier(10, 900)];
        let wholesale = [ListTier { min_qty: 1, amount: 950 }, ListTier { min_qty: 50, amount: 700 }];
        let lists = [("wholesale", &wholesale[..])];
        let one = resolve(&base, &lists, 1, 0).unwrap();
        assert_eq!((one.unit, one.regular), (950, Some(1000)));
        assert_eq!(one.source, PriceSource::PriceList { code: "wholesale".into() });
        // At 10 the channel's volume tier (900) beats the list's 950.
        let ten = resolve(&base, &lists, 10, 0).unwrap();
        assert_eq!((ten.unit, ten.source), (900, PriceSource::Regular));
        assert_eq!(resolve(&base, &lists, 60, 0).unwrap().unit, 700);
    }

    #[test]
    fn sale_counts_and_ties_keep_the_channel_price() {
        let mut t = tier(1, 1000);
        t.sale_amount = Some(800);
        let list = [ListTier { min_qty: 1, amount: 800 }];
        let r = resolve(&[t], &[("vip", &list[..])], 1, 0).unwrap();
        assert_eq!((r.unit, r.source, r.regular), (800, PriceSource::Sale, Some(1000)));
    }

    #[test]
    fn list_only_variants_and_unpriced_quantities() {
        let list = [ListTier { min_qty: 5, amount: 300 }];
        assert_eq!(resolve(&[], &[("b2b", &list[..])], 4, 0), None, "below the list's first tier");
        let r = resolve(&[], &[("b2b", &list[..])], 5, 0).unwrap();
        assert_eq!((r.unit, r.regular), (300, None));
        assert_eq!(resolve(&[], &[], 1, 0), None);
    }

    #[test]
    fn list_order_does_not_matter() {
        let a = [ListTier { min_qty: 1, amount: 500 }];
        let b = [ListTier { min_qty: 1, amount: 500 }];
        let x = resolve(&[], &[("b", &b[..]), ("a", &a[..])], 1, 0).unwrap();
        let y = resolve(&[], &[("a", &a[..]), ("b", &b[..])], 1, 0).unwrap();
        assert_eq!(x, y);
        assert_eq!(x.source, PriceSource::PriceList { code: "a".into() });
    }
}
