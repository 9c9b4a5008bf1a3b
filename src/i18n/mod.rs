//! Translations of every text the shell shows, in every supported
//! language. A key missing from the catalogue shows as the key itself, and
//! a unit test proves that no key lacks a language.

mod account;
mod admin_access;
mod admin_money;
mod catalog;

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::locale::Language;

/// Every catalogue, one per area of the interface.
fn all_entries() -> impl Iterator<Item = &'static (&'static str, [&'static str; 5])> {
    catalog::ENTRIES.iter().chain(account::ENTRIES).chain(admin_access::ENTRIES).chain(admin_money::ENTRIES)
}

static INDEX: LazyLock<HashMap<&'static str, &'static [&'static str; 5]>> =
    LazyLock::new(|| all_entries().map(|(k, v)| (*k, v)).collect());

fn column(lang: Language) -> usize {
    match lang {
        Language::En => 0,
        Language::De => 1,
        Language::Es => 2,
        Language::Pt => 3,
        Language::Zh => 4,
    }
}

/// The text for `key` in `lang`.
pub fn t(lang: Language, key: &'static str) -> &'static str {
    INDEX.get(key).map(|texts| texts[column(lang)]).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_every_language_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (key, texts) in all_entries() {
            assert!(seen.insert(*key), "duplicate key {key}");
            for (i, text) in texts.iter().enumerate() {
                assert!(!text.trim().is_empty(), "{key} has no text in column {i}");
            }
        }
    }

    #[test]
    fn lookups_translate() {
        assert_eq!(t(Language::De, "nav.home"), "Startseite");
        assert_eq!(t(Language::Zh, "nav.home"), "首页");
        assert_eq!(t(Language::En, "no.such.key"), "no.such.key");
    }
}

/// An amount in minor units of a currency named by its code, as
/// [`format_money`] writes it (the bare number and code for an unknown one).
pub fn format_minor(lang: Language, amount: i64, currency: &str) -> String {
    match crate::domain::money::Currency::parse(currency) {
        Some(c) => format_money(lang, crate::domain::money::Money::new(amount, c)),
        None => format!("{amount} {currency}"),
    }
}

/// A price as people in `lang` write it: `€19.99` (en, zh), `19,99 €`
/// (de, es, pt). Exact: formats the integer minor units, never a float.
pub fn format_money(lang: Language, m: crate::domain::money::Money) -> String {
    use crate::domain::money::Currency;
    let symbol = match m.currency {
        Currency::EUR => "€",
        Currency::USD => "US$",
        Currency::GBP => "£",
        Currency::CHF => "CHF",
        Currency::BRL => "R$",
        Currency::CNY => "¥",
        Currency::JPY => "JP¥",
        Currency::SEK => "kr",
        Currency::DKK => "kr.",
        Currency::PLN => "zł",
    };
    let plain = m.decimal();
    match lang {
        Language::En | Language::Zh => match plain.strip_prefix('-') {
            Some(rest) => format!("-{symbol}{rest}"),
            None => format!("{symbol}{plain}"),
        },
        Language::De | Language::Es | Language::Pt => format!("{} {symbol}", plain.replace('.', ",")),
    }
}

#[cfg(test)]
mod money_format_tests {
    use super::*;
    use crate::domain::money::{Currency, Money};

    #[test]
    fn prices_read_naturally_in_each_language() {
        let m = Money::new(1999, Currency::EUR);
        assert_eq!(format_money(Language::En, m), "€19.99");
        assert_eq!(format_money(Language::De, m), "19,99 €");
        assert_eq!(format_money(Language::Zh, Money::new(-50, Currency::CNY)), "-¥0.50");
        assert_eq!(format_money(Language::Pt, Money::new(12345, Currency::BRL)), "123,45 R$");
    }
}
