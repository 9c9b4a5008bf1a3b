//! Return rules with no I/O: why goods come back, what happens to them,
//! the status machine of a return, and how much is owed for them.
//!
//! The refund is what the customer paid for the units, never a list
//! price: each line's total after its discount (promotions were shared
//! onto lines at checkout), plus its tax when it was added on top, plus a
//! share of the shipping in proportion to the goods' value. Shares are
//! cumulative (`total × returned / all`, rounded down), so returning an
//! order bit by bit refunds exactly what returning it at once would, and
//! never more than was paid.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    Damaged,
    WrongItem,
    NotAsDescribed,
    NoLongerNeeded,
    Other,
}

impl ReturnReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::Damaged => "damaged",
            ReturnReason::WrongItem => "wrong_item",
            ReturnReason::NotAsDescribed => "not_as_described",
            ReturnReason::NoLongerNeeded => "no_longer_needed",
            ReturnReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ReturnReason> {
        [
            ReturnReason::Damaged,
            ReturnReason::WrongItem,
            ReturnReason::NotAsDescribed,
            ReturnReason::NoLongerNeeded,
            ReturnReason::Other,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// What the customer wants for the goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Refund,
    /// The same items again (a replacement); nothing is refunded.
    Exchange,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Refund => "refund",
            Resolution::Exchange => "exchange",
        }
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        match s {
            "refund" => Some(Resolution::Refund),
            "exchange" => Some(Resolution::Exchange),
            _ => None,
        }
    }
}

/// What inspection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Back on the shelf.
    Resellable,
    /// Written off.
    Damaged,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Resellable => "resellable",
            Condition::Damaged => "damaged",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Asked for by the customer.
    Requested,
    /// Accepted: the customer may send the goods.
    Approved,
    Rejected,
    /// Goods arrived and were inspected; the refund owed is recorded.
    Received,
    /// Withdrawn by the customer or staff before the goods arrived.
    Cancelled,
}

impl ReturnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Received => "received",
            ReturnStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ReturnStatus> {
        [
            ReturnStatus::Requested,
            ReturnStatus::Approved,
            ReturnStatus::Rejected,
            ReturnStatus::Received,
            ReturnStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether its units still count against what may be returned.
    pub fn holds_units(self) -> bool {
        matches!(self, ReturnStatus::Requested | ReturnStatus::Approved | ReturnStatus::Received)
    }
}

/// Checks a move of a return; the reason when refused.
pub fn transition(from: ReturnStatus, to: ReturnStatus) -> Result<(), String> {
    use ReturnStatus::*;
    match (from, to) {
        (Requested, Approved | Rejected | Cancelled) | (Approved, Received | Cancelled) => Ok(()),
        (Requested, Received) => Err("approve the return before receiving the goods".into()),
        (a, b) if a == b => Err(format!("the return is already {}", a.as_str())),
        (a, b) => Err(format!("a {} return cannot become {}", a.as_str(), b.as_str())),
    }
}

/// `total × part / whole`, rounded down; 0 when `whole` is 0.
fn share(total: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    (i128::from(total) * i128::from(part) / i128::from(whole)) as i64
}

/// A line as paid, and how much of it came back before and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidLine {
    pub quantity: i64,
    /// Line total after its discount (tax inside when prices include it).
    pub paid: i64,
    /// Tax added on top (prices without tax); 0 otherwise.
    pub tax_on_top: i64,
    /// Units refunded by earlier returns.
    pub refunded_before: i64,
    /// Units refunded by this return.
    pub now: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundAmount {
    /// For the goods (after their discounts, with their tax).
    pub goods: i64,
    /// The shipping's share.
    pub shipping: i64,
    pub total: i64,
}

/// What is owed for the units coming back now. `shipping` is what the
/// order charged for shipping (with its tax).
pub fn refund(lines: &[PaidLine], shipping: i64) -> RefundAmount {
    let mut goods = 0i64;
    let (mut value_all, mut value_before, mut value_after) = (0i64, 0i64, 0i64);
    for l in lines {
        let owed = l.paid + l.tax_on_top;
        let before = share(owed, l.refunded_before, l.quantity);
        let after = share(owed, l.refunded_before + l.now, l.quantity);
        goods += after - before;
        value_all += owed;
        value_before += before;
        value_after += after;
    }
    let shipping = share(shipping, value_after, value_all) - share(shipping, value_before, value_all);
    RefundAmount { goods, shipping, total: goods + shipping }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: i64, paid: i64, before: i64, now: i64) -> PaidLine {
        PaidLine { quantity, paid, tax_on_top: 0, refunded_before: before, now }
    }

    #[test]
    fn a_whole_return_refunds_exactly_what_was_paid() {
        let lines = [line(3, 1000, 0, 3), line(1, 499, 0, 1)];
        assert_eq!(refund(&lines, 490), RefundAmount { goods: 1499, shipping: 490, total: 1989 });
    }

    #[test]
    fn returning_bit_by_bit_adds_up_to_the_whole() {
        // 3 units that cost 10.00 together (after a discount), shipping 4.90.
        let mut total = 0;
        for k in 0..3 {
            total += refund(&[line(3, 1000, k, 1)], 490).total;
        }
        assert_eq!(total, 1490, "never a cent more or less than paid");
        assert_eq!(refund(&[line(3, 1000, 0, 1)], 490), RefundAmount { goods: 333, shipping: 163, total: 496 });
    }

    #[test]
    fn discounts_and_added_tax_are_in_what_is_owed() {
        let l = PaidLine { quantity: 2, paid: 1800, tax_on_top: 160, refunded_before: 0, now: 1 };
        assert_eq!(refund(&[l], 0).goods, 980);
    }

    #[test]
    fn the_return_machine() {
        use ReturnStatus::*;
        assert!(transition(Requested, Approved).is_ok());
        assert!(transition(Approved, Received).is_ok());
        assert!(transition(Requested, Received).unwrap_err().contains("approve"));
        assert!(transition(Received, Cancelled).is_err());
        assert!(transition(Rejected, Approved).is_err());
        assert!(!Rejected.holds_units() && Received.holds_units());
    }
}
