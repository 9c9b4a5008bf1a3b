//! A store is one organisation hosted by the installation: a shop, a
//! nonprofit, a utility or a B2B supplier. It is the tenant boundary: every
//! business row belongs to exactly one store. Its brand (name, logo, colour,
//! slogan) is applied to every page and e-mail.

use serde::{Deserialize, Serialize};

use super::locale::Language;
use super::validation::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    Shop,
    Nonprofit,
    Utility,
    B2b,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Shop => "shop",
            StoreKind::Nonprofit => "nonprofit",
            StoreKind::Utility => "utility",
            StoreKind::B2b => "b2b",
        }
    }

    pub fn parse(s: &str) -> Option<StoreKind> {
        [StoreKind::Shop, StoreKind::Nonprofit, StoreKind::Utility, StoreKind::B2b]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A store as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub id: String,
    pub slug: String,
    pub host: Option<String>,
    pub kind: StoreKind,
    pub brand: Branding,
    pub currency: String,
    pub is_default: bool,
    /// Owners must use a second factor (TOTP) to act.
    pub require_owner_mfa: bool,
}

/// The brand, validated. Build it with [`Branding::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub name: String,
    pub slogan: String,
    /// Empty, an absolute `https://` URL or a path on this server.
    pub logo_url: String,
    /// `#rrggbb`, lower case. Safe to place in CSS because of that shape.
    pub primary_color: String,
    pub default_language: Language,
}

/// Unvalidated brand fields as a client sends them.
pub struct BrandingInput<'a> {
    pub name: &'a str,
    pub slogan: &'a str,
    pub logo_url: &'a str,
    pub primary_color: &'a str,
    pub default_language: Language,
}

impl Branding {
    pub fn parse(input: BrandingInput<'_>) -> Result<Branding, FieldErrors> {
        let mut errs = FieldErrors::default();
        errs.text("name", input.name, 1, 80);
        errs.text("slogan", input.slogan, 0, 160);
        let logo_url = input.logo_url.trim();
        if !logo_url.is_empty() && !is_safe_logo_url(logo_url) {
            errs.add("logo_url", "invalid_url", "logo_url must be an https:// URL or a path starting with /");
        }
        let color = input.primary_color.trim().to_ascii_lowercase();
        if !is_hex_color(&color) {
            errs.add("primary_color", "invalid_format", "primary_color must look like #1f6feb");
        }
        errs.finish(Branding {
            name: input.name.trim().to_string(),
            slogan: input.slogan.trim().to_string(),
            logo_url: logo_url.to_string(),
            primary_color: color,
            default_language: input.default_language,
        })
    }
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn is_safe_logo_url(s: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/:%?=&+".contains(c);
    let shape_ok = (s.starts_with("https://") && s.len() > 8) || (s.starts_with('/') && !s.starts_with("//"));
    shape_ok && s.len() <= 500 && s.chars().all(allowed)
}

/// Slugs name a store in a path prefix (`/s/{slug}/…`): lower-case letters,
/// digits and dashes, 2 to 40 long, not starting or ending with a dash.
pub fn is_valid_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(name: &'a str, logo: &'a str, color: &'a str) -> BrandingInput<'a> {
        BrandingInput { name, slogan: "", logo_url: logo, primary_color: color, default_language: Language::En }
    }

    #[test]
    fn branding_accepts_good_values_and_normalises_colour() {
        let b = Branding::parse(input(" Shop ", "/static/logo.svg", "#AABBCC")).unwrap();
        assert_eq!(b.name, "Shop");
        assert_eq!(b.primary_color, "#aabbcc");
    }

    #[test]
    fn branding_rejects_script_urls_and_css_injection() {
        let errs = Branding::parse(input("", "javascript:alert(1)", "red;}body{")).unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "logo_url", "primary_color"]);
        assert!(Branding::parse(input("x", "//evil.example/x.png", "#000000")).is_err());
        assert!(Branding::parse(input("x", "/a\"onerror=x", "#000000")).is_err());
    }

    #[test]
    fn slugs() {
        assert!(is_valid_slug("food-bank"));
        assert!(!is_valid_slug("-x"));
        assert!(!is_valid_slug("Food"));
    }
}
