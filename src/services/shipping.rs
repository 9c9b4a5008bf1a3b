//! Staff manage where the store ships and what it costs: zones (countries,
//! regions, postcodes) with methods priced flat, by weight or by value,
//! free above a threshold, delivered by a carrier or picked up at a point.
//! Carts offer the methods of the first zone covering their address
//! (`services::quote`).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit};
use crate::db::checkout_rules::{self as sql, MethodRow, ZoneRow};
use crate::domain::ids;
use crate::domain::money::Currency;
use crate::domain::shipping::{RateTable, ZoneArea};
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupPoint {
    pub id: String,
    pub name: String,
    /// Street, postcode and city, as shown to the customer.
    pub address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodInput {
    /// Short code customers' carts refer to, e.g. `standard`.
    pub code: String,
    pub name: String,
    #[serde(default = "manual")]
    pub carrier: String,
    /// The currency its amounts are in; carts in other currencies do not see it.
    pub currency: String,
    pub rates: RateTable,
    /// Free when the goods (after discounts) reach this amount.
    #[serde(default)]
    pub free_over: Option<i64>,
    /// Pickup points; when given, the customer picks one instead of delivery.
    #[serde(default)]
    pub pickup_points: Vec<PickupPoint>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn manual() -> String {
    "manual".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Method {
    pub id: String,
    pub zone_id: String,
    pub code: String,
    pub name: String,
    pub carrier: String,
    pub currency: String,
    pub rates: RateTable,
    pub free_over: Option<i64>,
    pub pickup_points: Vec<PickupPoint>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneInput {
    pub name: String,
    /// Countries (`DE`) or regions (`US-CA`).
    pub regions: Vec<String>,
    /// Postcode prefixes; empty covers every postcode.
    #[serde(default)]
    pub postcodes: Vec<String>,
    /// Zones are tried from the lowest position; the first covering an address wins.
    #[serde(default)]
    pub position: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Zone {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub area: ZoneArea,
    pub position: i64,
    pub methods: Vec<Method>,
}

pub(super) fn method_of(m: MethodRow) -> Option<Method> {
    Some(Method {
        rates: serde_json::from_str(&m.rates).ok()?,
        pickup_points: serde_json::from_str(&m.pickup_points).unwrap_or_default(),
        id: m.id,
        zone_id: m.zone_id,
        code: m.code,
        name: m.name,
        carrier: m.carrier,
        currency: m.currency,
        free_over: m.free_over,
        active: m.active,
    })
}

pub(super) fn area_of(z: &ZoneRow) -> ZoneArea {
    serde_json::from_str(&z.area).unwrap_or(ZoneArea { regions: vec![], postcodes: vec![] })
}

pub async fn zones(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Zone>> {
    ctx.actor.require(Permission::SettingsManage)?;
    let pool = app.db.pool();
    let methods: Vec<Method> = sql::methods(pool, &ctx.store.id).await?.into_iter().filter_map(method_of).collect();
    Ok(sql::zones(pool, &ctx.store.id)
        .await?
        .into_iter()
        .map(|z| Zone {
            area: area_of(&z),
            methods: methods.iter().filter(|m| m.zone_id == z.id).cloned().collect(),
            id: z.id,
            name: z.name,
            position: z.position,
        })
        .collect())
}

fn check_zone(input: &ZoneInput) -> Result<ZoneArea, FieldErrors> {
    let mut errs = FieldErrors::default();
    errs.text("name", &input.name, 1, 100);
    let regions: Vec<String> = input.regions.iter().map(|r| r.trim().to_uppercase()).collect();
    if regions.is_empty() {
        errs.add("regions", "required", "name at least one country or region");
    }
    for r in &regions {
        let (country, region) = r.split_once('-').unwrap_or((r, ""));
        if !super::tax_rules::country_ok(country)
            || region.len() > 3
            || !region.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            errs.add("regions", "invalid_region", format!("{r:?} is not a country (DE) or region (US-CA) code"));
        }
    }
    let postcodes: Vec<String> = input.postcodes.iter().map(|p| p.trim().replace(' ', "").to_uppercase()).collect();
    if postcodes.iter().any(|p| p.is_empty() || p.len() > 10) {
        errs.add("postcodes", "invalid_postcode", "postcode prefixes are 1 to 10 characters");
    }
    errs.finish(ZoneArea { regions, postcodes })
}

async fn save_zone(app: &App, ctx: &Ctx, id: Option<&str>, input: ZoneInput) -> ServiceResult<Zone> {
    ctx.actor.require(Permission::SettingsManage)?;
    let area = check_zone(&input)?;
    let pool = app.db.pool();
    if let Some(id) = id
        && !sql::zones(pool, &ctx.store.id).await?.iter().any(|z| z.id == id)
    {
        return Err(ServiceError::NotFound);
    }
    let row = ZoneRow {
        id: id.map_or_else(|| ids::new_id("shz"), str::to_string),
        name: input.name.trim().to_string(),
        area: serde_json::to_string(&area).map_err(|e| ServiceError::Internal(e.to_string()))?,
        position: input.position,
    };
    let mut tx = app.db.begin().await?;
    sql::put_zone(&mut tx, &ctx.store.id, &row).await?;
    audit::record(app, &mut tx, ctx, "shipping.zone_saved", &row.id, json!({ "name": row.name, "area": area })).await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    zones(app, ctx).await?.into_iter().find(|z| z.id == row.id).ok_or(ServiceError::NotFound)
}

pub async fn create_zone(app: &App, ctx: &Ctx, input: ZoneInput) -> ServiceResult<Zone> {
    save_zone(app, ctx, None, input).await
}

pub async fn update_zone(app: &App, ctx: &Ctx, id: &str, input: ZoneInput) -> ServiceResult<Zone> {
    save_zone(app, ctx, Some(id), input).await
}

pub async fn delete_zone(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::SettingsManage)?;
    let mut tx = app.db.begin().await?;
    if !sql::delete_zone(&mut tx, &ctx.store.id, id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "shipping.zone_deleted", id, json!({})).await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    Ok(())
}

fn check_method(input: &MethodInput) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    let code = input.code.trim();
    if code.is_empty() || code.len() > 40 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errs.add("code", "invalid_code", "a code is 1 to 40 letters, digits, - or _");
    }
    errs.text("name", &input.name, 1, 100);
    if crate::providers::carrier::by_code(&input.carrier).is_none() {
        let known = crate::providers::carrier::codes().join(", ");
        errs.add("carrier", "unknown_carrier", format!("carriers: {known}"));
    }
    if Currency::parse(&input.currency).is_none() {
        errs.add("currency", "unknown_currency", "not a currency this platform prices in");
    }
    if let Some(why) = input.rates.problem() {
        errs.add("rates", "invalid_rates", why);
    }
    if input.free_over.is_some_and(|f| f < 0) {
        errs.add("free_over", "out_of_range", "cannot be negative");
    }
    let mut seen = std::collections::HashSet::new();
    for p in &input.pickup_points {
        if p.id.trim().is_empty() || p.name.trim().is_empty() || p.address.trim().is_empty() {
            errs.add("pickup_points", "incomplete", "a pickup point needs an id, a name and an address");
        }
        if !seen.insert(p.id.trim()) {
            errs.add("pickup_points", "duplicate", format!("pickup point id {:?} is given twice", p.id));
        }
    }
    errs.finish(())
}

async fn save_method(
    app: &App,
    ctx: &Ctx,
    zone_id: &str,
    id: Option<&str>,
    input: MethodInput,
) -> ServiceResult<Method> {
    ctx.actor.require(Permission::SettingsManage)?;
    check_method(&input)?;
    let pool = app.db.pool();
    if !sql::zones(pool, &ctx.store.id).await?.iter().any(|z| z.id == zone_id) {
        return Err(ServiceError::NotFound);
    }
    let existing = sql::methods(pool, &ctx.store.id).await?;
    if let Some(id) = id
        && !existing.iter().any(|m| m.id == id && m.zone_id == zone_id)
    {
        return Err(ServiceError::NotFound);
    }
    let code = input.code.trim().to_string();
    if existing.iter().any(|m| m.code == code && Some(m.id.as_str()) != id) {
        return Err(ServiceError::Conflict {
            code: "code_taken",
            message: format!("a method with code {code} exists"),
        });
    }
    let row = MethodRow {
        id: id.map_or_else(|| ids::new_id("shm"), str::to_string),
        zone_id: zone_id.to_string(),
        code,
        name: input.name.trim().to_string(),
        carrier: input.carrier.clone(),
        currency: Currency::parse(&input.currency).map_or_else(String::new, |c| c.code().to_string()),
        rates: serde_json::to_string(&input.rates).map_err(|e| ServiceError::Internal(e.to_string()))?,
        free_over: input.free_over,
        pickup_points: serde_json::to_string(&input.pickup_points)
            .map_err(|e| ServiceError::Internal(e.to_string()))?,
        active: input.active,
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = sql::put_method(&mut tx, &ctx.store.id, &row).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict { code: "code_taken", message: format!("a method with code {} exists", row.code) }
        } else {
            e.into()
        });
    }
    audit::record(app, &mut tx, ctx, "shipping.method_saved", &row.id, json!({ "code": row.code, "zone": zone_id }))
        .await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    method_of(row).ok_or_else(|| ServiceError::Internal("method did not read back".into()))
}

pub async fn create_method(app: &App, ctx: &Ctx, zone_id: &str, input: MethodInput) -> ServiceResult<Method> {
    save_method(app, ctx, zone_id, None, input).await
}

pub async fn update_method(app: &App, ctx: &Ctx, zone_id: &str, id: &str, input: MethodInput) -> ServiceResult<Method> {
    save_method(app, ctx, zone_id, Some(id), input).await
}

pub async fn delete_method(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::SettingsManage)?;
    let mut tx = app.db.begin().await?;
    if !sql::delete_method(&mut tx, &ctx.store.id, id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "shipping.method_deleted", id, json!({})).await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    Ok(())
}
