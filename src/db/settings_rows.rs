//! Per-store settings kept as one JSON document a row (`risk_settings`,
//! `invoice_settings`): read whole, replaced whole.

use super::Tx;

/// The tables that hold such documents.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Risk,
    Invoice,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Risk => "risk_settings",
            Table::Invoice => "invoice_settings",
        }
    }
}

/// The store's document, if it saved one.
pub async fn get(pool: &sqlx::AnyPool, table: Table, store_id: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = format!("SELECT settings FROM {} WHERE store_id = $1", table.name());
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(store_id).fetch_optional(pool).await
}

pub async fn put(tx: &mut Tx, table: Table, store_id: &str, settings: &str, now: i64) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (store_id, settings, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (store_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        table.name()
    );
    tx.execute(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(settings).bind(now)).await?;
    Ok(())
}
