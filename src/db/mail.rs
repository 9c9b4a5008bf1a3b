//! SQL for the mail outbox and one-time tokens (e-mail verification,
//! password reset).

use sqlx::Row;

use super::{Db, Dialect, RunOn, Tx};

pub async fn queue(tx: &mut Tx, store_id: &str, id: &str, message_enc: &str, now: i64) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "INSERT INTO mail_outbox (store_id, id, message_enc, status, created_at) VALUES ($1, $2, $3, 'pending', $4)",
        )
        .bind(store_id)
        .bind(id)
        .bind(message_enc)
        .bind(now),
    )
    .await
}

pub struct PendingMail {
    pub store_id: String,
    pub id: String,
    pub message_enc: String,
    pub attempts: i64,
}

/// Leases up to `limit` pending messages until `lease_until`.
pub async fn claim(db: &Db, now: i64, lease_until: i64, limit: i64) -> Result<Vec<PendingMail>, sqlx::Error> {
    let lock = if db.dialect() == Dialect::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE mail_outbox SET lease_until = $1, attempts = attempts + 1
         WHERE (store_id, id) IN (SELECT store_id, id FROM mail_outbox
             WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < $2) ORDER BY created_at LIMIT $3 {lock})
         RETURNING store_id, id, message_enc, attempts"
    );
    let mut tx = db.begin().await?;
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lease_until).bind(now).bind(limit).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(PendingMail {
                store_id: r.try_get("store_id")?,
                id: r.try_get("id")?,
                message_enc: r.try_get("message_enc")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

pub async fn finish(
    db: &Db,
    store_id: &str,
    id: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    db.write(sqlx::query("UPDATE mail_outbox SET status = $1, last_error = $2, sent_at = $3, lease_until = NULL WHERE store_id = $4 AND id = $5")
        .bind(status)
        .bind(error)
        .bind(now)
        .bind(store_id)
        .bind(id))
        .await?;
    Ok(())
}

pub async fn insert_token(
    tx: &mut Tx,
    store_id: &str,
    token_hash: &str,
    purpose: &str,
    principal_id: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO one_time_tokens (store_id, token_hash, purpose, principal_id, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(store_id)
    .bind(token_hash)
    .bind(purpose)
    .bind(principal_id)
    .bind(expires_at)
    .execute_on(tx)
    .await?;
    Ok(())
}

/// Uses a token once: marks it used and returns whose it was, if it is
/// valid for `purpose` and not expired or used before.
pub async fn use_token(
    tx: &mut Tx,
    store_id: &str,
    token_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "UPDATE one_time_tokens SET used_at = $1
         WHERE store_id = $2 AND token_hash = $3 AND purpose = $4 AND used_at IS NULL AND expires_at > $1
         RETURNING principal_id",
    )
    .bind(now)
    .bind(store_id)
    .bind(token_hash)
    .bind(purpose)
    .fetch_optional_on(&mut *tx)
    .await?
    .map(|r| r.try_get(0))
    .transpose()
}
