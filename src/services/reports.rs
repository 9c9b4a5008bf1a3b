//! Accounting reports: accounts receivable ageing (what open orders still
//! owe, by how late it is) and money taken and refunded per payment method
//! and day.

use serde::Serialize;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::reports as sql;
use crate::domain::reports::{Bucket, days_overdue, due_at};

/// The most open orders an ageing report lists.
const AGEING_LIMIT: i64 = 10_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgeingLine {
    pub order_id: String,
    pub number: i64,
    /// The customer, or none for a guest.
    pub customer_id: Option<String>,
    pub currency: String,
    pub placed_at: i64,
    pub due_at: i64,
    pub days_overdue: i64,
    /// Total less captured and written off, in minor units.
    pub outstanding: i64,
    pub bucket: Bucket,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AgeingTotals {
    pub currency: String,
    pub current: i64,
    pub days_1_to_30: i64,
    pub days_31_to_60: i64,
    pub days_61_to_90: i64,
    pub over_90: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgeingReport {
    pub as_of: i64,
    /// Per currency.
    pub totals: Vec<AgeingTotals>,
    /// Oldest first.
    pub lines: Vec<AgeingLine>,
    /// True when more open orders exist than the report lists.
    pub truncated: bool,
}

/// Accounts receivable ageing at `as_of` (default now). Needs `ledger.read`.
pub async fn ageing(app: &App, ctx: &Ctx, as_of: Option<i64>) -> ServiceResult<AgeingReport> {
    ctx.actor.require(Permission::LedgerRead)?;
    let as_of = as_of.unwrap_or_else(now_ms);
    let rows = sql::owed(app.db.pool(), &ctx.store.id, AGEING_LIMIT + 1).await?;
    let truncated = rows.len() as i64 > AGEING_LIMIT;
    let mut totals: Vec<AgeingTotals> = Vec::new();
    let mut lines = Vec::new();
    for r in rows.into_iter().take(AGEING_LIMIT as usize) {
        let outstanding = r.total - r.captured - r.written_off;
        if outstanding <= 0 || r.placed_at > as_of {
            continue;
        }
        let due = due_at(r.placed_at, r.terms_days);
        let bucket = Bucket::of(due, as_of);
        let t = match totals.iter_mut().position(|t| t.currency == r.currency) {
            Some(i) => &mut totals[i],
            None => {
                totals.push(AgeingTotals { currency: r.currency.clone(), ..AgeingTotals::default() });
                totals.last_mut().ok_or(ServiceError::NotFound)?
            }
        };
        *match bucket {
            Bucket::Current => &mut t.current,
            Bucket::Days1To30 => &mut t.days_1_to_30,
            Bucket::Days31To60 => &mut t.days_31_to_60,
            Bucket::Days61To90 => &mut t.days_61_to_90,
            Bucket::Over90 => &mut t.over_90,
        } += outstanding;
        t.total += outstanding;
        lines.push(AgeingLine {
            order_id: r.id,
            number: r.number,
            customer_id: r.customer_id,
            currency: r.currency,
            placed_at: r.placed_at,
            due_at: due,
            days_overdue: days_overdue(due, as_of),
            outstanding,
            bucket,
        });
    }
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(AgeingReport { as_of, totals, lines, truncated })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayTotals {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    /// The payment method (provider code).
    pub method: String,
    pub currency: String,
    pub captured: i64,
    pub captures: i64,
    pub refunded: i64,
    pub refunds: i64,
    /// Captured less refunded.
    pub net: i64,
}

/// Parses `YYYY-MM-DD` as the start of that UTC day (Unix ms).
fn day_start(field: &str, text: &str) -> ServiceResult<i64> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| {
            ServiceError::Validation(crate::domain::validation::FieldErrors::single(
                field,
                "invalid_date",
                format!("{field} must be a date as YYYY-MM-DD"),
            ))
        })
}

/// Captures and refunds per day, method and currency, `from` to `to`
/// inclusive (default: the last 30 days). Needs `payments.read`.
pub async fn payments_by_day(
    app: &App,
    ctx: &Ctx,
    from: Option<&str>,
    to: Option<&str>,
) -> ServiceResult<Vec<DayTotals>> {
    ctx.actor.require(Permission::PaymentsRead)?;
    const DAY: i64 = 86_400_000;
    let today = now_ms() / DAY * DAY;
    let to = match to {
        Some(t) => day_start("to", t)?,
        None => today,
    } + DAY;
    let from = match from {
        Some(f) => day_start("from", f)?,
        None => to - 30 * DAY,
    };
    if from >= to || to - from > 366 * DAY {
        return Err(ServiceError::Validation(crate::domain::validation::FieldErrors::single(
            "from",
            "invalid_range",
            "from must be on or before to, at most a year apart",
        )));
    }
    let mut out: Vec<DayTotals> = Vec::new();
    for r in sql::by_day(app.db.pool(), &ctx.store.id, from, to).await? {
        let day = chrono::DateTime::from_timestamp_millis(r.day * DAY)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let i = match out.iter().position(|t| t.day == day && t.method == r.provider && t.currency == r.currency) {
            Some(i) => i,
            None => {
                out.push(DayTotals {
                    day,
                    method: r.provider.clone(),
                    currency: r.currency.clone(),
                    captured: 0,
                    captures: 0,
                    refunded: 0,
                    refunds: 0,
                    net: 0,
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        if r.kind == "capture" {
            t.captured += r.amount;
            t.captures += r.count;
        } else {
            t.refunded += r.amount;
            t.refunds += r.count;
        }
        t.net = t.captured - t.refunded;
    }
    Ok(out)
}
