//! SQL for custom roles.

use sqlx::Row;

use super::Tx;

#[derive(Debug, Clone)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<RoleRow, sqlx::Error> {
    let perms: String = r.try_get("permissions")?;
    Ok(RoleRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        created_at: r.try_get("created_at")?,
    })
}

pub async fn by_id<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<RoleRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, name, permissions, created_at FROM roles WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list<'e, E>(ex: E, store_id: &str) -> Result<Vec<RoleRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, name, permissions, created_at FROM roles WHERE store_id = $1 ORDER BY name LIMIT 500")
        .bind(store_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn insert(tx: &mut Tx, store_id: &str, r: &RoleRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO roles (store_id, id, name, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(store_id)
    .bind(&r.id)
    .bind(&r.name)
    .bind(serde_json::to_string(&r.permissions).unwrap_or_else(|_| "[]".into()))
    .bind(r.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_permissions(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    perms: &[String],
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE roles SET permissions = $1, updated_at = $2 WHERE store_id = $3 AND id = $4")
        .bind(serde_json::to_string(perms).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}
