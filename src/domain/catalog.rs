//! Catalog rules: the kinds of thing a store sells, when a product is
//! visible, barcode and SKU formats, slugs, translation fallback, and which
//! price applies to a quantity at a moment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::locale::Language;

/// What is sold. Later capabilities add behaviour per kind (shipping,
/// download links, recurring billing, donation receipts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// Shipped goods.
    Physical,
    /// A file or licence key delivered over the network.
    Digital,
    /// Work done for the customer; nothing shipped.
    Service,
    /// Any amount the donor chooses, with suggested amounts.
    Donation,
    /// Recurring membership or subscription.
    Membership,
    /// A bill, application or other fee.
    Fee,
}

impl ProductKind {
    pub const ALL: [ProductKind; 6] = [
        ProductKind::Physical,
        ProductKind::Digital,
        ProductKind::Service,
        ProductKind::Donation,
        ProductKind::Membership,
        ProductKind::Fee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::Physical => "physical",
            ProductKind::Digital => "digital",
            ProductKind::Service => "service",
            ProductKind::Donation => "donation",
            ProductKind::Membership => "membership",
            ProductKind::Fee => "fee",
        }
    }

    pub fn parse(s: &str) -> Option<ProductKind> {
        ProductKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn needs_shipping(self) -> bool {
        self == ProductKind::Physical
    }

    pub fn is_recurring(self) -> bool {
        self == ProductKind::Membership
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublishStatus {
    Draft,
    Published,
    Archived,
}

impl PublishStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PublishStatus::Draft => "draft",
            PublishStatus::Published => "published",
            PublishStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<PublishStatus> {
        [PublishStatus::Draft, PublishStatus::Published, PublishStatus::Archived].into_iter().find(|k| k.as_str() == s)
    }
}

/// Whether customers see a product now: published (or scheduled to be and
/// the time has come) and not past its unpublish time.
pub fn is_visible(status: PublishStatus, publish_at: Option<i64>, unpublish_at: Option<i64>, now: i64) -> bool {
    let started = match status {
        PublishStatus::Published => publish_at.is_none_or(|t| t <= now),
        PublishStatus::Draft => publish_at.is_some_and(|t| t <= now),
        PublishStatus::Archived => false,
    };
    started && unpublish_at.is_none_or(|t| now < t)
}

/// GTIN check (EAN-8, UPC-A, EAN-13, GTIN-14): digits only, right length,
/// and the mod-10 check digit matches.
pub fn is_valid_gtin(code: &str) -> bool {
    if ![8, 12, 13, 14].contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    (10 - sum % 10) % 10 == check[0]
}

/// SKUs: 1 to 64 of letters, digits, `-`, `_`, `.`, `/`.
pub fn is_valid_sku(sku: &str) -> bool {
    (1..=64).contains(&sku.len()) && sku.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

/// A URL slug from a name: lower-case letters and digits of any script,
/// words joined by `-` (Chinese names keep their characters).
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(120).collect()
}

pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.chars().count() <= 120 && slugify(slug) == slug
}

/// Picks the text in `wanted`, else in the store's default language, else
/// any; returns the language actually used.
pub fn pick_translation<T>(
    texts: &BTreeMap<Language, T>,
    wanted: Language,
    default: Language,
) -> Option<(Language, &T)> {
    texts
        .get(&wanted)
        .map(|t| (wanted, t))
        .or_else(|| texts.get(&default).map(|t| (default, t)))
        .or_else(|| texts.iter().next().map(|(l, t)| (*l, t)))
}

/// One row of a price list for a variant: from `min_qty` units on, `amount`
/// each (minor units), or `sale_amount` while the sale runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PriceTier {
    pub min_qty: i64,
    pub amount: i64,
    pub sale_amount: Option<i64>,
    pub sale_starts_at: Option<i64>,
    pub sale_ends_at: Option<i64>,
}

impl PriceTier {
    fn sale_active(&self, now: i64) -> bool {
        self.sale_amount.is_some()
            && self.sale_starts_at.is_none_or(|t| t <= now)
            && self.sale_ends_at.is_none_or(|t| now < t)
    }

    /// The unit price this tier charges at `now`.
    pub fn unit_amount(&self, now: i64) -> i64 {
        match self.sale_amount {
            Some(sale) if self.sale_active(now) => sale,
            _ => self.amount,
        }
    }
}

/// The tier that applies to `qty`: the one with the largest `min_qty` not
/// above it. `None` if the quantity is below every tier.
pub fn tier_for(tiers: &[PriceTier], qty: i64) -> Option<&PriceTier> {
    tiers.iter().filter(|t| t.min_qty <= qty).max_by_key(|t| t.min_qty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtins() {
        assert!(is_valid_gtin("4006381333931"), "EAN-13");
        assert!(is_valid_gtin("73513537"), "EAN-8");
        assert!(is_valid_gtin("036000291452"), "UPC-A");
        assert!(!is_valid_gtin("4006381333932"), "wrong check digit");
        assert!(!is_valid_gtin("40063813339"), "wrong length");
        assert!(!is_valid_gtin("400638133393a"));
    }

    #[test]
    fn visibility_follows_status_and_schedule() {
        use PublishStatus::*;
        assert!(is_visible(Published, None, None, 10));
        assert!(!is_visible(Published, Some(20), None, 10), "scheduled later");
        assert!(is_visible(Draft, Some(5), None, 10), "scheduled publish has come");
        assert!(!is_visible(Draft, None, None, 10));
        assert!(!is_visible(Published, None, Some(10), 10), "unpublished at 10");
        assert!(!is_visible(Archived, None, None, 10));
    }

    #[test]
    fn slugs_keep_every_script() {
        assert_eq!(slugify("  Trail Runner 2 — Blue! "), "trail-runner-2-blue");
        assert_eq!(slugify("智能手机 壳"), "智能手机-壳");
        assert_eq!(slugify("Wanderschuhe für Damen"), "wanderschuhe-für-damen");
        assert!(is_valid_slug("trail-runner"));
        assert!(!is_valid_slug("Trail Runner"));
    }

    #[test]
    fn translation_falls_back_to_default_then_any() {
        let mut t = BTreeMap::new();
        t.insert(Language::De, "Schuh");
        t.insert(Language::En, "Shoe");
        assert_eq!(pick_translation(&t, Language::De, Language::En), Some((Language::De, &"Schuh")));
        assert_eq!(pick_translation(&t, Language::Zh, Language::En), Some((Language::En, &"Shoe")));
        t.remove(&Language::En);
        assert_eq!(pick_translation(&t, Language::Zh, Language::En), Some((Language::De, &"Schuh")));
    }

    #[test]
    fn tiers_and_sales() {
        let tiers = vec![
            PriceTier {
                min_qty: 1,
                amount: 1000,
                sale_amount: Some(800),
                sale_starts_at: Some(100),
                sale_ends_at: Some(200),
            },
            PriceTier { min_qty: 10, amount: 900, sale_amount: None, sale_starts_at: None, sale_ends_at: None },
        ];
        assert_eq!(tier_for(&tiers, 3).unwrap().unit_amount(50), 1000);
        assert_eq!(tier_for(&tiers, 3).unwrap().unit_amount(150), 800, "sale running");
        assert_eq!(tier_for(&tiers, 3).unwrap().unit_amount(200), 1000, "sale over");
        assert_eq!(tier_for(&tiers, 12).unwrap().unit_amount(150), 900);
        assert!(tier_for(&tiers, 0).is_none());
    }
}

/// Whether making `parent` the parent of `node` would close a loop, given
/// each category's current parent.
pub fn would_cycle(parents: &std::collections::HashMap<String, Option<String>>, node: &str, parent: &str) -> bool {
    let mut cursor = Some(parent.to_string());
    let mut steps = 0;
    while let Some(c) = cursor {
        if c == node || steps > parents.len() {
            return true;
        }
        cursor = parents.get(&c).cloned().flatten();
        steps += 1;
    }
    false
}

/// `root` and every category below it.
pub fn subtree(parents: &std::collections::HashMap<String, Option<String>>, root: &str) -> Vec<String> {
    let mut out = vec![root.to_string()];
    let mut i = 0;
    while i < out.len() {
        let current = out[i].clone();
        out.extend(parents.iter().filter(|(_, p)| p.as_deref() == Some(current.as_str())).map(|(id, _)| id.clone()));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tree_tests {
    use std::collections::HashMap;

    use super::*;

    fn tree() -> HashMap<String, Option<String>> {
        // shoes > trail > racing; jackets
        [("shoes", None), ("trail", Some("shoes")), ("racing", Some("trail")), ("jackets", None)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn cycles_are_detected() {
        let t = tree();
        assert!(would_cycle(&t, "shoes", "racing"));
        assert!(would_cycle(&t, "trail", "trail"));
        assert!(!would_cycle(&t, "jackets", "racing"));
    }

    #[test]
    fn subtrees_include_descendants() {
        let mut s = subtree(&tree(), "shoes");
        s.sort();
        assert_eq!(s, ["racing", "shoes", "trail"]);
        assert_eq!(subtree(&tree(), "jackets"), ["jackets"]);
    }
}
