//! SQL for the rules checkout prices with: tax settings and rates,
//! shipping zones and methods, promotions and coupons, and the coupon
//! usage counters that hold under concurrent checkouts.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

#[derive(Debug, Clone)]
pub struct TaxSettingsRow {
    pub origin_country: String,
    pub rounding: String,
    pub reverse_charge: bool,
}

pub async fn tax_settings<'e, E>(ex: E, store_id: &str) -> Result<Option<TaxSettingsRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT origin_country, rounding, reverse_charge FROM tax_settings WHERE store_id = $1")
        .bind(store_id)
        .fetch_optional(ex)
        .await?
        .map(|r| {
            Ok(TaxSettingsRow {
                origin_country: r.try_get("origin_country")?,
                rounding: r.try_get("rounding")?,
                reverse_charge: r.try_get::<i64, _>("reverse_charge")? != 0,
            })
        })
        .transpose()
}

pub async fn put_tax_settings(tx: &mut Tx, store_id: &str, s: &TaxSettingsRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tax_settings (store_id, origin_country, rounding, reverse_charge) VALUES ($1, $2, $3, $4)
         ON CONFLICT (store_id) DO UPDATE SET origin_country = excluded.origin_country,
             rounding = excluded.rounding, reverse_charge = excluded.reverse_charge",
    )
    .bind(store_id)
    .bind(&s.origin_country)
    .bind(&s.rounding)
    .bind(i64::from(s.reverse_charge))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TaxRateRow {
    pub id: String,
    pub country: String,
    pub region: String,
    pub tax_class: String,
    pub rate: String,
    pub label: String,
}

pub async fn tax_rates<'e, E>(ex: E, store_id: &str) -> Result<Vec<TaxRateRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, country, region, tax_class, rate, label FROM tax_rates WHERE store_id = $1
         ORDER BY country, region, tax_class",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(TaxRateRow {
            id: r.try_get("id")?,
            country: r.try_get("country")?,
            region: r.try_get("region")?,
            tax_class: r.try_get("tax_class")?,
            rate: r.try_get("rate")?,
            label: r.try_get("label")?,
        })
    })
    .collect()
}

/// Sets the rate for (country, region, class), keeping its id if it exists.
pub async fn put_tax_rate(tx: &mut Tx, store_id: &str, r: &TaxRateRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tax_rates (store_id, id, country, region, tax_class, rate, label) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (store_id, country, region, tax_class) DO UPDATE SET rate = excluded.rate, label = excluded.label",
    )
    .bind(store_id)
    .bind(&r.id)
    .bind(&r.country)
    .bind(&r.region)
    .bind(&r.tax_class)
    .bind(&r.rate)
    .bind(&r.label)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_tax_rate(tx: &mut Tx, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM tax_rates WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0)
}

#[derive(Debug, Clone)]
pub struct ZoneRow {
    pub id: String,
    pub name: String,
    pub area: String,
    pub position: i64,
}

pub async fn zones<'e, E>(ex: E, store_id: &str) -> Result<Vec<ZoneRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, name, area, position FROM shipping_zones WHERE store_id = $1 ORDER BY position, id")
        .bind(store_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(ZoneRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                area: r.try_get("area")?,
                position: r.try_get("position")?,
            })
        })
        .collect()
}

pub async fn put_zone(tx: &mut Tx, store_id: &str, z: &ZoneRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO shipping_zones (store_id, id, name, area, position) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (store_id, id) DO UPDATE SET name = excluded.name, area = excluded.area, position = excluded.position",
    )
    .bind(store_id)
    .bind(&z.id)
    .bind(&z.name)
    .bind(&z.area)
    .bind(z.position)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a zone and its methods.
pub async fn delete_zone(tx: &mut Tx, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM shipping_methods WHERE store_id = $1 AND zone_id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query("DELETE FROM shipping_zones WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0)
}

#[derive(Debug, Clone)]
pub struct MethodRow {
    pub id: String,
    pub zone_id: String,
    pub code: String,
    pub name: String,
    pub carrier: String,
    pub currency: String,
    pub rates: String,
    pub free_over: Option<i64>,
    pub pickup_points: String,
    pub active: bool,
}

fn method(r: &AnyRow) -> Result<MethodRow, sqlx::Error> {
    Ok(MethodRow {
        id: r.try_get("id")?,
        zone_id: r.try_get("zone_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        carrier: r.try_get("carrier")?,
        currency: r.try_get("currency")?,
        rates: r.try_get("rates")?,
        free_over: r.try_get("free_over")?,
        pickup_points: r.try_get("pickup_points")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

pub async fn methods<'e, E>(ex: E, store_id: &str) -> Result<Vec<MethodRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, zone_id, code, name, carrier, currency, rates, free_over, pickup_points, active
         FROM shipping_methods WHERE store_id = $1 ORDER BY code",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(method)
    .collect()
}

pub async fn put_method(tx: &mut Tx, store_id: &str, m: &MethodRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO shipping_methods
             (store_id, id, zone_id, code, name, carrier, currency, rates, free_over, pickup_points, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (store_id, id) DO UPDATE SET zone_id = excluded.zone_id, code = excluded.code,
             name = excluded.name, carrier = excluded.carrier, currency = excluded.currency, rates = excluded.rates,
             free_over = excluded.free_over, pickup_points = excluded.pickup_points, active = excluded.active",
    )
    .bind(store_id)
    .bind(&m.id)
    .bind(&m.zone_id)
    .bind(&m.code)
    .bind(&m.name)
    .bind(&m.carrier)
    .bind(&m.currency)
    .bind(&m.rates)
    .bind(m.free_over)
    .bind(&m.pickup_points)
    .bind(i64::from(m.active))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_method(tx: &mut Tx, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM shipping_methods WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0)
}

#[derive(Debug, Clone)]
pub struct PromotionRow {
    pub id: String,
    pub name: String,
    pub effect: String,
    pub conditions: String,
    pub priority: i64,
    pub exclusive: bool,
    pub needs_coupon: bool,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn promotions<'e, E>(ex: E, store_id: &str) -> Result<Vec<PromotionRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, name, effect, conditions, priority, exclusive, needs_coupon, active, created_at, updated_at
         FROM promotions WHERE store_id = $1 ORDER BY priority DESC, id",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(PromotionRow {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            effect: r.try_get("effect")?,
            conditions: r.try_get("conditions")?,
            priority: r.try_get("priority")?,
            exclusive: r.try_get::<i64, _>("exclusive")? != 0,
            needs_coupon: r.try_get::<i64, _>("needs_coupon")? != 0,
            active: r.try_get::<i64, _>("active")? != 0,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .collect()
}

pub async fn put_promotion(tx: &mut Tx, store_id: &str, p: &PromotionRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promotions
             (store_id, id, name, effect, conditions, priority, exclusive, needs_coupon, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (store_id, id) DO UPDATE SET name = excluded.name, effect = excluded.effect,
             conditions = excluded.conditions, priority = excluded.priority, exclusive = excluded.exclusive,
             needs_coupon = excluded.needs_coupon, active = excluded.active, updated_at = excluded.updated_at",
    )
    .bind(store_id)
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.effect)
    .bind(&p.conditions)
    .bind(p.priority)
    .bind(i64::from(p.exclusive))
    .bind(i64::from(p.needs_coupon))
    .bind(i64::from(p.active))
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct CouponRow {
    pub id: String,
    pub promotion_id: String,
    pub code: String,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub used: i64,
    pub created_at: i64,
}

fn coupon(r: &AnyRow) -> Result<CouponRow, sqlx::Error> {
    Ok(CouponRow {
        id: r.try_get("id")?,
        promotion_id: r.try_get("promotion_id")?,
        code: r.try_get("code")?,
        usage_limit: r.try_get("usage_limit")?,
        per_customer_limit: r.try_get("per_customer_limit")?,
        used: r.try_get("used")?,
        created_at: r.try_get("created_at")?,
    })
}

const COUPON_COLUMNS: &str = "id, promotion_id, code, usage_limit, per_customer_limit, used, created_at";

pub async fn coupons<'e, E>(ex: E, store_id: &str) -> Result<Vec<CouponRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE store_id = $1 ORDER BY code");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).fetch_all(ex).await?.iter().map(coupon).collect()
}

pub async fn coupon_by_code<'e, E>(ex: E, store_id: &str, code: &str) -> Result<Option<CouponRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE store_id = $1 AND code = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(code)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(coupon)
        .transpose()
}

pub async fn insert_coupon(tx: &mut Tx, store_id: &str, c: &CouponRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO coupons (store_id, id, promotion_id, code, usage_limit, per_customer_limit, used, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(store_id)
    .bind(&c.id)
    .bind(&c.promotion_id)
    .bind(&c.code)
    .bind(c.usage_limit)
    .bind(c.per_customer_limit)
    .bind(c.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes one use of a coupon for `who`, if both the coupon's total and
/// the per-customer limit allow it. Conditional updates: concurrent
/// checkouts queue on the rows and each sees the other's use.
pub async fn take_use(
    tx: &mut Tx,
    store_id: &str,
    coupon_id: &str,
    who: &str,
    per_customer_limit: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let total = tx
        .execute(
            sqlx::query(
                "UPDATE coupons SET used = used + 1
         WHERE store_id = $1 AND id = $2 AND (usage_limit IS NULL OR used < usage_limit)",
            )
            .bind(store_id)
            .bind(coupon_id),
        )
        .await?
        .rows_affected();
    if total == 0 {
        return Ok(false);
    }
    tx.write(
        sqlx::query(
            "INSERT INTO coupon_uses (store_id, coupon_id, who, used) VALUES ($1, $2, $3, 0)
         ON CONFLICT (store_id, coupon_id, who) DO NOTHING",
        )
        .bind(store_id)
        .bind(coupon_id)
        .bind(who),
    )
    .await?;
    let mine = tx
        .execute(
            sqlx::query(
                "UPDATE coupon_uses SET used = used + 1
         WHERE store_id = $1 AND coupon_id = $2 AND who = $3 AND ($4 IS NULL OR used < $4)",
            )
            .bind(store_id)
            .bind(coupon_id)
            .bind(who)
            .bind(per_customer_limit),
        )
        .await?
        .rows_affected();
    Ok(mine > 0)
}

/// Gives a use back (a cancelled order).
pub async fn give_back_use(tx: &mut Tx, store_id: &str, coupon_id: &str, who: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE coupons SET used = used - 1 WHERE store_id = $1 AND id = $2 AND used > 0")
        .bind(store_id)
        .bind(coupon_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE coupon_uses SET used = used - 1 WHERE store_id = $1 AND coupon_id = $2 AND who = $3 AND used > 0",
    )
    .bind(store_id)
    .bind(coupon_id)
    .bind(who)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_order_coupon(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    coupon_id: &str,
    who: &str,
) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query("INSERT INTO order_coupons (store_id, order_id, coupon_id, who) VALUES ($1, $2, $3, $4)")
            .bind(store_id)
            .bind(order_id)
            .bind(coupon_id)
            .bind(who),
    )
    .await
}

/// Removes and returns an order's coupon uses: (coupon id, who).
pub async fn take_order_coupons(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT coupon_id, who FROM order_coupons WHERE store_id = $1 AND order_id = $2")
        .bind(store_id)
        .bind(order_id)
        .fetch_all(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM order_coupons WHERE store_id = $1 AND order_id = $2")
        .bind(store_id)
        .bind(order_id)
        .execute(&mut **tx)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("coupon_id")?, r.try_get("who")?))).collect()
}

/// Removes one coupon use from an order's record; who used it, if it was there.
pub async fn remove_order_coupon(
    tx: &mut Tx,
    store_id: &str,
    order_id: &str,
    coupon_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let who: Option<String> = sqlx::query_scalar(
        "DELETE FROM order_coupons WHERE store_id = $1 AND order_id = $2 AND coupon_id = $3 RETURNING who",
    )
    .bind(store_id)
    .bind(order_id)
    .bind(coupon_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(who)
}
