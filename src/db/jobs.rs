//! SQL for background jobs. Workers on any node claim a queued job (or one
//! whose lease ran out: its node died) by stamping a lease, renew the lease
//! while they report progress, and finish only while they still hold it.

use sqlx::Row;

use super::{Db, Dialect};

#[derive(Debug, Clone)]
pub struct JobRow {
    pub store_id: String,
    pub id: String,
    pub kind: String,
    pub status: String,
    pub requested_by: String,
    pub options: String,
    pub input_key: Option<String>,
    pub output_key: Option<String>,
    pub done: i64,
    pub total: i64,
    pub report: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str =
    "store_id, id, kind, status, requested_by, options, input_key, output_key, done, total, report, error,
     attempts, created_at, started_at, finished_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<JobRow, sqlx::Error> {
    Ok(JobRow {
        store_id: r.try_get("store_id")?,
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        requested_by: r.try_get("requested_by")?,
        options: r.try_get("options")?,
        input_key: r.try_get("input_key")?,
        output_key: r.try_get("output_key")?,
        done: r.try_get("done")?,
        total: r.try_get("total")?,
        report: r.try_get("report")?,
        error: r.try_get("error")?,
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

pub async fn insert(db: &Db, j: &JobRow) -> Result<(), sqlx::Error> {
    db.write(sqlx::query(
        "INSERT INTO jobs (store_id, id, kind, status, requested_by, options, input_key, done, total, attempts, created_at)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, 0, 0, 0, $7)",
    )
    .bind(&j.store_id)
    .bind(&j.id)
    .bind(&j.kind)
    .bind(&j.requested_by)
    .bind(&j.options)
    .bind(&j.input_key)
    .bind(j.created_at))
    .await?;
    Ok(())
}

pub async fn get(db: &Db, store_id: &str, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The store's newest jobs first.
pub async fn recent(db: &Db, store_id: &str, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE store_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Claims the oldest job that is queued, or running under a lease that
/// expired, for `owner` until `lease_until`. Counts the attempt.
pub async fn claim(db: &Db, owner: &str, now: i64, lease_until: i64) -> Result<Option<JobRow>, sqlx::Error> {
    let lock = match db.dialect() {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1,
             started_at = COALESCE(started_at, $3)
         WHERE (store_id, id) IN (
             SELECT store_id, id FROM jobs
             WHERE status = 'queued' OR (status = 'running' AND lease_until < $3)
             ORDER BY created_at LIMIT 1 {lock})
         RETURNING {COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?;
    tx.commit().await?;
    Ok(row)
}

/// Records progress and extends the lease; false when `owner` lost it.
pub async fn progress(
    db: &Db,
    store_id: &str,
    id: &str,
    owner: &str,
    done: i64,
    total: i64,
    lease_until: i64,
) -> Result<bool, sqlx::Error> {
    let r = db
        .write(
            sqlx::query(
                "UPDATE jobs SET done = $1, total = $2, lease_until = $3
         WHERE store_id = $4 AND id = $5 AND lease_owner = $6 AND status = 'running'",
            )
            .bind(done)
            .bind(total)
            .bind(lease_until)
            .bind(store_id)
            .bind(id)
            .bind(owner),
        )
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a job (succeeded or failed) if `owner` still holds its lease.
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    db: &Db,
    store_id: &str,
    id: &str,
    owner: &str,
    status: &str,
    report: Option<&str>,
    output_key: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = db
        .write(
            sqlx::query(
                "UPDATE jobs SET status = $1, report = $2, output_key = $3, error = $4, finished_at = $5,
             lease_owner = NULL, lease_until = NULL
         WHERE store_id = $6 AND id = $7 AND lease_owner = $8 AND status = 'running'",
            )
            .bind(status)
            .bind(report)
            .bind(output_key)
            .bind(error)
            .bind(now)
            .bind(store_id)
            .bind(id)
            .bind(owner),
        )
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Finished jobs older than `before`: (store id, job id, input key, output key).
pub async fn finished_before(
    db: &Db,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, String, Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query(
        "SELECT store_id, id, input_key, output_key FROM jobs
         WHERE status IN ('succeeded', 'failed') AND finished_at < $1 LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("store_id")?, r.try_get("id")?, r.try_get("input_key")?, r.try_get("output_key")?)))
    .collect()
}

pub async fn delete(db: &Db, store_id: &str, id: &str) -> Result<(), sqlx::Error> {
    db.write(sqlx::query("DELETE FROM jobs WHERE store_id = $1 AND id = $2").bind(store_id).bind(id)).await?;
    Ok(())
}
