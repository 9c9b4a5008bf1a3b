//! Payment providers: each way of collecting money behind one trait, so
//! adding a processor touches one place. Built in, all working offline:
//! - `test_card`, a card processor that behaves like a real one for the
//!   test numbers below (approvals, declines with reasons, a step-up
//!   challenge, a network time-out whose charge went through);
//! - `bank_transfer`, `cash_on_delivery` and `invoice`, which wait for the
//!   money and are captured when staff record it arriving.
//!
//! Card numbers and security codes stop here: a provider answers with a
//! summary (brand, last four digits, expiry) and its own reference, and
//! that is all Oxcart keeps. Every call carries a key derived from the
//! operation, and providers treat a repeated key as the same request.

use std::collections::HashSet;
use std::sync::Mutex;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::money::Currency;
use crate::domain::payments::{card_brand, luhn_valid};

/// Card details as the buyer typed them. Never stored, never logged: the
/// `Debug` form shows the last four digits only.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// The card number (spaces allowed).
    #[serde(deserialize_with = "secret_digits")]
    #[schema(value_type = String)]
    pub number: String,
    pub exp_month: u32,
    pub exp_year: u32,
    /// The security code.
    #[serde(deserialize_with = "secret_digits")]
    #[schema(value_type = String)]
    pub cvc: String,
    #[serde(default)]
    pub holder: String,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Card(…{})", self.last4())
    }
}

impl Card {
    /// The digits alone.
    pub fn digits(&self) -> String {
        self.number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
    }

    pub fn last4(&self) -> String {
        let d = self.digits();
        d[d.len().saturating_sub(4)..].to_string()
    }
}

/// Reads a card number or code without ever echoing it in an error (serde's
/// messages quote the value they refuse).
fn secret_digits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d) {
        Ok(Value::String(s)) => Ok(s),
        Ok(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("expected a string of digits")),
    }
}

/// What a provider is asked to authorise.
pub struct Authorize<'a> {
    /// Idempotency key: the same key is the same request.
    pub key: &'a str,
    pub amount: i64,
    pub currency: Currency,
    /// The order number, for statements and transfer references.
    pub reference: &'a str,
    pub card: Option<&'a Card>,
}

/// A provider's answer to an authorisation.
#[derive(Debug, Clone)]
pub enum Authorization {
    Authorized {
        provider_ref: String,
        details: Value,
    },
    /// The buyer must pass a challenge (3-D Secure) before it is authorised.
    RequiresAction {
        provider_ref: String,
        details: Value,
    },
    /// Nothing is held; money is expected to arrive (instructions in details).
    Awaiting {
        provider_ref: String,
        details: Value,
    },
    /// Accepted for processing; the outcome comes later by the provider's
    /// signed webhook (`charge.succeeded` or `charge.failed`).
    Pending {
        provider_ref: String,
        details: Value,
    },
    Declined {
        code: &'static str,
        message: String,
        details: Value,
    },
}

/// A provider call that did not get an answer, or was refused as asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// No answer in time: the operation may or may not have happened.
    #[error("the payment provider did not answer in time")]
    Timeout,
    /// The request was invalid (a card number that cannot exist).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The provider refused the operation (a capture it no longer allows).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
}

pub type ProviderResult<T> = Result<T, ProviderError>;

pub trait PaymentProvider: Send + Sync {
    /// The code payments name it by.
    fn code(&self) -> &'static str;
    /// Whether the buyer gives card details.
    fn takes_cards(&self) -> bool;
    /// Whether an authorisation holds funds to capture later (cards), or
    /// only records money expected (transfers, cash, invoices).
    fn holds_funds(&self) -> bool;
    fn authorize<'a>(&'a self, req: Authorize<'a>) -> BoxFuture<'a, ProviderResult<Authorization>>;
    /// The buyer's answer to a step-up challenge.
    fn complete_action<'a>(
        &'a self,
        provider_ref: &'a str,
        approved: bool,
    ) -> BoxFuture<'a, ProviderResult<Authorization>>;
    fn capture<'a>(&'a self, key: &'a str, provider_ref: &'a str, amount: i64) -> BoxFuture<'a, ProviderResult<()>>;
    fn void<'a>(&'a self, key: &'a str, provider_ref: &'a str) -> BoxFuture<'a, ProviderResult<()>>;
    fn refund<'a>(&'a self, key: &'a str, provider_ref: &'a str, amount: i64) -> BoxFuture<'a, ProviderResult<()>>;
    /// What became of an authorisation sent with `key` whose answer was
    /// lost (None: the provider has no record of it, so nothing happened).
    /// A provider that cannot look answers `Timeout`: nobody can tell, and
    /// the operation stays pending rather than be failed wrongly.
    fn lookup<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, ProviderResult<Option<Authorization>>> {
        Box::pin(async { Err(ProviderError::Timeout) })
    }
}

/// Test card numbers and what the processor does with them. Any other
/// number that passes the check digit is approved.
pub const TEST_CARDS: &[(&str, &str)] = &[
    ("4242424242424242", "approved"),
    ("5555555555554444", "approved (Mastercard)"),
    ("4000000000000002", "declined: card_declined"),
    ("4000000000009995", "declined: insufficient_funds"),
    ("4000000000000069", "declined: expired_card"),
    ("4000000000000127", "declined: incorrect_cvc"),
    ("4000000000003220", "requires a step-up challenge"),
    ("4000000000000119", "the first answer times out; the charge went through"),
    ("4000000000000077", "accepted; the outcome arrives later by signed webhook"),
];

/// The test card processor. Stateless but for remembering which keys'
/// first answers it "lost", so a retry with the same key gets the answer,
/// and the answers it gave (for `lookup`, as a processor's records would).
#[derive(Default)]
pub struct TestCardProcessor {
    timed_out: Mutex<HashSet<String>>,
    answers: Mutex<std::collections::HashMap<String, Authorization>>,
}

/// Days an order paid by `invoice` (pay later) has to pay.
pub const INVOICE_TERMS_DAYS: i64 = 14;

/// How many answers the test processor remembers for lookups.
const REMEMBERED: usize = 100_000;

/// A reference the processor derives from the key: the same key always
/// names the same charge. It carries the scenario so later calls on it
/// behave alike.
fn charge_ref(key: &str, scenario: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    format!("ch_{scenario}_{}", &hex::encode(h)[..24])
}

fn card_details(card: &Card, digits: &str) -> Value {
    json!({ "brand": card_brand(digits), "last4": card.last4(), "exp_month": card.exp_month, "exp_year": card.exp_year })
}

impl TestCardProcessor {
    fn decide(&self, req: &Authorize<'_>) -> ProviderResult<Authorization> {
        let card = req
            .card
            .ok_or(ProviderError::Invalid { code: "card_required", message: "card details are required".into() })?;
        let digits = card.digits();
        if !luhn_valid(&digits) {
            return Err(ProviderError::Invalid {
                code: "invalid_card_number",
                message: "the card number is not valid".into(),
            });
        }
        if !(1..=12).contains(&card.exp_month) || !(2000..=2100).contains(&card.exp_year) {
            return Err(ProviderError::Invalid {
                code: "invalid_expiry",
                message: "the expiry date is not valid".into(),
            });
        }
        if !(3..=4).contains(&card.cvc.len()) || !card.cvc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProviderError::Invalid {
                code: "invalid_cvc",
                message: "the security code must be 3 or 4 digits".into(),
            });
        }
        let details = card_details(card, &digits);
        let now = chrono::Utc::now();
        let expired = {
            use chrono::Datelike;
            (card.exp_year as i32, card.exp_month) < (now.year(), now.month())
        };
        let declined = |code: &'static str, message: &str| {
            Ok(Authorization::Declined { code, message: message.into(), details: details.clone() })
        };
        if expired {
            return declined("expired_card", "the card has expired");
        }
        match digits.as_str() {
            "4000000000000002" => declined("card_declined", "the card was declined"),
            "4000000000009995" => declined("insufficient_funds", "the card has insufficient funds"),
            "4000000000000069" => declined("expired_card", "the card has expired"),
            "4000000000000127" => declined("incorrect_cvc", "the security code is incorrect"),
            "4000000000003220" => {
                Ok(Authorization::RequiresAction { provider_ref: charge_ref(req.key, "3ds"), details })
            }
            "4000000000000077" => Ok(Authorization::Pending { provider_ref: charge_ref(req.key, "async"), details }),
            "4000000000000119" => {
                let mut seen = self.timed_out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let charged = Authorization::Authorized { provider_ref: charge_ref(req.key, "ok"), details };
                if seen.insert(req.key.to_string()) {
                    // The charge went through; only its answer is lost.
                    self.remember(req.key, &charged);
                    return Err(ProviderError::Timeout);
                }
                Ok(charged)
            }
            _ => Ok(Authorization::Authorized { provider_ref: charge_ref(req.key, "ok"), details }),
        }
    }
}

impl TestCardProcessor {
    fn remember(&self, key: &str, answer: &Authorization) {
        let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if answers.len() >= REMEMBERED {
            answers.clear();
        }
        answers.insert(key.to_string(), answer.clone());
    }
}

fn known_charge(provider_ref: &str) -> ProviderResult<()> {
    if provider_ref.starts_with("ch_") {
        Ok(())
    } else {
        Err(ProviderError::Refused { code: "unknown_charge", message: "no such charge".into() })
    }
}

impl PaymentProvider for TestCardProcessor {
    fn code(&self) -> &'static str {
        "test_card"
    }

    fn takes_cards(&self) -> bool {
        true
    }

    fn holds_funds(&self) -> bool {
        true
    }

    fn authorize<'a>(&'a self, req: Authorize<'a>) -> BoxFuture<'a, ProviderResult<Authorization>> {
        Box::pin(async move {
            let answer = self.decide(&req);
            if let Ok(a) = &answer {
                self.remember(req.key, a);
            }
            answer
        })
    }

    fn lookup<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ProviderResult<Option<Authorization>>> {
        Box::pin(async move {
            let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Ok(answers.get(key).cloned())
        })
    }

    fn complete_action<'a>(
        &'a self,
        provider_ref: &'a str,
        approved: bool,
    ) -> BoxFuture<'a, ProviderResult<Authorization>> {
        Box::pin(async move {
            known_charge(provider_ref)?;
            Ok(if approved {
                Authorization::Authorized { provider_ref: provider_ref.to_string(), details: json!({}) }
            } else {
                Authorization::Declined {
                    code: "authentication_failed",
                    message: "the card holder did not pass the challenge".into(),
                    details: json!({}),
                }
            })
        })
    }

    fn capture<'a>(&'a self, _key: &'a str, provider_ref: &'a str, _amount: i64) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async move { known_charge(provider_ref) })
    }

    fn void<'a>(&'a self, _key: &'a str, provider_ref: &'a str) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async move { known_charge(provider_ref) })
    }

    fn refund<'a>(&'a self, _key: &'a str, provider_ref: &'a str, _amount: i64) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async move { known_charge(provider_ref) })
    }
}

/// Money that arrives by itself: a bank transfer (with a reference to
/// quote), cash on delivery, or an invoice paid within its terms. Nothing
/// is held; staff record the money when it arrives, which captures it.
pub struct Offline {
    code: &'static str,
}

pub const BANK_TRANSFER: Offline = Offline { code: "bank_transfer" };
pub const CASH_ON_DELIVERY: Offline = Offline { code: "cash_on_delivery" };
pub const INVOICE: Offline = Offline { code: "invoice" };

/// A transfer reference: the order number and a check digit pair (ISO
/// 7064 MOD 97-10, as creditor references use), so a mistyped reference
/// is noticed at reconciliation.
pub fn transfer_reference(order_number: &str) -> String {
    let digits: String = order_number.chars().filter(char::is_ascii_digit).collect();
    let n = digits.bytes().fold(0u64, |acc, b| (acc * 10 + u64::from(b - b'0')) % 97);
    let check = 98 - (n * 100) % 97;
    format!("OX{digits}{check:02}")
}

impl PaymentProvider for Offline {
    fn code(&self) -> &'static str {
        self.code
    }

    fn takes_cards(&self) -> bool {
        false
    }

    fn holds_funds(&self) -> bool {
        false
    }

    fn authorize<'a>(&'a self, req: Authorize<'a>) -> BoxFuture<'a, ProviderResult<Authorization>> {
        Box::pin(async move {
            let reference = transfer_reference(req.reference);
            let details = match self.code {
                "bank_transfer" => {
                    json!({ "reference": reference, "instructions": "Transfer the amount quoting the reference" })
                }
                "invoice" => json!({ "reference": reference, "terms_days": INVOICE_TERMS_DAYS }),
                _ => json!({ "reference": reference, "instructions": "Pay the courier on delivery" }),
            };
            Ok(Authorization::Awaiting { provider_ref: reference, details })
        })
    }

    fn complete_action<'a>(&'a self, _: &'a str, _: bool) -> BoxFuture<'a, ProviderResult<Authorization>> {
        Box::pin(async {
            Err(ProviderError::Refused { code: "no_challenge", message: "this method has no challenge".into() })
        })
    }

    fn capture<'a>(&'a self, _: &'a str, _: &'a str, _: i64) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn void<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn refund<'a>(&'a self, _: &'a str, _: &'a str, _: i64) -> BoxFuture<'a, ProviderResult<()>> {
        // Money paid by transfer or cash is returned by staff (a transfer
        // from the bank, cash at the counter); this records that it was.
        Box::pin(async { Ok(()) })
    }
}

/// Balances the store itself keeps (gift cards, store credit): the payment
/// service moves them in its own transactions, so the provider's calls
/// have nothing to do.
pub struct Internal {
    code: &'static str,
}

pub const GIFT_CARD: Internal = Internal { code: "gift_card" };
pub const STORE_CREDIT: Internal = Internal { code: "store_credit" };

impl PaymentProvider for Internal {
    fn code(&self) -> &'static str {
        self.code
    }

    fn takes_cards(&self) -> bool {
        false
    }

    fn holds_funds(&self) -> bool {
        false
    }

    fn authorize<'a>(&'a self, _: Authorize<'a>) -> BoxFuture<'a, ProviderResult<Authorization>> {
        Box::pin(async {
            Err(ProviderError::Refused {
                code: "internal_balance",
                message: "balances are spent by the payment service".into(),
            })
        })
    }

    fn complete_action<'a>(&'a self, _: &'a str, _: bool) -> BoxFuture<'a, ProviderResult<Authorization>> {
        Box::pin(async {
            Err(ProviderError::Refused { code: "no_challenge", message: "this method has no challenge".into() })
        })
    }

    fn capture<'a>(&'a self, _: &'a str, _: &'a str, _: i64) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn void<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn refund<'a>(&'a self, _: &'a str, _: &'a str, _: i64) -> BoxFuture<'a, ProviderResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The providers of an installation.
#[derive(Default)]
pub struct Providers {
    test_card: TestCardProcessor,
}

impl Providers {
    pub fn by_code(&self, code: &str) -> Option<&dyn PaymentProvider> {
        match code {
            "test_card" => Some(&self.test_card),
            "bank_transfer" => Some(&BANK_TRANSFER),
            "cash_on_delivery" => Some(&CASH_ON_DELIVERY),
            "invoice" => Some(&INVOICE),
            "gift_card" => Some(&GIFT_CARD),
            "store_credit" => Some(&STORE_CREDIT),
            _ => None,
        }
    }

    pub fn codes(&self) -> [&'static str; 6] {
        ["test_card", "bank_transfer", "cash_on_delivery", "invoice", "gift_card", "store_credit"]
    }

    /// Whether the method spends a balance the store keeps.
    pub fn is_balance(code: &str) -> bool {
        matches!(code, "gift_card" | "store_credit")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str) -> Card {
        Card { number: number.into(), exp_month: 12, exp_year: 2099, cvc: "123".into(), holder: "A".into() }
    }

    fn auth<'a>(key: &'a str, c: &'a Card) -> Authorize<'a> {
        Authorize { key, amount: 1000, currency: Currency::EUR, reference: "1001", card: Some(c) }
    }

    #[tokio::test]
    async fn the_test_processor_answers_each_test_number_as_documented() {
        let p = TestCardProcessor::default();
        let ok = card("4242 4242 4242 4242");
        assert!(matches!(p.authorize(auth("k1", &ok)).await, Ok(Authorization::Authorized { .. })));
        let poor = card("4000000000009995");
        assert!(matches!(
            p.authorize(auth("k2", &poor)).await,
            Ok(Authorization::Declined { code: "insufficient_funds", .. })
        ));
        let challenged = card("4000000000003220");
        let Ok(Authorization::RequiresAction { provider_ref, .. }) = p.authorize(auth("k3", &challenged)).await else {
            panic!("a challenge")
        };
        assert!(matches!(p.complete_action(&provider_ref, true).await, Ok(Authorization::Authorized { .. })));
        let slow = card("4000000000000119");
        assert!(matches!(p.authorize(auth("k4", &slow)).await, Err(ProviderError::Timeout)));
        assert!(
            matches!(p.authorize(auth("k4", &slow)).await, Ok(Authorization::Authorized { .. })),
            "a retry with the same key finds the charge"
        );
        let bad = card("4242424242424241");
        assert!(matches!(p.authorize(auth("k5", &bad)).await, Err(ProviderError::Invalid { .. })));
        let old = Card { exp_year: 2020, ..card("4242424242424242") };
        assert!(matches!(
            p.authorize(auth("k6", &old)).await,
            Ok(Authorization::Declined { code: "expired_card", .. })
        ));
    }

    #[test]
    fn a_card_never_shows_its_number_when_printed() {
        let c = card("4242424242424242");
        assert_eq!(format!("{c:?}"), "Card(…4242)");
        let err = serde_json::from_str::<Card>(
            r#"{"number": [4242424242424242], "exp_month": 1, "exp_year": 2030, "cvc": "1"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("4242"), "{err}");
    }

    #[test]
    fn transfer_references_carry_a_check_number() {
        let r = transfer_reference("1001");
        assert!(r.starts_with("OX1001"));
        let digits: String = r.chars().filter(char::is_ascii_digit).collect();
        let rem = digits.bytes().fold(0u64, |acc, b| (acc * 10 + u64::from(b - b'0')) % 97);
        assert_eq!(rem, 1, "MOD 97-10 holds for the whole reference");
    }
}
