//! Fraud risk before a payment is authorised: a store's rules turn what is
//! known about an attempt (amount, how often the same card, e-mail, customer
//! or address tried lately, countries, blocked lists) into a score from 0
//! to 100 and a decision. Pure: the counts come from the caller.

use serde::{Deserialize, Serialize};

use super::validation::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    /// The payment may go on, but the order waits for staff.
    Review,
    /// The payment is refused before any provider sees it.
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Review => "review",
            Decision::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Allow, Decision::Review, Decision::Deny].into_iter().find(|d| d.as_str() == s)
    }
}

/// Whose attempts a velocity rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VelocityKey {
    /// The same card (by its keyed fingerprint).
    Card,
    Email,
    Customer,
    Ip,
}

impl VelocityKey {
    pub const ALL: [VelocityKey; 4] = [VelocityKey::Card, VelocityKey::Email, VelocityKey::Customer, VelocityKey::Ip];

    pub fn as_str(self) -> &'static str {
        match self {
            VelocityKey::Card => "card",
            VelocityKey::Email => "email",
            VelocityKey::Customer => "customer",
            VelocityKey::Ip => "ip",
        }
    }
}

/// What a blocked-list entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Email,
    EmailDomain,
    Ip,
    Card,
    /// The shipping or billing country.
    Country,
}

impl BlockKind {
    pub const ALL: [BlockKind; 5] =
        [BlockKind::Email, BlockKind::EmailDomain, BlockKind::Ip, BlockKind::Card, BlockKind::Country];

    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Email => "email",
            BlockKind::EmailDomain => "email_domain",
            BlockKind::Ip => "ip",
            BlockKind::Card => "card",
            BlockKind::Country => "country",
        }
    }

    pub fn parse(s: &str) -> Option<BlockKind> {
        BlockKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One rule and the points it adds when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The payment is over an amount (minor units) in a currency.
    AmountOver { currency: String, amount: i64, points: u32 },
    /// More than `max_attempts` payment attempts by the same key within
    /// the window, this one included.
    Velocity { key: VelocityKey, window_minutes: u32, max_attempts: u32, points: u32 },
    /// The billing country differs from the shipping country.
    CountryMismatch { points: u32 },
    /// A guest (no customer account) pays.
    GuestCheckout { points: u32 },
}

/// A store's risk settings. Blocked lists live apart (they hold keyed
/// hashes of personal data); a hit on one adds `blocked_points`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A score at or above this holds the order for review.
    pub review_at: u32,
    /// A score at or above this refuses the payment.
    pub deny_at: u32,
    #[serde(default = "default_blocked_points")]
    pub blocked_points: u32,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn default_blocked_points() -> u32 {
    100
}

impl Default for Settings {
    /// No rules: every attempt is allowed (and still recorded, so rules
    /// added later count earlier attempts).
    fn default() -> Self {
        Settings { review_at: 50, deny_at: 90, blocked_points: 100, rules: Vec::new() }
    }
}

impl Settings {
    /// A sensible start for a shop: card testing (many attempts on one
    /// card or from one address) denies, unusual orders are reviewed.
    pub fn recommended() -> Settings {
        use Rule::*;
        use VelocityKey::*;
        Settings {
            review_at: 50,
            deny_at: 90,
            blocked_points: 100,
            rules: vec![
                Velocity { key: Card, window_minutes: 60, max_attempts: 5, points: 60 },
                Velocity { key: Ip, window_minutes: 60, max_attempts: 20, points: 50 },
                Velocity { key: Email, window_minutes: 60, max_attempts: 10, points: 40 },
                CountryMismatch { points: 25 },
                AmountOver { currency: "EUR".into(), amount: 100_000, points: 30 },
                GuestCheckout { points: 5 },
            ],
        }
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errs = FieldErrors::default();
        if self.review_at == 0 || self.review_at > 100 {
            errs.add("review_at", "out_of_range", "review_at must be from 1 to 100");
        }
        if self.deny_at == 0 || self.deny_at > 100 {
            errs.add("deny_at", "out_of_range", "deny_at must be from 1 to 100");
        } else if self.deny_at < self.review_at {
            errs.add("deny_at", "below_review", "deny_at must not be below review_at");
        }
        if self.blocked_points > 100 {
            errs.add("blocked_points", "out_of_range", "blocked_points must be at most 100");
        }
        if self.rules.len() > 50 {
            errs.add("rules", "too_many", "at most 50 rules");
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            let points = match rule {
                Rule::AmountOver { currency, amount, points } => {
                    if super::money::Currency::parse(currency).is_none() {
                        errs.add(&at("currency"), "unknown_currency", "not a supported currency");
                    }
                    if *amount <= 0 {
                        errs.add(&at("amount"), "invalid_amount", "amount must be more than zero");
                    }
                    *points
                }
                Rule::Velocity { window_minutes, max_attempts, points, .. } => {
                    if !(1..=7 * 24 * 60).contains(window_minutes) {
                        errs.add(&at("window_minutes"), "out_of_range", "the window is 1 minute to 7 days");
                    }
                    if *max_attempts == 0 {
                        errs.add(&at("max_attempts"), "out_of_range", "max_attempts must be at least 1");
                    }
                    *points
                }
                Rule::CountryMismatch { points } | Rule::GuestCheckout { points } => *points,
            };
            if points > 100 {
                errs.add(&at("points"), "out_of_range", "points must be at most 100");
            }
        }
        errs.finish(())
    }

    /// The widest velocity window, in minutes (how far back counts go).
    pub fn velocity_windows(&self) -> impl Iterator<Item = (VelocityKey, u32)> + '_ {
        self.rules.iter().filter_map(|r| match r {
            Rule::Velocity { key, window_minutes, .. } => Some((*key, *window_minutes)),
            _ => None,
        })
    }
}

/// What is known about one payment attempt.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    pub amount: i64,
    pub currency: String,
    pub guest: bool,
    pub billing_country: Option<String>,
    pub shipping_country: Option<String>,
    /// Earlier attempts per (key, window in minutes), this one not included.
    pub attempts: Vec<(VelocityKey, u32, u32)>,
    /// The blocked lists this attempt is on.
    pub blocked: Vec<BlockKind>,
}

/// Why the score is what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    /// amount_over, velocity_card, velocity_email, velocity_customer,
    /// velocity_ip, country_mismatch, guest_checkout, blocked_<kind>.
    pub code: String,
    pub points: u32,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assessment {
    /// 0 to 100.
    pub score: u32,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

/// Scores an attempt: the points of every rule that fires, capped at 100.
pub fn assess(settings: &Settings, s: &Signals) -> Assessment {
    let mut reasons = Vec::new();
    for kind in &s.blocked {
        reasons.push(Reason {
            code: format!("blocked_{}", kind.as_str()),
            points: settings.blocked_points,
            detail: format!("the {} is on the store's blocked list", kind.as_str().replace('_', " ")),
        });
    }
    for rule in &settings.rules {
        match rule {
            Rule::AmountOver { currency, amount, points } if *currency == s.currency && s.amount > *amount => {
                reasons.push(Reason {
                    code: "amount_over".into(),
                    points: *points,
                    detail: format!("{} {} is over {} {}", s.amount, s.currency, amount, currency),
                });
            }
            Rule::Velocity { key, window_minutes, max_attempts, points } => {
                let earlier =
                    s.attempts.iter().find(|(k, w, _)| k == key && w == window_minutes).map_or(0, |(_, _, n)| *n);
                if earlier + 1 > *max_attempts {
                    reasons.push(Reason {
                        code: format!("velocity_{}", key.as_str()),
                        points: *points,
                        detail: format!(
                            "{} attempts by the same {} within {window_minutes} minutes (at most {max_attempts})",
                            earlier + 1,
                            key.as_str()
                        ),
                    });
                }
            }
            Rule::CountryMismatch { points } => {
                if let (Some(b), Some(sh)) = (&s.billing_country, &s.shipping_country)
                    && !b.eq_ignore_ascii_case(sh)
                {
                    reasons.push(Reason {
                        code: "country_mismatch".into(),
                        points: *points,
                        detail: format!("billing country {b}, shipping country {sh}"),
                    });
                }
            }
            Rule::GuestCheckout { points } if s.guest => {
                reasons.push(Reason {
                    code: "guest_checkout".into(),
                    points: *points,
                    detail: "paid as a guest".into(),
                });
            }
            _ => {}
        }
    }
    let score = reasons.iter().map(|r| r.points).sum::<u32>().min(100);
    let decision = if score >= settings.deny_at {
        Decision::Deny
    } else if score >= settings.review_at {
        Decision::Review
    } else {
        Decision::Allow
    };
    Assessment { score, decision, reasons }
}

/// The domain of an e-mail address, lower case.
pub fn email_domain(email: &str) -> Option<String> {
    email.rsplit_once('@').map(|(_, d)| d.trim().to_lowercase()).filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signals() -> Signals {
        Signals { amount: 5_000, currency: "EUR".into(), ..Signals::default() }
    }

    #[test]
    fn without_rules_everything_is_allowed() {
        let a = assess(&Settings::default(), &signals());
        assert_eq!((a.score, a.decision), (0, Decision::Allow));
        assert!(a.reasons.is_empty());
    }

    #[test]
    fn velocity_counts_this_attempt_too() {
        let s = Settings {
            rules: vec![Rule::Velocity { key: VelocityKey::Card, window_minutes: 60, max_attempts: 3, points: 95 }],
            ..Settings::default()
        };
        let mut sig = signals();
        sig.attempts = vec![(VelocityKey::Card, 60, 2)];
        assert_eq!(assess(&s, &sig).decision, Decision::Allow, "the third attempt is allowed");
        sig.attempts = vec![(VelocityKey::Card, 60, 3)];
        let a = assess(&s, &sig);
        assert_eq!((a.score, a.decision), (95, Decision::Deny));
        assert_eq!(a.reasons[0].code, "velocity_card");
        // A count for another window does not fire this rule.
        sig.attempts = vec![(VelocityKey::Card, 10, 9)];
        assert_eq!(assess(&s, &sig).decision, Decision::Allow);
    }

    #[test]
    fn points_add_up_to_review_then_deny_and_cap_at_100() {
        let s = Settings::recommended();
        let mut sig = signals();
        sig.amount = 200_000;
        sig.billing_country = Some("DE".into());
        sig.shipping_country = Some("NG".into());
        let a = assess(&s, &sig);
        assert_eq!((a.score, a.decision), (55, Decision::Review), "{a:?}");
        sig.blocked = vec![BlockKind::Email];
        let a = assess(&s, &sig);
        assert_eq!((a.score, a.decision), (100, Decision::Deny));
        assert_eq!(a.reasons[0].code, "blocked_email");
    }

    #[test]
    fn amounts_compare_in_their_own_currency() {
        let s = Settings {
            rules: vec![Rule::AmountOver { currency: "EUR".into(), amount: 1_000, points: 60 }],
            ..Settings::default()
        };
        let mut sig = signals();
        sig.currency = "USD".into();
        assert_eq!(assess(&s, &sig).decision, Decision::Allow);
        sig.currency = "EUR".into();
        sig.amount = 1_000;
        assert_eq!(assess(&s, &sig).decision, Decision::Allow, "over, not at");
        sig.amount = 1_001;
        assert_eq!(assess(&s, &sig).decision, Decision::Review);
    }

    #[test]
    fn settings_are_checked() {
        let bad = Settings {
            review_at: 80,
            deny_at: 60,
            blocked_points: 100,
            rules: vec![
                Rule::AmountOver { currency: "XXX".into(), amount: 0, points: 101 },
                Rule::Velocity { key: VelocityKey::Ip, window_minutes: 0, max_attempts: 0, points: 10 },
            ],
        };
        let errs = bad.validate().unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "deny_at",
            "rules[0].currency",
            "rules[0].amount",
            "rules[0].points",
            "rules[1].window_minutes",
            "rules[1].max_attempts",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        assert!(Settings::recommended().validate().is_ok());
    }

    #[test]
    fn domains_of_addresses() {
        assert_eq!(email_domain("A@Example.COM").as_deref(), Some("example.com"));
        assert_eq!(email_domain("nobody"), None);
    }

    proptest! {
        /// More evidence never lowers the score or softens the decision.
        #[test]
        fn more_attempts_never_lower_the_score(a in 0u32..50, b in 0u32..50, amount in 0i64..500_000) {
            let s = Settings::recommended();
            let (lo, hi) = (a.min(b), a.max(b));
            let at = |n: u32| {
                let mut sig = signals();
                sig.amount = amount;
                sig.attempts = VelocityKey::ALL.iter().map(|k| (*k, 60, n)).collect();
                assess(&s, &sig)
            };
            let (x, y) = (at(lo), at(hi));
            prop_assert!(x.score <= y.score);
            prop_assert!(y.score <= 100);
            let rank = |d: Decision| match d { Decision::Allow => 0, Decision::Review => 1, Decision::Deny => 2 };
            prop_assert!(rank(x.decision) <= rank(y.decision));
        }
    }
}
