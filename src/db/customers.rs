//! SQL for customer accounts.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub id: String,
    pub store_id: String,
    pub email_index: String,
    pub email_enc: String,
    pub display_name_enc: String,
    pub password_hash: String,
    pub created_at: i64,
    pub email_verified_at: Option<i64>,
    pub erased_at: Option<i64>,
}

const COLUMNS: &str =
    "id, store_id, email_index, email_enc, display_name_enc, password_hash, created_at, email_verified_at, erased_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<CustomerRow, sqlx::Error> {
    Ok(CustomerRow {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        email_index: row.try_get("email_index")?,
        email_enc: row.try_get("email_enc")?,
        display_name_enc: row.try_get("display_name_enc")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        email_verified_at: row.try_get("email_verified_at")?,
        erased_at: row.try_get("erased_at")?,
    })
}

pub async fn by_email_index<'e, E>(ex: E, store_id: &str, email_index: &str) -> Result<Option<CustomerRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE store_id = $1 AND email_index = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(email_index)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<CustomerRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn insert(tx: &mut Tx, c: &CustomerRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customers (store_id, id, email_index, email_enc, display_name_enc, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&c.store_id)
    .bind(&c.id)
    .bind(&c.email_index)
    .bind(&c.email_enc)
    .bind(&c.display_name_enc)
    .bind(&c.password_hash)
    .bind(c.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_name(tx: &mut Tx, store_id: &str, id: &str, name_enc: &str, now: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("UPDATE customers SET display_name_enc = $1, updated_at = $2 WHERE store_id = $3 AND id = $4")
        .bind(name_enc)
        .bind(now)
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// Replaces personal data with sealed placeholders and makes the password
/// unusable. The row (and its id, which financial records point to) stays.
pub async fn anonymise(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    email_index: &str,
    email_enc: &str,
    name_enc: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE customers SET email_index = $1, email_enc = $2, display_name_enc = $3, password_hash = '!erased',
             erased_at = $4, updated_at = $4
         WHERE store_id = $5 AND id = $6 AND erased_at IS NULL",
    )
    .bind(email_index)
    .bind(email_enc)
    .bind(name_enc)
    .bind(now)
    .bind(store_id)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn set_email_verified(tx: &mut Tx, store_id: &str, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE customers SET email_verified_at = $1 WHERE store_id = $2 AND id = $3 AND email_verified_at IS NULL",
    )
    .bind(now)
    .bind(store_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, store_id: &str, id: &str, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE customers SET password_hash = $1, updated_at = $2 WHERE store_id = $3 AND id = $4 AND erased_at IS NULL",
    )
    .bind(hash)
    .bind(now)
    .bind(store_id)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}
