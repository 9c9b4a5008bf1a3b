//! SQL for idempotency records: `(store, principal, key) → request hash,
//! response`. The record is claimed at the start of the business
//! transaction and completed before its commit, so it commits (or rolls
//! back) together with the change it guards.

use sqlx::Row;

use super::Tx;

pub enum Claim {
    /// First time this key is seen: go ahead.
    Fresh,
    /// Seen before with the same request: here is the first response.
    Replay { status: u16, body: String },
    /// Seen before with a different request.
    Mismatch,
    /// Claimed but not completed (only possible if a caller forgot to
    /// complete inside the same transaction).
    InFlight,
}

/// Claims the key. On PostgreSQL a concurrent duplicate blocks on the
/// primary key until the first transaction ends, then sees its result; on
/// SQLite `BEGIN IMMEDIATE` already serialises the two.
pub async fn claim(
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> Result<Claim, sqlx::Error> {
    let claim = sqlx::query(
        "INSERT INTO idempotency_keys (store_id, principal, idem_key, request_hash, response_status, response_body, created_at)
         VALUES ($1, $2, $3, $4, 0, '', $5) ON CONFLICT DO NOTHING",
    )
    .bind(store_id)
    .bind(principal)
    .bind(key)
    .bind(request_hash)
    .bind(now);
    let inserted = tx.execute(claim).await?.rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let seen = sqlx::query(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys
         WHERE store_id = $1 AND principal = $2 AND idem_key = $3",
    )
    .bind(store_id)
    .bind(principal)
    .bind(key);
    let row = tx.fetch_optional(seen).await?.ok_or(sqlx::Error::RowNotFound)?;
    let stored_hash: String = row.try_get("request_hash")?;
    let status: i64 = row.try_get("response_status")?;
    Ok(if stored_hash != request_hash {
        Claim::Mismatch
    } else if status == 0 {
        Claim::InFlight
    } else {
        Claim::Replay { status: status as u16, body: row.try_get("response_body")? }
    })
}

pub async fn complete(
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "UPDATE idempotency_keys SET response_status = $1, response_body = $2
             WHERE store_id = $3 AND principal = $4 AND idem_key = $5",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(store_id)
        .bind(principal)
        .bind(key),
    )
    .await
}

/// Stores a completed record in one write (see
/// `services::idempotency::record_as` for when that is safe).
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "INSERT INTO idempotency_keys (store_id, principal, idem_key, request_hash, response_status, response_body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(store_id)
        .bind(principal)
        .bind(key)
        .bind(request_hash)
        .bind(i64::from(status))
        .bind(body)
        .bind(now),
    )
    .await
}

/// A completed record: (request hash, status, body).
pub async fn lookup<'e, E>(
    ex: E,
    store_id: &str,
    principal: &str,
    key: &str,
) -> Result<Option<(String, i64, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    lookup_query(store_id, principal, key).fetch_optional(ex).await?.map(|r| answer_of(&r)).transpose()
}

/// As [`lookup`], inside a transaction (through its own methods).
pub async fn lookup_in(
    tx: &mut Tx,
    store_id: &str,
    principal: &str,
    key: &str,
) -> Result<Option<(String, i64, String)>, sqlx::Error> {
    tx.fetch_optional(lookup_query(store_id, principal, key)).await?.map(|r| answer_of(&r)).transpose()
}

fn lookup_query<'q>(store_id: &'q str, principal: &'q str, key: &'q str) -> super::AnyQuery<'q> {
    sqlx::query(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys
         WHERE store_id = $1 AND principal = $2 AND idem_key = $3 AND response_status > 0",
    )
    .bind(store_id)
    .bind(principal)
    .bind(key)
}

fn answer_of(r: &sqlx::any::AnyRow) -> Result<(String, i64, String), sqlx::Error> {
    Ok((r.try_get("request_hash")?, r.try_get("response_status")?, r.try_get("response_body")?))
}
