//! Re-encrypting personal data under the active key. Safe to run while the
//! shop serves (servers read every configured key), resumable (values
//! already under the active key are skipped), and each value is swapped
//! only if it did not change meanwhile.

use sqlx::Row;

use super::{App, ServiceResult};
use crate::domain::crypto::{Keyring, Slot};

/// A sealed column: its table, the column's name in the table, and the
/// slot column name the values were sealed under.
struct Sealed {
    table: &'static str,
    column: &'static str,
    slot_column: &'static str,
}

const SEALED: &[Sealed] = &[
    Sealed { table: "customers", column: "email_enc", slot_column: "email" },
    Sealed { table: "customers", column: "display_name_enc", slot_column: "display_name" },
    Sealed { table: "staff_users", column: "email_enc", slot_column: "email" },
    Sealed { table: "staff_users", column: "display_name_enc", slot_column: "display_name" },
    Sealed { table: "staff_users", column: "totp_secret_enc", slot_column: "totp_secret" },
    Sealed { table: "customer_addresses", column: "data_enc", slot_column: "data" },
    Sealed { table: "mail_outbox", column: "message_enc", slot_column: "message" },
    Sealed { table: "carts", column: "contact_enc", slot_column: "contact" },
    Sealed { table: "orders", column: "contact_enc", slot_column: "contact" },
    Sealed { table: "licence_keys", column: "key_enc", slot_column: "key" },
    Sealed { table: "bank_lines", column: "payer_enc", slot_column: "payer" },
    Sealed { table: "invoices", column: "document_enc", slot_column: "document" },
];

/// How many values are not yet under the active key.
pub async fn pending(app: &App) -> ServiceResult<u64> {
    let prefix = format!("v1.{}.%", app.keyring.active_key_id());
    let mut total = 0u64;
    for s in SEALED {
        let sql = format!(
            "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND {c} <> '' AND {c} NOT LIKE $1",
            t = s.table,
            c = s.column
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&prefix).fetch_one(app.db.pool()).await?;
        total += n as u64;
    }
    Ok(total)
}

/// Re-encrypts everything; `progress` is called with the number of values
/// done after each batch. Returns how many were re-encrypted.
pub async fn rotate(app: &App, mut progress: impl FnMut(u64)) -> ServiceResult<u64> {
    let prefix = format!("v1.{}.%", app.keyring.active_key_id());
    let mut done = 0u64;
    for s in SEALED {
        loop {
            let sql = format!(
                "SELECT store_id, id, {col} AS value FROM {table} WHERE {col} IS NOT NULL AND {col} <> '' AND {col} NOT LIKE $1 ORDER BY store_id, id LIMIT 500",
                col = s.column,
                table = s.table
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&prefix).fetch_all(app.db.pool()).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = app.db.begin().await?;
            for r in &rows {
                let (store_id, id, old): (String, String, String) =
                    (r.try_get("store_id")?, r.try_get("id")?, r.try_get("value")?);
                let slot = Slot { table: s.table, column: s.slot_column, store_id: &store_id, row_id: &id };
                let plain = app.open(slot, &old)?;
                let fresh = app.seal(slot, &plain);
                debug_assert!(Keyring::key_id_of(&fresh) == Some(app.keyring.active_key_id()));
                let sql = format!(
                    "UPDATE {} SET {col} = $1 WHERE store_id = $2 AND id = $3 AND {col} = $4",
                    s.table,
                    col = s.column
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&fresh)
                    .bind(&store_id)
                    .bind(&id)
                    .bind(&old)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done += rows.len() as u64;
            progress(done);
        }
    }
    Ok(done)
}
