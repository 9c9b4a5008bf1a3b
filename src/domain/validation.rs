//! Field-level validation errors, collected so a client learns about every
//! bad field at once rather than one per round trip.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `primary_color` or `lines[2].qty`.
    pub field: String,
    /// Stable machine code, e.g. `too_long`, `invalid_format`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_string(), code: code.to_string(), message: message.into() });
    }

    /// One error on one field.
    pub fn single(field: &str, code: &str, message: impl Into<String>) -> FieldErrors {
        let mut e = FieldErrors::default();
        e.add(field, code, message);
        e
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was collected, else the errors.
    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }

    /// Checks a required, trimmed text's length in characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.trim().chars().count();
        if len < min {
            self.add(field, "required", format!("{field} must not be empty"));
        } else if len > max {
            self.add(field, "too_long", format!("{field} must be at most {max} characters"));
        }
        if value.chars().any(|c| c.is_control() && c != '\n') {
            self.add(field, "invalid_characters", format!("{field} contains control characters"));
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        write!(f, "{}", parts.join("; "))
    }
}

/// A minimal syntactic e-mail check: one `@`, a non-empty local part and a
/// dotted domain, no spaces. Deliverability is proven by verification mail,
/// not by a regular expression.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_plausibility() {
        assert!(is_plausible_email("ana@example.com"));
        assert!(!is_plausible_email("ana@localhost"));
        assert!(!is_plausible_email("ana example.com"));
        assert!(!is_plausible_email("<script>@x.com"));
    }

    #[test]
    fn text_rules_collect_every_problem() {
        let mut errs = FieldErrors::default();
        errs.text("name", "  ", 1, 10);
        errs.text("slogan", &"x".repeat(11), 0, 10);
        assert_eq!(errs.0.len(), 2);
        assert_eq!(errs.0[0].code, "required");
        assert_eq!(errs.0[1].code, "too_long");
    }
}
