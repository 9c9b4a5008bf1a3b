//! SQL for rate-limit counters, shared by every node through the database.

use super::Tx;

/// Adds one hit to the bucket's current window and returns the window's
/// total, in the caller's transaction.
pub async fn hit(tx: &mut Tx, store_id: &str, bucket: &str, window_start: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO rate_limits (store_id, bucket, window_start, hits) VALUES ($1, $2, $3, 1)
         ON CONFLICT (store_id, bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
         RETURNING hits",
    )
    .bind(store_id)
    .bind(bucket)
    .bind(window_start)
    .fetch_one(&mut **tx)
    .await
}

/// The current count without adding to it.
pub async fn count<'e, E>(ex: E, store_id: &str, bucket: &str, window_start: i64) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n: Option<i64> =
        sqlx::query_scalar("SELECT hits FROM rate_limits WHERE store_id = $1 AND bucket = $2 AND window_start = $3")
            .bind(store_id)
            .bind(bucket)
            .bind(window_start)
            .fetch_optional(ex)
            .await?;
    Ok(n.unwrap_or(0))
}

/// Drops windows that ended before `cutoff`.
pub async fn purge(tx: &mut Tx, cutoff: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(cutoff)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}
