//! Stock locations, stock levels and the movement journal: staff adjust
//! and transfer stock, set how each variant is sold when it runs out, and
//! read what moved, when, why and by whom. Customers see availability.
//!
//! Every change of a level writes a movement in the same transaction, and
//! tells the rest of the system what changed for customers: `stock.low`
//! when a variant's available stock falls to its threshold, and
//! `stock.status_changed` when a product becomes sellable or stops being
//! (the search index's in-stock facet follows that event).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::inventory::{self as sql, Level, LocationRow, MovementRow, VariantStock};
use crate::db::{Dialect, Tx};
use crate::domain::attributes::is_valid_code;
use crate::domain::catalog::ProductKind;
use crate::domain::ids;
use crate::domain::inventory::{AdjustReason, Availability, StockPolicy, availability, crossed_low};
use crate::domain::validation::FieldErrors;

/// Most lines one adjustment or transfer carries.
const MAX_LINES: usize = 500;
/// Largest quantity one line moves or counts.
const MAX_QUANTITY: i64 = 1_000_000_000;

// ---- locations ----

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// e.g. `berlin`, `main-warehouse`.
    pub code: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Lower ships first (default 0).
    #[serde(default)]
    pub priority: i64,
    /// An inactive location keeps its stock but sells none of it.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: String,
    pub code: String,
    pub name: String,
    pub country: String,
    pub priority: i64,
    pub active: bool,
}

impl From<LocationRow> for Location {
    fn from(l: LocationRow) -> Self {
        Location { id: l.id, code: l.code, name: l.name, country: l.country, priority: l.priority, active: l.active }
    }
}

fn check_location(input: &LocationInput) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    if !is_valid_code(&input.code) {
        errs.add("code", "invalid_format", "code: up to 40 lower-case letters, digits, '-' or '_'");
    }
    errs.text("name", &input.name, 1, 80);
    let c = input.country.trim();
    if c.len() != 2 || !c.chars().all(|c| c.is_ascii_alphabetic()) {
        errs.add("country", "invalid_format", "country must be an ISO 3166-1 alpha-2 code such as DE");
    }
    if !(-1_000..=1_000).contains(&input.priority) {
        errs.add("priority", "out_of_range", "priority is -1000 to 1000");
    }
    errs.finish(())
}

pub async fn create_location(app: &App, ctx: &Ctx, input: LocationInput) -> ServiceResult<Location> {
    save_location(app, ctx, None, input).await
}

pub async fn update_location(app: &App, ctx: &Ctx, id: &str, input: LocationInput) -> ServiceResult<Location> {
    save_location(app, ctx, Some(id), input).await
}

/// A location by id or code.
async fn find_location(app: &App, store_id: &str, key: &str) -> ServiceResult<LocationRow> {
    sql::locations(app.db.pool(), store_id)
        .await?
        .into_iter()
        .find(|l| l.id == key || l.code == key)
        .ok_or(ServiceError::NotFound)
}

async fn save_location(app: &App, ctx: &Ctx, key: Option<&str>, input: LocationInput) -> ServiceResult<Location> {
    ctx.actor.require(Permission::InventoryManage)?;
    let id = match key {
        Some(k) => Some(find_location(app, &ctx.store.id, k).await?.id),
        None => None,
    };
    let id = id.as_deref();
    check_location(&input)?;
    let row = LocationRow {
        id: id.map(str::to_string).unwrap_or_else(|| ids::new_id("loc")),
        code: input.code,
        name: input.name.trim().to_string(),
        country: input.country.trim().to_ascii_uppercase(),
        priority: input.priority,
        active: input.active,
        updated_at: now_ms(),
    };
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let saved = match id {
        None => sql::insert_location(&mut tx, store_id, &row).await.map(|()| true),
        Some(_) => sql::update_location(&mut tx, store_id, &row).await,
    };
    match saved {
        Ok(true) => {}
        Ok(false) => return Err(ServiceError::NotFound),
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(ServiceError::Conflict {
                code: "location_code_taken",
                message: "a stock location with this code exists".into(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    let action = if id.is_some() { "inventory.location_updated" } else { "inventory.location_created" };
    audit::record(app, &mut tx, ctx, action, &row.id, json!({ "code": row.code, "active": row.active })).await?;
    // Which locations sell decides every product's availability.
    let event = if id.is_some() { "stock_location.updated" } else { "stock_location.created" };
    outbox::emit(&mut tx, store_id, event, json!({ "location_id": row.id, "code": row.code, "active": row.active }))
        .await?;
    tx.commit().await?;
    app.wake_outbox();
    app.reads.stock.clear();
    app.reads.keeps_stock.remove(&store_id.to_string());
    Ok(row.into())
}

pub async fn locations(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Location>> {
    ctx.actor.require(Permission::InventoryRead)?;
    Ok(sql::locations(app.db.pool(), &ctx.store.id).await?.into_iter().map(Location::from).collect())
}

// ---- a variant's stock ----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    /// Location code.
    pub location: String,
    pub on_hand: i64,
    /// Held for unpaid orders.
    pub reserved: i64,
    pub available: i64,
    /// Whether this location's stock is sold.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VariantInventory {
    pub sku: String,
    pub product_id: String,
    pub policy: StockPolicy,
    /// False while the policy follows the product's kind.
    pub configured: bool,
    pub low_stock_at: Option<i64>,
    /// Unix ms: when back-ordered or pre-ordered units ship.
    pub restock_at: Option<i64>,
    /// What active locations can still sell.
    pub available: i64,
    /// What customers are told.
    pub availability: Availability,
    pub levels: Vec<LevelView>,
}

/// A variant's policy: its own, or the default for its product's kind.
fn policy_of(v: &VariantStock, keeps_stock: bool) -> StockPolicy {
    v.policy.as_deref().and_then(StockPolicy::parse).unwrap_or_else(|| {
        StockPolicy::default_for(ProductKind::parse(&v.kind).unwrap_or(ProductKind::Physical), keeps_stock)
    })
}

fn availability_of(v: &VariantStock, keeps_stock: bool) -> Availability {
    availability(policy_of(v, keeps_stock), v.available, v.low_stock_at, v.restock_at)
}

async fn variant_ref(app: &App, store_id: &str, sku: &str) -> ServiceResult<sql::VariantRef> {
    sql::variants_by_sku(app.db.pool(), app.db.dialect(), store_id, &[sku.to_string()])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)
}

pub async fn variant(app: &App, ctx: &Ctx, sku: &str) -> ServiceResult<VariantInventory> {
    ctx.actor.require(Permission::InventoryRead)?;
    let v = variant_ref(app, &ctx.store.id, sku).await?;
    inventory_of(app, &ctx.store.id, v).await
}

async fn inventory_of(app: &App, store_id: &str, v: sql::VariantRef) -> ServiceResult<VariantInventory> {
    let pool = app.db.pool();
    let locations: HashMap<String, LocationRow> =
        sql::locations(pool, store_id).await?.into_iter().map(|l| (l.id.clone(), l)).collect();
    let keeps_stock = locations.values().any(|l| l.active);
    let stock = sql::variant_stock(pool, app.db.dialect(), store_id, std::slice::from_ref(&v.product_id))
        .await?
        .into_iter()
        .find(|s| s.variant_id == v.id)
        .ok_or(ServiceError::NotFound)?;
    let mut levels: Vec<LevelView> = sql::levels_of_variant(pool, store_id, &v.id)
        .await?
        .into_iter()
        .filter_map(|l| {
            let at = locations.get(&l.location_id)?;
            Some(LevelView {
                location: at.code.clone(),
                on_hand: l.level.on_hand,
                reserved: l.level.reserved,
                available: l.level.on_hand - l.level.reserved,
                active: at.active,
            })
        })
        .collect();
    levels.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(VariantInventory {
        sku: v.sku,
        product_id: v.product_id,
        policy: policy_of(&stock, keeps_stock),
        configured: stock.policy.is_some(),
        low_stock_at: stock.low_stock_at,
        restock_at: stock.restock_at,
        available: stock.available,
        availability: availability_of(&stock, keeps_stock),
        levels,
    })
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    pub policy: StockPolicy,
    /// Announce `stock.low` and show "only n left" at or below this.
    #[serde(default)]
    pub low_stock_at: Option<i64>,
    /// Unix ms: when back-ordered or pre-ordered units ship.
    #[serde(default)]
    pub restock_at: Option<i64>,
}

pub async fn update_settings(app: &App, ctx: &Ctx, sku: &str, input: SettingsInput) -> ServiceResult<VariantInventory> {
    ctx.actor.require(Permission::InventoryManage)?;
    let mut errs = FieldErrors::default();
    if input.low_stock_at.is_some_and(|t| !(0..=MAX_QUANTITY).contains(&t)) {
        errs.add("low_stock_at", "out_of_range", "low_stock_at is 0 or more");
    }
    if input.restock_at.is_some_and(|t| t < 0) {
        errs.add("restock_at", "out_of_range", "restock_at is a Unix time in milliseconds");
    }
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let v = variant_ref(app, store_id, sku).await?;
    let mut tx = app.db.begin().await?;
    let watch = Watch::start(app, &mut tx, store_id, std::slice::from_ref(&v.product_id)).await?;
    let row = sql::SettingsRow {
        variant_id: v.id.clone(),
        policy: input.policy.as_str().into(),
        low_stock_at: input.low_stock_at,
        restock_at: input.restock_at,
    };
    sql::save_settings(&mut tx, store_id, &row, now_ms()).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "inventory.settings_updated",
        &v.id,
        json!({ "sku": v.sku, "policy": row.policy, "low_stock_at": row.low_stock_at }),
    )
    .await?;
    let touched = watch.finish(app, &mut tx).await?;
    tx.commit().await?;
    app.wake_outbox();
    stock_changed(app, store_id, &touched);
    inventory_of(app, store_id, v).await
}

// ---- watching a change's effect on customers ----

/// Stock of some products before a change, to tell what the change did:
/// products that became (un)sellable and variants that went low.
struct Watch {
    store_id: String,
    product_ids: Vec<String>,
    keeps_stock: bool,
    before: Vec<VariantStock>,
}

impl Watch {
    async fn start(app: &App, tx: &mut Tx, store_id: &str, product_ids: &[String]) -> ServiceResult<Watch> {
        let mut ids = product_ids.to_vec();
        ids.sort();
        ids.dedup();
        let keeps_stock = sql::keeps_stock(&mut *tx, store_id).await?;
        let before = sql::variant_stock(&mut *tx, app.db.dialect(), store_id, &ids).await?;
        Ok(Watch { store_id: store_id.to_string(), product_ids: ids, keeps_stock, before })
    }

    /// Emits what changed for customers; returns the products watched.
    async fn finish(self, app: &App, tx: &mut Tx) -> ServiceResult<Vec<String>> {
        let after = sql::variant_stock(&mut *tx, app.db.dialect(), &self.store_id, &self.product_ids).await?;
        self.announce(tx, after).await
    }

    /// As [`Watch::finish`] when the only change was taking units from
    /// available stock: the levels after are known without reading them.
    async fn finish_taking(self, tx: &mut Tx, taken: &HashMap<String, i64>) -> ServiceResult<Vec<String>> {
        let after = self
            .before
            .iter()
            .map(|v| VariantStock {
                available: v.available - taken.get(&v.variant_id).copied().unwrap_or(0),
                ..v.clone()
            })
            .collect();
        self.announce(tx, after).await
    }

    async fn announce(self, tx: &mut Tx, after: Vec<VariantStock>) -> ServiceResult<Vec<String>> {
        let before: HashMap<&str, &VariantStock> = self.before.iter().map(|v| (v.variant_id.as_str(), v)).collect();
        let sellable = |rows: &[VariantStock]| -> HashSet<String> {
            rows.iter()
                .filter(|v| availability_of(v, self.keeps_stock).sellable())
                .map(|v| v.product_id.clone())
                .collect()
        };
        let (was, now) = (sellable(&self.before), sellable(&after));
        let flipped: Vec<&String> = self.product_ids.iter().filter(|p| was.contains(*p) != now.contains(*p)).collect();
        if !flipped.is_empty() {
            let in_stock: Vec<&&String> = flipped.iter().filter(|p| now.contains(**p)).collect();
            outbox::emit(
                tx,
                &self.store_id,
                "stock.status_changed",
                json!({ "product_ids": flipped, "in_stock": in_stock }),
            )
            .await?;
        }
        for v in &after {
            let policy = policy_of(v, self.keeps_stock);
            let old = before.get(v.variant_id.as_str()).map_or(0, |b| b.available);
            let tracked = matches!(policy, StockPolicy::Track | StockPolicy::Backorder);
            if tracked && crossed_low(old, v.available, v.low_stock_at) {
                outbox::emit(
                    tx,
                    &self.store_id,
                    "stock.low",
                    json!({ "variant_id": v.variant_id, "product_id": v.product_id,
                            "available": v.available, "low_stock_at": v.low_stock_at }),
                )
                .await?;
            }
        }
        Ok(self.product_ids)
    }
}

/// Call after a transaction that changed these products' stock commits:
/// drops what this node shows customers of it.
pub fn stock_changed(app: &App, store_id: &str, product_ids: &[String]) {
    for p in product_ids {
        app.reads.stock.remove(&(store_id.to_string(), p.clone()));
    }
}

// ---- adjustments and transfers ----

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentLine {
    pub sku: String,
    /// Location code.
    pub location: String,
    /// Units added (positive) or removed (negative). Give this or `counted`.
    #[serde(default)]
    pub delta: Option<i64>,
    /// A stock count: the units now on hand (reason `counted`).
    #[serde(default)]
    pub counted: Option<i64>,
    pub reason: AdjustReason,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    /// Applied together or not at all.
    pub lines: Vec<AdjustmentLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Movement {
    pub id: String,
    pub sku: String,
    /// Location code.
    pub location: String,
    /// `adjustment`, `transfer_out`, `transfer_in` (orders add theirs).
    pub kind: String,
    pub reason: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub note: String,
    /// What caused it, e.g. a transfer id.
    pub reference: String,
    /// Who: a staff or token id.
    pub actor: String,
    pub created_at: i64,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockChange {
    /// `trf_…` for a transfer; absent for adjustments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    pub movements: Vec<Movement>,
}

/// SKUs and location codes of a request, resolved.
struct Resolved {
    variants: HashMap<String, sql::VariantRef>,
    locations: HashMap<String, LocationRow>,
}

async fn resolve(app: &App, store_id: &str, skus: &[&str], errs: &mut FieldErrors) -> ServiceResult<Resolved> {
    let unique: Vec<String> = skus.iter().map(|s| s.to_string()).collect::<HashSet<_>>().into_iter().collect();
    let variants = sql::variants_by_sku(app.db.pool(), app.db.dialect(), store_id, &unique)
        .await?
        .into_iter()
        .map(|v| (v.sku.clone(), v))
        .collect::<HashMap<_, _>>();
    for (i, sku) in skus.iter().enumerate() {
        if !variants.contains_key(*sku) {
            errs.add(&format!("lines[{i}].sku"), "unknown_sku", "no variant with this SKU");
        }
    }
    let locations = sql::locations(app.db.pool(), store_id).await?.into_iter().map(|l| (l.code.clone(), l)).collect();
    Ok(Resolved { variants, locations })
}

fn check_count(errs: &mut FieldErrors, lines: usize) {
    if lines == 0 {
        errs.add("lines", "empty", "give at least one line");
    }
    if lines > MAX_LINES {
        errs.add("lines", "too_many", format!("at most {MAX_LINES} lines"));
    }
}

/// What one adjustment line does to the level.
#[derive(Debug, Clone, Copy)]
enum LineChange {
    By(i64),
    To(i64),
}

fn line_change(l: &AdjustmentLine, i: usize, errs: &mut FieldErrors) -> LineChange {
    let counting = l.reason == AdjustReason::Counted;
    match (l.delta, l.counted) {
        (Some(_), Some(_)) | (None, None) => {
            errs.add(&format!("lines[{i}]"), "delta_or_counted", "give either delta or counted");
            LineChange::By(0)
        }
        (None, Some(c)) => {
            if !counting {
                errs.add(&format!("lines[{i}].reason"), "count_reason", "counted goes with reason counted");
            }
            if !(0..=MAX_QUANTITY).contains(&c) {
                errs.add(&format!("lines[{i}].counted"), "out_of_range", "counted is 0 or more");
            }
            LineChange::To(c)
        }
        (Some(d), None) => {
            if counting {
                errs.add(&format!("lines[{i}].reason"), "count_reason", "a count gives counted, not delta");
            } else if !(-MAX_QUANTITY..=MAX_QUANTITY).contains(&d) || !l.reason.allows(d) {
                errs.add(
                    &format!("lines[{i}].delta"),
                    "invalid_delta",
                    format!("{} needs a non-zero delta in its direction", l.reason.as_str()),
                );
            }
            LineChange::By(d)
        }
    }
}

fn insufficient(line: usize, sku: &str, location: &str) -> ServiceError {
    ServiceError::Conflict {
        code: "insufficient_stock",
        message: format!("lines[{line}]: {sku} at {location} has not that many units free (reserved units stay)"),
    }
}

pub async fn adjust(
    app: &App,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<StockChange>> {
    ctx.actor.require(Permission::InventoryManage)?;
    let store_id = &ctx.store.id;
    let mut errs = FieldErrors::default();
    check_count(&mut errs, input.lines.len());
    let skus: Vec<&str> = input.lines.iter().map(|l| l.sku.as_str()).collect();
    let r = resolve(app, store_id, &skus, &mut errs).await?;
    let mut changes = Vec::with_capacity(input.lines.len());
    for (i, l) in input.lines.iter().enumerate() {
        if !r.locations.contains_key(&l.location) {
            errs.add(&format!("lines[{i}].location"), "unknown_location", "no stock location with this code");
        }
        errs.text(&format!("lines[{i}].note"), &l.note, 0, 500);
        changes.push(line_change(l, i, &mut errs));
    }
    errs.finish(())?;
    let now = now_ms();
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let products: Vec<String> = r.variants.values().map(|v| v.product_id.clone()).collect();
    let watch = Watch::start(app, &mut tx, store_id, &products).await?;
    // Receipts alone (the common case: goods in, opening stock) go in one
    // multi-row upsert; anything that can be refused goes line by line.
    let received = match receipts_only(&input.lines, &changes, &r) {
        Some(receipts) => Some(sql::receive(&mut tx, store_id, &receipts, now).await?),
        None => None,
    };
    let mut rows = Vec::with_capacity(input.lines.len());
    let mut movements = Vec::with_capacity(input.lines.len());
    for (i, (l, change)) in input.lines.iter().zip(changes).enumerate() {
        let v = &r.variants[&l.sku];
        let at = &r.locations[&l.location];
        let (delta, after) = match (change, &received) {
            (LineChange::By(d), Some(levels)) => (d, levels.get(&(v.id.clone(), at.id.clone())).copied()),
            (LineChange::By(d), None) => (d, sql::change_on_hand(&mut tx, store_id, &v.id, &at.id, d, now).await?),
            (LineChange::To(c), _) => {
                let was = sql::level(&mut tx, store_id, &v.id, &at.id).await?;
                (c - was.on_hand, sql::set_on_hand(&mut tx, store_id, &v.id, &at.id, was.on_hand, c, now).await?)
            }
        };
        let after = after.ok_or_else(|| match change {
            LineChange::By(_) => insufficient(i, &l.sku, &l.location),
            LineChange::To(_) => ServiceError::Conflict {
                code: "count_refused",
                message: format!(
                    "lines[{i}]: {} at {} has more units reserved for orders than counted, or changed meanwhile",
                    l.sku, l.location
                ),
            },
        })?;
        let m =
            movement(&ctx.actor.principal(), v, at, "adjustment", l.reason.as_str(), delta, after, &l.note, "", now);
        movements.push(view(m.clone(), &v.sku, &at.code));
        rows.push(m);
    }
    sql::insert_movements(&mut tx, store_id, &rows).await?;
    let touched = watch.finish(app, &mut tx).await?;
    let change = StockChange { transfer_id: None, movements };
    outbox::emit(&mut tx, store_id, "stock.adjusted", json!({ "movements": change.movements.len() })).await?;
    audit::record(app, &mut tx, ctx, "inventory.adjusted", "", json!({ "lines": change.movements.len() })).await?;
    idempotency::complete(app, &mut tx, ctx, idem, 201, &change).await?;
    tx.commit().await?;
    app.wake_outbox();
    stock_changed(app, store_id, &touched);
    Ok(Outcome::Fresh(change))
}

/// The lines as receipts when every one adds units and no (variant,
/// location) repeats (one upsert cannot touch a row twice); None otherwise.
fn receipts_only<'a>(
    lines: &[AdjustmentLine],
    changes: &[LineChange],
    r: &'a Resolved,
) -> Option<Vec<sql::Receipt<'a>>> {
    let mut seen = HashSet::with_capacity(lines.len());
    lines
        .iter()
        .zip(changes)
        .map(|(l, change)| match change {
            LineChange::By(units) if *units > 0 && seen.insert((&l.sku, &l.location)) => {
                let v = &r.variants[&l.sku];
                let at = &r.locations[&l.location];
                Some(sql::Receipt { variant_id: &v.id, location_id: &at.id, units: *units })
            }
            _ => None,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn movement(
    actor: &str,
    v: &sql::VariantRef,
    at: &LocationRow,
    kind: &str,
    reason: &str,
    on_hand_delta: i64,
    after: Level,
    note: &str,
    reference: &str,
    now: i64,
) -> MovementRow {
    MovementRow {
        id: ids::new_id("stm"),
        variant_id: v.id.clone(),
        location_id: at.id.clone(),
        kind: kind.into(),
        reason: reason.into(),
        on_hand_delta,
        reserved_delta: 0,
        after,
        note: note.trim().to_string(),
        reference: reference.into(),
        actor: actor.to_string(),
        created_at: now,
    }
}

fn view(m: MovementRow, sku: &str, location: &str) -> Movement {
    Movement {
        id: m.id,
        sku: sku.into(),
        location: location.into(),
        kind: m.kind,
        reason: m.reason,
        on_hand_delta: m.on_hand_delta,
        reserved_delta: m.reserved_delta,
        on_hand_after: m.after.on_hand,
        reserved_after: m.after.reserved,
        note: m.note,
        reference: m.reference,
        actor: m.actor,
        created_at: m.created_at,
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLine {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// Location codes.
    pub from: String,
    pub to: String,
    pub lines: Vec<TransferLine>,
    #[serde(default)]
    pub note: String,
}

/// Moves free units from one location to another, all lines or none.
pub async fn transfer(
    app: &App,
    ctx: &Ctx,
    input: TransferInput,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<StockChange>> {
    ctx.actor.require(Permission::InventoryManage)?;
    let store_id = &ctx.store.id;
    let mut errs = FieldErrors::default();
    check_count(&mut errs, input.lines.len());
    errs.text("note", &input.note, 0, 500);
    let skus: Vec<&str> = input.lines.iter().map(|l| l.sku.as_str()).collect();
    let r = resolve(app, store_id, &skus, &mut errs).await?;
    for (field, code) in [("from", &input.from), ("to", &input.to)] {
        if !r.locations.contains_key(code) {
            errs.add(field, "unknown_location", "no stock location with this code");
        }
    }
    if input.from == input.to {
        errs.add("to", "same_location", "a transfer goes to another location");
    }
    let mut seen = HashSet::new();
    for (i, l) in input.lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(&l.quantity) {
            errs.add(&format!("lines[{i}].quantity"), "out_of_range", "quantity is 1 or more");
        }
        if !seen.insert(l.sku.as_str()) {
            errs.add(&format!("lines[{i}].sku"), "duplicate", "this SKU appears twice");
        }
    }
    errs.finish(())?;
    let (from, to) = (&r.locations[&input.from], &r.locations[&input.to]);
    let now = now_ms();
    let id = ids::new_id("trf");
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let products: Vec<String> = r.variants.values().map(|v| v.product_id.clone()).collect();
    let watch = Watch::start(app, &mut tx, store_id, &products).await?;
    let mut movements = Vec::with_capacity(input.lines.len() * 2);
    for (i, l) in input.lines.iter().enumerate() {
        let v = &r.variants[&l.sku];
        let out = sql::change_on_hand(&mut tx, store_id, &v.id, &from.id, -l.quantity, now)
            .await?
            .ok_or_else(|| insufficient(i, &l.sku, &from.code))?;
        let inn = sql::change_on_hand(&mut tx, store_id, &v.id, &to.id, l.quantity, now)
            .await?
            .ok_or_else(|| ServiceError::Internal("stock level refused an increase".into()))?;
        for (at, delta, after, kind) in [(from, -l.quantity, out, "transfer_out"), (to, l.quantity, inn, "transfer_in")]
        {
            let m = movement(&ctx.actor.principal(), v, at, kind, "transfer", delta, after, &input.note, &id, now);
            sql::insert_movements(&mut tx, store_id, std::slice::from_ref(&m)).await?;
            movements.push(view(m, &v.sku, &at.code));
        }
    }
    let touched = watch.finish(app, &mut tx).await?;
    let change = StockChange { transfer_id: Some(id.clone()), movements };
    outbox::emit(
        &mut tx,
        store_id,
        "stock.transferred",
        json!({ "transfer_id": id, "from": from.code, "to": to.code }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "inventory.transferred", &id, json!({ "from": from.code, "to": to.code })).await?;
    idempotency::complete(app, &mut tx, ctx, idem, 201, &change).await?;
    tx.commit().await?;
    app.wake_outbox();
    stock_changed(app, store_id, &touched);
    Ok(Outcome::Fresh(change))
}

// ---- reading the journal and the levels ----

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementPage {
    pub items: Vec<Movement>,
    /// Pass as `before` for older movements; absent on the last page.
    pub next: Option<String>,
}

pub async fn movements(
    app: &App,
    ctx: &Ctx,
    sku: Option<&str>,
    location: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> ServiceResult<MovementPage> {
    ctx.actor.require(Permission::InventoryRead)?;
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let variant_id = match sku {
        Some(s) => Some(variant_ref(app, store_id, s).await?.id),
        None => None,
    };
    let all = sql::locations(pool, store_id).await?;
    let location_id = match location {
        Some(code) => Some(all.iter().find(|l| l.code == code).ok_or(ServiceError::NotFound)?.id.clone()),
        None => None,
    };
    let limit = limit.clamp(1, 500);
    // Ids sort after every real id ("stm_" + lower-case ULID).
    let rows = sql::movements(
        pool,
        store_id,
        variant_id.as_deref(),
        location_id.as_deref(),
        before.unwrap_or("stm_zzzzzzzzzzzzzzzzzzzzzzzzzz"),
        limit,
    )
    .await?;
    let variant_ids: Vec<String> =
        rows.iter().map(|m| m.variant_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let skus: HashMap<String, String> =
        sql::skus_of(pool, app.db.dialect(), store_id, &variant_ids).await?.into_iter().collect();
    let codes: HashMap<&str, &str> = all.iter().map(|l| (l.id.as_str(), l.code.as_str())).collect();
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|m| m.id.clone())).flatten();
    let items = rows
        .into_iter()
        .map(|m| {
            let sku = skus.get(&m.variant_id).cloned().unwrap_or_default();
            let code = codes.get(m.location_id.as_str()).copied().unwrap_or_default().to_string();
            view(m, &sku, &code)
        })
        .collect();
    Ok(MovementPage { items, next })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StockLine {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationStock {
    pub location: Location,
    pub items: Vec<StockLine>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

/// What one location holds, by SKU.
pub async fn location_stock(
    app: &App,
    ctx: &Ctx,
    code: &str,
    after: Option<&str>,
    limit: i64,
) -> ServiceResult<LocationStock> {
    ctx.actor.require(Permission::InventoryRead)?;
    let pool = app.db.pool();
    let location = find_location(app, &ctx.store.id, code).await?;
    let limit = limit.clamp(1, 500);
    let rows = sql::levels_at(pool, &ctx.store.id, &location.id, after.unwrap_or(""), limit).await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|l| l.sku.clone())).flatten();
    let items = rows
        .into_iter()
        .map(|l| StockLine {
            sku: l.sku,
            on_hand: l.level.on_hand,
            reserved: l.level.reserved,
            available: l.level.on_hand - l.level.reserved,
        })
        .collect();
    Ok(LocationStock { location: location.into(), items, next })
}

// ---- what customers see ----

/// Availability of a product's variants, by variant id.
pub type ProductStock = HashMap<String, Availability>;

/// What customers are told of a product's variants now (this node's
/// changes show at once, other nodes' within a second).
pub async fn product_stock(app: &App, store_id: &str, product_id: &str) -> ServiceResult<Arc<ProductStock>> {
    let key = (store_id.to_string(), product_id.to_string());
    if let Some(hit) = app.reads.stock.get(&key) {
        return Ok(hit);
    }
    let stock = stock_of_products(&app.db, &app.reads, store_id, std::slice::from_ref(&key.1)).await?;
    let stock = Arc::new(stock.into_iter().map(|(v, (_, a))| (v, a)).collect::<ProductStock>());
    app.reads.stock.put(key, stock.clone());
    Ok(stock)
}

/// As [`product_stock`] for several products, by variant id: the cached
/// ones from the cache, the rest read in one go (and cached).
pub async fn products_stock(app: &App, store_id: &str, product_ids: &[String]) -> ServiceResult<ProductStock> {
    let mut out = ProductStock::new();
    let mut missing: Vec<String> = Vec::new();
    for p in product_ids {
        match app.reads.stock.get(&(store_id.to_string(), p.clone())) {
            Some(hit) => out.extend(hit.iter().map(|(v, a)| (v.clone(), *a))),
            None => missing.push(p.clone()),
        }
    }
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(out);
    }
    let mut read: HashMap<String, ProductStock> = missing.iter().map(|p| (p.clone(), ProductStock::new())).collect();
    for (v, (p, a)) in stock_of_products(&app.db, &app.reads, store_id, &missing).await? {
        out.insert(v.clone(), a);
        read.entry(p).or_default().insert(v, a);
    }
    for (p, stock) in read {
        app.reads.stock.put((store_id.to_string(), p), Arc::new(stock));
    }
    Ok(out)
}

/// Availability per variant of some products: variant id → (product id, availability).
pub async fn stock_of_products(
    db: &crate::db::Db,
    reads: &super::read_cache::Reads,
    store_id: &str,
    product_ids: &[String],
) -> Result<HashMap<String, (String, Availability)>, sqlx::Error> {
    let keeps_stock = match reads.keeps_stock.get(&store_id.to_string()) {
        Some(hit) => *hit,
        None => {
            let keeps = sql::keeps_stock(db.pool(), store_id).await?;
            reads.keeps_stock.put(store_id.to_string(), Arc::new(keeps));
            keeps
        }
    };
    let mut out = HashMap::new();
    for chunk in product_ids.chunks(match db.dialect() {
        Dialect::Sqlite => 10_000,
        Dialect::Postgres => 5_000,
    }) {
        for v in sql::variant_stock(db.pool(), db.dialect(), store_id, chunk).await? {
            let a = availability_of(&v, keeps_stock);
            out.insert(v.variant_id, (v.product_id, a));
        }
    }
    Ok(out)
}

// ---- stock for orders ----

/// What an order line asks of inventory.
#[derive(Debug, Clone)]
pub struct Want {
    pub variant_id: String,
    pub product_id: String,
    pub sku: String,
    pub quantity: i64,
}

/// Inside the order's transaction: holds stock for each line. Tracked
/// lines are held whole or the order is refused (409 `out_of_stock`,
/// naming the SKU); back-order lines hold what is free and owe the rest;
/// pre-order and untracked lines hold nothing. Returns the units owed per
/// line (same order as `wants`) and the products whose stock changed.
pub async fn reserve_for_order(
    app: &App,
    tx: &mut Tx,
    actor: &str,
    store_id: &str,
    order_id: &str,
    wants: &[Want],
    ship_to: Option<&str>,
) -> ServiceResult<(Vec<i64>, Vec<String>)> {
    let stock = read_for_order(tx, store_id, wants).await?;
    reserve_read(app, tx, stock, actor, (store_id, order_id), wants, ship_to).await
}

/// The first half of [`reserve_for_order`]: the stock of the wanted
/// products, read in `tx` (one statement).
pub async fn read_for_order(tx: &mut Tx, store_id: &str, wants: &[Want]) -> ServiceResult<OrderStockRead> {
    let mut ids: Vec<String> = wants.iter().map(|w| w.product_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let stock = sql::stock_for_order(tx, store_id, &ids).await?;
    Ok(OrderStockRead { product_ids: ids, stock })
}

/// Stock read by [`read_for_order`], to reserve from.
pub struct OrderStockRead {
    product_ids: Vec<String>,
    stock: sql::OrderStock,
}

/// The second half of [`reserve_for_order`]: allocates and holds the
/// wanted units from what `read` found, journals them and emits stock
/// events.
pub async fn reserve_read(
    app: &App,
    tx: &mut Tx,
    read: OrderStockRead,
    actor: &str,
    (store_id, order_id): (&str, &str),
    wants: &[Want],
    ship_to: Option<&str>,
) -> ServiceResult<(Vec<i64>, Vec<String>)> {
    let now = now_ms();
    let sql::OrderStock { keeps_stock, variants, mut sources, levels } = read.stock;
    let watch = Watch { store_id: store_id.to_string(), product_ids: read.product_ids, keeps_stock, before: variants };
    let policies: HashMap<String, StockPolicy> =
        watch.before.iter().map(|v| (v.variant_id.clone(), policy_of(v, watch.keeps_stock))).collect();
    let mut owed = Vec::with_capacity(wants.len());
    let mut taken: HashMap<String, i64> = HashMap::new();
    // Read once for all lines (with the watch above), written once at the
    // end: fewer statements while holding the write lock.
    let mut held: Vec<sql::Reservation> = Vec::new();
    // Per hold, the SKU and what was free, for the refusal if it fails.
    let mut shortage: Vec<(String, i64)> = Vec::new();
    let mut journal: Vec<MovementRow> = Vec::new();
    let entry = Journal { store_id, actor, reference: order_id, now };
    for w in wants {
        let policy = policies.get(&w.variant_id).copied().unwrap_or(StockPolicy::Untracked);
        let take = match policy {
            StockPolicy::Untracked => {
                owed.push(0);
                continue;
            }
            StockPolicy::Preorder => {
                owed.push(w.quantity);
                continue;
            }
            StockPolicy::Track | StockPolicy::Backorder => {
                let here = sources.entry(w.variant_id.clone()).or_default();
                let free: i64 = here.iter().map(|s| s.available.max(0)).sum();
                let take = if policy == StockPolicy::Track { w.quantity } else { w.quantity.min(free) };
                let plan = if take == 0 {
                    Some(Vec::new())
                } else {
                    crate::domain::inventory::allocate(here, take, app.config.orders.allocation, ship_to)
                };
                let Some(plan) = plan else { return Err(out_of_stock(&w.sku, free)) };
                for (location_id, q) in plan {
                    // The same variant on two lines sees what the first took.
                    if let Some(s) = here.iter_mut().find(|s| s.location_id == location_id) {
                        s.available -= q;
                    }
                    match held.iter_mut().find(|r| r.variant_id == w.variant_id && r.location_id == location_id) {
                        Some(r) => r.quantity += q,
                        None => {
                            held.push(sql::Reservation { variant_id: w.variant_id.clone(), location_id, quantity: q });
                            shortage.push((w.sku.clone(), free));
                        }
                    }
                }
                *taken.entry(w.variant_id.clone()).or_default() += take;
                take
            }
        };
        owed.push(w.quantity - take);
    }
    let after: Vec<Level> = if tx.holds_the_writer() {
        // On the one SQLite writer the levels read cannot have changed
        // since: the holds are known to fit and the update is queued.
        sql::reserve_many_in_place(tx, store_id, &held, now).await?;
        held.iter()
            .map(|h| {
                let read = levels.get(&(h.variant_id.clone(), h.location_id.clone())).copied();
                let read = read.ok_or_else(|| ServiceError::Internal("a held level was not read".into()))?;
                Ok(Level { on_hand: read.on_hand, reserved: read.reserved + h.quantity })
            })
            .collect::<ServiceResult<_>>()?
    } else {
        // One guarded update for every hold: a hold missing from the answer
        // found less free than the read above (a concurrent order on PostgreSQL).
        let levels = sql::reserve_many(tx, store_id, &held, now).await?;
        held.iter()
            .zip(&shortage)
            .map(|(h, (sku, free))| {
                levels
                    .iter()
                    .find(|(v, l, _)| *v == h.variant_id && *l == h.location_id)
                    .map(|(_, _, level)| *level)
                    .ok_or_else(|| out_of_stock(sku, *free))
            })
            .collect::<ServiceResult<_>>()?
    };
    for (h, level) in held.iter().zip(after) {
        journal.push(entry.movement(&h.variant_id, &h.location_id, ("reserve", "order"), (0, h.quantity), level));
    }
    sql::insert_reservations(tx, store_id, order_id, &held).await?;
    sql::insert_movements(tx, store_id, &journal).await?;
    let touched = watch.finish_taking(tx, &taken).await?;
    Ok((owed, touched))
}

/// Journal entries for stock moving on behalf of an order or a return
/// (`reference`): reservations, releases, shipments, restocking.
struct Journal<'a> {
    store_id: &'a str,
    actor: &'a str,
    reference: &'a str,
    now: i64,
}

impl Journal<'_> {
    fn movement(
        &self,
        variant_id: &str,
        location_id: &str,
        (kind, reason): (&str, &str),
        (on_hand_delta, reserved_delta): (i64, i64),
        after: Level,
    ) -> MovementRow {
        MovementRow {
            id: ids::new_id("stm"),
            variant_id: variant_id.to_string(),
            location_id: location_id.to_string(),
            kind: kind.into(),
            reason: reason.into(),
            on_hand_delta,
            reserved_delta,
            after,
            note: String::new(),
            reference: self.reference.to_string(),
            actor: self.actor.to_string(),
            created_at: self.now,
        }
    }

    async fn record(
        &self,
        tx: &mut Tx,
        variant_id: &str,
        location_id: &str,
        kind: (&str, &str),
        deltas: (i64, i64),
        after: Level,
    ) -> ServiceResult<()> {
        let m = self.movement(variant_id, location_id, kind, deltas, after);
        Ok(sql::insert_movements(tx, self.store_id, &[m]).await?)
    }
}

fn out_of_stock(sku: &str, free: i64) -> ServiceError {
    ServiceError::Conflict { code: "out_of_stock", message: format!("{sku}: only {} available", free.max(0)) }
}

/// A variant an order ships.
pub struct Outgoing<'a> {
    pub variant_id: &'a str,
    pub product_id: &'a str,
    pub sku: &'a str,
    pub quantity: i64,
}

/// Inside a shipment's transaction: units leave `location_id` for an
/// order, from the order's hold there first, then from free stock (units
/// sold on back-order, which must have arrived). Every unit or none (409
/// `out_of_stock`). Returns the products whose stock changed.
pub async fn ship_for_order(
    app: &App,
    tx: &mut Tx,
    actor: &str,
    store_id: &str,
    order_id: &str,
    location_id: &str,
    items: &[Outgoing<'_>],
) -> ServiceResult<Vec<String>> {
    let products: Vec<String> = items.iter().map(|i| i.product_id.to_string()).collect();
    let watch = Watch::start(app, tx, store_id, &products).await?;
    let policies: HashMap<String, StockPolicy> =
        watch.before.iter().map(|v| (v.variant_id.clone(), policy_of(v, watch.keeps_stock))).collect();
    let now = now_ms();
    let others = sql::reservations_of(tx, store_id, order_id).await?;
    for it in items {
        // Untracked goods are not counted: nothing leaves a level.
        if policies.get(it.variant_id).is_none_or(|p| *p == StockPolicy::Untracked) {
            continue;
        }
        let held =
            crate::db::fulfilment::take_reserved(tx, store_id, order_id, it.variant_id, location_id, it.quantity)
                .await?;
        let mut moves = Vec::new();
        if held > 0 {
            let after = sql::unreserve(tx, store_id, it.variant_id, location_id, held, true, now)
                .await?
                .ok_or_else(|| ServiceError::Internal(format!("reservation of {order_id} exceeds the level")))?;
            moves.push((-held, -held, after));
        }
        let rest = it.quantity - held;
        if rest > 0 {
            let after = match sql::change_on_hand(tx, store_id, it.variant_id, location_id, -rest, now).await? {
                Some(after) => after,
                None => {
                    let level = sql::level(tx, store_id, it.variant_id, location_id).await?;
                    return Err(out_of_stock(it.sku, level.on_hand - level.reserved));
                }
            };
            moves.push((-rest, 0, after));
            // Units shipped from free stock here no longer need the order's
            // hold elsewhere: let that much of it go.
            let mut left = rest;
            for r in others.iter().filter(|r| r.variant_id == it.variant_id && r.location_id != location_id) {
                if left == 0 {
                    break;
                }
                let n =
                    crate::db::fulfilment::take_reserved(tx, store_id, order_id, it.variant_id, &r.location_id, left)
                        .await?;
                if n == 0 {
                    continue;
                }
                left -= n;
                let after = sql::unreserve(tx, store_id, it.variant_id, &r.location_id, n, false, now)
                    .await?
                    .ok_or_else(|| ServiceError::Internal(format!("reservation of {order_id} exceeds the level")))?;
                Journal { store_id, actor, reference: order_id, now }
                    .record(
                        tx,
                        it.variant_id,
                        &r.location_id,
                        ("release", "shipped from another location"),
                        (0, -n),
                        after,
                    )
                    .await?;
            }
        }
        for (on_hand_delta, reserved_delta, after) in moves {
            Journal { store_id, actor, reference: order_id, now }
                .record(tx, it.variant_id, location_id, ("ship", "shipped"), (on_hand_delta, reserved_delta), after)
                .await?;
        }
    }
    watch.finish(app, tx).await
}

/// Inside a return's transaction: resellable units go back on the shelf
/// at `location_id`, with a `return` movement. Returns the products whose
/// stock changed.
pub async fn restock_returned(
    app: &App,
    tx: &mut Tx,
    actor: &str,
    store_id: &str,
    return_id: &str,
    location_id: &str,
    items: &[Outgoing<'_>],
) -> ServiceResult<Vec<String>> {
    let products: Vec<String> = items.iter().map(|i| i.product_id.to_string()).collect();
    let watch = Watch::start(app, tx, store_id, &products).await?;
    let now = now_ms();
    for it in items {
        let after = sql::change_on_hand(tx, store_id, it.variant_id, location_id, it.quantity, now)
            .await?
            .ok_or_else(|| ServiceError::Internal("adding stock was refused".into()))?;
        Journal { store_id, actor, reference: return_id, now }
            .record(tx, it.variant_id, location_id, ("return", "returned"), (it.quantity, 0), after)
            .await?;
    }
    watch.finish(app, tx).await
}

/// Inside the transaction that cancels an order (or lets it expire):
/// releases everything it holds. Returns the products whose stock changed.
pub async fn release_for_order(
    app: &App,
    tx: &mut Tx,
    actor: &str,
    store_id: &str,
    order_id: &str,
    reason: &str,
) -> ServiceResult<Vec<String>> {
    let held = sql::reservations_of(tx, store_id, order_id).await?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let variant_ids: Vec<String> = held.iter().map(|r| r.variant_id.clone()).collect();
    let products: Vec<String> = sql::variant_products(tx, app.db.dialect(), store_id, &variant_ids).await?;
    let watch = Watch::start(app, tx, store_id, &products).await?;
    let now = now_ms();
    for r in held {
        let after = sql::unreserve(tx, store_id, &r.variant_id, &r.location_id, r.quantity, false, now)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("reservation of {order_id} exceeds the level")))?;
        Journal { store_id, actor, reference: order_id, now }
            .record(tx, &r.variant_id, &r.location_id, ("release", reason), (0, -r.quantity), after)
            .await?;
    }
    sql::delete_reservations(tx, store_id, order_id).await?;
    watch.finish(app, tx).await
}
