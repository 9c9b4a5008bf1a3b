//! SQL for customer groups, their members, and price lists with their
//! prices. A price list's prices are replaced whole inside the caller's
//! transaction, like a product's.

use sqlx::Row;

use super::Tx;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

// ---- customer groups ----

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub members: i64,
}

pub async fn insert_group(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    code: &str,
    name: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO customer_groups (store_id, id, code, name, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(store_id)
        .bind(id)
        .bind(code)
        .bind(name)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn groups<'e, E>(ex: E, store_id: &str) -> Result<Vec<GroupRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT g.id, g.code, g.name,
                (SELECT COUNT(*) FROM customer_group_members m WHERE m.store_id = g.store_id AND m.group_id = g.id) AS members
         FROM customer_groups g WHERE g.store_id = $1 ORDER BY g.code LIMIT 500",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| Ok(GroupRow { id: r.try_get("id")?, code: r.try_get("code")?, name: r.try_get("name")?, members: r.try_get("members")? }))
    .collect()
}

/// Whether the store has this group.
pub async fn group_exists<'e, E>(ex: E, store_id: &str, id: &str) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM customer_groups WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?;
    Ok(found.is_some())
}

/// Adds a member; false when they already were one.
pub async fn add_member(
    tx: &mut Tx,
    store_id: &str,
    group_id: &str,
    customer_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO customer_group_members (store_id, customer_id, group_id, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(store_id)
    .bind(customer_id)
    .bind(group_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn remove_member(
    tx: &mut Tx,
    store_id: &str,
    group_id: &str,
    customer_id: &str,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM customer_group_members WHERE store_id = $1 AND customer_id = $2 AND group_id = $3")
            .bind(store_id)
            .bind(customer_id)
            .bind(group_id)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Customer ids in a group, in id order after `after`.
pub async fn members<'e, E>(
    ex: E,
    store_id: &str,
    group_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT customer_id FROM customer_group_members WHERE store_id = $1 AND group_id = $2 AND customer_id > $3
         ORDER BY customer_id LIMIT $4",
    )
    .bind(store_id)
    .bind(group_id)
    .bind(after)
    .bind(limit)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| r.try_get("customer_id"))
    .collect()
}

/// The ids of the groups a customer belongs to.
pub async fn groups_of<'e, E>(ex: E, store_id: &str, customer_id: &str) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT group_id FROM customer_group_members WHERE store_id = $1 AND customer_id = $2")
        .bind(store_id)
        .bind(customer_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| r.try_get("group_id"))
        .collect()
}

// ---- price lists ----

#[derive(Debug, Clone)]
pub struct ListRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub channel_id: String,
    pub group_id: Option<String>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub updated_at: i64,
}

fn list_from_row(r: &sqlx::any::AnyRow) -> Result<ListRow, sqlx::Error> {
    Ok(ListRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        channel_id: r.try_get("channel_id")?,
        group_id: r.try_get("group_id")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const LIST_COLUMNS: &str = "id, code, name, channel_id, group_id, starts_at, ends_at, updated_at";

/// Inserts the list, or rewrites it when it exists (same id).
pub async fn save_list(tx: &mut Tx, store_id: &str, l: &ListRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO price_lists (store_id, id, code, name, channel_id, group_id, starts_at, ends_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (store_id, id) DO UPDATE SET code = excluded.code, name = excluded.name,
             channel_id = excluded.channel_id, group_id = excluded.group_id, starts_at = excluded.starts_at,
             ends_at = excluded.ends_at, updated_at = excluded.updated_at",
    )
    .bind(store_id)
    .bind(&l.id)
    .bind(&l.code)
    .bind(&l.name)
    .bind(&l.channel_id)
    .bind(&l.group_id)
    .bind(l.starts_at)
    .bind(l.ends_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces a list's prices: (variant id, min qty, amount).
pub async fn replace_prices(
    tx: &mut Tx,
    store_id: &str,
    list_id: &str,
    prices: &[(String, i64, i64)],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM price_list_prices WHERE store_id = $1 AND price_list_id = $2")
        .bind(store_id)
        .bind(list_id)
        .execute(&mut **tx)
        .await?;
    // Several rows per statement: a wholesale list can hold tens of thousands.
    for chunk in prices.chunks(200) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("($1, $2, ${}, ${}, ${})", 3 + i * 3, 4 + i * 3, 5 + i * 3)).collect();
        let sql = format!(
            "INSERT INTO price_list_prices (store_id, price_list_id, variant_id, min_qty, amount) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(list_id);
        for (variant_id, min_qty, amount) in chunk {
            q = q.bind(variant_id).bind(*min_qty).bind(*amount);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn delete_list(tx: &mut Tx, store_id: &str, list_id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM price_list_prices WHERE store_id = $1 AND price_list_id = $2")
        .bind(store_id)
        .bind(list_id)
        .execute(&mut **tx)
        .await?;
    let done = sqlx::query("DELETE FROM price_lists WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(list_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn lists<'e, E>(ex: E, store_id: &str) -> Result<Vec<ListRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {LIST_COLUMNS} FROM price_lists WHERE store_id = $1 ORDER BY code LIMIT 1000");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).fetch_all(ex).await?.iter().map(list_from_row).collect()
}

pub async fn list<'e, E>(ex: E, store_id: &str, id: &str) -> Result<Option<ListRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {LIST_COLUMNS} FROM price_lists WHERE store_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(list_from_row)
        .transpose()
}

/// A list's prices by SKU: (sku, min qty, amount), in SKU and quantity order.
/// Prices of variants deleted since are left out.
pub async fn prices_by_sku<'e, E>(ex: E, store_id: &str, list_id: &str) -> Result<Vec<(String, i64, i64)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT v.sku, p.min_qty, p.amount FROM price_list_prices p
         JOIN variants v ON v.store_id = p.store_id AND v.id = p.variant_id
         WHERE p.store_id = $1 AND p.price_list_id = $2 ORDER BY v.sku, p.min_qty",
    )
    .bind(store_id)
    .bind(list_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("sku")?, r.try_get("min_qty")?, r.try_get("amount")?)))
    .collect()
}

/// Tiers of the given lists for the given variants, one query:
/// (list id, variant id, min qty, amount).
pub async fn tiers_for_variants<'e, E>(
    ex: E,
    store_id: &str,
    list_ids: &[String],
    variant_ids: &[String],
) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if list_ids.is_empty() || variant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT price_list_id, variant_id, min_qty, amount FROM price_list_prices
         WHERE store_id = $1 AND price_list_id IN ({}) AND variant_id IN ({})",
        placeholders(2, list_ids.len()),
        placeholders(2 + list_ids.len(), variant_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in list_ids.iter().chain(variant_ids) {
        q = q.bind(id);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok((r.try_get("price_list_id")?, r.try_get("variant_id")?, r.try_get("min_qty")?, r.try_get("amount")?))
        })
        .collect()
}

/// Single-unit list prices of the given products, one query:
/// (product id, amount), for listings.
pub async fn unit_prices_for_products<'e, E>(
    ex: E,
    store_id: &str,
    list_ids: &[String],
    product_ids: &[String],
) -> Result<Vec<(String, i64)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if list_ids.is_empty() || product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT v.product_id, p.amount FROM price_list_prices p
         JOIN variants v ON v.store_id = p.store_id AND v.id = p.variant_id
         WHERE p.store_id = $1 AND p.min_qty = 1 AND p.price_list_id IN ({}) AND v.product_id IN ({})",
        placeholders(2, list_ids.len()),
        placeholders(2 + list_ids.len(), product_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for id in list_ids.iter().chain(product_ids) {
        q = q.bind(id);
    }
    q.fetch_all(ex).await?.iter().map(|r| Ok((r.try_get("product_id")?, r.try_get("amount")?))).collect()
}
