//! The catalog as staff manage it and customers see it: channels, and
//! products written whole (per-language texts, variants, prices per channel
//! in tiers). Customers only ever see products visible now, in their
//! language with fallback, priced in the channel's currency.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::{Tx, catalog as sql};
use crate::domain::catalog::{
    PriceTier, ProductKind, PublishStatus, is_valid_gtin, is_valid_sku, is_valid_slug, pick_translation, slugify,
};
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::domain::stores::Store;
use crate::domain::validation::FieldErrors;

// ---- channels ----

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    /// Short code used in URLs and price lists, e.g. `web` or `b2b`.
    pub code: String,
    pub name: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// Whether listed prices include tax (EU) or not (US).
    pub prices_include_tax: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Channel {
    pub id: String,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub prices_include_tax: bool,
}

impl From<sql::ChannelRow> for Channel {
    fn from(c: sql::ChannelRow) -> Self {
        Channel { id: c.id, code: c.code, name: c.name, currency: c.currency, prices_include_tax: c.prices_include_tax }
    }
}

/// Every store starts with a `web` channel in its currency.
pub async fn create_default_channel(tx: &mut Tx, store: &Store) -> ServiceResult<()> {
    let row = sql::ChannelRow {
        id: ids::new_id("chn"),
        code: "web".into(),
        name: "Web store".into(),
        currency: store.currency.clone(),
        prices_include_tax: true,
    };
    sql::insert_channel(tx, &store.id, &row, now_ms()).await?;
    Ok(())
}

pub async fn channels(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Channel>> {
    ctx.actor.require(Permission::CatalogRead)?;
    Ok(sql::channels(app.db.pool(), &ctx.store.id).await?.into_iter().map(Channel::from).collect())
}

pub async fn create_channel(app: &App, ctx: &Ctx, input: ChannelInput) -> ServiceResult<Channel> {
    ctx.actor.require(Permission::CatalogManage)?;
    let mut errs = FieldErrors::default();
    if !(1..=20).contains(&input.code.len())
        || !input.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.add("code", "invalid_format", "code: 1 to 20 lower-case letters, digits or dashes");
    }
    errs.text("name", &input.name, 1, 80);
    let currency = Currency::parse(&input.currency);
    if currency.is_none() {
        errs.add("currency", "unsupported_currency", "currency must be a supported ISO 4217 code");
    }
    errs.finish(())?;
    let row = sql::ChannelRow {
        id: ids::new_id("chn"),
        code: input.code,
        name: input.name.trim().to_string(),
        currency: currency.map(|c| c.code().to_string()).unwrap_or_default(),
        prices_include_tax: input.prices_include_tax,
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = sql::insert_channel(&mut tx, &ctx.store.id, &row, now_ms()).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict { code: "channel_code_taken", message: "a channel with this code exists".into() }
        } else {
            e.into()
        });
    }
    audit::record(
        app,
        &mut tx,
        ctx,
        "catalog.channel_created",
        &row.id,
        json!({ "code": row.code, "currency": row.currency }),
    )
    .await?;
    tx.commit().await?;
    app.catalog_changed(&ctx.store.id);
    Ok(row.into())
}

// ---- products ----

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    pub name: String,
    /// Derived from the name when omitted.
    #[serde(default)]
    pub slug: Option<String>,
    /// Markdown (CommonMark with tables and strikethrough). Raw HTML is
    /// shown as text, and links keep only http(s), mailto and relative targets.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seo_title: String,
    #[serde(default)]
    pub seo_description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    /// Channel code, e.g. `web`.
    pub channel: String,
    #[serde(default = "one")]
    pub min_qty: i64,
    /// Minor units of the channel's currency.
    pub amount: i64,
    #[serde(default)]
    pub sale_amount: Option<i64>,
    #[serde(default)]
    pub sale_starts_at: Option<i64>,
    #[serde(default)]
    pub sale_ends_at: Option<i64>,
}

pub(super) fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    pub sku: String,
    /// EAN-8, UPC-A, EAN-13 or GTIN-14.
    #[serde(default)]
    pub gtin: Option<String>,
    /// Option values by axis, e.g. `{"size": "42", "colour": "blue"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub weight_grams: Option<i64>,
    #[serde(default)]
    pub prices: Vec<PriceInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub kind: ProductKind,
    pub status: PublishStatus,
    #[serde(default)]
    pub publish_at: Option<i64>,
    #[serde(default)]
    pub unpublish_at: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Texts by language; the store's default language is required.
    pub texts: BTreeMap<Language, TextInput>,
    pub variants: Vec<VariantInput>,
    /// Category ids the product is placed in.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Product type code; decides which attributes the product may carry.
    #[serde(default)]
    pub product_type: Option<String>,
    /// Attribute values by attribute code, typed by the attribute's kind.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Tax class (`standard`, `reduced`, `exempt` or the store's own);
    /// default `exempt` for donations, `standard` otherwise.
    #[serde(default)]
    pub tax_class: Option<String>,
}

impl ProductInput {
    pub fn tax_class_or_default(&self) -> String {
        match &self.tax_class {
            Some(c) => c.trim().to_lowercase(),
            None if self.kind == ProductKind::Donation => "exempt".into(),
            None => "standard".into(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VariantView {
    pub id: String,
    pub sku: String,
    pub gtin: Option<String>,
    pub options: BTreeMap<String, String>,
    pub weight_grams: Option<i64>,
    pub prices: Vec<PriceInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub id: String,
    pub kind: ProductKind,
    pub status: PublishStatus,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub tags: Vec<String>,
    pub texts: BTreeMap<Language, TextInput>,
    pub variants: Vec<VariantView>,
    pub categories: Vec<String>,
    pub product_type: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub tax_class: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) struct Checked {
    pub(super) texts: Vec<sql::TextRow>,
    pub(super) variants: Vec<sql::VariantRow>,
    pub(super) prices: Vec<sql::PriceRow>,
}

/// Validates the input against the store's channels, giving variant ids
/// (kept for SKUs the product already had).
pub(super) fn check(
    input: &ProductInput,
    store: &Store,
    channels: &[sql::ChannelRow],
    existing: &HashMap<String, String>,
) -> Result<Checked, FieldErrors> {
    let mut errs = FieldErrors::default();
    if !input.texts.contains_key(&store.brand.default_language) {
        errs.add(
            "texts",
            "default_language_missing",
            format!("texts must include the store's default language ({})", store.brand.default_language.code()),
        );
    }
    let class = input.tax_class_or_default();
    if class.is_empty()
        || class.len() > 32
        || !class.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        errs.add("tax_class", "invalid_tax_class", "a tax class is 1 to 32 letters, digits or _");
    }
    let mut texts = Vec::new();
    for (lang, t) in &input.texts {
        let f = format!("texts.{}", lang.code());
        errs.text(&format!("{f}.name"), &t.name, 1, 200);
        errs.text(&format!("{f}.description"), &t.description, 0, 20_000);
        errs.text(&format!("{f}.seo_title"), &t.seo_title, 0, 120);
        errs.text(&format!("{f}.seo_description"), &t.seo_description, 0, 320);
        let slug = t.slug.clone().unwrap_or_else(|| slugify(&t.name));
        if !is_valid_slug(&slug) {
            errs.add(&format!("{f}.slug"), "invalid_format", "slug: lower-case letters and digits joined by dashes");
        }
        texts.push(sql::TextRow {
            lang: lang.code().into(),
            name: t.name.trim().into(),
            slug,
            description: t.description.trim().into(),
            seo_title: t.seo_title.trim().into(),
            seo_description: t.seo_description.trim().into(),
        });
    }
    if input.variants.is_empty() || input.variants.len() > 500 {
        errs.add("variants", "invalid_length", "a product has 1 to 500 variants");
    }
    if input.tags.len() > 50 || input.tags.iter().any(|t| t.is_empty() || t.len() > 40) {
        errs.add("tags", "invalid_format", "up to 50 tags of 1 to 40 characters");
    }
    if let (Some(a), Some(b)) = (input.publish_at, input.unpublish_at)
        && b <= a
    {
        errs.add("unpublish_at", "before_publish", "unpublish_at must be after publish_at");
    }
    let by_code: HashMap<&str, &sql::ChannelRow> = channels.iter().map(|c| (c.code.as_str(), c)).collect();
    let mut skus = BTreeSet::new();
    let (mut variants, mut prices) = (Vec::new(), Vec::new());
    for (i, v) in input.variants.iter().enumerate() {
        let f = format!("variants[{i}]");
        if !is_valid_sku(&v.sku) {
            errs.add(&format!("{f}.sku"), "invalid_format", "sku: 1 to 64 letters, digits, - _ . /");
        } else if !skus.insert(v.sku.clone()) {
            errs.add(&format!("{f}.sku"), "duplicate", "each variant needs its own SKU");
        }
        if let Some(g) = &v.gtin
            && !is_valid_gtin(g)
        {
            errs.add(&format!("{f}.gtin"), "invalid_gtin", "not a valid EAN/UPC/GTIN (length or check digit)");
        }
        if v.weight_grams.is_some_and(|w| w < 0) {
            errs.add(&format!("{f}.weight_grams"), "negative", "weight cannot be negative");
        }
        let id = existing.get(&v.sku).cloned().unwrap_or_else(|| ids::new_id("var"));
        let mut tiers = BTreeSet::new();
        for (j, p) in v.prices.iter().enumerate() {
            let pf = format!("{f}.prices[{j}]");
            let Some(channel) = by_code.get(p.channel.as_str()) else {
                errs.add(&format!("{pf}.channel"), "unknown_channel", "no channel with this code");
                continue;
            };
            if p.amount < 0 || p.sale_amount.is_some_and(|s| s < 0 || s > p.amount) {
                errs.add(
                    &format!("{pf}.amount"),
                    "invalid_amount",
                    "amounts are ≥ 0 and a sale is not dearer than the price",
                );
            }
            if p.min_qty < 1 || !tiers.insert((p.channel.clone(), p.min_qty)) {
                errs.add(&format!("{pf}.min_qty"), "invalid_tier", "min_qty ≥ 1, once per channel");
            }
            prices.push(sql::PriceRow {
                channel_id: channel.id.clone(),
                variant_id: id.clone(),
                min_qty: p.min_qty,
                amount: p.amount,
                sale_amount: p.sale_amount,
                sale_starts_at: p.sale_starts_at,
                sale_ends_at: p.sale_ends_at,
            });
        }
        variants.push(sql::VariantRow {
            id,
            sku: v.sku.clone(),
            gtin: v.gtin.clone(),
            options: v.options.iter().map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect(),
            weight_grams: v.weight_grams,
            position: i as i64,
        });
    }
    errs.finish(Checked { texts, variants, prices })
}

/// Refuses SKUs or slugs another product of the store already uses.
async fn check_unique(tx: &mut Tx, store_id: &str, product_id: &str, c: &Checked) -> ServiceResult<()> {
    for v in &c.variants {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT product_id FROM variants WHERE store_id = $1 AND sku = $2")
                .bind(store_id)
                .bind(&v.sku)
                .fetch_optional(&mut **tx)
                .await?;
        if owner.is_some_and(|o| o != product_id) {
            return Err(ServiceError::Conflict {
                code: "sku_taken",
                message: format!("SKU {} belongs to another product", v.sku),
            });
        }
    }
    for t in &c.texts {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT product_id FROM product_texts WHERE store_id = $1 AND lang = $2 AND slug = $3")
                .bind(store_id)
                .bind(&t.lang)
                .bind(&t.slug)
                .fetch_optional(&mut **tx)
                .await?;
        if owner.is_some_and(|o| o != product_id) {
            return Err(ServiceError::Conflict {
                code: "slug_taken",
                message: format!("slug {} is used by another product", t.slug),
            });
        }
    }
    Ok(())
}

/// Checks a product as `create` (no id) or `update` would, writing nothing.
pub async fn validate(app: &App, ctx: &Ctx, id: Option<&str>, input: &ProductInput) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store = &ctx.store;
    let channels = sql::channels(app.db.pool(), &store.id).await?;
    let existing: HashMap<String, String> = match id {
        Some(id) => sql::variants(app.db.pool(), &store.id, id).await?.into_iter().map(|v| (v.sku, v.id)).collect(),
        None => HashMap::new(),
    };
    let checked = check(input, store, &channels, &existing)?;
    super::categories::check_ids(app, &store.id, &input.categories).await?;
    super::attributes::check_values(app, &store.id, input.product_type.as_deref(), &input.attributes).await?;
    let mut tx = app.db.begin().await?;
    let result = check_unique(&mut tx, &store.id, id.unwrap_or(""), &checked).await;
    tx.rollback().await?;
    result
}

/// The product a SKU belongs to, if any.
pub async fn product_of_sku(app: &App, store_id: &str, sku: &str) -> ServiceResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT product_id FROM variants WHERE store_id = $1 AND sku = $2")
        .bind(store_id)
        .bind(sku)
        .fetch_optional(app.db.pool())
        .await?)
}

/// Every product id of the store, oldest first (for export).
pub async fn all_ids(app: &App, ctx: &Ctx) -> ServiceResult<Vec<String>> {
    ctx.actor.require(Permission::CatalogRead)?;
    Ok(sqlx::query_scalar("SELECT id FROM products WHERE store_id = $1 ORDER BY id")
        .bind(&ctx.store.id)
        .fetch_all(app.db.pool())
        .await?)
}

async fn save(app: &App, ctx: &Ctx, id: Option<&str>, input: ProductInput) -> ServiceResult<ProductView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store = &ctx.store;
    let channels = sql::channels(app.db.pool(), &store.id).await?;
    let (existing, created_at) = match id {
        Some(id) => {
            let p = sql::product(app.db.pool(), &store.id, id).await?.ok_or(ServiceError::NotFound)?;
            let vs = sql::variants(app.db.pool(), &store.id, id).await?;
            (vs.into_iter().map(|v| (v.sku, v.id)).collect(), p.created_at)
        }
        None => (HashMap::new(), now_ms()),
    };
    let checked = check(&input, store, &channels, &existing)?;
    super::categories::check_ids(app, &store.id, &input.categories).await?;
    let values =
        super::attributes::check_values(app, &store.id, input.product_type.as_deref(), &input.attributes).await?;
    let product = sql::ProductRow {
        id: id.map(str::to_string).unwrap_or_else(|| ids::new_id("prd")),
        kind: input.kind.as_str().into(),
        status: input.status.as_str().into(),
        publish_at: input.publish_at,
        unpublish_at: input.unpublish_at,
        tags: input.tags.clone(),
        tax_class: input.tax_class_or_default(),
        created_at,
        updated_at: now_ms(),
    };
    let mut tx = app.db.begin().await?;
    check_unique(&mut tx, &store.id, &product.id, &checked).await?;
    if let Err(e) =
        sql::save_product(&mut tx, &store.id, &product, &checked.texts, &checked.variants, &checked.prices).await
    {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict {
                code: "catalog_conflict",
                message: "a SKU or slug was taken meanwhile; retry".into(),
            }
        } else {
            e.into()
        });
    }
    let mut categories = input.categories.clone();
    categories.sort();
    categories.dedup();
    crate::db::categories::set_product_categories(&mut tx, &store.id, &product.id, &categories).await?;
    crate::db::attributes::set_product_values(
        &mut tx,
        &store.id,
        &product.id,
        values.type_id.as_deref(),
        &values.values,
    )
    .await?;
    let event = if id.is_some() { "product.updated" } else { "product.created" };
    let event_id = outbox::emit(&mut tx, &store.id, event, json!({ "product_id": product.id })).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        &format!("catalog.{event}"),
        &product.id,
        json!({ "status": product.status, "variants": checked.variants.len() }),
    )
    .await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(&store.id);
    super::search::refresh(app, &store.id, std::slice::from_ref(&product.id), Some(&event_id)).await;
    load(app, &store.id, &product.id).await
}

pub async fn create(app: &App, ctx: &Ctx, input: ProductInput) -> ServiceResult<ProductView> {
    save(app, ctx, None, input).await
}

pub async fn update(app: &App, ctx: &Ctx, id: &str, input: ProductInput) -> ServiceResult<ProductView> {
    if !ids::is_valid("prd", id) {
        return Err(ServiceError::NotFound);
    }
    save(app, ctx, Some(id), input).await
}

/// The input that would save a product as it is (for editors changing
/// one part of it).
pub fn input_of(p: ProductView) -> ProductInput {
    ProductInput {
        kind: p.kind,
        status: p.status,
        publish_at: p.publish_at,
        unpublish_at: p.unpublish_at,
        tags: p.tags,
        texts: p.texts,
        variants: p
            .variants
            .into_iter()
            .map(|v| VariantInput {
                sku: v.sku,
                gtin: v.gtin,
                options: v.options,
                weight_grams: v.weight_grams,
                prices: v.prices,
            })
            .collect(),
        categories: p.categories,
        product_type: p.product_type,
        attributes: p.attributes,
        tax_class: Some(p.tax_class),
    }
}

pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<ProductView> {
    ctx.actor.require(Permission::CatalogRead)?;
    if !ids::is_valid("prd", id) {
        return Err(ServiceError::NotFound);
    }
    load(app, &ctx.store.id, id).await
}

/// Several products whole, in the order of `ids` (missing ones left out),
/// in a few queries whatever their number: for exports.
pub async fn views(app: &App, ctx: &Ctx, ids: &[String]) -> ServiceResult<Vec<ProductView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    let store_id = &ctx.store.id;
    let pool = app.db.pool();
    let channels: HashMap<String, String> =
        sql::channels(pool, store_id).await?.into_iter().map(|c| (c.id, c.code)).collect();
    let types: HashMap<String, String> =
        crate::db::attributes::types(pool, store_id).await?.into_iter().map(|t| (t.id, t.code)).collect();
    let defs: HashMap<String, String> =
        super::attributes::definitions(app, store_id).await?.into_iter().map(|d| (d.id, d.code)).collect();
    let loaded = crate::db::catalog_bulk::load(&app.db, store_id, ids).await?;
    let mut prices: HashMap<String, Vec<PriceInput>> = HashMap::new();
    for pr in loaded.prices {
        prices.entry(pr.variant_id).or_default().push(PriceInput {
            channel: channels.get(&pr.channel_id).cloned().unwrap_or_default(),
            min_qty: pr.min_qty,
            amount: pr.amount,
            sale_amount: pr.sale_amount,
            sale_starts_at: pr.sale_starts_at,
            sale_ends_at: pr.sale_ends_at,
        });
    }
    let mut texts: HashMap<String, BTreeMap<Language, TextInput>> = HashMap::new();
    for (product, t) in loaded.texts {
        if let Some(l) = Language::parse(&t.lang) {
            texts.entry(product).or_default().insert(
                l,
                TextInput {
                    name: t.name,
                    slug: Some(t.slug),
                    description: t.description,
                    seo_title: t.seo_title,
                    seo_description: t.seo_description,
                },
            );
        }
    }
    let mut variants: HashMap<String, Vec<VariantView>> = HashMap::new();
    for (product, v) in loaded.variants {
        variants.entry(product).or_default().push(VariantView {
            prices: prices.remove(&v.id).unwrap_or_default(),
            id: v.id,
            sku: v.sku,
            gtin: v.gtin,
            options: v.options.into_iter().collect(),
            weight_grams: v.weight_grams,
        });
    }
    let mut categories: HashMap<String, Vec<String>> = HashMap::new();
    for (product, c) in loaded.categories {
        categories.entry(product).or_default().push(c);
    }
    let mut values: HashMap<String, BTreeMap<String, serde_json::Value>> = HashMap::new();
    for (product, attribute, v) in loaded.values {
        if let (Some(code), Ok(json)) = (defs.get(&attribute), serde_json::from_str(&v)) {
            values.entry(product).or_default().insert(code.clone(), json);
        }
    }
    let mut by_id: HashMap<String, ProductView> = loaded
        .products
        .into_iter()
        .map(|(p, type_id)| {
            let view = ProductView {
                kind: ProductKind::parse(&p.kind).unwrap_or(ProductKind::Physical),
                status: PublishStatus::parse(&p.status).unwrap_or(PublishStatus::Draft),
                publish_at: p.publish_at,
                unpublish_at: p.unpublish_at,
                tags: p.tags,
                texts: texts.remove(&p.id).unwrap_or_default(),
                variants: variants.remove(&p.id).unwrap_or_default(),
                categories: categories.remove(&p.id).unwrap_or_default(),
                product_type: type_id.and_then(|t| types.get(&t).cloned()),
                attributes: values.remove(&p.id).unwrap_or_default(),
                tax_class: p.tax_class.clone(),
                created_at: p.created_at,
                updated_at: p.updated_at,
                id: p.id.clone(),
            };
            (p.id, view)
        })
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

async fn load(app: &App, store_id: &str, id: &str) -> ServiceResult<ProductView> {
    let pool = app.db.pool();
    let p = sql::product(pool, store_id, id).await?.ok_or(ServiceError::NotFound)?;
    let channels: HashMap<String, String> =
        sql::channels(pool, store_id).await?.into_iter().map(|c| (c.id, c.code)).collect();
    let mut prices: HashMap<String, Vec<PriceInput>> = HashMap::new();
    for pr in sql::prices(pool, store_id, id).await? {
        prices.entry(pr.variant_id).or_default().push(PriceInput {
            channel: channels.get(&pr.channel_id).cloned().unwrap_or_default(),
            min_qty: pr.min_qty,
            amount: pr.amount,
            sale_amount: pr.sale_amount,
            sale_starts_at: pr.sale_starts_at,
            sale_ends_at: pr.sale_ends_at,
        });
    }
    let texts = sql::texts(pool, store_id, id)
        .await?
        .into_iter()
        .filter_map(|t| {
            Language::parse(&t.lang).map(|l| {
                (
                    l,
                    TextInput {
                        name: t.name,
                        slug: Some(t.slug),
                        description: t.description,
                        seo_title: t.seo_title,
                        seo_description: t.seo_description,
                    },
                )
            })
        })
        .collect();
    let (product_type, attributes) = super::attributes::product_values(app, store_id, id).await?;
    let variants = sql::variants(pool, store_id, id)
        .await?
        .into_iter()
        .map(|v| VariantView {
            prices: prices.remove(&v.id).unwrap_or_default(),
            id: v.id,
            sku: v.sku,
            gtin: v.gtin,
            options: v.options.into_iter().collect(),
            weight_grams: v.weight_grams,
        })
        .collect();
    Ok(ProductView {
        id: p.id,
        kind: ProductKind::parse(&p.kind).unwrap_or(ProductKind::Physical),
        status: PublishStatus::parse(&p.status).unwrap_or(PublishStatus::Draft),
        publish_at: p.publish_at,
        unpublish_at: p.unpublish_at,
        tags: p.tags,
        texts,
        variants,
        categories: crate::db::categories::product_categories(pool, store_id, id).await?,
        product_type,
        attributes,
        tax_class: p.tax_class,
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

// ---- what customers see ----

/// A product in a listing: name in the visitor's language and the lowest
/// current single-unit price ("from …") in the channel.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductCard {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub from_price: Option<Money>,
}

/// The newest products customers can see now, for the home page.
pub async fn featured(
    app: &App,
    store: &Store,
    lang: Language,
    channel: &str,
    limit: i64,
) -> ServiceResult<Vec<ProductCard>> {
    let ids = sql::visible_ids(app.db.pool(), &store.id, now_ms(), limit.clamp(1, 100)).await?;
    cards_for(app, store, &ids, lang, channel).await
}

/// Cards for the given products, in that order. Three queries whatever the
/// count (no query per product).
pub async fn cards_for(
    app: &App,
    store: &Store,
    ids: &[String],
    lang: Language,
    channel: &str,
) -> ServiceResult<Vec<ProductCard>> {
    let pool = app.db.pool();
    let now = now_ms();
    let Some(ch) = sql::channels(pool, &store.id).await?.into_iter().find(|c| c.code == channel) else {
        return Ok(Vec::new());
    };
    let currency = Currency::parse(&ch.currency).unwrap_or(Currency::EUR);
    let mut names: HashMap<String, BTreeMap<Language, (String, String)>> = HashMap::new();
    for (id, l, name, slug) in sql::names_for(pool, &store.id, ids).await? {
        if let Some(l) = Language::parse(&l) {
            names.entry(id).or_default().insert(l, (name, slug));
        }
    }
    let mut lowest: HashMap<String, i64> = HashMap::new();
    for (id, amount, sale_amount, sale_starts_at, sale_ends_at) in
        sql::unit_prices_for(pool, &store.id, &ch.id, ids).await?
    {
        let unit = PriceTier { min_qty: 1, amount, sale_amount, sale_starts_at, sale_ends_at }.unit_amount(now);
        lowest.entry(id).and_modify(|m| *m = (*m).min(unit)).or_insert(unit);
    }
    Ok(ids
        .iter()
        .filter_map(|id| {
            let texts = names.get(id)?;
            let (_, (name, slug)) = pick_translation(texts, lang, store.brand.default_language)?;
            Some(ProductCard {
                name: name.clone(),
                slug: slug.clone(),
                from_price: lowest.get(id).map(|a| Money::new(*a, currency)),
                id: id.clone(),
            })
        })
        .collect())
}

/// Every visible product page, for `sitemap.xml`: (slug, last change).
pub async fn sitemap_entries(app: &App, store: &Store) -> ServiceResult<Vec<(String, i64)>> {
    // A sitemap file holds at most 50,000 URLs; the index of several files
    // comes with the large-catalog work.
    let rows = sql::visible_slugs(app.db.pool(), &store.id, now_ms(), 50_000).await?;
    Ok(rows.into_iter().map(|(slug, _, updated)| (slug, updated)).collect())
}
