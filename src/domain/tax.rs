//! Tax rules with no I/O: rates as exact decimals, tax on prices that
//! include it (EU VAT) or exclude it (US sales tax), rounding per line or
//! per document, and the format check of EU VAT ids for reverse charge.
//!
//! Rounding is half away from zero, to the currency's minor unit, at the
//! step the store's rule names: per line (each line's tax rounded, then
//! summed) or per document (each rate's base summed, taxed and rounded
//! once, then shared back onto the lines so they still add up).

use serde::{Deserialize, Serialize};

/// A tax rate in millionths (19 % = 190 000). Parsed from a percentage
/// with up to four decimals ("19", "7.25", "8.875"); never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(u32);

const MILLION: i128 = 1_000_000;

impl Rate {
    pub const ZERO: Rate = Rate(0);

    pub fn from_millionths(m: u32) -> Option<Rate> {
        (i128::from(m) <= MILLION).then_some(Rate(m))
    }

    pub fn millionths(self) -> u32 {
        self.0
    }

    /// Parses a percentage from 0 to 100 with at most four decimals.
    pub fn parse_percent(text: &str) -> Option<Rate> {
        let t = text.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || whole.len() > 3 || frac.len() > 4 || (t.contains('.') && frac.is_empty()) {
            return None;
        }
        if !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let whole: u32 = whole.parse().ok()?;
        let frac: u32 = format!("{frac:0<4}").parse().ok()?;
        Rate::from_millionths(whole.checked_mul(10_000)?.checked_add(frac)?)
    }

    /// The percentage as text without trailing zeros: "19", "7.25".
    pub fn percent_text(self) -> String {
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 { whole.to_string() } else { format!("{whole}.{}", format!("{frac:04}").trim_end_matches('0')) }
    }

    /// `amount × rate`, rounded half away from zero.
    pub fn of(self, amount: i64) -> Option<i64> {
        div_round(i128::from(amount) * i128::from(self.0), MILLION)
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.percent_text())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let text = String::deserialize(d)?;
        Rate::parse_percent(&text)
            .ok_or_else(|| serde::de::Error::custom("a rate is a percentage from 0 to 100 with at most 4 decimals"))
    }
}

/// `n / d` rounded half away from zero; None when it does not fit an i64.
pub fn div_round(n: i128, d: i128) -> Option<i64> {
    if d == 0 {
        return None;
    }
    let q = n / d;
    let r = n % d;
    let q = if 2 * r.abs() >= d.abs() { q + (n.signum() * d.signum()) } else { q };
    i64::try_from(q).ok()
}

/// Where rounding happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Each line's tax is rounded, the document's tax is their sum.
    Line,
    /// Each rate's base is summed and taxed once.
    Document,
}

impl Rounding {
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::Line => "line",
            Rounding::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Rounding> {
        match s {
            "line" => Some(Rounding::Line),
            "document" => Some(Rounding::Document),
            _ => None,
        }
    }
}

/// Something taxed: an amount as charged (gross when prices include tax),
/// its rate and the label the rate is shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxable {
    pub amount: i64,
    pub rate: Rate,
    pub label: String,
}

/// Tax at one rate on a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateTotal {
    pub label: String,
    #[schema(value_type = String, example = "19")]
    pub rate: Rate,
    /// The amount before tax.
    pub net: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxBreakdown {
    /// Tax of each item, in the order given.
    pub per_item: Vec<i64>,
    /// One entry per (label, rate), in order of first appearance.
    pub by_rate: Vec<RateTotal>,
}

impl TaxBreakdown {
    pub fn total(&self) -> i64 {
        self.by_rate.iter().map(|r| r.tax).sum()
    }
}

/// The tax in `amount`: on top of it (`inclusive` false) or inside it.
pub fn tax_of(amount: i64, rate: Rate, inclusive: bool) -> Option<i64> {
    let r = i128::from(rate.0);
    if inclusive { div_round(i128::from(amount) * r, MILLION + r) } else { rate.of(amount) }
}

/// Splits `total` over `weights` in proportion, exactly: each share is
/// rounded down and the units left go to the largest remainders (ties to
/// the earlier item). Shares sum to `total`; all weights 0 share evenly.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    if total < 0 {
        return allocate(total.saturating_neg(), weights).into_iter().map(|s| -s).collect();
    }
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    let n = weights.len() as i128;
    let t = i128::from(total);
    let (mut shares, mut rems): (Vec<i128>, Vec<(i128, usize)>) = (Vec::new(), Vec::new());
    for (i, w) in weights.iter().enumerate() {
        let (num, den) = if sum == 0 { (t, n) } else { (t * i128::from((*w).max(0)), sum) };
        shares.push(num.div_euclid(den));
        rems.push((num.rem_euclid(den), i));
    }
    let left = t - shares.iter().sum::<i128>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems.into_iter().take(left as usize) {
        shares[i] += 1;
    }
    shares.into_iter().map(|s| s as i64).collect()
}

/// Taxes a document. None on overflow.
pub fn compute(items: &[Taxable], inclusive: bool, rounding: Rounding) -> Option<TaxBreakdown> {
    let mut groups: Vec<(String, Rate, Vec<usize>)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        match groups.iter_mut().find(|g| g.0 == it.label && g.1 == it.rate) {
            Some(g) => g.2.push(i),
            None => groups.push((it.label.clone(), it.rate, vec![i])),
        }
    }
    let mut per_item = vec![0i64; items.len()];
    let mut by_rate = Vec::with_capacity(groups.len());
    for (label, rate, members) in groups {
        let amounts: Vec<i64> = members.iter().map(|i| items[*i].amount).collect();
        let base = amounts.iter().try_fold(0i64, |a, x| a.checked_add(*x))?;
        let taxes = match rounding {
            Rounding::Line => amounts.iter().map(|a| tax_of(*a, rate, inclusive)).collect::<Option<Vec<_>>>()?,
            Rounding::Document => allocate(tax_of(base, rate, inclusive)?, &amounts),
        };
        let tax: i64 = taxes.iter().sum();
        for (i, t) in members.iter().zip(taxes) {
            per_item[*i] = t;
        }
        let net = if inclusive { base.checked_sub(tax)? } else { base };
        by_rate.push(RateTotal { label, rate, net, tax });
    }
    Some(TaxBreakdown { per_item, by_rate })
}

/// EU member states (ISO 3166-1), where reverse charge applies between
/// businesses of different member states.
pub const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

pub fn in_eu(country: &str) -> bool {
    EU.contains(&country)
}

/// A VAT id cleaned of spaces, dots and dashes, upper-cased.
pub fn normalize_vat_id(id: &str) -> String {
    id.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect::<String>().to_uppercase()
}

/// The member state a VAT id belongs to, when its format is valid for
/// that state (the prefix, then the state's pattern). This checks the
/// format only: whether the id is registered is the VIES service's to say,
/// which a deployment with network access can add.
pub fn vat_id_country(id: &str) -> Option<&'static str> {
    let id = normalize_vat_id(id);
    if id.len() < 4 || !id.is_ascii() {
        return None;
    }
    let (prefix, body) = id.split_at(2);
    let country = if prefix == "EL" { "GR" } else { EU.iter().find(|c| **c == prefix)? };
    let digits = |n: usize| body.len() == n && body.bytes().all(|b| b.is_ascii_digit());
    let alnum = |n: usize| body.len() == n && body.bytes().all(|b| b.is_ascii_alphanumeric());
    let ok = match country {
        "AT" => body.len() == 9 && body.starts_with('U') && body[1..].bytes().all(|b| b.is_ascii_digit()),
        "BE" => digits(10) && (body.starts_with('0') || body.starts_with('1')),
        "BG" => digits(9) || digits(10),
        "CY" => {
            body.len() == 9 && body[..8].bytes().all(|b| b.is_ascii_digit()) && body.as_bytes()[8].is_ascii_alphabetic()
        }
        "CZ" => (8..=10).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit()),
        "DE" | "EE" | "GR" | "PT" => digits(9),
        "DK" | "FI" | "HU" | "LU" | "MT" | "SI" => digits(8),
        "ES" | "IE" => alnum(9) || (country == "IE" && alnum(8)),
        "FR" => alnum(11) && body[2..].bytes().all(|b| b.is_ascii_digit()),
        "HR" | "IT" => digits(11),
        "LT" => digits(9) || digits(12),
        "LV" => digits(11),
        "NL" => body.len() == 12 && body.as_bytes()[9] == b'B' && body[..9].bytes().all(|b| b.is_ascii_digit()),
        "PL" | "SK" => digits(10),
        "RO" => (2..=10).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit()),
        "SE" => digits(12) && body.ends_with("01"),
        _ => false,
    };
    ok.then_some(country)
}

/// Whether a sale to a business with `buyer_vat_id`, delivered to
/// `destination`, from a seller in `origin` is reverse charged: both in
/// the EU, different member states, and the id valid for the destination.
pub fn reverse_charged(origin: &str, destination: &str, buyer_vat_id: Option<&str>) -> bool {
    let Some(buyer) = buyer_vat_id.and_then(vat_id_country) else { return false };
    in_eu(origin) && in_eu(destination) && origin != destination && buyer == destination
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> Rate {
        Rate::parse_percent(s).unwrap()
    }

    #[test]
    fn rates_are_exact_decimals() {
        assert_eq!(pct("19").millionths(), 190_000);
        assert_eq!(pct("7.25").millionths(), 72_500);
        assert_eq!(pct("8.875").percent_text(), "8.875");
        assert_eq!(pct("0").percent_text(), "0");
        assert_eq!(pct("100").percent_text(), "100");
        for bad in ["", "-1", "100.01", "1.23456", "abc", "1e2", "19.", ".5"] {
            assert_eq!(Rate::parse_percent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 10), Some(1));
        assert_eq!(div_round(4, 10), Some(0));
        assert_eq!(div_round(-5, 10), Some(-1));
        assert_eq!(div_round(15, 10), Some(2));
        assert_eq!(div_round(25, 10), Some(3), "not banker's rounding");
    }

    #[test]
    fn tax_inside_and_on_top_of_prices() {
        // 19.99 gross at 19 %: 3.19 inside (19.99 × 19 / 119 = 3.1917).
        assert_eq!(tax_of(1999, pct("19"), true), Some(319));
        // 10.00 net at 8.875 %: 0.8875 → 0.89.
        assert_eq!(tax_of(1000, pct("8.875"), false), Some(89));
        assert_eq!(tax_of(1000, Rate::ZERO, true), Some(0));
    }

    #[test]
    fn line_and_document_rounding_differ_as_the_rule_says() {
        // Three lines of 0.05 net at 19 %: 0.0095 each.
        let items: Vec<Taxable> = (0..3).map(|_| Taxable { amount: 5, rate: pct("19"), label: "VAT".into() }).collect();
        let line = compute(&items, false, Rounding::Line).unwrap();
        assert_eq!(line.per_item, vec![1, 1, 1]);
        assert_eq!(line.total(), 3);
        let doc = compute(&items, false, Rounding::Document).unwrap();
        assert_eq!(doc.total(), 3, "0.15 × 19 % = 0.0285 → 0.03");
        let items: Vec<Taxable> = (0..3).map(|_| Taxable { amount: 2, rate: pct("19"), label: "VAT".into() }).collect();
        assert_eq!(compute(&items, false, Rounding::Line).unwrap().total(), 0, "0.0038 → 0 per line");
        let doc = compute(&items, false, Rounding::Document).unwrap();
        assert_eq!(doc.total(), 1, "0.06 × 19 % = 0.0114 → 0.01");
        assert_eq!(doc.per_item.iter().sum::<i64>(), 1, "shared back onto lines");
    }

    #[test]
    fn rates_are_shown_separately_with_net_amounts() {
        let items = vec![
            Taxable { amount: 1190, rate: pct("19"), label: "DE 19".into() },
            Taxable { amount: 1070, rate: pct("7"), label: "DE 7".into() },
            Taxable { amount: 2380, rate: pct("19"), label: "DE 19".into() },
        ];
        let b = compute(&items, true, Rounding::Line).unwrap();
        assert_eq!(b.per_item, vec![190, 70, 380]);
        assert_eq!(
            b.by_rate,
            vec![
                RateTotal { label: "DE 19".into(), rate: pct("19"), net: 3000, tax: 570 },
                RateTotal { label: "DE 7".into(), rate: pct("7"), net: 1000, tax: 70 },
            ]
        );
    }

    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(10, &[700, 300]), vec![7, 3]);
        assert_eq!(allocate(0, &[5, 5]), vec![0, 0]);
        assert_eq!(allocate(5, &[0, 0]), vec![3, 2]);
        assert_eq!(allocate(-7, &[1, 1]), vec![-4, -3]);
        assert!(allocate(3, &[]).is_empty());
    }

    #[test]
    fn vat_ids_are_checked_per_member_state() {
        assert_eq!(vat_id_country("DE 123 456 789"), Some("DE"));
        assert_eq!(vat_id_country("ATU12345678"), Some("AT"));
        assert_eq!(vat_id_country("FRXX123456789"), Some("FR"));
        assert_eq!(vat_id_country("NL123456789B01"), Some("NL"));
        assert_eq!(vat_id_country("EL123456789"), Some("GR"));
        assert_eq!(vat_id_country("ESX1234567X"), Some("ES"));
        for bad in ["DE12345678", "US123456789", "ATX12345678", "NL123456789C01", "", "DE"] {
            assert_eq!(vat_id_country(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reverse_charge_needs_two_member_states_and_a_matching_id() {
        assert!(reverse_charged("DE", "FR", Some("FRXX123456789")));
        assert!(!reverse_charged("DE", "DE", Some("DE123456789")), "domestic");
        assert!(!reverse_charged("DE", "FR", Some("DE123456789")), "id of another state");
        assert!(!reverse_charged("DE", "US", Some("FRXX123456789")), "export, not reverse charge");
        assert!(!reverse_charged("DE", "FR", None));
    }
}
