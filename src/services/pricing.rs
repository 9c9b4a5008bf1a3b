//! Customer groups and price lists, and the price a given customer pays.
//! The rule itself is [`crate::domain::pricing::resolve`]; this module finds
//! the lists that apply (kept per store for a few seconds, so anonymous
//! visitors of a store without lists cost no query) and their tiers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::store_cache::StoreCache;
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::{catalog as catalog_sql, pricing as sql};
use crate::domain::attributes::is_valid_code;
use crate::domain::catalog::PriceTier;
use crate::domain::ids;
use crate::domain::money::{Currency, Money};
use crate::domain::pricing::{ListScope, ListTier, PriceSource, Resolved, resolve};
use crate::domain::validation::FieldErrors;

/// Most prices one list holds (a large wholesale list).
const MAX_LIST_PRICES: usize = 50_000;

// ---- customer groups ----

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// e.g. `wholesale`, `members`.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerGroup {
    pub id: String,
    pub code: String,
    pub name: String,
    pub members: i64,
}

impl From<sql::GroupRow> for CustomerGroup {
    fn from(g: sql::GroupRow) -> Self {
        CustomerGroup { id: g.id, code: g.code, name: g.name, members: g.members }
    }
}

fn conflict_or(e: sqlx::Error, code: &'static str, message: &str) -> ServiceError {
    if crate::db::is_unique_violation(&e) { ServiceError::Conflict { code, message: message.into() } } else { e.into() }
}

pub async fn create_group(app: &App, ctx: &Ctx, input: GroupInput) -> ServiceResult<CustomerGroup> {
    ctx.actor.require(Permission::CustomersManage)?;
    let mut errs = FieldErrors::default();
    if !is_valid_code(&input.code) {
        errs.add("code", "invalid_format", "code: up to 40 lower-case letters, digits, '-' or '_'");
    }
    errs.text("name", &input.name, 1, 80);
    errs.finish(())?;
    let id = ids::new_id("cgr");
    let name = input.name.trim().to_string();
    let mut tx = app.db.begin().await?;
    sql::insert_group(&mut tx, &ctx.store.id, &id, &input.code, &name, now_ms())
        .await
        .map_err(|e| conflict_or(e, "group_code_taken", "a customer group with this code exists"))?;
    audit::record(app, &mut tx, ctx, "customers.group_created", &id, json!({ "code": input.code })).await?;
    tx.commit().await?;
    Ok(CustomerGroup { id, code: input.code, name, members: 0 })
}

pub async fn groups(app: &App, ctx: &Ctx) -> ServiceResult<Vec<CustomerGroup>> {
    ctx.actor.require(Permission::CustomersRead)?;
    Ok(sql::groups(app.db.pool(), &ctx.store.id).await?.into_iter().map(CustomerGroup::from).collect())
}

async fn group_id(app: &App, store_id: &str, id: &str) -> ServiceResult<String> {
    if sql::group_exists(app.db.pool(), store_id, id).await? { Ok(id.to_string()) } else { Err(ServiceError::NotFound) }
}

/// Puts a customer in a group (again is fine). Their prices change at once.
pub async fn add_member(app: &App, ctx: &Ctx, group: &str, customer_id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CustomersManage)?;
    let group_id = group_id(app, &ctx.store.id, group).await?;
    if crate::db::customers::by_id(app.db.pool(), &ctx.store.id, customer_id).await?.is_none() {
        let mut errs = FieldErrors::default();
        errs.add("customer_id", "unknown_customer", "no customer with this id in this store");
        return Err(errs.into());
    }
    let mut tx = app.db.begin().await?;
    if sql::add_member(&mut tx, &ctx.store.id, &group_id, customer_id, now_ms()).await? {
        audit::record(
            app,
            &mut tx,
            ctx,
            "customers.group_member_added",
            &group_id,
            json!({ "customer_id": customer_id }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn remove_member(app: &App, ctx: &Ctx, group: &str, customer_id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CustomersManage)?;
    let group_id = group_id(app, &ctx.store.id, group).await?;
    let mut tx = app.db.begin().await?;
    if !sql::remove_member(&mut tx, &ctx.store.id, &group_id, customer_id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(
        app,
        &mut tx,
        ctx,
        "customers.group_member_removed",
        &group_id,
        json!({ "customer_id": customer_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupMembers {
    pub customer_ids: Vec<String>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

pub async fn members(
    app: &App,
    ctx: &Ctx,
    group: &str,
    after: Option<&str>,
    limit: i64,
) -> ServiceResult<GroupMembers> {
    ctx.actor.require(Permission::CustomersRead)?;
    let group_id = group_id(app, &ctx.store.id, group).await?;
    let limit = limit.clamp(1, 500);
    let customer_ids = sql::members(app.db.pool(), &ctx.store.id, &group_id, after.unwrap_or(""), limit).await?;
    let next = (customer_ids.len() as i64 == limit).then(|| customer_ids.last().cloned()).flatten();
    Ok(GroupMembers { customer_ids, next })
}

// ---- price lists ----

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPriceInput {
    pub sku: String,
    #[serde(default = "super::catalog::one")]
    pub min_qty: i64,
    /// Minor units of the channel's currency.
    pub amount: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceListInput {
    pub code: String,
    pub name: String,
    /// Channel code; the list is in the channel's currency.
    pub channel: String,
    /// Customer group code; omitted, the list is for everyone in the channel.
    #[serde(default)]
    pub customer_group: Option<String>,
    /// Unix ms; omitted, from now on.
    #[serde(default)]
    pub starts_at: Option<i64>,
    /// Unix ms, exclusive; omitted, without end.
    #[serde(default)]
    pub ends_at: Option<i64>,
    /// The whole list (replaces what was there).
    #[serde(default)]
    pub prices: Vec<ListPriceInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PriceListView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub channel: String,
    pub currency: String,
    pub customer_group: Option<String>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub updated_at: i64,
    /// Absent in the list of price lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices: Option<Vec<ListPriceInput>>,
}

struct Names {
    channels: HashMap<String, (String, String)>,
    groups: HashMap<String, String>,
}

async fn names(app: &App, store_id: &str) -> ServiceResult<Names> {
    let pool = app.db.pool();
    Ok(Names {
        channels: catalog_sql::channels(pool, store_id)
            .await?
            .into_iter()
            .map(|c| (c.id, (c.code, c.currency)))
            .collect(),
        groups: sql::groups(pool, store_id).await?.into_iter().map(|g| (g.id, g.code)).collect(),
    })
}

fn view(l: sql::ListRow, names: &Names, prices: Option<Vec<ListPriceInput>>) -> PriceListView {
    let (channel, currency) = names.channels.get(&l.channel_id).cloned().unwrap_or_default();
    PriceListView {
        id: l.id,
        code: l.code,
        name: l.name,
        channel,
        currency,
        customer_group: l.group_id.and_then(|g| names.groups.get(&g).cloned()),
        starts_at: l.starts_at,
        ends_at: l.ends_at,
        updated_at: l.updated_at,
        prices,
    }
}

pub async fn create_list(app: &App, ctx: &Ctx, input: PriceListInput) -> ServiceResult<PriceListView> {
    save_list(app, ctx, None, input).await
}

pub async fn update_list(app: &App, ctx: &Ctx, id: &str, input: PriceListInput) -> ServiceResult<PriceListView> {
    save_list(app, ctx, Some(id), input).await
}

async fn save_list(app: &App, ctx: &Ctx, id: Option<&str>, input: PriceListInput) -> ServiceResult<PriceListView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let pool = app.db.pool();
    let store_id = &ctx.store.id;
    if let Some(id) = id
        && sql::list(pool, store_id, id).await?.is_none()
    {
        return Err(ServiceError::NotFound);
    }
    let names = names(app, store_id).await?;
    let mut errs = FieldErrors::default();
    if !is_valid_code(&input.code) {
        errs.add("code", "invalid_format", "code: up to 40 lower-case letters, digits, '-' or '_'");
    }
    errs.text("name", &input.name, 1, 80);
    let channel_id = names.channels.iter().find(|(_, (code, _))| *code == input.channel).map(|(id, _)| id.clone());
    if channel_id.is_none() {
        errs.add("channel", "unknown_channel", "no channel with this code");
    }
    let group_id = match &input.customer_group {
        None => None,
        Some(code) => {
            let g = names.groups.iter().find(|(_, c)| *c == code).map(|(id, _)| id.clone());
            if g.is_none() {
                errs.add("customer_group", "unknown_group", "no customer group with this code");
            }
            g
        }
    };
    if let (Some(s), Some(e)) = (input.starts_at, input.ends_at)
        && e <= s
    {
        errs.add("ends_at", "before_start", "ends_at must be after starts_at");
    }
    if input.prices.len() > MAX_LIST_PRICES {
        errs.add("prices", "too_many", format!("at most {MAX_LIST_PRICES} prices per list"));
    }
    let mut seen = HashSet::new();
    for (i, p) in input.prices.iter().enumerate() {
        if p.amount < 0 {
            errs.add(&format!("prices[{i}].amount"), "negative", "amounts are ≥ 0 minor units");
        }
        if p.min_qty < 1 {
            errs.add(&format!("prices[{i}].min_qty"), "below_one", "min_qty is at least 1");
        }
        if !seen.insert((p.sku.as_str(), p.min_qty)) {
            errs.add(&format!("prices[{i}]"), "duplicate", "this SKU and min_qty appear twice");
        }
    }
    let skus: Vec<String> = input.prices.iter().map(|p| p.sku.clone()).collect::<HashSet<_>>().into_iter().collect();
    let mut variant_of: HashMap<String, String> = HashMap::new();
    for chunk in skus.chunks(2_000) {
        variant_of.extend(crate::db::catalog_bulk::variant_ids_by_sku(&app.db, store_id, chunk).await?);
    }
    for (i, p) in input.prices.iter().enumerate() {
        if !variant_of.contains_key(&p.sku) {
            errs.add(&format!("prices[{i}].sku"), "unknown_sku", "no variant with this SKU");
        }
    }
    errs.finish(())?;
    let row = sql::ListRow {
        id: id.map(str::to_string).unwrap_or_else(|| ids::new_id("prl")),
        code: input.code,
        name: input.name.trim().to_string(),
        channel_id: channel_id.unwrap_or_default(),
        group_id,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        updated_at: now_ms(),
    };
    let rows: Vec<(String, i64, i64)> =
        input.prices.iter().map(|p| (variant_of[&p.sku].clone(), p.min_qty, p.amount)).collect();
    let mut tx = app.db.begin().await?;
    sql::save_list(&mut tx, store_id, &row, row.updated_at)
        .await
        .map_err(|e| conflict_or(e, "price_list_code_taken", "a price list with this code exists"))?;
    sql::replace_prices(&mut tx, store_id, &row.id, &rows).await?;
    let action = if id.is_some() { "catalog.price_list_updated" } else { "catalog.price_list_created" };
    audit::record(app, &mut tx, ctx, action, &row.id, json!({ "code": row.code, "prices": rows.len() })).await?;
    outbox::emit(&mut tx, store_id, "price_list.saved", json!({ "price_list_id": row.id, "code": row.code })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.price_lists.forget(store_id);
    let prices = input.prices;
    Ok(view(row, &names, Some(prices)))
}

pub async fn lists(app: &App, ctx: &Ctx) -> ServiceResult<Vec<PriceListView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    let names = names(app, &ctx.store.id).await?;
    Ok(sql::lists(app.db.pool(), &ctx.store.id).await?.into_iter().map(|l| view(l, &names, None)).collect())
}

pub async fn get_list(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<PriceListView> {
    ctx.actor.require(Permission::CatalogRead)?;
    let pool = app.db.pool();
    let l = sql::list(pool, &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    let prices = sql::prices_by_sku(pool, &ctx.store.id, id)
        .await?
        .into_iter()
        .map(|(sku, min_qty, amount)| ListPriceInput { sku, min_qty, amount })
        .collect();
    let names = names(app, &ctx.store.id).await?;
    Ok(view(l, &names, Some(prices)))
}

pub async fn delete_list(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)?;
    let mut tx = app.db.begin().await?;
    if !sql::delete_list(&mut tx, &ctx.store.id, id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "catalog.price_list_deleted", id, json!({})).await?;
    outbox::emit(&mut tx, &ctx.store.id, "price_list.deleted", json!({ "price_list_id": id })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.price_lists.forget(&ctx.store.id);
    Ok(())
}

// ---- who pays what ----

/// A store's price lists as the rule needs them, cached briefly.
pub struct ScopedList {
    pub id: String,
    pub code: String,
    pub scope: ListScope,
}

pub type ListCache = StoreCache<Vec<ScopedList>>;

pub fn list_cache() -> ListCache {
    StoreCache::new(Duration::from_secs(5))
}

async fn scoped_lists(app: &App, store_id: &str) -> ServiceResult<Arc<Vec<ScopedList>>> {
    if let Some(l) = app.price_lists.get(store_id) {
        return Ok(l);
    }
    let lists: Vec<ScopedList> = sql::lists(app.db.pool(), store_id)
        .await?
        .into_iter()
        .map(|l| ScopedList {
            scope: ListScope {
                channel_id: l.channel_id,
                group_id: l.group_id,
                starts_at: l.starts_at,
                ends_at: l.ends_at,
            },
            id: l.id,
            code: l.code,
        })
        .collect();
    let lists = Arc::new(lists);
    app.price_lists.put(store_id, lists.clone());
    Ok(lists)
}

/// The price of each (variant, quantity) for `customer` in a channel at
/// `now`: the channel's volume and sale prices and the customer's price
/// lists. None where nothing prices it (not for sale to this customer here).
pub async fn resolve_lines(
    app: &App,
    store_id: &str,
    channel_id: &str,
    customer: Option<&str>,
    lines: &[(String, i64)],
    now: i64,
) -> ServiceResult<Vec<Option<Resolved>>> {
    let ids: Vec<String> = lines.iter().map(|(v, _)| v.clone()).collect();
    let lists = applicable_lists(app, store_id, channel_id, customer, now).await?;
    let listed = if lists.is_empty() { HashMap::new() } else { list_tiers(app, store_id, &lists, &ids).await? };
    let base = super::line_facts::prices(app, store_id, channel_id, &ids).await?;
    Ok(lines
        .iter()
        .map(|(v, qty)| {
            let tiers = base.get(v).map_or(&[][..], |t| t.as_slice());
            let lists: Vec<(&str, &[ListTier])> =
                listed.get(v).map(|l| l.iter().map(|(c, t)| (c.as_str(), t.as_slice())).collect()).unwrap_or_default();
            resolve(tiers, &lists, *qty, now)
        })
        .collect())
}

/// The lists that apply to `customer` (or an anonymous visitor) in a
/// channel now: (list id, list code). No query for a store without lists;
/// one (the customer's groups) when some are limited to groups.
pub async fn applicable_lists(
    app: &App,
    store_id: &str,
    channel_id: &str,
    customer: Option<&str>,
    now: i64,
) -> ServiceResult<Vec<(String, String)>> {
    let lists = scoped_lists(app, store_id).await?;
    let in_channel: Vec<&ScopedList> = lists.iter().filter(|l| l.scope.channel_id == channel_id).collect();
    if in_channel.is_empty() {
        return Ok(Vec::new());
    }
    let groups = match customer {
        Some(c) if in_channel.iter().any(|l| l.scope.group_id.is_some()) => {
            sql::groups_of(app.db.pool(), store_id, c).await?
        }
        _ => Vec::new(),
    };
    Ok(in_channel
        .into_iter()
        .filter(|l| l.scope.applies(channel_id, &groups, now))
        .map(|l| (l.id.clone(), l.code.clone()))
        .collect())
}

/// Tiers of the applicable lists for some variants: variant id → [(list code, tiers)].
pub async fn list_tiers(
    app: &App,
    store_id: &str,
    lists: &[(String, String)],
    variant_ids: &[String],
) -> ServiceResult<HashMap<String, Vec<(String, Vec<ListTier>)>>> {
    let list_ids: Vec<String> = lists.iter().map(|(id, _)| id.clone()).collect();
    let code_of: HashMap<&str, &str> = lists.iter().map(|(id, code)| (id.as_str(), code.as_str())).collect();
    let mut out: HashMap<String, HashMap<String, Vec<ListTier>>> = HashMap::new();
    for (list_id, variant_id, min_qty, amount) in
        sql::tiers_for_variants(app.db.pool(), store_id, &list_ids, variant_ids).await?
    {
        let code = code_of.get(list_id.as_str()).copied().unwrap_or_default().to_string();
        out.entry(variant_id).or_default().entry(code).or_default().push(ListTier { min_qty, amount });
    }
    Ok(out.into_iter().map(|(v, by_code)| (v, by_code.into_iter().collect())).collect())
}

/// Lowest single-unit list price per product among the applicable lists,
/// for listing cards: product id → amount.
pub async fn unit_list_prices(
    app: &App,
    store_id: &str,
    lists: &[(String, String)],
    product_ids: &[String],
) -> ServiceResult<HashMap<String, i64>> {
    let list_ids: Vec<String> = lists.iter().map(|(id, _)| id.clone()).collect();
    let mut lowest: HashMap<String, i64> = HashMap::new();
    for (product, amount) in sql::unit_prices_for_products(app.db.pool(), store_id, &list_ids, product_ids).await? {
        lowest.entry(product).and_modify(|m| *m = (*m).min(amount)).or_insert(amount);
    }
    Ok(lowest)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuoteQuery {
    pub sku: String,
    /// Default 1.
    pub qty: Option<i64>,
    /// Channel code (default `web`).
    pub channel: Option<String>,
    /// Price for this customer (their groups' lists apply); omitted, an
    /// anonymous visitor.
    pub customer: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PriceQuote {
    pub sku: String,
    pub qty: i64,
    pub channel: String,
    pub unit: Money,
    pub total: Money,
    /// The channel's regular price for this quantity, when it has one.
    pub regular: Option<Money>,
    pub source: PriceSource,
}

/// What a customer would pay for `qty` of a SKU now: staff use it for phone
/// and B2B orders; checkout uses the same rule.
pub async fn quote(app: &App, ctx: &Ctx, q: QuoteQuery) -> ServiceResult<PriceQuote> {
    ctx.actor.require(Permission::CatalogRead)?;
    let qty = q.qty.unwrap_or(1);
    if !(1..=1_000_000).contains(&qty) {
        let mut errs = FieldErrors::default();
        errs.add("qty", "out_of_range", "qty is 1 to 1,000,000");
        return Err(errs.into());
    }
    let pool = app.db.pool();
    let store_id = &ctx.store.id;
    let channel_code = q.channel.as_deref().unwrap_or("web");
    let ch = catalog_sql::channels(pool, store_id)
        .await?
        .into_iter()
        .find(|c| c.code == channel_code)
        .ok_or(ServiceError::NotFound)?;
    let (_, variant_id) = crate::db::catalog_bulk::variant_ids_by_sku(&app.db, store_id, std::slice::from_ref(&q.sku))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    let base: Vec<PriceTier> = catalog_sql::variant_prices(pool, store_id, &variant_id, &ch.id).await?;
    let now = now_ms();
    let lists = applicable_lists(app, store_id, &ch.id, q.customer.as_deref(), now).await?;
    let tiers = list_tiers(app, store_id, &lists, std::slice::from_ref(&variant_id)).await?.remove(&variant_id);
    let tiers = tiers.unwrap_or_default();
    let refs: Vec<(&str, &[ListTier])> = tiers.iter().map(|(c, t)| (c.as_str(), t.as_slice())).collect();
    let r = resolve(&base, &refs, qty, now).ok_or(ServiceError::Conflict {
        code: "not_for_sale",
        message: "this SKU has no price for this quantity in this channel".into(),
    })?;
    let currency = Currency::parse(&ch.currency).unwrap_or(Currency::EUR);
    let total = r
        .unit
        .checked_mul(qty)
        .ok_or(ServiceError::Conflict { code: "amount_overflow", message: "the total is too large".into() })?;
    Ok(PriceQuote {
        sku: q.sku,
        qty,
        channel: ch.code,
        unit: Money::new(r.unit, currency),
        total: Money::new(total, currency),
        regular: r.regular.map(|a| Money::new(a, currency)),
        source: r.source,
    })
}
