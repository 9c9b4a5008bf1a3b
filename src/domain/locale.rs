//! The languages the platform speaks. Adding one means adding a variant
//! here and a column in `i18n`'s catalogue; the compiler finds the rest.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
    Es,
    Pt,
    Zh,
}

impl Language {
    pub const ALL: [Language; 5] = [Language::En, Language::De, Language::Es, Language::Pt, Language::Zh];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Es => "es",
            Language::Pt => "pt",
            Language::Zh => "zh",
        }
    }

    /// The language's own name, as shown in the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::De => "Deutsch",
            Language::Es => "Español",
            Language::Pt => "Português",
            Language::Zh => "中文",
        }
    }

    /// Parses a code such as `de`, `de-AT` or `zh_CN` (case-insensitive).
    pub fn parse(code: &str) -> Option<Language> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Picks the best supported language from an `Accept-Language` header,
    /// honouring q-values; ties keep the header's order.
    pub fn from_accept_language(header: &str) -> Option<Language> {
        let mut best: Option<(Language, u32)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u32)
                .unwrap_or(1000);
            if q == 0 {
                continue;
            }
            if let Some(lang) = Language::parse(tag)
                && best.is_none_or(|(_, bq)| q > bq)
            {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_regional_codes() {
        assert_eq!(Language::parse("de-AT"), Some(Language::De));
        assert_eq!(Language::parse("ZH_cn"), Some(Language::Zh));
        assert_eq!(Language::parse("fr"), None);
    }

    #[test]
    fn accept_language_respects_quality() {
        assert_eq!(Language::from_accept_language("fr;q=1, pt-BR;q=0.5, de;q=0.8"), Some(Language::De));
        assert_eq!(Language::from_accept_language("fr, it"), None);
        assert_eq!(Language::from_accept_language("es;q=0, en;q=0.1"), Some(Language::En));
    }
}
