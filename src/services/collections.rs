//! Collections: products a store groups for promotion, either picked by
//! hand (manual, in the order given) or matched by rules that are a saved
//! search ("tag = summer and price < 50" is `{"facets": {"tag":
//! ["summer"]}, "price_max": 5000}`), so a rule-based collection is always
//! current. Featured collections fill the storefront's home page.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::search::{SearchCard, SearchParams, SearchResult};
use super::{App, ServiceError, ServiceResult, audit, now_ms};
use crate::db::collections as sql;
use crate::domain::catalog::{is_valid_slug, pick_translation, slugify};
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::stores::Store;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectionKind {
    Manual,
    Rule,
}

/// A rule-based collection's conditions; all must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionRules {
    /// Facet values by code (`tag`, an attribute code, `option.<axis>`);
    /// values of one code are alternatives.
    #[serde(default)]
    pub facets: BTreeMap<String, Vec<String>>,
    /// Category id: products in it or below it.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Web channel price in minor units, inclusive.
    #[serde(default)]
    pub price_min: Option<i64>,
    /// Exclusive.
    #[serde(default)]
    pub price_max: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionText {
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
    /// Markdown, as product descriptions.
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionInput {
    pub kind: CollectionKind,
    pub texts: BTreeMap<Language, CollectionText>,
    /// Rule-based only.
    #[serde(default)]
    pub rules: CollectionRules,
    /// Manual only: product ids in display order (up to 100).
    #[serde(default)]
    pub products: Vec<String>,
    /// Shown on the storefront's home page.
    #[serde(default)]
    pub featured: bool,
    #[serde(default)]
    pub position: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollectionView {
    pub id: String,
    #[serde(flatten)]
    pub input: CollectionInput,
}

const MAX_MANUAL: usize = 100;

async fn check(app: &App, ctx: &Ctx, id: &str, input: &mut CollectionInput) -> ServiceResult<Vec<sql::TextRow>> {
    let mut errs = FieldErrors::default();
    if !input.texts.contains_key(&ctx.store.brand.default_language) {
        errs.add("texts", "default_language_missing", "texts must include the store's default language");
    }
    let mut texts = Vec::new();
    for (lang, t) in &input.texts {
        let f = format!("texts.{}", lang.code());
        errs.text(&format!("{f}.name"), &t.name, 1, 100);
        errs.text(&format!("{f}.description"), &t.description, 0, 5_000);
        let slug = t.slug.clone().unwrap_or_else(|| slugify(&t.name));
        if !is_valid_slug(&slug) {
            errs.add(&format!("{f}.slug"), "invalid_format", "slug: lower-case letters and digits joined by dashes");
        }
        texts.push(sql::TextRow {
            collection_id: id.to_string(),
            lang: lang.code().into(),
            name: t.name.trim().into(),
            slug,
            description: t.description.trim().into(),
        });
    }
    match input.kind {
        CollectionKind::Manual => {
            if input.rules != CollectionRules::default() {
                errs.add("rules", "not_allowed", "manual collections list products instead");
            }
            if input.products.len() > MAX_MANUAL {
                errs.add("products", "too_many", "up to 100 products");
            }
            input.products.dedup();
            // One query for the lot (a list over the limit is refused above).
            let existing = match input.products.len() {
                n if n <= MAX_MANUAL => sql::existing_products(app.db.pool(), &ctx.store.id, &input.products).await?,
                _ => input.products.clone(),
            };
            for (i, p) in input.products.iter().enumerate() {
                if !existing.contains(p) {
                    errs.add(&format!("products[{i}]"), "unknown_product", "no such product in this store");
                }
            }
        }
        CollectionKind::Rule => {
            if !input.products.is_empty() {
                errs.add("products", "not_allowed", "rule-based collections match products by their rules");
            }
            let r = &input.rules;
            if r.price_min.is_some_and(|p| p < 0) || r.price_max.is_some_and(|p| p < 0) {
                errs.add("rules.price_min", "negative", "prices are ≥ 0");
            }
            if r.facets.values().any(|v| v.is_empty()) {
                errs.add("rules.facets", "empty", "each facet needs at least one value");
            }
            if let Some(c) = &r.category {
                super::categories::check_ids(app, &ctx.store.id, std::slice::from_ref(c)).await.map_err(|_| {
                    let mut e = FieldErrors::default();
                    e.add("rules.category", "unknown_category", "no such category in this store");
                    ServiceError::Validation(e)
                })?;
            }
        }
    }
    errs.finish(texts).map_err(Into::into)
}

async fn save(app: &App, ctx: &Ctx, id: Option<&str>, mut input: CollectionInput) -> ServiceResult<CollectionView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let id = match id {
        Some(id) => {
            let exists =
                ids::is_valid("col", id) && sql::all(app.db.pool(), &ctx.store.id).await?.iter().any(|c| c.id == id);
            if !exists {
                return Err(ServiceError::NotFound);
            }
            id.to_string()
        }
        None => ids::new_id("col"),
    };
    let texts = check(app, ctx, &id, &mut input).await?;
    let row = sql::CollectionRow {
        id: id.clone(),
        kind: match input.kind {
            CollectionKind::Manual => "manual".into(),
            CollectionKind::Rule => "rule".into(),
        },
        rules: serde_json::to_string(&input.rules).unwrap_or_default(),
        featured: input.featured,
        position: input.position,
    };
    let mut tx = app.db.begin().await?;
    for t in &texts {
        if sql::slug_owner(&mut tx, &ctx.store.id, &t.lang, &t.slug).await?.is_some_and(|o| o != id) {
            return Err(ServiceError::Conflict {
                code: "slug_taken",
                message: format!("slug {} is used by another collection", t.slug),
            });
        }
    }
    sql::save(&mut tx, &ctx.store.id, &row, &texts, &input.products, now_ms()).await?;
    audit::record(app, &mut tx, ctx, "catalog.collection_saved", &id, json!({ "kind": row.kind })).await?;
    tx.commit().await?;
    Ok(CollectionView { id, input })
}

pub async fn create(app: &App, ctx: &Ctx, input: CollectionInput) -> ServiceResult<CollectionView> {
    save(app, ctx, None, input).await
}

pub async fn update(app: &App, ctx: &Ctx, id: &str, input: CollectionInput) -> ServiceResult<CollectionView> {
    save(app, ctx, Some(id), input).await
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<CollectionView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    let pool = app.db.pool();
    let mut texts: HashMap<String, BTreeMap<Language, CollectionText>> = HashMap::new();
    for t in sql::all_texts(pool, &ctx.store.id).await? {
        if let Some(l) = Language::parse(&t.lang) {
            texts
                .entry(t.collection_id)
                .or_default()
                .insert(l, CollectionText { name: t.name, slug: Some(t.slug), description: t.description });
        }
    }
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    for (collection, product) in sql::all_products(pool, &ctx.store.id).await? {
        lists.entry(collection).or_default().push(product);
    }
    let mut out = Vec::new();
    for c in sql::all(pool, &ctx.store.id).await? {
        out.push(CollectionView {
            input: CollectionInput {
                kind: if c.kind == "manual" { CollectionKind::Manual } else { CollectionKind::Rule },
                texts: texts.remove(&c.id).unwrap_or_default(),
                rules: serde_json::from_str(&c.rules).unwrap_or_default(),
                products: lists.remove(&c.id).unwrap_or_default(),
                featured: c.featured,
                position: c.position,
            },
            id: c.id,
        });
    }
    Ok(out)
}

/// A collection's heading as customers read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollectionHeading {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
}

struct Found {
    heading: CollectionHeading,
    row: sql::CollectionRow,
}

async fn resolve(app: &App, store: &Store, lang: Language, slug: Option<&str>) -> ServiceResult<Vec<Found>> {
    let pool = app.db.pool();
    let mut texts: HashMap<String, BTreeMap<Language, sql::TextRow>> = HashMap::new();
    for t in sql::all_texts(pool, &store.id).await? {
        if let Some(l) = Language::parse(&t.lang) {
            texts.entry(t.collection_id.clone()).or_default().insert(l, t);
        }
    }
    Ok(sql::all(pool, &store.id)
        .await?
        .into_iter()
        .filter_map(|row| {
            let ts = texts.get(&row.id)?;
            if let Some(s) = slug
                && !ts.values().any(|t| t.slug == s)
            {
                return None;
            }
            let (_, t) = pick_translation(ts, lang, store.brand.default_language)?;
            let heading = CollectionHeading {
                id: row.id.clone(),
                name: t.name.clone(),
                slug: t.slug.clone(),
                description: t.description.clone(),
            };
            Some(Found { heading, row })
        })
        .collect())
}

/// The search that lists a collection's products.
async fn params_for(
    app: &App,
    store: &Store,
    row: &sql::CollectionRow,
    mut params: SearchParams,
) -> ServiceResult<SearchParams> {
    if row.kind == "manual" {
        params.product_ids = sql::products(app.db.pool(), &store.id, &row.id).await?;
        if params.product_ids.is_empty() {
            // An empty manual collection lists nothing, not everything.
            params.product_ids.push("prd_none".into());
        }
        params.limit = MAX_MANUAL;
        return Ok(params);
    }
    let rules: CollectionRules = serde_json::from_str(&row.rules).unwrap_or_default();
    for (code, values) in rules.facets {
        params.facets.entry(code).or_default().extend(values);
    }
    params.category = params.category.or(rules.category);
    params.kinds.extend(rules.kinds);
    params.price_min = params.price_min.max(rules.price_min);
    params.price_max = match (params.price_max, rules.price_max) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(params)
}

/// A collection page: its heading and its products (visitors may narrow
/// further with the same filters as search).
pub async fn page(
    app: &App,
    store: &Store,
    slug: &str,
    lang: Language,
    params: SearchParams,
) -> ServiceResult<(CollectionHeading, SearchResult)> {
    let found = resolve(app, store, lang, Some(slug)).await?.into_iter().next().ok_or(ServiceError::NotFound)?;
    let params = params_for(app, store, &found.row, params).await?;
    let result = super::search::search(app, store, lang, params, None).await?;
    Ok((found.heading, result))
}

/// Featured collections with their first products, for the home page.
pub async fn featured(
    app: &App,
    store: &Store,
    lang: Language,
    per_collection: usize,
) -> ServiceResult<Vec<(CollectionHeading, Vec<SearchCard>)>> {
    let mut out = Vec::new();
    for f in resolve(app, store, lang, None).await?.into_iter().filter(|f| f.row.featured) {
        let params = SearchParams { limit: per_collection.max(1), ..Default::default() };
        // Manual collections are read whole and cut after ordering.
        let params = params_for(app, store, &f.row, params).await?;
        let mut items = super::search::search(app, store, lang, params, None).await?.items;
        items.truncate(per_collection);
        if !items.is_empty() {
            out.push((f.heading, items));
        }
    }
    Ok(out)
}
