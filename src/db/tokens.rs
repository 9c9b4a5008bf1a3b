//! SQL for API tokens. Only a hash of the secret is stored.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub permissions: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, name, secret_hash, permissions, created_by, created_at, expires_at, revoked_at, last_used_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<TokenRow, sqlx::Error> {
    let perms: String = r.try_get("permissions")?;
    Ok(TokenRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        secret_hash: r.try_get("secret_hash")?,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

pub async fn insert(tx: &mut Tx, store_id: &str, t: &TokenRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (store_id, id, name, secret_hash, permissions, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(store_id)
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.secret_hash)
    .bind(serde_json::to_string(&t.permissions).unwrap_or_else(|_| "[]".into()))
    .bind(&t.created_by)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<TokenRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list<'e, E>(ex: E, store_id: &str) -> Result<Vec<TokenRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE store_id = $1 ORDER BY id DESC LIMIT 500");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).fetch_all(ex).await?.iter().map(from_row).collect()
}

pub async fn revoke(tx: &mut Tx, store_id: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE store_id = $2 AND id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// How stale the last-use time may get before a request records it again.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// Records use, at most once a minute per token to keep reads cheap.
pub async fn touch(tx: &mut Tx, store_id: &str, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE store_id = $2 AND id = $3 AND (last_used_at IS NULL OR last_used_at < $4)",
    )
    .bind(now)
    .bind(store_id)
    .bind(id)
    .bind(now - TOUCH_EVERY_MS)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
