//! Rate limits on sign-in, sign-up, password reset and token endpoints,
//! counted in the database so every node enforces the same budget.
//! Fixed windows: simple, and a burst at a window edge is at most twice the
//! limit, which is acceptable for abuse control.

use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::rate_limits;

/// A budget: at most `limit` hits per `window_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub limit: i64,
    pub window_ms: i64,
}

pub const LOGIN_PER_ACCOUNT: Limit = Limit { limit: 5, window_ms: 15 * 60 * 1000 };
/// The back-off tier: an account that keeps failing is locked for the rest
/// of the day, not just the quarter hour.
pub const LOGIN_PER_ACCOUNT_DAY: Limit = Limit { limit: 20, window_ms: 24 * 60 * 60 * 1000 };
pub const LOGIN_PER_ADDRESS: Limit = Limit { limit: 30, window_ms: 15 * 60 * 1000 };
pub const SIGNUP_PER_ADDRESS: Limit = Limit { limit: 10, window_ms: 60 * 60 * 1000 };
pub const RESET_PER_ADDRESS: Limit = Limit { limit: 10, window_ms: 60 * 60 * 1000 };
pub const RESET_PER_ACCOUNT: Limit = Limit { limit: 3, window_ms: 60 * 60 * 1000 };
pub const TOKENS_PER_PRINCIPAL: Limit = Limit { limit: 20, window_ms: 60 * 60 * 1000 };

fn window(limit: Limit, now: i64) -> (i64, u64) {
    let start = now - now.rem_euclid(limit.window_ms);
    let retry_after = ((start + limit.window_ms - now) as u64).div_ceil(1000).max(1);
    (start, retry_after)
}

/// Counts a hit and refuses once the window's budget is spent.
pub async fn hit(app: &App, store_id: &str, bucket: &str, limit: Limit) -> ServiceResult<()> {
    let (start, retry_after) = window(limit, now_ms());
    let mut tx = app.db.begin().await?;
    let hits = rate_limits::hit(&mut tx, store_id, bucket, start).await?;
    tx.commit().await?;
    if hits > limit.limit { Err(ServiceError::RateLimited { retry_after_secs: retry_after }) } else { Ok(()) }
}

/// Refuses if the budget is already spent, without counting (used to lock
/// an account after failed sign-ins, which are counted separately).
pub async fn check(app: &App, store_id: &str, bucket: &str, limit: Limit) -> ServiceResult<()> {
    let (start, retry_after) = window(limit, now_ms());
    let hits = rate_limits::count(app.db.pool(), store_id, bucket, start).await?;
    if hits >= limit.limit { Err(ServiceError::RateLimited { retry_after_secs: retry_after }) } else { Ok(()) }
}

/// Refuses sign-in to an account with too many recent failures: 5 in a
/// quarter hour locks it for the rest of that quarter hour, 20 in a day for
/// the rest of the day.
pub async fn check_failures(app: &App, store_id: &str, account_key: &str) -> ServiceResult<()> {
    check(app, store_id, &format!("login-fail:{account_key}"), LOGIN_PER_ACCOUNT).await?;
    check(app, store_id, &format!("login-fail-day:{account_key}"), LOGIN_PER_ACCOUNT_DAY).await
}

/// Counts a failed sign-in against the account in both tiers.
pub async fn record_failure(app: &App, store_id: &str, account_key: &str) {
    for (bucket, limit) in [("login-fail", LOGIN_PER_ACCOUNT), ("login-fail-day", LOGIN_PER_ACCOUNT_DAY)] {
        // Over-limit answers are ignored here: the next check refuses.
        let _ = hit(app, store_id, &format!("{bucket}:{account_key}"), limit).await;
    }
}
