//! Inventory rules with no I/O: how a variant is sold when stock runs out,
//! what a customer is told about availability, why stock moved, when a
//! level counts as low, and which locations an order ships from.

use serde::{Deserialize, Serialize};

use super::catalog::ProductKind;

/// How a variant is sold against its stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockPolicy {
    /// Sold only while available; never oversold.
    Track,
    /// Tracked, and still sold when none is available (ships when restocked).
    Backorder,
    /// Not released yet: sold ahead, ships from `restock_at`.
    Preorder,
    /// Not counted: services, fees, donations, unlimited digital goods.
    Untracked,
}

impl StockPolicy {
    pub const ALL: [StockPolicy; 4] =
        [StockPolicy::Track, StockPolicy::Backorder, StockPolicy::Preorder, StockPolicy::Untracked];

    pub fn as_str(self) -> &'static str {
        match self {
            StockPolicy::Track => "track",
            StockPolicy::Backorder => "backorder",
            StockPolicy::Preorder => "preorder",
            StockPolicy::Untracked => "untracked",
        }
    }

    pub fn parse(s: &str) -> Option<StockPolicy> {
        StockPolicy::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The policy of a variant nobody configured: physical goods are
    /// counted once the store keeps stock somewhere; everything else is not.
    pub fn default_for(kind: ProductKind, store_keeps_stock: bool) -> StockPolicy {
        if kind == ProductKind::Physical && store_keeps_stock { StockPolicy::Track } else { StockPolicy::Untracked }
    }
}

/// What a customer is told about a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Availability {
    /// Sellable without counting.
    Available,
    /// In stock (how many is the store's business, not the public's).
    InStock,
    /// In stock, at or below the low-stock threshold ("only 3 left").
    LowStock {
        quantity: i64,
    },
    OutOfStock,
    /// None available, still sold; ships when restocked.
    Backorder {
        restock_at: Option<i64>,
    },
    Preorder {
        restock_at: Option<i64>,
    },
}

impl Availability {
    /// Whether a customer can order it now.
    pub fn sellable(self) -> bool {
        !matches!(self, Availability::OutOfStock)
    }

    pub fn code(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::InStock => "in_stock",
            Availability::LowStock { .. } => "low_stock",
            Availability::OutOfStock => "out_of_stock",
            Availability::Backorder { .. } => "backorder",
            Availability::Preorder { .. } => "preorder",
        }
    }
}

/// A variant's availability from its policy and what its active locations
/// can still sell (on hand less reserved, summed).
pub fn availability(
    policy: StockPolicy,
    available: i64,
    low_stock_at: Option<i64>,
    restock_at: Option<i64>,
) -> Availability {
    match policy {
        StockPolicy::Untracked => Availability::Available,
        StockPolicy::Preorder => Availability::Preorder { restock_at },
        _ if available > 0 && is_low(available, low_stock_at) => Availability::LowStock { quantity: available },
        _ if available > 0 => Availability::InStock,
        StockPolicy::Backorder => Availability::Backorder { restock_at },
        StockPolicy::Track => Availability::OutOfStock,
    }
}

fn is_low(available: i64, low_stock_at: Option<i64>) -> bool {
    low_stock_at.is_some_and(|t| available <= t)
}

/// Whether a change of available stock from `before` to `after` just went
/// low (so the store is told once, not on every sale below the line).
pub fn crossed_low(before: i64, after: i64, low_stock_at: Option<i64>) -> bool {
    !is_low(before, low_stock_at) && is_low(after, low_stock_at)
}

/// Why staff changed a level by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustReason {
    /// Goods arrived (outside a purchase order).
    Received,
    /// A stock count: the level is set to what was counted.
    Counted,
    Damaged,
    Lost,
    Found,
    /// A customer's return put back on the shelf.
    Returned,
    Correction,
}

impl AdjustReason {
    pub const ALL: [AdjustReason; 7] = [
        AdjustReason::Received,
        AdjustReason::Counted,
        AdjustReason::Damaged,
        AdjustReason::Lost,
        AdjustReason::Found,
        AdjustReason::Returned,
        AdjustReason::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdjustReason::Received => "received",
            AdjustReason::Counted => "counted",
            AdjustReason::Damaged => "damaged",
            AdjustReason::Lost => "lost",
            AdjustReason::Found => "found",
            AdjustReason::Returned => "returned",
            AdjustReason::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Option<AdjustReason> {
        AdjustReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The direction a change for this reason may take: losses only go
    /// down, arrivals only up (a wrong sign is a typo, not a movement).
    pub fn allows(self, delta: i64) -> bool {
        match self {
            AdjustReason::Received | AdjustReason::Found | AdjustReason::Returned => delta > 0,
            AdjustReason::Damaged | AdjustReason::Lost => delta < 0,
            AdjustReason::Counted | AdjustReason::Correction => delta != 0,
        }
    }
}

/// How an order's units are spread over locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Locations in priority order.
    Priority,
    /// Locations in the buyer's country first, then by priority.
    Nearest,
}

/// A location as allocation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub location_id: String,
    pub priority: i64,
    pub country: String,
    pub available: i64,
}

/// Takes `qty` units from `sources`, fewest locations first in the
/// strategy's order: the first location that holds them all wins; else
/// they are taken location by location. None when not enough is available.
pub fn allocate(
    sources: &[Source],
    qty: i64,
    strategy: Allocation,
    ship_to: Option<&str>,
) -> Option<Vec<(String, i64)>> {
    let mut order: Vec<&Source> = sources.iter().filter(|s| s.available > 0).collect();
    order.sort_by_key(|s| {
        let away = match (strategy, ship_to) {
            (Allocation::Nearest, Some(c)) => i64::from(!s.country.eq_ignore_ascii_case(c)),
            _ => 0,
        };
        (away, s.priority, s.location_id.clone())
    });
    if let Some(one) = order.iter().find(|s| s.available >= qty) {
        return Some(vec![(one.location_id.clone(), qty)]);
    }
    let mut left = qty;
    let mut taken = Vec::new();
    for s in order {
        let n = s.available.min(left);
        taken.push((s.location_id.clone(), n));
        left -= n;
        if left == 0 {
            return Some(taken);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(id: &str, priority: i64, country: &str, available: i64) -> Source {
        Source { location_id: id.into(), priority, country: country.into(), available }
    }

    #[test]
    fn availability_follows_the_policy() {
        assert_eq!(availability(StockPolicy::Track, 5, None, None), Availability::InStock);
        assert_eq!(availability(StockPolicy::Track, 3, Some(3), None), Availability::LowStock { quantity: 3 });
        assert_eq!(availability(StockPolicy::Track, 0, Some(3), None), Availability::OutOfStock);
        assert_eq!(
            availability(StockPolicy::Backorder, 0, None, Some(9)),
            Availability::Backorder { restock_at: Some(9) }
        );
        assert_eq!(availability(StockPolicy::Backorder, 2, None, None), Availability::InStock);
        assert_eq!(availability(StockPolicy::Preorder, 50, None, None), Availability::Preorder { restock_at: None });
        assert_eq!(availability(StockPolicy::Untracked, 0, None, None), Availability::Available);
        assert!(!Availability::OutOfStock.sellable());
        assert!(Availability::Backorder { restock_at: None }.sellable());
    }

    #[test]
    fn physical_goods_are_counted_once_the_store_keeps_stock() {
        assert_eq!(StockPolicy::default_for(ProductKind::Physical, true), StockPolicy::Track);
        assert_eq!(StockPolicy::default_for(ProductKind::Physical, false), StockPolicy::Untracked);
        assert_eq!(StockPolicy::default_for(ProductKind::Service, true), StockPolicy::Untracked);
    }

    #[test]
    fn low_stock_is_announced_once_on_the_way_down() {
        assert!(crossed_low(6, 5, Some(5)));
        assert!(!crossed_low(5, 4, Some(5)));
        assert!(!crossed_low(4, 9, Some(5)));
        assert!(!crossed_low(9, 0, None));
    }

    #[test]
    fn reasons_have_a_direction() {
        assert!(AdjustReason::Received.allows(3) && !AdjustReason::Received.allows(-3));
        assert!(AdjustReason::Damaged.allows(-1) && !AdjustReason::Damaged.allows(1));
        assert!(AdjustReason::Counted.allows(-2) && AdjustReason::Counted.allows(2));
        assert!(!AdjustReason::Correction.allows(0));
    }

    #[test]
    fn one_location_that_holds_everything_wins() {
        let s = [src("a", 1, "DE", 2), src("b", 2, "US", 10)];
        assert_eq!(allocate(&s, 5, Allocation::Priority, None), Some(vec![("b".into(), 5)]));
        assert_eq!(allocate(&s, 2, Allocation::Priority, None), Some(vec![("a".into(), 2)]));
    }

    #[test]
    fn nearest_prefers_the_buyers_country() {
        let s = [src("de", 2, "DE", 10), src("us", 1, "US", 10)];
        assert_eq!(allocate(&s, 3, Allocation::Nearest, Some("de")), Some(vec![("de".into(), 3)]));
        assert_eq!(allocate(&s, 3, Allocation::Nearest, Some("FR")), Some(vec![("us".into(), 3)]));
        assert_eq!(allocate(&s, 3, Allocation::Priority, Some("DE")), Some(vec![("us".into(), 3)]));
    }

    #[test]
    fn splits_when_no_location_holds_enough_and_refuses_beyond_stock() {
        let s = [src("a", 1, "DE", 2), src("b", 2, "DE", 3), src("c", 3, "DE", 0)];
        assert_eq!(allocate(&s, 4, Allocation::Priority, None), Some(vec![("a".into(), 2), ("b".into(), 2)]));
        assert_eq!(allocate(&s, 6, Allocation::Priority, None), None);
    }
}
