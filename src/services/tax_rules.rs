//! Staff manage the store's tax: where it sells from, how it rounds,
//! whether it reverse-charges EU business customers, and the rates per
//! country, region and product tax class. Prices then get their tax in
//! `services::quote`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit};
use crate::db::checkout_rules::{self as sql, TaxRateRow, TaxSettingsRow};
use crate::domain::ids;
use crate::domain::tax::{Rate, Rounding};
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxSettings {
    /// Country the store sells from (ISO 3166-1), e.g. `DE`; empty if unset.
    pub origin_country: String,
    pub rounding: Rounding,
    /// Charge no VAT to businesses in other EU states that give a valid VAT id.
    pub reverse_charge: bool,
}

impl Default for TaxSettings {
    fn default() -> Self {
        TaxSettings { origin_country: String::new(), rounding: Rounding::Line, reverse_charge: true }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateInput {
    /// ISO 3166-1 alpha-2, e.g. `DE` or `US`.
    pub country: String,
    /// A region of the country (e.g. `CA`); empty for the whole country.
    #[serde(default)]
    pub region: String,
    /// The product tax class it applies to (`standard`, `reduced`, `exempt`,
    /// `shipping`, or the store's own).
    pub tax_class: String,
    /// A percentage, e.g. `"19"` or `"8.875"`.
    #[schema(value_type = String, example = "19")]
    pub rate: Rate,
    /// Shown on carts, orders and invoices; default "<country> <rate>%".
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaxRate {
    pub id: String,
    pub country: String,
    pub region: String,
    pub tax_class: String,
    #[schema(value_type = String, example = "19")]
    pub rate: Rate,
    pub label: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaxConfig {
    pub settings: TaxSettings,
    pub rates: Vec<TaxRate>,
}

pub fn country_ok(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())
}

pub(super) fn rate_of(r: TaxRateRow) -> TaxRate {
    TaxRate {
        rate: Rate::parse_percent(&r.rate).unwrap_or_default(),
        id: r.id,
        country: r.country,
        region: r.region,
        tax_class: r.tax_class,
        label: r.label,
    }
}

pub(super) fn settings_of(row: Option<TaxSettingsRow>) -> TaxSettings {
    row.map_or_else(TaxSettings::default, |s| TaxSettings {
        origin_country: s.origin_country,
        rounding: Rounding::parse(&s.rounding).unwrap_or(Rounding::Line),
        reverse_charge: s.reverse_charge,
    })
}

pub async fn get(app: &App, ctx: &Ctx) -> ServiceResult<TaxConfig> {
    ctx.actor.require(Permission::SettingsManage)?;
    let pool = app.db.pool();
    Ok(TaxConfig {
        settings: settings_of(sql::tax_settings(pool, &ctx.store.id).await?),
        rates: sql::tax_rates(pool, &ctx.store.id).await?.into_iter().map(rate_of).collect(),
    })
}

pub async fn set_settings(app: &App, ctx: &Ctx, input: TaxSettings) -> ServiceResult<TaxSettings> {
    ctx.actor.require(Permission::SettingsManage)?;
    let origin = input.origin_country.trim().to_uppercase();
    if !origin.is_empty() && !country_ok(&origin) {
        let mut errs = FieldErrors::default();
        errs.add("origin_country", "invalid_country", "a two-letter country code such as DE");
        return Err(errs.into());
    }
    let row = TaxSettingsRow {
        origin_country: origin,
        rounding: input.rounding.as_str().into(),
        reverse_charge: input.reverse_charge,
    };
    let mut tx = app.db.begin().await?;
    sql::put_tax_settings(&mut tx, &ctx.store.id, &row).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "tax.settings_changed",
        "",
        json!({ "origin_country": row.origin_country, "rounding": row.rounding, "reverse_charge": row.reverse_charge }),
    )
    .await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    Ok(settings_of(Some(row)))
}

/// Sets the rate for a country, region and class (replacing the one there).
pub async fn put_rate(app: &App, ctx: &Ctx, input: TaxRateInput) -> ServiceResult<TaxRate> {
    ctx.actor.require(Permission::SettingsManage)?;
    let mut errs = FieldErrors::default();
    let country = input.country.trim().to_uppercase();
    if !country_ok(&country) {
        errs.add("country", "invalid_country", "a two-letter country code such as DE");
    }
    let region = input.region.trim().to_uppercase();
    if region.len() > 3 || !region.bytes().all(|b| b.is_ascii_alphanumeric()) {
        errs.add("region", "invalid_region", "a region code of up to 3 letters or digits, such as CA");
    }
    let class = input.tax_class.trim().to_lowercase();
    if class.is_empty()
        || class.len() > 32
        || !class.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        errs.add("tax_class", "invalid_tax_class", "a tax class is 1 to 32 letters, digits or _");
    }
    errs.text("label", &input.label, 0, 60);
    errs.finish(())?;
    let label = match input.label.trim() {
        "" if region.is_empty() => format!("{country} {}%", input.rate.percent_text()),
        "" => format!("{country}-{region} {}%", input.rate.percent_text()),
        l => l.to_string(),
    };
    let pool = app.db.pool();
    let existing = sql::tax_rates(pool, &ctx.store.id)
        .await?
        .into_iter()
        .find(|r| r.country == country && r.region == region && r.tax_class == class);
    let row = TaxRateRow {
        id: existing.map_or_else(|| ids::new_id("txr"), |r| r.id),
        country,
        region,
        tax_class: class,
        rate: input.rate.percent_text(),
        label,
    };
    let mut tx = app.db.begin().await?;
    sql::put_tax_rate(&mut tx, &ctx.store.id, &row).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "tax.rate_set",
        &row.id,
        json!({ "country": row.country, "region": row.region, "class": row.tax_class, "rate": row.rate }),
    )
    .await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    // The id of a rate replaced concurrently may differ: read back what holds.
    sql::tax_rates(pool, &ctx.store.id)
        .await?
        .into_iter()
        .find(|r| r.country == row.country && r.region == row.region && r.tax_class == row.tax_class)
        .map(rate_of)
        .ok_or(ServiceError::NotFound)
}

pub async fn delete_rate(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::SettingsManage)?;
    let mut tx = app.db.begin().await?;
    if !sql::delete_tax_rate(&mut tx, &ctx.store.id, id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "tax.rate_deleted", id, json!({})).await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    Ok(())
}
