//! Staff manage promotions (what they take off, when they apply, their
//! priority and whether they stack) and the coupon codes that unlock them,
//! with total and per-customer usage limits. Carts apply them in
//! `services::quote`; checkout takes coupon uses in its transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms};
use crate::db::checkout_rules::{self as sql, CouponRow, PromotionRow};
use crate::domain::ids;
use crate::domain::money::Currency;
use crate::domain::promotions::{Conditions, Effect};
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionInput {
    /// Shown to customers next to the discount.
    pub name: String,
    pub effect: Effect,
    /// Channels by code, customer groups by id, minimum subtotal, currency, dates.
    #[serde(default)]
    pub conditions: Conditions,
    /// Higher runs first.
    #[serde(default)]
    pub priority: i64,
    /// Applies only alone: not after another promotion, and none after it.
    #[serde(default)]
    pub exclusive: bool,
    /// Applies only when the customer enters one of its coupon codes.
    #[serde(default)]
    pub needs_coupon: bool,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponInput {
    /// Letters, digits, - and _; matched without regard to case.
    pub code: String,
    /// Uses in total; none for unlimited.
    #[serde(default)]
    pub usage_limit: Option<i64>,
    /// Uses per customer (or per e-mail for guests); none for unlimited.
    #[serde(default)]
    pub per_customer_limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coupon {
    pub id: String,
    pub code: String,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub used: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PromotionView {
    pub id: String,
    pub name: String,
    pub effect: Effect,
    pub conditions: Conditions,
    pub priority: i64,
    pub exclusive: bool,
    pub needs_coupon: bool,
    pub active: bool,
    pub coupons: Vec<Coupon>,
    pub updated_at: i64,
}

pub fn normalize_code(code: &str) -> String {
    code.trim().to_uppercase()
}

pub(super) fn coupon_of(c: CouponRow) -> Coupon {
    Coupon {
        id: c.id,
        code: c.code,
        usage_limit: c.usage_limit,
        per_customer_limit: c.per_customer_limit,
        used: c.used,
    }
}

pub(super) fn view_of(p: PromotionRow, coupons: &[CouponRow]) -> Option<PromotionView> {
    Some(PromotionView {
        effect: serde_json::from_str(&p.effect).ok()?,
        conditions: serde_json::from_str(&p.conditions).unwrap_or_default(),
        coupons: coupons.iter().filter(|c| c.promotion_id == p.id).cloned().map(coupon_of).collect(),
        id: p.id,
        name: p.name,
        priority: p.priority,
        exclusive: p.exclusive,
        needs_coupon: p.needs_coupon,
        active: p.active,
        updated_at: p.updated_at,
    })
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<PromotionView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    let pool = app.db.pool();
    let coupons = sql::coupons(pool, &ctx.store.id).await?;
    Ok(sql::promotions(pool, &ctx.store.id).await?.into_iter().filter_map(|p| view_of(p, &coupons)).collect())
}

pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<PromotionView> {
    list(app, ctx).await?.into_iter().find(|p| p.id == id).ok_or(ServiceError::NotFound)
}

async fn check(app: &App, ctx: &Ctx, input: &PromotionInput) -> Result<(), ServiceError> {
    let mut errs = FieldErrors::default();
    errs.text("name", &input.name, 1, 100);
    if let Some(why) = input.effect.problem() {
        errs.add("effect", "invalid_effect", why);
    }
    let c = &input.conditions;
    if c.currency.as_deref().is_some_and(|cur| Currency::parse(cur).is_none()) {
        errs.add("conditions.currency", "unknown_currency", "not a currency this platform prices in");
    }
    let amounts =
        matches!(input.effect, Effect::OrderAmount { .. } | Effect::UnitAmount { .. } | Effect::Tiered { .. });
    if amounts && c.currency.is_none() {
        errs.add("conditions.currency", "required", "a promotion with amounts needs the currency they are in");
    }
    if c.min_subtotal.is_some() && c.currency.is_none() {
        errs.add("conditions.currency", "required", "a minimum subtotal needs the currency it is in");
    }
    if let (Some(s), Some(e)) = (c.starts_at, c.ends_at)
        && e <= s
    {
        errs.add("conditions.ends_at", "before_start", "ends_at must be after starts_at");
    }
    let channels = crate::db::catalog::channels(app.db.pool(), &ctx.store.id).await?;
    for code in &c.channels {
        if !channels.iter().any(|ch| ch.code == *code) {
            errs.add("conditions.channels", "unknown_channel", format!("no channel with code {code:?}"));
        }
    }
    Ok(errs.finish(())?)
}

async fn save(app: &App, ctx: &Ctx, id: Option<&str>, input: PromotionInput) -> ServiceResult<PromotionView> {
    ctx.actor.require(Permission::CatalogManage)?;
    check(app, ctx, &input).await?;
    let pool = app.db.pool();
    let existing = match id {
        Some(id) => Some(
            sql::promotions(pool, &ctx.store.id)
                .await?
                .into_iter()
                .find(|p| p.id == id)
                .ok_or(ServiceError::NotFound)?,
        ),
        None => None,
    };
    let now = now_ms();
    let row = PromotionRow {
        id: id.map_or_else(|| ids::new_id("prm"), str::to_string),
        name: input.name.trim().to_string(),
        effect: to_json(&input.effect)?,
        conditions: to_json(&input.conditions)?,
        priority: input.priority,
        exclusive: input.exclusive,
        needs_coupon: input.needs_coupon,
        active: input.active,
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    sql::put_promotion(&mut tx, &ctx.store.id, &row).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "promotion.saved",
        &row.id,
        json!({ "name": row.name, "effect": input.effect, "active": row.active }),
    )
    .await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    get(app, ctx, &row.id).await
}

fn to_json<T: Serialize>(v: &T) -> ServiceResult<String> {
    serde_json::to_string(v).map_err(|e| ServiceError::Internal(e.to_string()))
}

pub async fn create(app: &App, ctx: &Ctx, input: PromotionInput) -> ServiceResult<PromotionView> {
    save(app, ctx, None, input).await
}

pub async fn update(app: &App, ctx: &Ctx, id: &str, input: PromotionInput) -> ServiceResult<PromotionView> {
    save(app, ctx, Some(id), input).await
}

pub async fn add_coupon(app: &App, ctx: &Ctx, promotion_id: &str, input: CouponInput) -> ServiceResult<Coupon> {
    ctx.actor.require(Permission::CatalogManage)?;
    let mut errs = FieldErrors::default();
    let code = normalize_code(&input.code);
    if code.len() < 3 || code.len() > 40 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        errs.add("code", "invalid_code", "a code is 3 to 40 letters, digits, - or _");
    }
    if input.usage_limit.is_some_and(|l| l < 1) {
        errs.add("usage_limit", "out_of_range", "at least 1, or leave it out for unlimited");
    }
    if input.per_customer_limit.is_some_and(|l| l < 1) {
        errs.add("per_customer_limit", "out_of_range", "at least 1, or leave it out for unlimited");
    }
    errs.finish(())?;
    let pool = app.db.pool();
    if !sql::promotions(pool, &ctx.store.id).await?.iter().any(|p| p.id == promotion_id) {
        return Err(ServiceError::NotFound);
    }
    let row = CouponRow {
        id: ids::new_id("cpn"),
        promotion_id: promotion_id.to_string(),
        code,
        usage_limit: input.usage_limit,
        per_customer_limit: input.per_customer_limit,
        used: 0,
        created_at: now_ms(),
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = sql::insert_coupon(&mut tx, &ctx.store.id, &row).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict { code: "code_taken", message: format!("the coupon code {} exists", row.code) }
        } else {
            e.into()
        });
    }
    audit::record(app, &mut tx, ctx, "coupon.created", &row.id, json!({ "promotion": promotion_id, "code": row.code }))
        .await?;
    tx.commit().await?;
    super::checkout_rules::changed(app, &ctx.store.id);
    Ok(coupon_of(row))
}
