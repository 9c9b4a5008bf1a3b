//! Accounting reports' rules: which ageing bucket an amount owed falls in.

use serde::Serialize;

/// Days past the due date, in the usual 30-day bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Not yet due.
    Current,
    #[serde(rename = "days_1_to_30")]
    Days1To30,
    #[serde(rename = "days_31_to_60")]
    Days31To60,
    #[serde(rename = "days_61_to_90")]
    Days61To90,
    #[serde(rename = "over_90")]
    Over90,
}

const DAY_MS: i64 = 86_400_000;

impl Bucket {
    pub const ALL: [Bucket; 5] =
        [Bucket::Current, Bucket::Days1To30, Bucket::Days31To60, Bucket::Days61To90, Bucket::Over90];

    /// The bucket of an amount due at `due_at`, seen at `as_of` (Unix ms).
    /// A day late starts the moment the due date has fully passed.
    pub fn of(due_at: i64, as_of: i64) -> Bucket {
        match days_overdue(due_at, as_of) {
            d if d <= 0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            _ => Bucket::Over90,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "days_1_to_30",
            Bucket::Days31To60 => "days_31_to_60",
            Bucket::Days61To90 => "days_61_to_90",
            Bucket::Over90 => "over_90",
        }
    }
}

/// Whole days past `due_at` (0 or less: not overdue).
pub fn days_overdue(due_at: i64, as_of: i64) -> i64 {
    if as_of <= due_at { 0 } else { (as_of - due_at) / DAY_MS }
}

/// When an order's money is due: at once, or after the invoice's terms.
pub fn due_at(placed_at: i64, terms_days: i64) -> i64 {
    placed_at + terms_days.max(0) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_whole_days_past_due() {
        let due = 1_000 * DAY_MS;
        assert_eq!(Bucket::of(due, due - 1), Bucket::Current);
        assert_eq!(Bucket::of(due, due + DAY_MS - 1), Bucket::Current, "less than a day late");
        assert_eq!(Bucket::of(due, due + DAY_MS), Bucket::Days1To30);
        assert_eq!(Bucket::of(due, due + 30 * DAY_MS), Bucket::Days1To30);
        assert_eq!(Bucket::of(due, due + 31 * DAY_MS), Bucket::Days31To60);
        assert_eq!(Bucket::of(due, due + 61 * DAY_MS), Bucket::Days61To90);
        assert_eq!(Bucket::of(due, due + 91 * DAY_MS), Bucket::Over90);
    }

    #[test]
    fn buckets_serialise_as_their_names() {
        for b in Bucket::ALL {
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
        }
    }

    #[test]
    fn terms_move_the_due_date() {
        assert_eq!(due_at(0, 14), 14 * DAY_MS);
        assert_eq!(due_at(5, -3), 5, "no negative terms");
    }
}
