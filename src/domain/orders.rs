//! Order rules with no I/O: the status machine (which moves are allowed,
//! and why a refused one is refused), payment status, and order totals in
//! exact integer arithmetic.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed by the customer; stock held.
    Placed,
    /// Accepted by the store.
    Confirmed,
    /// Some lines shipped.
    PartiallyFulfilled,
    /// Everything shipped or delivered.
    Fulfilled,
    /// Done: nothing more will happen but returns.
    Completed,
    Cancelled,
    /// Paused by staff (e.g. a fraud check); resumes to where it was.
    OnHold,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Placed,
        OrderStatus::Confirmed,
        OrderStatus::PartiallyFulfilled,
        OrderStatus::Fulfilled,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::OnHold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::PartiallyFulfilled => "partially_fulfilled",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::OnHold => "on_hold",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Checks a move from `from` to `to`. `held_from` is the status an order
/// on hold came from (where "release" returns to). Shipping moves
/// (partially fulfilled, fulfilled) are made by fulfilment, not by hand.
pub fn transition(from: OrderStatus, to: OrderStatus, held_from: Option<OrderStatus>) -> Result<(), Refused> {
    use OrderStatus::*;
    let ok = match (from, to) {
        (Placed, Confirmed) => true,
        (Placed | Confirmed, Cancelled) => true,
        (Placed | Confirmed | PartiallyFulfilled, OnHold) => true,
        (OnHold, back) => {
            held_from == Some(back) || back == Cancelled && held_from.is_some_and(|h| h != PartiallyFulfilled)
        }
        (Confirmed | PartiallyFulfilled, PartiallyFulfilled | Fulfilled) => true,
        (Fulfilled, Completed) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let why = match (from, to) {
        (a, b) if a == b => format!("the order is already {}", a.as_str()),
        (Cancelled | Completed, _) => format!("a {} order does not change any more", from.as_str()),
        (PartiallyFulfilled | Fulfilled, Cancelled) => {
            "shipped goods cannot be cancelled; create a return instead".to_string()
        }
        (OnHold, _) => format!(
            "an order on hold resumes to {} (or is cancelled)",
            held_from.map_or("its previous status", |h| h.as_str())
        ),
        (_, PartiallyFulfilled | Fulfilled) => "fulfilment moves come from shipments of a confirmed order".to_string(),
        _ => format!("an order cannot go from {} to {}", from.as_str(), to.as_str()),
    };
    Err(Refused(why))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid yet (pay later, or the payment step is still open).
    Unpaid,
    Authorized,
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Unpaid,
        PaymentStatus::Authorized,
        PaymentStatus::PartiallyPaid,
        PaymentStatus::Paid,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
        PaymentStatus::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::PartiallyPaid => "partially_paid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// An order's money, in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    pub subtotal: i64,
    pub shipping: i64,
    pub discount: i64,
    /// Tax included in (or added to) the prices, per the channel.
    pub tax: i64,
    pub total: i64,
}

impl Totals {
    /// total = lines + shipping − discount (+ tax when prices exclude it).
    /// None on overflow or a negative result.
    pub fn compute(
        line_totals: &[i64],
        shipping: i64,
        discount: i64,
        tax: i64,
        prices_include_tax: bool,
    ) -> Option<Totals> {
        let subtotal = line_totals.iter().try_fold(0i64, |acc, x| acc.checked_add(*x))?;
        let mut total = subtotal.checked_add(shipping)?.checked_sub(discount)?;
        if !prices_include_tax {
            total = total.checked_add(tax)?;
        }
        (total >= 0 && subtotal >= 0).then_some(Totals { subtotal, shipping, discount, tax, total })
    }
}

/// A line's total: unit price × quantity, None on overflow.
pub fn line_total(unit: i64, quantity: i64) -> Option<i64> {
    unit.checked_mul(quantity)
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn the_happy_path_is_allowed() {
        for (a, b) in [
            (Placed, Confirmed),
            (Confirmed, PartiallyFulfilled),
            (PartiallyFulfilled, Fulfilled),
            (Fulfilled, Completed),
        ] {
            assert_eq!(transition(a, b, None), Ok(()), "{a:?} → {b:?}");
        }
        assert_eq!(transition(Confirmed, Fulfilled, None), Ok(()));
    }

    #[test]
    fn cancelling_stops_once_goods_ship() {
        assert!(transition(Placed, Cancelled, None).is_ok());
        assert!(transition(Confirmed, Cancelled, None).is_ok());
        let why = transition(PartiallyFulfilled, Cancelled, None).unwrap_err();
        assert!(why.0.contains("return"), "{why:?}");
        assert!(transition(Cancelled, Confirmed, None).unwrap_err().0.contains("does not change"));
        assert!(transition(Completed, Cancelled, None).is_err());
        assert!(transition(Placed, Placed, None).unwrap_err().0.contains("already"));
    }

    #[test]
    fn a_hold_resumes_where_it_was() {
        assert!(transition(Confirmed, OnHold, None).is_ok());
        assert!(transition(OnHold, Confirmed, Some(Confirmed)).is_ok());
        assert!(transition(OnHold, Placed, Some(Confirmed)).is_err());
        assert!(transition(OnHold, Cancelled, Some(Placed)).is_ok());
        assert!(transition(OnHold, Cancelled, Some(PartiallyFulfilled)).is_err());
        assert!(transition(Placed, Fulfilled, None).unwrap_err().0.contains("shipments"));
    }

    #[test]
    fn totals_add_up_exactly_and_refuse_overflow() {
        let t = Totals::compute(&[1999, 2 * 550], 490, 300, 0, true).unwrap();
        assert_eq!(t, Totals { subtotal: 3099, shipping: 490, discount: 300, tax: 0, total: 3289 });
        let us = Totals::compute(&[1000], 0, 0, 73, false).unwrap();
        assert_eq!(us.total, 1073, "tax added when prices exclude it");
        assert_eq!(Totals::compute(&[i64::MAX, 1], 0, 0, 0, true), None);
        assert_eq!(Totals::compute(&[100], 0, 200, 0, true), None, "never below zero");
        assert_eq!(line_total(i64::MAX / 2, 3), None);
    }
}
