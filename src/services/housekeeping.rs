//! Retention: what is kept how long. Stale data is purged on a schedule by
//! the housekeeping worker (and on demand by `oxcart purge`): ended
//! sessions, spent one-time tokens, old rate-limit windows, idempotency
//! records past their replay window, sent e-mail (which holds personal
//! data), finished background jobs with their files, and media files no
//! row names (left by a crash mid-upload). Guest orders and carts join this list when they exist.

use serde::Serialize;

use super::{App, ServiceResult, now_ms};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Default, Serialize)]
pub struct Purged {
    pub sessions: u64,
    pub one_time_tokens: u64,
    pub rate_limit_windows: u64,
    pub idempotency_keys: u64,
    pub sent_mail: u64,
    pub finished_jobs: u64,
    pub unreferenced_media_files: u64,
}

pub async fn purge(app: &App) -> ServiceResult<Purged> {
    let now = now_ms();
    let r = &app.config.retention;
    let mut tx = app.db.begin().await?;
    let mut out = Purged::default();
    let mut run = async |sql: &str, cutoff: i64| -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(cutoff).execute(&mut *tx).await?.rows_affected())
    };
    out.sessions = run("DELETE FROM sessions WHERE expires_at < $1", now).await?;
    out.one_time_tokens = run("DELETE FROM one_time_tokens WHERE expires_at < $1", now).await?;
    out.rate_limit_windows = run("DELETE FROM rate_limits WHERE window_start < $1", now - DAY_MS).await?;
    out.idempotency_keys = run(
        "DELETE FROM idempotency_keys WHERE created_at < $1",
        now - i64::from(r.idempotency_hours) * 60 * 60 * 1000,
    )
    .await?;
    out.sent_mail = run(
        "DELETE FROM mail_outbox WHERE status <> 'pending' AND created_at < $1",
        now - i64::from(r.mail_days) * DAY_MS,
    )
    .await?;
    tx.commit().await?;
    // Jobs hold files in the blob store, deleted one job at a time.
    out.finished_jobs = super::jobs::purge(app, r.job_days).await? as u64;
    out.unreferenced_media_files = super::media::sweep_unreferenced(app).await?;
    Ok(out)
}
