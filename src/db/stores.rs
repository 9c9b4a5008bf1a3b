//! SQL for stores (tenants) and their brand.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::locale::Language;
use crate::domain::stores::{Branding, Store, StoreKind};

use super::Tx;

const COLUMNS: &str = "id, slug, host, kind, name, slogan, logo_url, primary_color, default_language, currency, is_default, require_owner_mfa";

fn from_row(row: &AnyRow) -> Result<Store, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let lang: String = row.try_get("default_language")?;
    Ok(Store {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        host: row.try_get("host")?,
        kind: StoreKind::parse(&kind).unwrap_or(StoreKind::Shop),
        brand: Branding {
            name: row.try_get("name")?,
            slogan: row.try_get("slogan")?,
            logo_url: row.try_get("logo_url")?,
            primary_color: row.try_get("primary_color")?,
            default_language: Language::parse(&lang).unwrap_or(Language::En),
        },
        currency: row.try_get("currency")?,
        is_default: row.try_get::<i64, _>("is_default")? != 0,
        require_owner_mfa: row.try_get::<i64, _>("require_owner_mfa")? != 0,
    })
}

pub async fn by_slug<'e, E>(ex: E, slug: &str) -> Result<Option<Store>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM stores WHERE slug = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(ex).await?.as_ref().map(from_row).transpose()
}

pub async fn by_id<'e, E>(ex: E, id: &str) -> Result<Option<Store>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM stores WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(ex).await?.as_ref().map(from_row).transpose()
}

pub async fn by_host<'e, E>(ex: E, host: &str) -> Result<Option<Store>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM stores WHERE host = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(host).fetch_optional(ex).await?.as_ref().map(from_row).transpose()
}

/// The store that answers requests naming no store: the one flagged
/// default, else the oldest.
pub async fn default_store<'e, E>(ex: E) -> Result<Option<Store>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM stores ORDER BY is_default DESC, created_at, id LIMIT 1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_optional(ex).await?.as_ref().map(from_row).transpose()
}

pub async fn list<'e, E>(ex: E) -> Result<Vec<Store>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM stores ORDER BY created_at, id");
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(ex).await?.iter().map(from_row).collect()
}

pub async fn insert(tx: &mut Tx, store: &Store, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stores (id, slug, host, kind, name, slogan, logo_url, primary_color, default_language, currency, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&store.id)
    .bind(&store.slug)
    .bind(&store.host)
    .bind(store.kind.as_str())
    .bind(&store.brand.name)
    .bind(&store.brand.slogan)
    .bind(&store.brand.logo_url)
    .bind(&store.brand.primary_color)
    .bind(store.brand.default_language.code())
    .bind(&store.currency)
    .bind(i64::from(store.is_default))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_branding(tx: &mut Tx, store_id: &str, b: &Branding, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE stores SET name = $1, slogan = $2, logo_url = $3, primary_color = $4, default_language = $5, updated_at = $6
         WHERE id = $7",
    )
    .bind(&b.name)
    .bind(&b.slogan)
    .bind(&b.logo_url)
    .bind(&b.primary_color)
    .bind(b.default_language.code())
    .bind(now)
    .bind(store_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_require_owner_mfa(tx: &mut Tx, store_id: &str, on: bool, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stores SET require_owner_mfa = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(on))
        .bind(now)
        .bind(store_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
