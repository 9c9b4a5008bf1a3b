//! SQL for the audit log. Appends are serialised per store (PostgreSQL: a
//! transaction-scoped advisory lock; SQLite: the single writer) so the hash
//! chain has no forks.

use sqlx::Row;

use super::{Dialect, Tx};

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub client_ip: String,
    pub action: String,
    pub target: String,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

const COLUMNS: &str = "seq, id, at, actor, client_ip, action, target, summary, prev_hash, hash";

fn from_row(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        client_ip: r.try_get("client_ip")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        summary: r.try_get("summary")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Locks the store's chain for this transaction and returns its head
/// (last sequence number and hash), if any.
pub async fn lock_head(tx: &mut Tx, dialect: Dialect, store_id: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    if dialect == Dialect::Postgres {
        tx.execute(sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7103))::text").bind(store_id))
            .await?;
    }
    let row = tx
        .fetch_optional(
            sqlx::query("SELECT seq, hash FROM audit_log WHERE store_id = $1 ORDER BY seq DESC LIMIT 1").bind(store_id),
        )
        .await?;
    row.map(|r| Ok((r.try_get("seq")?, r.try_get("hash")?))).transpose()
}

pub async fn insert(tx: &mut Tx, store_id: &str, a: &AuditRow) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO audit_log (store_id, seq, id, at, actor, client_ip, action, target, summary, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(store_id)
    .bind(a.seq)
    .bind(&a.id)
    .bind(a.at)
    .bind(&a.actor)
    .bind(&a.client_ip)
    .bind(&a.action)
    .bind(&a.target)
    .bind(&a.summary)
    .bind(&a.prev_hash)
    .bind(&a.hash);
    tx.write(q).await
}

/// Filters for the audit viewer; empty strings mean "any".
pub struct Filter<'a> {
    pub action: &'a str,
    pub actor: &'a str,
    pub target: &'a str,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

pub async fn search<'e, E>(ex: E, store_id: &str, f: &Filter<'_>) -> Result<Vec<AuditRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE store_id = $1
           AND ($2 = '' OR action = $2 OR action LIKE $3)
           AND ($4 = '' OR actor = $4) AND ($5 = '' OR target = $5) AND seq < $6
         ORDER BY seq DESC LIMIT $7"
    );
    let family = format!("{}.%", f.action.trim_end_matches(".*"));
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(f.action)
        .bind(family)
        .bind(f.actor)
        .bind(f.target)
        .bind(f.before_seq.unwrap_or(i64::MAX))
        .bind(f.limit)
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// A page of the chain in order, for verification.
pub async fn chain_page<'e, E>(ex: E, store_id: &str, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
