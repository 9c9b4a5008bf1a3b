//! Postal addresses, validated per country where the format is known.

use serde::{Deserialize, Serialize};

use super::validation::FieldErrors;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    #[serde(default)]
    pub phone: String,
}

/// Checks a postal code against the country's format; countries not
/// listed accept any short alphanumeric code.
fn postal_code_ok(country: &str, code: &str) -> bool {
    let digits = |n: usize| code.len() == n && code.chars().all(|c| c.is_ascii_digit());
    match country {
        "DE" | "ES" | "FR" | "IT" => digits(5),
        "US" => digits(5) || (code.len() == 10 && digits_at(code, &[0, 1, 2, 3, 4, 6, 7, 8, 9]) && &code[5..6] == "-"),
        "PT" => code.len() == 8 && digits_at(code, &[0, 1, 2, 3, 5, 6, 7]) && &code[4..5] == "-",
        "CN" => digits(6),
        "BR" => code.len() == 9 && digits_at(code, &[0, 1, 2, 3, 4, 6, 7, 8]) && &code[5..6] == "-",
        "AT" | "CH" | "BE" | "DK" => digits(4),
        "NL" => code.len() == 7 && digits_at(code, &[0, 1, 2, 3]) && code[5..].chars().all(|c| c.is_ascii_uppercase()),
        "GB" => {
            (5..=8).contains(&code.len())
                && code.contains(' ')
                && code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        }
        _ => (1..=12).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-'),
    }
}

fn digits_at(code: &str, positions: &[usize]) -> bool {
    let b = code.as_bytes();
    positions.iter().all(|&i| b.get(i).is_some_and(u8::is_ascii_digit))
}

impl Address {
    /// Trims fields, upper-cases country and postal code, and checks them.
    pub fn parse(mut self) -> Result<Address, FieldErrors> {
        for f in [&mut self.name, &mut self.line1, &mut self.line2, &mut self.city, &mut self.region, &mut self.phone] {
            *f = f.trim().to_string();
        }
        self.country = self.country.trim().to_ascii_uppercase();
        self.postal_code = self.postal_code.trim().to_ascii_uppercase();
        let mut errs = FieldErrors::default();
        errs.text("name", &self.name, 1, 100);
        errs.text("line1", &self.line1, 1, 200);
        errs.text("line2", &self.line2, 0, 200);
        errs.text("city", &self.city, 1, 100);
        errs.text("region", &self.region, 0, 100);
        if self.country.len() != 2 || !self.country.chars().all(|c| c.is_ascii_uppercase()) {
            errs.add("country", "invalid_format", "country must be an ISO 3166-1 alpha-2 code such as DE");
        } else if !postal_code_ok(&self.country, &self.postal_code) {
            errs.add("postal_code", "invalid_format", format!("postal_code is not valid for {}", self.country));
        }
        let phone_ok = self.phone.len() <= 25 && self.phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !phone_ok {
            errs.add("phone", "invalid_format", "phone may contain digits, spaces and + - ( )");
        }
        errs.finish(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(country: &str, postal: &str) -> Address {
        Address {
            name: " Ana ".into(),
            line1: "Hauptstr. 1".into(),
            line2: String::new(),
            city: "Berlin".into(),
            region: String::new(),
            postal_code: postal.into(),
            country: country.into(),
            phone: String::new(),
        }
    }

    #[test]
    fn postal_codes_follow_the_country() {
        assert!(addr("de", "10115").parse().is_ok());
        assert!(addr("DE", "1011").parse().is_err());
        assert!(addr("US", "94105-1234").parse().is_ok());
        assert!(addr("PT", "1000-001").parse().is_ok());
        assert!(addr("PT", "1000001").parse().is_err());
        assert!(addr("CN", "100000").parse().is_ok());
        assert!(addr("GB", "SW1A 1AA").parse().is_ok());
        assert!(addr("XX", "<script>").parse().is_err());
    }

    #[test]
    fn fields_are_normalised() {
        let a = addr("de", "10115").parse().unwrap();
        assert_eq!(a.name, "Ana");
        assert_eq!(a.country, "DE");
    }
}
