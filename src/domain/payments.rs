//! Payment rules with no I/O: a payment's status follows from its amounts
//! (authorised, captured, refunded, and what in-flight operations have
//! reserved), and every operation is checked against them, so a refund
//! can never exceed what was captured and nothing is captured twice.
//! Storage repeats each check in the conditional update that reserves the
//! amount, which is what holds under concurrency.

use serde::{Deserialize, Serialize};

use super::orders::PaymentStatus as OrderPaymentStatus;

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Sent to the provider; its answer has not arrived yet.
    Processing,
    /// The buyer must complete a challenge (card step-up) first.
    RequiresAction,
    /// Waiting for money to arrive (bank transfer, cash on delivery, invoice).
    Awaiting,
    /// Funds held, nothing captured yet.
    Authorized,
    PartiallyCaptured,
    Captured,
    PartiallyRefunded,
    Refunded,
    /// Released without capturing anything.
    Voided,
    /// Declined or abandoned: nothing was taken.
    Failed,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 10] = [
        PaymentStatus::Processing,
        PaymentStatus::RequiresAction,
        PaymentStatus::Awaiting,
        PaymentStatus::Authorized,
        PaymentStatus::PartiallyCaptured,
        PaymentStatus::Captured,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
        PaymentStatus::Voided,
        PaymentStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "processing",
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Awaiting => "awaiting",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::PartiallyCaptured => "partially_captured",
            PaymentStatus::Captured => "captured",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The gate a payment is at before money can be captured. Once the gate is
/// `Open`, the status follows from the amounts alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Processing,
    RequiresAction,
    Awaiting,
    Open,
    /// The uncaptured remainder was released (void); captures end.
    Closed,
    Failed,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Processing => "processing",
            Gate::RequiresAction => "requires_action",
            Gate::Awaiting => "awaiting",
            Gate::Open => "open",
            Gate::Closed => "closed",
            Gate::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Gate> {
        [Gate::Processing, Gate::RequiresAction, Gate::Awaiting, Gate::Open, Gate::Closed, Gate::Failed]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// A payment's money, in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct Amounts {
    /// What the buyer authorised (or owes, for an awaited payment).
    pub amount: i64,
    pub captured: i64,
    pub refunded: i64,
    /// Reserved by captures sent to the provider and not yet answered.
    pub pending_capture: i64,
    /// Reserved by refunds sent to the provider and not yet answered.
    pub pending_refund: i64,
}

/// The payment's status for people and the API.
pub fn status(gate: Gate, a: &Amounts) -> PaymentStatus {
    match gate {
        Gate::Processing => PaymentStatus::Processing,
        Gate::RequiresAction => PaymentStatus::RequiresAction,
        Gate::Awaiting if a.captured == 0 => PaymentStatus::Awaiting,
        Gate::Failed => PaymentStatus::Failed,
        Gate::Closed if a.captured == 0 => PaymentStatus::Voided,
        _ if a.captured > 0 && a.refunded >= a.captured => PaymentStatus::Refunded,
        _ if a.refunded > 0 => PaymentStatus::PartiallyRefunded,
        Gate::Closed => PaymentStatus::Captured,
        _ if a.captured >= a.amount => PaymentStatus::Captured,
        _ if a.captured > 0 => PaymentStatus::PartiallyCaptured,
        Gate::Awaiting => PaymentStatus::Awaiting,
        Gate::Open => PaymentStatus::Authorized,
    }
}

/// Why an operation on a payment is refused: a code for clients and a
/// sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Result<(), Refused> {
    Err(Refused { code, message: message.into() })
}

/// Checks a capture of `amount`. Awaited payments (money arriving by
/// transfer or cash) are captured when it arrives.
pub fn check_capture(gate: Gate, a: &Amounts, amount: i64) -> Result<(), Refused> {
    if amount <= 0 {
        return refuse("invalid_amount", "a capture must be more than zero");
    }
    match gate {
        Gate::Open | Gate::Awaiting => {}
        Gate::Closed => return refuse("payment_closed", "the rest of this payment was released"),
        Gate::Failed => return refuse("payment_failed", "a failed payment has nothing to capture"),
        Gate::Processing => return refuse("payment_processing", "the provider has not answered yet"),
        Gate::RequiresAction => return refuse("requires_action", "the buyer has not completed the challenge"),
    }
    let left = a.amount - a.captured - a.pending_capture;
    if amount > left {
        return refuse(
            "exceeds_authorized",
            format!("{amount} exceeds the {left} left to capture of {} authorised", a.amount),
        );
    }
    Ok(())
}

/// Checks a refund of `amount`: never more than captured and not yet
/// refunded (or being refunded).
pub fn check_refund(gate: Gate, a: &Amounts, amount: i64) -> Result<(), Refused> {
    if matches!(gate, Gate::Failed | Gate::Processing | Gate::RequiresAction) || a.captured == 0 {
        return refuse("nothing_captured", "nothing was captured, so nothing can be refunded; void instead");
    }
    if amount <= 0 {
        return refuse("invalid_amount", "a refund must be more than zero");
    }
    let left = a.captured - a.refunded - a.pending_refund;
    if amount > left {
        return refuse("exceeds_captured", format!("{amount} exceeds the {left} captured and not yet refunded"));
    }
    Ok(())
}

/// Checks a void: releases what is authorised and not captured. Nothing
/// may be in flight, and something must be left to release.
pub fn check_void(gate: Gate, a: &Amounts) -> Result<(), Refused> {
    match gate {
        Gate::Open | Gate::Awaiting | Gate::RequiresAction => {}
        Gate::Closed => return refuse("already_voided", "this payment was already released"),
        Gate::Failed => return refuse("payment_failed", "a failed payment holds nothing"),
        Gate::Processing => return refuse("payment_processing", "the provider has not answered yet"),
    }
    if a.pending_capture > 0 {
        return refuse("capture_in_flight", "a capture is in flight");
    }
    if a.captured >= a.amount {
        return refuse("fully_captured", "everything was captured; refund instead");
    }
    Ok(())
}

/// An order's payment status from the sums over its payments.
pub fn order_status(total: i64, authorized_open: i64, captured: i64, refunded: i64) -> OrderPaymentStatus {
    if captured > 0 && refunded >= captured {
        OrderPaymentStatus::Refunded
    } else if refunded > 0 {
        OrderPaymentStatus::PartiallyRefunded
    } else if captured >= total && total > 0 {
        OrderPaymentStatus::Paid
    } else if captured > 0 {
        OrderPaymentStatus::PartiallyPaid
    } else if authorized_open > 0 {
        OrderPaymentStatus::Authorized
    } else {
        OrderPaymentStatus::Unpaid
    }
}

/// A card number's check digit (ISO/IEC 7812, Luhn).
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 12 || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The card's brand from its leading digits.
pub fn card_brand(digits: &str) -> &'static str {
    match digits.as_bytes() {
        [b'4', ..] => "visa",
        [b'5', b'1'..=b'5', ..] | [b'2', b'2'..=b'7', ..] => "mastercard",
        [b'3', b'4' | b'7', ..] => "amex",
        _ => "card",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn authorized(amount: i64) -> Amounts {
        Amounts { amount, ..Amounts::default() }
    }

    #[test]
    fn captures_stop_at_the_authorised_amount() {
        let mut a = authorized(1000);
        assert!(check_capture(Gate::Open, &a, 600).is_ok());
        a.captured = 600;
        assert_eq!(status(Gate::Open, &a), PaymentStatus::PartiallyCaptured);
        assert_eq!(check_capture(Gate::Open, &a, 401).unwrap_err().code, "exceeds_authorized");
        a.pending_capture = 400;
        assert_eq!(check_capture(Gate::Open, &a, 1).unwrap_err().code, "exceeds_authorized", "in flight counts");
        assert_eq!(check_capture(Gate::Open, &a, 0).unwrap_err().code, "invalid_amount");
        assert_eq!(check_capture(Gate::RequiresAction, &authorized(5), 5).unwrap_err().code, "requires_action");
    }

    #[test]
    fn refunds_never_exceed_what_was_captured() {
        let a = Amounts { amount: 1000, captured: 700, refunded: 200, pending_refund: 100, ..Amounts::default() };
        assert!(check_refund(Gate::Open, &a, 400).is_ok());
        assert_eq!(check_refund(Gate::Open, &a, 401).unwrap_err().code, "exceeds_captured");
        assert_eq!(check_refund(Gate::Open, &authorized(1000), 1).unwrap_err().code, "nothing_captured");
        let done = Amounts { amount: 1000, captured: 1000, refunded: 1000, ..Amounts::default() };
        assert_eq!(status(Gate::Open, &done), PaymentStatus::Refunded);
    }

    #[test]
    fn a_void_releases_only_the_uncaptured_rest() {
        assert!(check_void(Gate::Open, &authorized(1000)).is_ok());
        assert_eq!(status(Gate::Closed, &authorized(1000)), PaymentStatus::Voided);
        let partly = Amounts { amount: 1000, captured: 300, ..Amounts::default() };
        assert!(check_void(Gate::Open, &partly).is_ok());
        assert_eq!(status(Gate::Closed, &partly), PaymentStatus::Captured, "the captured part stays");
        assert_eq!(check_void(Gate::Closed, &partly).unwrap_err().code, "already_voided");
        let full = Amounts { amount: 1000, captured: 1000, ..Amounts::default() };
        assert_eq!(check_void(Gate::Open, &full).unwrap_err().code, "fully_captured");
        let flying = Amounts { amount: 1000, pending_capture: 10, ..Amounts::default() };
        assert_eq!(check_void(Gate::Open, &flying).unwrap_err().code, "capture_in_flight");
    }

    #[test]
    fn an_orders_payment_status_follows_its_payments() {
        use OrderPaymentStatus::*;
        assert_eq!(order_status(1000, 0, 0, 0), Unpaid);
        assert_eq!(order_status(1000, 1000, 0, 0), Authorized);
        assert_eq!(order_status(1000, 1000, 400, 0), PartiallyPaid);
        assert_eq!(order_status(1000, 0, 1000, 0), Paid);
        assert_eq!(order_status(1000, 0, 1000, 1), PartiallyRefunded);
        assert_eq!(order_status(1000, 0, 1000, 1000), Refunded);
    }

    #[test]
    fn card_numbers_are_checked_by_their_check_digit() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("4000000000003220"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid("4242"));
        assert!(!luhn_valid("4242x24242424242"));
        assert_eq!(card_brand("5555555555554444"), "mastercard");
        assert_eq!(card_brand("378282246310005"), "amex");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Capture(i64),
        Refund(i64),
        Void,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![(1i64..600).prop_map(Op::Capture), (1i64..600).prop_map(Op::Refund), Just(Op::Void)]
    }

    proptest! {
        /// Whatever operations are tried in whatever order, the checks keep
        /// refunded ≤ captured ≤ authorised, and a closed payment takes no
        /// more captures.
        #[test]
        fn no_sequence_breaks_the_invariants(amount in 1i64..2000, ops in prop::collection::vec(op(), 0..30)) {
            let mut gate = Gate::Open;
            let mut a = authorized(amount);
            for o in ops {
                match o {
                    Op::Capture(x) => if check_capture(gate, &a, x).is_ok() { a.captured += x },
                    Op::Refund(x) => if check_refund(gate, &a, x).is_ok() { a.refunded += x },
                    Op::Void => if check_void(gate, &a).is_ok() { gate = Gate::Closed },
                }
                prop_assert!(0 <= a.refunded && a.refunded <= a.captured && a.captured <= a.amount);
                if gate == Gate::Closed {
                    prop_assert!(check_capture(gate, &a, 1).is_err());
                }
            }
        }
    }
}
