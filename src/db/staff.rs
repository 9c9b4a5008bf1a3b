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
