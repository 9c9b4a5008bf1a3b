//! SQL for staff accounts.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct StaffRow {
    pub id: String,
    pub store_id: String,
    pub email_index: String,
    pub email_enc: String,
    pub display_name_enc: String,
    pub password_hash: String,
    pub role: String,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StaffRow, sqlx::Error> {
    Ok(StaffRow {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        email_index: row.try_get("email_index")?,
        email_enc: row.try_get("email_enc")?,
        display_name_enc: row.try_get("display_name_enc")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
    })
}

pub async fn by_email_index<'e, E>(ex: E, store_id: &str, email_index: &str) -> Result<Option<StaffRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, store_id, email_index, email_enc, display_name_enc, password_hash, role FROM staff_users WHERE store_id = $1 AND email_index = $2")
        .bind(store_id)
        .bind(email_index)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<StaffRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, store_id, email_index, email_enc, display_name_enc, password_hash, role FROM staff_users WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn insert(tx: &mut Tx, s: &StaffRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff_users (store_id, id, email_index, email_enc, display_name_enc, password_hash, role, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&s.store_id)
    .bind(&s.id)
    .bind(&s.email_index)
    .bind(&s.email_enc)
    .bind(&s.display_name_enc)
    .bind(&s.password_hash)
    .bind(&s.role)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list<'e, E>(ex: E, store_id: &str) -> Result<Vec<StaffRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, store_id, email_index, email_enc, display_name_enc, password_hash, role FROM staff_users
         WHERE store_id = $1 ORDER BY id LIMIT 1000",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn update_role(tx: &mut Tx, store_id: &str, id: &str, role: &str) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE staff_users SET role = $1 WHERE store_id = $2 AND id = $3")
        .bind(role)
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn count_with_role(tx: &mut Tx, store_id: &str, role: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff_users WHERE store_id = $1 AND role = $2")
        .bind(store_id)
        .bind(role)
        .fetch_one(&mut **tx)
        .await
}

/// The second-factor state of a staff member.
pub struct Totp {
    pub secret_enc: Option<String>,
    pub enabled_at: Option<i64>,
    pub last_step: Option<i64>,
}

pub async fn totp<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<Totp>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT totp_secret_enc, totp_enabled_at, totp_last_step FROM staff_users WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(Totp {
            secret_enc: r.try_get("totp_secret_enc")?,
            enabled_at: r.try_get("totp_enabled_at")?,
            last_step: r.try_get("totp_last_step")?,
        })
    })
    .transpose()
}

pub async fn set_totp_secret(tx: &mut Tx, store_id: &str, id: &str, secret_enc: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE staff_users SET totp_secret_enc = $1, totp_enabled_at = NULL, totp_last_step = NULL WHERE store_id = $2 AND id = $3",
    )
    .bind(secret_enc)
    .bind(store_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a used step, only if it is newer than the last one (so two
/// concurrent uses of one code cannot both succeed); enables TOTP if asked.
pub async fn use_totp_step(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    step: i64,
    enable_at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE staff_users SET totp_last_step = $1, totp_enabled_at = COALESCE(totp_enabled_at, $2)
         WHERE store_id = $3 AND id = $4 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(enable_at)
    .bind(store_id)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}
