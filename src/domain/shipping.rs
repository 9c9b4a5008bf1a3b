//! Shipping rules with no I/O: which zone an address falls in, and what a
//! method charges for a parcel (flat, by weight or by order value, free
//! above a threshold). Digital goods, services and fees need no shipping;
//! callers leave them out of the parcel.

use serde::{Deserialize, Serialize};

/// Where a zone applies: countries (`DE`) or regions of a country
/// (`US-CA`), optionally narrowed to postcode prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ZoneArea {
    /// ISO 3166-1 alpha-2 codes, or ISO 3166-2 region codes such as `US-CA`.
    pub regions: Vec<String>,
    /// Postcode prefixes (e.g. `80`, `1010`); empty covers every postcode.
    #[serde(default)]
    pub postcodes: Vec<String>,
}

impl ZoneArea {
    /// Whether an address (country, region as given, postcode) is inside.
    pub fn covers(&self, country: &str, region: &str, postcode: &str) -> bool {
        let region_code = format!("{country}-{}", region.trim().to_uppercase());
        let in_region = self.regions.iter().any(|r| r == country || *r == region_code);
        let compact: String = postcode.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        in_region && (self.postcodes.is_empty() || self.postcodes.iter().any(|p| compact.starts_with(p.as_str())))
    }
}

/// One step of a rate table: up to (and including) `up_to` grams or
/// minor units, the method costs `amount`. The last step may leave
/// `up_to` out to cover everything above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bracket {
    #[serde(default)]
    pub up_to: Option<i64>,
    pub amount: i64,
}

/// How a method's price is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RateTable {
    /// One price per parcel.
    Flat { amount: i64 },
    /// By the parcel's weight in grams.
    ByWeight { brackets: Vec<Bracket> },
    /// By the value of the goods after discounts, in minor units.
    ByValue { brackets: Vec<Bracket> },
}

impl RateTable {
    /// The price for a parcel, or None when no bracket covers it (too
    /// heavy for this method).
    pub fn price(&self, weight_grams: i64, goods_value: i64) -> Option<i64> {
        let pick =
            |brackets: &[Bracket], x: i64| brackets.iter().find(|b| b.up_to.is_none_or(|u| x <= u)).map(|b| b.amount);
        match self {
            RateTable::Flat { amount } => Some(*amount),
            RateTable::ByWeight { brackets } => pick(brackets, weight_grams),
            RateTable::ByValue { brackets } => pick(brackets, goods_value),
        }
    }

    /// Why a table is unusable, if it is: negative amounts, or brackets
    /// not rising, or an open bracket before the last.
    pub fn problem(&self) -> Option<&'static str> {
        let brackets = match self {
            RateTable::Flat { amount } => return (*amount < 0).then_some("amounts cannot be negative"),
            RateTable::ByWeight { brackets } | RateTable::ByValue { brackets } => brackets,
        };
        if brackets.is_empty() {
            return Some("a table needs at least one bracket");
        }
        if brackets.iter().any(|b| b.amount < 0 || b.up_to.is_some_and(|u| u < 0)) {
            return Some("amounts and limits cannot be negative");
        }
        let limits: Vec<Option<i64>> = brackets.iter().map(|b| b.up_to).collect();
        if limits[..limits.len() - 1].iter().any(Option::is_none) {
            return Some("only the last bracket may be open-ended");
        }
        let closed: Vec<i64> = limits.iter().flatten().copied().collect();
        if closed.windows(2).any(|w| w[0] >= w[1]) {
            return Some("brackets must rise");
        }
        None
    }
}

/// What a method charges: the table's price, or nothing once the goods
/// reach `free_over`.
pub fn charge(table: &RateTable, free_over: Option<i64>, weight_grams: i64, goods_value: i64) -> Option<i64> {
    if free_over.is_some_and(|f| goods_value >= f) {
        return Some(0);
    }
    table.price(weight_grams, goods_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_match_countries_regions_and_postcodes() {
        let de = ZoneArea { regions: vec!["DE".into(), "AT".into()], postcodes: vec![] };
        assert!(de.covers("DE", "", "10115"));
        assert!(!de.covers("FR", "", "75001"));
        let ca = ZoneArea { regions: vec!["US-CA".into()], postcodes: vec![] };
        assert!(ca.covers("US", "ca", "94103"));
        assert!(!ca.covers("US", "NY", "10001"));
        let munich = ZoneArea { regions: vec!["DE".into()], postcodes: vec!["80".into(), "81".into()] };
        assert!(munich.covers("DE", "", "80331"));
        assert!(!munich.covers("DE", "", "10115"));
    }

    #[test]
    fn tables_price_by_weight_and_value() {
        let w = RateTable::ByWeight {
            brackets: vec![Bracket { up_to: Some(1000), amount: 490 }, Bracket { up_to: Some(5000), amount: 990 }],
        };
        assert_eq!(w.price(0, 0), Some(490));
        assert_eq!(w.price(1000, 0), Some(490), "limits are inclusive");
        assert_eq!(w.price(1001, 0), Some(990));
        assert_eq!(w.price(5001, 0), None, "too heavy for this method");
        let v = RateTable::ByValue {
            brackets: vec![Bracket { up_to: Some(4999), amount: 590 }, Bracket { up_to: None, amount: 290 }],
        };
        assert_eq!(v.price(0, 100_000), Some(290));
        assert_eq!(charge(&RateTable::Flat { amount: 490 }, Some(5000), 0, 5000), Some(0), "free from 50.00");
        assert_eq!(charge(&RateTable::Flat { amount: 490 }, Some(5000), 0, 4999), Some(490));
    }

    #[test]
    fn broken_tables_are_named() {
        let b = |up_to, amount| Bracket { up_to, amount };
        assert!(RateTable::ByWeight { brackets: vec![] }.problem().is_some());
        assert!(RateTable::ByWeight { brackets: vec![b(None, 1), b(Some(5), 2)] }.problem().is_some());
        assert!(RateTable::ByWeight { brackets: vec![b(Some(5), 1), b(Some(5), 2)] }.problem().is_some());
        assert!(RateTable::Flat { amount: -1 }.problem().is_some());
        assert_eq!(RateTable::ByValue { brackets: vec![b(Some(5), 1), b(None, 0)] }.problem(), None);
    }
}
