//! Typed product attributes: what a value of each kind may be, how it reads
//! in a language, and the facet values search filters by.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::pick_translation;
use super::locale::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Free text, translated: `{"en": "Cotton", "de": "Baumwolle"}`.
    Text,
    /// A decimal number with the attribute's unit: `"2.5"` or `2.5`.
    Number,
    Boolean,
    /// One of the attribute's choices, by code.
    Choice,
    /// Several of the attribute's choices, by code.
    MultiChoice,
}

impl AttributeKind {
    pub const ALL: [AttributeKind; 5] = [
        AttributeKind::Text,
        AttributeKind::Number,
        AttributeKind::Boolean,
        AttributeKind::Choice,
        AttributeKind::MultiChoice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::Text => "text",
            AttributeKind::Number => "number",
            AttributeKind::Boolean => "boolean",
            AttributeKind::Choice => "choice",
            AttributeKind::MultiChoice => "multi_choice",
        }
    }

    pub fn parse(s: &str) -> Option<AttributeKind> {
        AttributeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn has_choices(self) -> bool {
        matches!(self, AttributeKind::Choice | AttributeKind::MultiChoice)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable code used in filters and URLs, e.g. `red`.
    pub code: String,
    /// Label by language.
    pub labels: BTreeMap<Language, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    pub id: String,
    pub code: String,
    pub kind: AttributeKind,
    pub unit: Option<String>,
    pub filterable: bool,
    pub names: BTreeMap<Language, String>,
    pub choices: Vec<Choice>,
}

/// A product's value, checked against its attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    Text(BTreeMap<Language, String>),
    /// Canonical decimal text (no floats anywhere).
    Number(String),
    Boolean(bool),
    Choice(String),
    MultiChoice(Vec<String>),
}

/// Codes for attributes, choices and product types: short, lower-case, URL-safe.
pub fn is_valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && code.as_bytes()[0].is_ascii_alphanumeric()
}

/// `-12`, `2.5`, `0.125`: up to 15 integer and 6 fraction digits.
fn canonical_decimal(s: &str) -> Option<String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = (1..=15).contains(&int.len())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 6
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac.is_empty());
    if !ok {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
    Some(if neg && body != "0" { format!("-{body}") } else { body })
}

impl AttributeDef {
    fn has_choice(&self, code: &str) -> bool {
        self.choices.iter().any(|c| c.code == code)
    }

    /// Checks a JSON value for this attribute; the error says why not.
    pub fn parse_value(&self, v: &Value) -> Result<AttributeValue, String> {
        match self.kind {
            AttributeKind::Text => {
                let map: BTreeMap<Language, String> = serde_json::from_value(v.clone())
                    .map_err(|_| "text attributes take an object of texts by language".to_string())?;
                if map.is_empty() || map.values().any(|t| t.trim().is_empty() || t.chars().count() > 500) {
                    return Err("each text is 1 to 500 characters".into());
                }
                Ok(AttributeValue::Text(map.into_iter().map(|(l, t)| (l, t.trim().to_string())).collect()))
            }
            AttributeKind::Number => {
                let text = match v {
                    Value::String(s) => s.trim().to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err("numbers are given as a decimal string or number".into()),
                };
                canonical_decimal(&text)
                    .map(AttributeValue::Number)
                    .ok_or_else(|| "not a decimal number (up to 15 digits, 6 after the point)".into())
            }
            AttributeKind::Boolean => {
                v.as_bool().map(AttributeValue::Boolean).ok_or_else(|| "expected true or false".into())
            }
            AttributeKind::Choice => match v.as_str() {
                Some(c) if self.has_choice(c) => Ok(AttributeValue::Choice(c.to_string())),
                _ => Err(format!("expected one of: {}", self.choice_codes())),
            },
            AttributeKind::MultiChoice => {
                let codes: Vec<String> = serde_json::from_value(v.clone())
                    .map_err(|_| "multi-choice attributes take a list of choice codes".to_string())?;
                if codes.is_empty() || codes.iter().any(|c| !self.has_choice(c)) {
                    return Err(format!("expected a list of: {}", self.choice_codes()));
                }
                let mut codes = codes;
                codes.sort();
                codes.dedup();
                Ok(AttributeValue::MultiChoice(codes))
            }
        }
    }

    fn choice_codes(&self) -> String {
        self.choices.iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The values search filters on (`code=value` in the index).
    pub fn facet_values(&self, v: &AttributeValue) -> Vec<String> {
        match v {
            AttributeValue::Text(_) => Vec::new(),
            AttributeValue::Number(n) => vec![n.clone()],
            AttributeValue::Boolean(b) => vec![b.to_string()],
            AttributeValue::Choice(c) => vec![c.clone()],
            AttributeValue::MultiChoice(cs) => cs.clone(),
        }
    }

    pub fn name(&self, lang: Language, default: Language) -> String {
        pick_translation(&self.names, lang, default).map(|(_, n)| n.clone()).unwrap_or_else(|| self.code.clone())
    }

    /// How a facet value reads in a language: a choice's label, a number
    /// with its unit, yes/no left to the caller's words.
    pub fn label(&self, facet_value: &str, lang: Language, default: Language) -> String {
        if let Some(c) = self.choices.iter().find(|c| c.code == facet_value) {
            return pick_translation(&c.labels, lang, default).map(|(_, l)| l.clone()).unwrap_or(c.code.clone());
        }
        match (&self.unit, self.kind) {
            (Some(unit), AttributeKind::Number) => format!("{facet_value} {unit}"),
            _ => facet_value.to_string(),
        }
    }

    /// The value as text in a language (for pages and the search body).
    pub fn display(&self, v: &AttributeValue, lang: Language, default: Language, yes_no: (&str, &str)) -> String {
        match v {
            AttributeValue::Text(map) => {
                pick_translation(map, lang, default).map(|(_, t)| t.clone()).unwrap_or_default()
            }
            AttributeValue::Boolean(b) => (if *b { yes_no.0 } else { yes_no.1 }).to_string(),
            AttributeValue::Number(n) => self.label(n, lang, default),
            AttributeValue::Choice(c) => self.label(c, lang, default),
            AttributeValue::MultiChoice(cs) => {
                cs.iter().map(|c| self.label(c, lang, default)).collect::<Vec<_>>().join(", ")
            }
        }
    }
}

impl AttributeValue {
    pub fn to_json(&self) -> Value {
        match self {
            AttributeValue::Text(m) => serde_json::to_value(m).unwrap_or(Value::Null),
            AttributeValue::Number(n) => Value::String(n.clone()),
            AttributeValue::Boolean(b) => Value::Bool(*b),
            AttributeValue::Choice(c) => Value::String(c.clone()),
            AttributeValue::MultiChoice(cs) => serde_json::to_value(cs).unwrap_or(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn def(kind: AttributeKind) -> AttributeDef {
        AttributeDef {
            id: "att_1".into(),
            code: "colour".into(),
            kind,
            unit: Some("kg".into()),
            filterable: true,
            names: BTreeMap::from([(Language::En, "Colour".into()), (Language::De, "Farbe".into())]),
            choices: vec![
                Choice {
                    code: "red".into(),
                    labels: BTreeMap::from([(Language::En, "Red".into()), (Language::De, "Rot".into())]),
                },
                Choice { code: "blue".into(), labels: BTreeMap::from([(Language::En, "Blue".into())]) },
            ],
        }
    }

    #[test]
    fn numbers_are_canonical_decimals() {
        let d = def(AttributeKind::Number);
        assert_eq!(d.parse_value(&json!("2.50")), Ok(AttributeValue::Number("2.5".into())));
        assert_eq!(d.parse_value(&json!(3)), Ok(AttributeValue::Number("3".into())));
        assert_eq!(d.parse_value(&json!("007")), Ok(AttributeValue::Number("7".into())));
        assert_eq!(d.parse_value(&json!("-0.0")), Ok(AttributeValue::Number("0".into())));
        for bad in [json!("2,5"), json!("1e3"), json!("."), json!("1."), json!(true), json!("0.1234567")] {
            assert!(d.parse_value(&bad).is_err(), "{bad}");
        }
        assert_eq!(d.display(&AttributeValue::Number("2.5".into()), Language::En, Language::En, ("y", "n")), "2.5 kg");
    }

    #[test]
    fn choices_must_be_defined_and_read_in_the_language() {
        let one = def(AttributeKind::Choice);
        assert_eq!(one.parse_value(&json!("red")), Ok(AttributeValue::Choice("red".into())));
        assert!(one.parse_value(&json!("green")).is_err());
        let many = def(AttributeKind::MultiChoice);
        let v = many.parse_value(&json!(["red", "blue", "red"])).unwrap();
        assert_eq!(v, AttributeValue::MultiChoice(vec!["blue".into(), "red".into()]));
        assert!(many.parse_value(&json!([])).is_err());
        assert_eq!(many.display(&v, Language::De, Language::En, ("y", "n")), "Blue, Rot", "falls back per label");
        assert_eq!(many.facet_values(&v), ["blue", "red"]);
    }

    #[test]
    fn texts_are_translated_and_booleans_strict() {
        let t = def(AttributeKind::Text);
        let v = t.parse_value(&json!({"en": " Cotton ", "de": "Baumwolle"})).unwrap();
        assert_eq!(t.display(&v, Language::De, Language::En, ("y", "n")), "Baumwolle");
        assert_eq!(t.display(&v, Language::Zh, Language::En, ("y", "n")), "Cotton");
        assert!(t.parse_value(&json!("Cotton")).is_err());
        assert!(t.parse_value(&json!({"xx": "Cotton"})).is_err());
        let b = def(AttributeKind::Boolean);
        assert_eq!(b.parse_value(&json!(false)), Ok(AttributeValue::Boolean(false)));
        assert!(b.parse_value(&json!("yes")).is_err());
    }

    #[test]
    fn codes_are_url_safe() {
        assert!(is_valid_code("colour"));
        assert!(is_valid_code("size-eu_2"));
        assert!(!is_valid_code("-x"));
        assert!(!is_valid_code("Colour"));
        assert!(!is_valid_code(""));
        assert!(!is_valid_code("a b"));
    }
}
