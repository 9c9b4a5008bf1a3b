//! SQL for sign-in sessions. Only a hash of the token is stored, so a copy
//! of the database does not hand out live sessions.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub store_id: String,
    pub principal_kind: String,
    pub principal_id: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

pub async fn insert(tx: &mut Tx, token_hash: &str, s: &SessionRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (store_id, token_hash, principal_kind, principal_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&s.store_id)
    .bind(token_hash)
    .bind(&s.principal_kind)
    .bind(&s.principal_id)
    .bind(&s.csrf_token)
    .bind(now)
    .bind(s.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn find<'e, E>(ex: E, store_id: &str, token_hash: &str, now: i64) -> Result<Option<SessionRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT store_id, principal_kind, principal_id, csrf_token, last_seen_at, expires_at FROM sessions
         WHERE store_id = $1 AND token_hash = $2 AND expires_at > $3",
    )
    .bind(store_id)
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(SessionRow {
            store_id: r.try_get("store_id")?,
            principal_kind: r.try_get("principal_kind")?,
            principal_id: r.try_get("principal_id")?,
            csrf_token: r.try_get("csrf_token")?,
            last_seen_at: r.try_get("last_seen_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

pub async fn delete(tx: &mut Tx, store_id: &str, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE store_id = $1 AND token_hash = $2")
        .bind(store_id)
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every session of a principal (logout everywhere, role change).
pub async fn delete_for_principal(
    tx: &mut Tx,
    store_id: &str,
    kind: &str,
    principal_id: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE store_id = $1 AND principal_kind = $2 AND principal_id = $3")
        .bind(store_id)
        .bind(kind)
        .bind(principal_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// How stale the last-use time may get before a request records it again.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// Marks the session as used now (for idle expiry), at most once a minute.
pub async fn touch(tx: &mut Tx, store_id: &str, token_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE store_id = $2 AND token_hash = $3 AND last_seen_at < $4")
        .bind(now)
        .bind(store_id)
        .bind(token_hash)
        .bind(now - TOUCH_EVERY_MS)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Replaces a password hash, only if it is still the one that was checked
/// (a concurrent password change wins).
pub async fn set_password_hash(
    tx: &mut Tx,
    table: &str,
    store_id: &str,
    id: &str,
    old: &str,
    new: &str,
) -> Result<(), sqlx::Error> {
    let table = match table {
        "staff_users" => "staff_users",
        _ => "customers",
    };
    let sql = format!("UPDATE {table} SET password_hash = $1 WHERE store_id = $2 AND id = $3 AND password_hash = $4");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(new).bind(store_id).bind(id).bind(old).execute(&mut **tx).await?;
    Ok(())
}
