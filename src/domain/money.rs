//! Money: an integer amount of a currency's minor unit (cents, pence,
//! yen) with the ISO 4217 code. Never floats. Arithmetic refuses to mix
//! currencies and reports overflow instead of wrapping.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency this platform prices in, with its minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Currency {
    EUR,
    USD,
    GBP,
    CHF,
    BRL,
    CNY,
    JPY,
    SEK,
    DKK,
    PLN,
}

impl Currency {
    pub const ALL: [Currency; 10] = [
        Currency::EUR,
        Currency::USD,
        Currency::GBP,
        Currency::CHF,
        Currency::BRL,
        Currency::CNY,
        Currency::JPY,
        Currency::SEK,
        Currency::DKK,
        Currency::PLN,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Currency::EUR => "EUR",
            Currency::USD => "USD",
            Currency::GBP => "GBP",
            Currency::CHF => "CHF",
            Currency::BRL => "BRL",
            Currency::CNY => "CNY",
            Currency::JPY => "JPY",
            Currency::SEK => "SEK",
            Currency::DKK => "DKK",
            Currency::PLN => "PLN",
        }
    }

    pub fn parse(code: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.code().eq_ignore_ascii_case(code.trim()))
    }

    /// Digits after the decimal point (ISO 4217 minor unit).
    pub fn minor_digits(self) -> u32 {
        match self {
            Currency::JPY => 0,
            _ => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// Amount in minor units (e.g. cents).
    pub amount: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(&'static str, &'static str),
    #[error("amount out of range")]
    Overflow,
    #[error("not a valid amount for {0}: {1}")]
    Unparseable(&'static str, String),
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Money {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { amount: 0, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount.checked_add(other.amount).map(|a| Money::new(a, self.currency)).ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount.checked_sub(other.amount).map(|a| Money::new(a, self.currency)).ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, qty: i64) -> Result<Money, MoneyError> {
        self.amount.checked_mul(qty).map(|a| Money::new(a, self.currency)).ok_or(MoneyError::Overflow)
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency.code(), other.currency.code()))
        }
    }

    /// Parses a decimal string such as `19.99` or `1200` in the currency's
    /// minor unit; more decimals than the currency has is an error (no
    /// silent rounding).
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::Unparseable(currency.code(), text.to_string());
        let t = text.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = currency.minor_digits() as usize;
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || frac.len() > digits
        {
            return Err(bad());
        }
        let scale = 10i64.pow(digits as u32);
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<digits$}").parse().map_err(|_| bad())? };
        let amount = whole.checked_mul(scale).and_then(|w| w.checked_add(frac)).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(if negative { -amount } else { amount }, currency))
    }

    /// The amount as a plain decimal string (`19.99`, `-0.50`, `1200`).
    pub fn decimal(self) -> String {
        let digits = self.currency.minor_digits();
        if digits == 0 {
            return self.amount.to_string();
        }
        let scale = 10i64.pow(digits);
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        format!("{sign}{}.{:0width$}", abs / scale as u64, abs % scale as u64, width = digits as usize)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(Money::parse("19.99", Currency::EUR).unwrap().amount, 1999);
        assert_eq!(Money::parse("19.9", Currency::EUR).unwrap().amount, 1990);
        assert_eq!(Money::parse("-0.05", Currency::USD).unwrap().decimal(), "-0.05");
        assert_eq!(Money::parse("1200", Currency::JPY).unwrap().decimal(), "1200");
        assert!(Money::parse("1.999", Currency::EUR).is_err(), "no silent rounding");
        assert!(Money::parse("12.5", Currency::JPY).is_err());
        assert!(Money::parse("1e3", Currency::EUR).is_err());
        assert_eq!(Money::new(123456, Currency::GBP).to_string(), "1234.56 GBP");
    }

    #[test]
    fn arithmetic_checks_currency_and_overflow() {
        let a = Money::new(100, Currency::EUR);
        assert_eq!(a.checked_add(Money::new(50, Currency::EUR)).unwrap().amount, 150);
        assert!(matches!(a.checked_add(Money::new(1, Currency::USD)), Err(MoneyError::CurrencyMismatch(..))));
        assert_eq!(Money::new(i64::MAX, Currency::EUR).checked_mul(2), Err(MoneyError::Overflow));
    }
}
