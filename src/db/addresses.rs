//! SQL for customer addresses. Every query names the owning customer, so an
//! address id guessed from another account finds nothing.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct AddressRow {
    pub id: String,
    pub customer_id: String,
    pub data_enc: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<AddressRow, sqlx::Error> {
    Ok(AddressRow {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        data_enc: r.try_get("data_enc")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn list<'e, E>(ex: E, store_id: &str, customer_id: &str) -> Result<Vec<AddressRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, customer_id, data_enc, created_at, updated_at FROM customer_addresses
         WHERE store_id = $1 AND customer_id = $2 ORDER BY id LIMIT 100",
    )
    .bind(store_id)
    .bind(customer_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn get<'e, E>(ex: E, store_id: &str, customer_id: &str, id: &str) -> Result<Option<AddressRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, customer_id, data_enc, created_at, updated_at FROM customer_addresses
         WHERE store_id = $1 AND customer_id = $2 AND id = $3",
    )
    .bind(store_id)
    .bind(customer_id)
    .bind(id)
    .fetch_optional(ex)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn insert(tx: &mut Tx, store_id: &str, a: &AddressRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_addresses (store_id, id, customer_id, data_enc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(store_id)
    .bind(&a.id)
    .bind(&a.customer_id)
    .bind(&a.data_enc)
    .bind(a.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update(
    tx: &mut Tx,
    store_id: &str,
    customer_id: &str,
    id: &str,
    data_enc: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE customer_addresses SET data_enc = $1, updated_at = $2 WHERE store_id = $3 AND customer_id = $4 AND id = $5",
    )
    .bind(data_enc)
    .bind(now)
    .bind(store_id)
    .bind(customer_id)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn delete(tx: &mut Tx, store_id: &str, customer_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("DELETE FROM customer_addresses WHERE store_id = $1 AND customer_id = $2 AND id = $3")
        .bind(store_id)
        .bind(customer_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn delete_all(tx: &mut Tx, store_id: &str, customer_id: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM customer_addresses WHERE store_id = $1 AND customer_id = $2")
        .bind(store_id)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}
