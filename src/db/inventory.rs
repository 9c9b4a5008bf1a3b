//! SQL for stock locations, stock levels, per-variant stock settings and
//! the movement journal. Levels change only through conditional updates
//! (the check and the write are one statement), so two writers can never
//! take the same units; `CHECK` constraints are the backstop.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::catalog_bulk::placeholders;
use super::{Dialect, RunOn, Tx};

#[derive(Debug, Clone)]
pub struct LocationRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub country: String,
    pub priority: i64,
    pub active: bool,
    pub updated_at: i64,
}

const LOCATION_COLUMNS: &str = "id, code, name, country, priority, active, updated_at";

fn location(r: &AnyRow) -> Result<LocationRow, sqlx::Error> {
    Ok(LocationRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        country: r.try_get("country")?,
        priority: r.try_get("priority")?,
        active: r.try_get::<i64, _>("active")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert_location(tx: &mut Tx, store_id: &str, l: &LocationRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_locations (store_id, id, code, name, country, priority, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(store_id)
    .bind(&l.id)
    .bind(&l.code)
    .bind(&l.name)
    .bind(&l.country)
    .bind(l.priority)
    .bind(i64::from(l.active))
    .bind(l.updated_at)
    .execute_on(tx)
    .await?;
    Ok(())
}

/// False when the store has no such location.
pub async fn update_location(tx: &mut Tx, store_id: &str, l: &LocationRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE stock_locations SET code = $3, name = $4, country = $5, priority = $6, active = $7, updated_at = $8
         WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(&l.id)
    .bind(&l.code)
    .bind(&l.name)
    .bind(&l.country)
    .bind(l.priority)
    .bind(i64::from(l.active))
    .bind(l.updated_at)
    .execute_on(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn locations<'e, E>(ex: E, store_id: &str) -> Result<Vec<LocationRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql =
        format!("SELECT {LOCATION_COLUMNS} FROM stock_locations WHERE store_id = $1 ORDER BY priority, code LIMIT 500");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).fetch_all(ex).await?.iter().map(location).collect()
}

/// Whether the store keeps stock anywhere (an active location).
pub async fn keeps_stock(src: impl super::Source, store_id: &str) -> Result<bool, sqlx::Error> {
    Ok(keeps_stock_query(store_id).fetch_optional_on(src).await?.is_some())
}

/// A row when the store has an active stock location.
fn keeps_stock_query(store_id: &str) -> super::AnyQuery<'_> {
    sqlx::query("SELECT id FROM stock_locations WHERE store_id = $1 AND active = 1 LIMIT 1").bind(store_id)
}

/// A variant with what inventory needs of its product.
#[derive(Debug, Clone)]
pub struct VariantRef {
    pub id: String,
    pub sku: String,
    pub product_id: String,
    pub kind: String,
}

/// Variants by SKU (those that exist).
pub async fn variants_by_sku<'e, E>(
    ex: E,
    dialect: Dialect,
    store_id: &str,
    skus: &[String],
) -> Result<Vec<VariantRef>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT v.id, v.sku, v.product_id, p.kind FROM variants v
         JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id
         WHERE v.store_id = {} AND v.sku IN ({})",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, skus.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for s in skus {
        q = q.bind(s);
    }
    q.fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(VariantRef {
                id: r.try_get("id")?,
                sku: r.try_get("sku")?,
                product_id: r.try_get("product_id")?,
                kind: r.try_get("kind")?,
            })
        })
        .collect()
}

/// A variant's stock as availability needs it: its settings (when
/// configured) and what its active locations can still sell.
#[derive(Debug, Clone)]
pub struct VariantStock {
    pub product_id: String,
    pub variant_id: String,
    pub kind: String,
    pub policy: Option<String>,
    pub low_stock_at: Option<i64>,
    pub restock_at: Option<i64>,
    pub available: i64,
}

/// Every variant of the given products with its stock.
pub async fn variant_stock(
    ex: impl super::Source,
    dialect: Dialect,
    store_id: &str,
    product_ids: &[String],
) -> Result<Vec<VariantStock>, sqlx::Error> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT v.product_id, v.id, p.kind, s.policy, s.low_stock_at, s.restock_at,
                CAST(COALESCE((SELECT SUM(l.on_hand - l.reserved) FROM stock_levels l
                     JOIN stock_locations k ON k.store_id = l.store_id AND k.id = l.location_id AND k.active = 1
                     WHERE l.store_id = v.store_id AND l.variant_id = v.id), 0) AS BIGINT) AS available
         FROM variants v
         JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id
         LEFT JOIN stock_settings s ON s.store_id = v.store_id AND s.variant_id = v.id
         WHERE v.store_id = {} AND v.product_id IN ({})
         ORDER BY v.product_id, v.position",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, product_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for p in product_ids {
        q = q.bind(p);
    }
    q.fetch_all_on(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(VariantStock {
                product_id: r.try_get("product_id")?,
                variant_id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                policy: r.try_get("policy")?,
                low_stock_at: r.try_get("low_stock_at")?,
                restock_at: r.try_get("restock_at")?,
                available: r.try_get("available")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct SettingsRow {
    pub variant_id: String,
    pub policy: String,
    pub low_stock_at: Option<i64>,
    pub restock_at: Option<i64>,
}

pub async fn save_settings(tx: &mut Tx, store_id: &str, s: &SettingsRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_settings (store_id, variant_id, policy, low_stock_at, restock_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (store_id, variant_id) DO UPDATE SET policy = excluded.policy,
             low_stock_at = excluded.low_stock_at, restock_at = excluded.restock_at, updated_at = excluded.updated_at",
    )
    .bind(store_id)
    .bind(&s.variant_id)
    .bind(&s.policy)
    .bind(s.low_stock_at)
    .bind(s.restock_at)
    .bind(now)
    .execute_on(tx)
    .await?;
    Ok(())
}

/// One variant's level at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
}

/// A level from a row with `on_hand` and `reserved` (a `RETURNING` clause).
fn level_of(r: &AnyRow) -> Result<Level, sqlx::Error> {
    Ok(Level { on_hand: r.try_get("on_hand")?, reserved: r.try_get("reserved")? })
}

pub async fn level(tx: &mut Tx, store_id: &str, variant_id: &str, location_id: &str) -> Result<Level, sqlx::Error> {
    let row = sqlx::query(
        "SELECT on_hand, reserved FROM stock_levels WHERE store_id = $1 AND variant_id = $2 AND location_id = $3",
    )
    .bind(store_id)
    .bind(variant_id)
    .bind(location_id)
    .fetch_optional_on(&mut *tx)
    .await?;
    Ok(row.as_ref().map(level_of).transpose()?.unwrap_or(Level { on_hand: 0, reserved: 0 }))
}

/// Adds `delta` (may be negative) to what is on hand, only if that leaves
/// at least what is reserved. The level after, or None when refused.
pub async fn change_on_hand(
    tx: &mut Tx,
    store_id: &str,
    variant_id: &str,
    location_id: &str,
    delta: i64,
    now: i64,
) -> Result<Option<Level>, sqlx::Error> {
    if delta > 0 {
        sqlx::query(
            "INSERT INTO stock_levels (store_id, variant_id, location_id, on_hand, reserved, updated_at)
             VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT (store_id, variant_id, location_id) DO NOTHING",
        )
        .bind(store_id)
        .bind(variant_id)
        .bind(location_id)
        .bind(now)
        .execute_on(tx)
        .await?;
    }
    let row = sqlx::query(
        "UPDATE stock_levels SET on_hand = on_hand + $4, updated_at = $5
         WHERE store_id = $1 AND variant_id = $2 AND location_id = $3 AND on_hand + $4 >= reserved
         RETURNING on_hand, reserved",
    )
    .bind(store_id)
    .bind(variant_id)
    .bind(location_id)
    .bind(delta)
    .bind(now)
    .fetch_optional_on(&mut *tx)
    .await?;
    row.as_ref().map(level_of).transpose()
}

/// One line of [`receive`]: units arriving for a variant at a location.
pub struct Receipt<'a> {
    pub variant_id: &'a str,
    pub location_id: &'a str,
    pub units: i64,
}

/// Adds arriving units (each positive, each (variant, location) at most
/// once) to what is on hand, creating levels as needed, in one multi-row
/// upsert per parameter-limit chunk instead of two statements per line.
/// Adding can never be refused, so no per-line check is needed. The levels
/// after, by (variant id, location id).
pub async fn receive(
    tx: &mut Tx,
    store_id: &str,
    receipts: &[Receipt<'_>],
    now: i64,
) -> Result<HashMap<(String, String), Level>, sqlx::Error> {
    use super::catalog_bulk::Cell::{Int, Text};
    let rows = receipts
        .iter()
        .map(|r| {
            vec![
                Text(store_id.into()),
                Text(r.variant_id.into()),
                Text(r.location_id.into()),
                Int(r.units),
                Int(0),
                Int(now),
            ]
        })
        .collect();
    let columns = ["store_id", "variant_id", "location_id", "on_hand", "reserved", "updated_at"];
    let upsert = "ON CONFLICT (store_id, variant_id, location_id) DO UPDATE
                  SET on_hand = stock_levels.on_hand + excluded.on_hand, updated_at = excluded.updated_at
                  RETURNING variant_id, location_id, on_hand, reserved";
    let mut after = HashMap::with_capacity(receipts.len());
    for statement in super::catalog_bulk::insert_statements(tx.dialect(), "stock_levels", &columns, rows, upsert) {
        for r in tx.fetch_all(statement).await? {
            after.insert((r.try_get("variant_id")?, r.try_get("location_id")?), level_of(&r)?);
        }
    }
    Ok(after)
}

/// Sets what is on hand to `to`, only if it still is `from` (a count is
/// compared against the level it was computed from) and `to` covers what
/// is reserved.
pub async fn set_on_hand(
    tx: &mut Tx,
    store_id: &str,
    variant_id: &str,
    location_id: &str,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Option<Level>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_levels (store_id, variant_id, location_id, on_hand, reserved, updated_at)
         VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT (store_id, variant_id, location_id) DO NOTHING",
    )
    .bind(store_id)
    .bind(variant_id)
    .bind(location_id)
    .bind(now)
    .execute_on(tx)
    .await?;
    let row = sqlx::query(
        "UPDATE stock_levels SET on_hand = $5, updated_at = $6
         WHERE store_id = $1 AND variant_id = $2 AND location_id = $3 AND on_hand = $4 AND reserved <= $5
         RETURNING on_hand, reserved",
    )
    .bind(store_id)
    .bind(variant_id)
    .bind(location_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_optional_on(&mut *tx)
    .await?;
    row.as_ref().map(level_of).transpose()
}

#[derive(Debug, Clone)]
pub struct MovementRow {
    pub id: String,
    pub variant_id: String,
    pub location_id: String,
    pub kind: String,
    pub reason: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub after: Level,
    pub note: String,
    pub reference: String,
    pub actor: String,
    pub created_at: i64,
}

/// Journal entries, all in one statement.
pub async fn insert_movements(tx: &mut Tx, store_id: &str, rows: &[MovementRow]) -> Result<(), sqlx::Error> {
    use super::catalog_bulk::Cell::{Int, Text};
    let cells: Vec<Vec<_>> = rows
        .iter()
        .map(|m| {
            vec![
                Text(store_id.into()),
                Text(m.id.clone()),
                Text(m.variant_id.clone()),
                Text(m.location_id.clone()),
                Text(m.kind.clone()),
                Text(m.reason.clone()),
                Int(m.on_hand_delta),
                Int(m.reserved_delta),
                Int(m.after.on_hand),
                Int(m.after.reserved),
                Text(m.note.clone()),
                Text(m.reference.clone()),
                Text(m.actor.clone()),
                Int(m.created_at),
            ]
        })
        .collect();
    let columns = [
        "store_id",
        "id",
        "variant_id",
        "location_id",
        "kind",
        "reason",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "note",
        "reference",
        "actor",
        "created_at",
    ];
    super::catalog_bulk::insert_rows(tx, tx.dialect(), "stock_movements", &columns, cells, "").await
}

/// Newest first, before the movement id `before` (paging), optionally of
/// one variant and/or one location.
pub async fn movements<'e, E>(
    ex: E,
    store_id: &str,
    variant_id: Option<&str>,
    location_id: Option<&str>,
    before: &str,
    limit: i64,
) -> Result<Vec<MovementRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut sql = String::from(
        "SELECT id, variant_id, location_id, kind, reason, on_hand_delta, reserved_delta, on_hand_after,
                reserved_after, note, reference, actor, created_at
         FROM stock_movements WHERE store_id = $1 AND id < $2",
    );
    let mut n = 3;
    if variant_id.is_some() {
        sql.push_str(&format!(" AND variant_id = ${n}"));
        n += 1;
    }
    if location_id.is_some() {
        sql.push_str(&format!(" AND location_id = ${n}"));
        n += 1;
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${n}"));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(before);
    if let Some(v) = variant_id {
        q = q.bind(v);
    }
    if let Some(l) = location_id {
        q = q.bind(l);
    }
    q.bind(limit)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(MovementRow {
                id: r.try_get("id")?,
                variant_id: r.try_get("variant_id")?,
                location_id: r.try_get("location_id")?,
                kind: r.try_get("kind")?,
                reason: r.try_get("reason")?,
                on_hand_delta: r.try_get("on_hand_delta")?,
                reserved_delta: r.try_get("reserved_delta")?,
                after: Level { on_hand: r.try_get("on_hand_after")?, reserved: r.try_get("reserved_after")? },
                note: r.try_get("note")?,
                reference: r.try_get("reference")?,
                actor: r.try_get("actor")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// A level with its variant's SKU, for stock lists.
#[derive(Debug, Clone)]
pub struct LevelRow {
    pub sku: String,
    pub variant_id: String,
    pub location_id: String,
    pub level: Level,
}

fn level_row(r: &AnyRow) -> Result<LevelRow, sqlx::Error> {
    Ok(LevelRow {
        sku: r.try_get("sku")?,
        variant_id: r.try_get("variant_id")?,
        location_id: r.try_get("location_id")?,
        level: level_of(r)?,
    })
}

/// Levels of one variant at every location that ever held it.
pub async fn levels_of_variant<'e, E>(ex: E, store_id: &str, variant_id: &str) -> Result<Vec<LevelRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT v.sku, l.variant_id, l.location_id, l.on_hand, l.reserved
         FROM stock_levels l JOIN variants v ON v.store_id = l.store_id AND v.id = l.variant_id
         WHERE l.store_id = $1 AND l.variant_id = $2",
    )
    .bind(store_id)
    .bind(variant_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(level_row)
    .collect()
}

/// Levels at one location by SKU, after `after` (paging).
pub async fn levels_at<'e, E>(
    ex: E,
    store_id: &str,
    location_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<LevelRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT v.sku, l.variant_id, l.location_id, l.on_hand, l.reserved
         FROM stock_levels l JOIN variants v ON v.store_id = l.store_id AND v.id = l.variant_id
         WHERE l.store_id = $1 AND l.location_id = $2 AND v.sku > $3
         ORDER BY v.sku LIMIT $4",
    )
    .bind(store_id)
    .bind(location_id)
    .bind(after)
    .bind(limit)
    .fetch_all(ex)
    .await?
    .iter()
    .map(level_row)
    .collect()
}

/// (variant id → SKU) for movement lists.
pub async fn skus_of<'e, E>(
    ex: E,
    dialect: Dialect,
    store_id: &str,
    variant_ids: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if variant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, sku FROM variants WHERE store_id = {} AND id IN ({})",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, variant_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for v in variant_ids {
        q = q.bind(v);
    }
    q.fetch_all(ex).await?.iter().map(|r| Ok((r.try_get("id")?, r.try_get("sku")?))).collect()
}

// ---- reservations for orders ----

/// What placing an order needs to know of its products' stock, in one
/// query (read while holding the SQLite writer): whether the store
/// keeps stock at all, every variant of `product_ids` with its stock (as
/// [`variant_stock`]), and where each can be taken from.
pub async fn stock_for_order(tx: &mut Tx, store_id: &str, product_ids: &[String]) -> Result<OrderStock, sqlx::Error> {
    let mut stock = OrderStock::default();
    if product_ids.is_empty() {
        stock.keeps_stock = tx.fetch_optional(keeps_stock_query(store_id)).await?.is_some();
        return Ok(stock);
    }
    // One row per (variant, location holding it), or one row with no
    // location; `location_id` is null where the location is inactive. Every
    // row says whether the store keeps stock at all. (Plain left joins: a
    // parenthesised join made SQLite materialise every stock level.)
    let sql = format!(
        "SELECT v.product_id, v.id, p.kind, s.policy, s.low_stock_at, s.restock_at,
                k.id AS location_id, k.priority, k.country, l.on_hand, l.reserved,
                CAST(CASE WHEN EXISTS (SELECT 1 FROM stock_locations a WHERE a.store_id = $1 AND a.active = 1)
                     THEN 1 ELSE 0 END AS BIGINT) AS keeps_stock
         FROM variants v
         JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id
         LEFT JOIN stock_settings s ON s.store_id = v.store_id AND s.variant_id = v.id
         LEFT JOIN stock_levels l ON l.store_id = v.store_id AND l.variant_id = v.id
         LEFT JOIN stock_locations k ON k.store_id = l.store_id AND k.id = l.location_id AND k.active = 1
         WHERE v.store_id = $1 AND v.product_id IN ({})
         ORDER BY v.product_id, v.position, v.id, k.id",
        (2..2 + product_ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for p in product_ids {
        q = q.bind(p);
    }
    let rows = tx.fetch_all(q).await?;
    let mut keeps = None;
    let variants = &mut stock.variants;
    for r in &rows {
        keeps.get_or_insert(r.try_get::<i64, _>("keeps_stock")? == 1);
        let variant_id: String = r.try_get("id")?;
        if variants.last().is_none_or(|v| v.variant_id != variant_id) {
            variants.push(VariantStock {
                product_id: r.try_get("product_id")?,
                variant_id: variant_id.clone(),
                kind: r.try_get("kind")?,
                policy: r.try_get("policy")?,
                low_stock_at: r.try_get("low_stock_at")?,
                restock_at: r.try_get("restock_at")?,
                available: 0,
            });
        }
        let Some(location_id) = r.try_get::<Option<String>, _>("location_id")? else { continue };
        let level = level_of(r)?;
        let available = level.on_hand - level.reserved;
        if let Some(v) = variants.last_mut() {
            v.available += available;
        }
        stock.levels.insert((variant_id.clone(), location_id.clone()), level);
        stock.sources.entry(variant_id).or_default().push(crate::domain::inventory::Source {
            location_id,
            priority: r.try_get("priority")?,
            country: r.try_get("country")?,
            available,
        });
    }
    stock.keeps_stock = match keeps {
        Some(k) => k,
        None => keeps_stock(&mut *tx, store_id).await?,
    };
    Ok(stock)
}

/// The stock of an order's products, read in its transaction
/// ([`stock_for_order`]).
#[derive(Debug, Default)]
pub struct OrderStock {
    /// The store has an active location (else nothing is tracked).
    pub keeps_stock: bool,
    /// Every variant of the products, in product and position order.
    pub variants: Vec<VariantStock>,
    /// Where each variant can be taken from (active locations).
    pub sources: std::collections::HashMap<String, Vec<crate::domain::inventory::Source>>,
    /// The level of each (variant, active location) pair read.
    pub levels: std::collections::HashMap<(String, String), Level>,
}

/// Holds units at several (variant, location) pairs in one statement, each
/// only if that much is free there (the guard against overselling). Returns
/// the pairs held with their levels after; a pair missing from the answer
/// had too little free. Pairs must be distinct.
pub async fn reserve_many(
    tx: &mut Tx,
    store_id: &str,
    holds: &[Reservation],
    now: i64,
) -> Result<Vec<(String, String, Level)>, sqlx::Error> {
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    // VALUES names its columns column1.. on both engines.
    let rows: Vec<String> =
        (0..holds.len()).map(|i| format!("(${}, ${}, ${})", 3 + 3 * i, 4 + 3 * i, 5 + 3 * i)).collect();
    let text = format!(
        "UPDATE stock_levels SET reserved = reserved + v.column3, updated_at = $2
         FROM (VALUES {}) AS v
         WHERE stock_levels.store_id = $1 AND stock_levels.variant_id = v.column1
           AND stock_levels.location_id = v.column2 AND on_hand - reserved >= v.column3
         RETURNING variant_id, location_id, on_hand, reserved",
        rows.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text)).bind(store_id).bind(now);
    for h in holds {
        q = q.bind(&h.variant_id).bind(&h.location_id).bind(h.quantity);
    }
    tx.fetch_all(q)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("variant_id")?, r.try_get("location_id")?, level_of(r)?)))
        .collect()
}

/// As [`reserve_many`], for a transaction that read the levels holding the
/// one SQLite writer ([`Tx::holds_the_writer`]), so they cannot have
/// changed: it has no guard to report back. The table's check (`reserved <= on_hand`)
/// still refuses an oversell, failing the whole transaction.
pub async fn reserve_many_in_place(
    tx: &mut Tx,
    store_id: &str,
    holds: &[Reservation],
    now: i64,
) -> Result<(), sqlx::Error> {
    debug_assert!(tx.holds_the_writer(), "only a transaction holding the writer read levels that cannot change");
    if holds.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> =
        (0..holds.len()).map(|i| format!("(${}, ${}, ${})", 3 + 3 * i, 4 + 3 * i, 5 + 3 * i)).collect();
    let text = format!(
        "UPDATE stock_levels SET reserved = reserved + v.column3, updated_at = $2
         FROM (VALUES {}) AS v
         WHERE stock_levels.store_id = $1 AND stock_levels.variant_id = v.column1
           AND stock_levels.location_id = v.column2",
        rows.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text)).bind(store_id).bind(now);
    for h in holds {
        q = q.bind(&h.variant_id).bind(&h.location_id).bind(h.quantity);
    }
    tx.write(q).await
}

/// Lets go of held units; with `ship`, they also leave the shelf.
pub async fn unreserve(
    tx: &mut Tx,
    store_id: &str,
    variant_id: &str,
    location_id: &str,
    quantity: i64,
    ship: bool,
    now: i64,
) -> Result<Option<Level>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE stock_levels SET reserved = reserved - $4, on_hand = on_hand - $5, updated_at = $6
         WHERE store_id = $1 AND variant_id = $2 AND location_id = $3 AND reserved >= $4
         RETURNING on_hand, reserved",
    )
    .bind(store_id)
    .bind(variant_id)
    .bind(location_id)
    .bind(quantity)
    .bind(if ship { quantity } else { 0 })
    .bind(now)
    .fetch_optional_on(&mut *tx)
    .await?;
    row.as_ref().map(level_of).transpose()
}

#[derive(Debug, Clone)]
pub struct Reservation {
    pub variant_id: String,
    pub location_id: String,
    pub quantity: i64,
}

/// Several reservations of one order in one statement; each (variant,
/// location) at most once (merge before calling).
pub async fn insert_reservations(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    rows: &[Reservation],
) -> Result<(), sqlx::Error> {
    use super::catalog_bulk::Cell::{Int, Text};
    let cells: Vec<Vec<_>> = rows
        .iter()
        .map(|r| {
            vec![
                Text(store_id.into()),
                Text(order_id.into()),
                Text(r.variant_id.clone()),
                Text(r.location_id.clone()),
                Int(r.quantity),
            ]
        })
        .collect();
    let columns = ["store_id", "order_id", "variant_id", "location_id", "quantity"];
    super::catalog_bulk::insert_rows(
        tx,
        tx.dialect(),
        "stock_reservations",
        &columns,
        cells,
        "ON CONFLICT (store_id, order_id, variant_id, location_id)
         DO UPDATE SET quantity = stock_reservations.quantity + excluded.quantity",
    )
    .await
}

pub async fn reservations_of(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<Vec<Reservation>, sqlx::Error> {
    sqlx::query(
        "SELECT variant_id, location_id, quantity FROM stock_reservations
         WHERE store_id = $1 AND order_id = $2 ORDER BY variant_id, location_id",
    )
    .bind(store_id)
    .bind(order_id)
    .fetch_all_on(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        Ok(Reservation {
            variant_id: r.try_get("variant_id")?,
            location_id: r.try_get("location_id")?,
            quantity: r.try_get("quantity")?,
        })
    })
    .collect()
}

pub async fn delete_reservations(tx: &mut Tx, store_id: &str, order_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM stock_reservations WHERE store_id = $1 AND order_id = $2")
        .bind(store_id)
        .bind(order_id)
        .execute_on(tx)
        .await?;
    Ok(())
}

/// Product ids of some variants.
pub async fn variant_products(
    tx: &mut Tx,
    dialect: Dialect,
    store_id: &str,
    variant_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if variant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT product_id FROM variants WHERE store_id = {} AND id IN ({})",
        placeholders(dialect, 1, 1),
        placeholders(dialect, 2, variant_ids.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id);
    for v in variant_ids {
        q = q.bind(v);
    }
    q.fetch_all_on(&mut *tx).await?.iter().map(|r| r.try_get(0)).collect()
}
