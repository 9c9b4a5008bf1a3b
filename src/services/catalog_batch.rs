//! Saving many products at once (CSV imports, generated demo catalogs).
//! Each product gets exactly the checks `catalog::create`/`update` give it,
//! but the store's channels, categories and attribute rules are read once,
//! SKU and slug ownership is looked up for the whole list in a few queries,
//! and new products are written with multi-row inserts: one transaction,
//! one event (`product.bulk_saved`) and one audit entry per chunk of
//! [`CHUNK`] products, then one search refresh for the chunk.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::actor::{Ctx, Permission};
use super::attributes::CheckedValues;
use super::catalog::{Checked, ProductInput, check};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::catalog as sql;
use crate::db::catalog_bulk::{self as bulk, Cell};
use crate::domain::ids;
use crate::domain::validation::FieldErrors;

/// Products per transaction: larger chunks mean fewer commits (each an
/// fsync) and WAL checkpoints (100k products: writes 30.6 s at 500, 22.5 s
/// at 2,000; see BENCHMARKS.md).
pub const CHUNK: usize = 2_000;
/// Keys per lookup query.
const LOOKUP: usize = 2_000;

/// A product to save: `target` is the product it replaces (None: a new one).
pub struct Draft {
    pub target: Option<String>,
    pub input: ProductInput,
}

/// A checked product, ready to write.
pub struct Prepared {
    row: sql::ProductRow,
    checked: Checked,
    categories: Vec<String>,
    values: CheckedValues,
    is_new: bool,
}

impl Prepared {
    pub fn id(&self) -> &str {
        &self.row.id
    }
}

fn conflict(code: &'static str, message: String) -> ServiceError {
    ServiceError::Conflict { code, message }
}

/// Checks every draft; each gets its prepared write or why not (field
/// errors, a SKU or slug owned by another product or by an earlier draft,
/// or a target that does not exist).
pub async fn prepare(app: &App, ctx: &Ctx, drafts: Vec<Draft>) -> ServiceResult<Vec<Result<Prepared, ServiceError>>> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store = &ctx.store;
    let pool = app.db.pool();
    let channels = sql::channels(pool, &store.id).await?;
    let rules = super::attributes::value_rules(app, &store.id).await?;
    let category_ids: HashSet<String> =
        crate::db::categories::all(pool, &store.id).await?.into_iter().map(|c| c.id).collect();

    let targets: Vec<String> = drafts.iter().filter_map(|d| d.target.clone()).collect();
    let mut created_at: HashMap<String, i64> = HashMap::new();
    let mut variant_ids: HashMap<String, HashMap<String, String>> = HashMap::new();
    for chunk in targets.chunks(LOOKUP) {
        created_at.extend(bulk::existing_products(&app.db, &store.id, chunk).await?);
        for (product, sku, id) in bulk::variants_of(&app.db, &store.id, chunk).await? {
            variant_ids.entry(product).or_default().insert(sku, id);
        }
    }

    let now = now_ms();
    let mut out: Vec<Result<Prepared, ServiceError>> = Vec::with_capacity(drafts.len());
    for d in drafts {
        let existing = d.target.as_ref().and_then(|t| variant_ids.get(t)).cloned().unwrap_or_default();
        let result = (|| {
            let created = match &d.target {
                Some(t) => *created_at.get(t).ok_or(ServiceError::NotFound)?,
                None => now,
            };
            // Every problem of the product at once, as a single save reports them.
            let checked = check(&d.input, store, &channels, &existing);
            let values = rules.check(d.input.product_type.as_deref(), &d.input.attributes);
            let mut errs = FieldErrors::default();
            if let Some(bad) = d.input.categories.iter().find(|c| !category_ids.contains(*c)) {
                errs.add("categories", "unknown_category", format!("no category {bad} in this store"));
            }
            let (checked, values) = match (checked, values) {
                (Ok(c), Ok(v)) if errs.is_empty() => (c, v),
                (c, v) => {
                    let mut all = c.err().unwrap_or_default();
                    all.0.extend(errs.0);
                    all.0.extend(v.err().unwrap_or_default().0);
                    return Err(all.into());
                }
            };
            let mut categories = d.input.categories.clone();
            categories.sort();
            categories.dedup();
            Ok(Prepared {
                row: sql::ProductRow {
                    id: d.target.clone().unwrap_or_else(|| ids::new_id("prd")),
                    kind: d.input.kind.as_str().into(),
                    status: d.input.status.as_str().into(),
                    publish_at: d.input.publish_at,
                    unpublish_at: d.input.unpublish_at,
                    tags: d.input.tags.clone(),
                    tax_class: d.input.tax_class_or_default(),
                    created_at: created,
                    updated_at: now,
                },
                checked,
                categories,
                values,
                is_new: d.target.is_none(),
            })
        })();
        out.push(result);
    }
    check_ownership(app, &store.id, &mut out).await?;
    Ok(out)
}

/// Refuses SKUs and slugs another product already uses, in the database or
/// earlier in the same list.
async fn check_ownership(app: &App, store_id: &str, items: &mut [Result<Prepared, ServiceError>]) -> ServiceResult<()> {
    let skus: Vec<String> =
        items.iter().flatten().flat_map(|p| p.checked.variants.iter().map(|v| v.sku.clone())).collect();
    let slugs: Vec<String> = items
        .iter()
        .flatten()
        .flat_map(|p| p.checked.texts.iter().map(|t| t.slug.clone()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut sku_owner: HashMap<String, String> = HashMap::new();
    for chunk in skus.chunks(LOOKUP) {
        sku_owner.extend(bulk::owners_of_skus(&app.db, store_id, chunk).await?);
    }
    let mut slug_owner: HashMap<(String, String), String> = HashMap::new();
    for chunk in slugs.chunks(LOOKUP) {
        for (lang, slug, product) in bulk::owners_of_slugs(&app.db, store_id, chunk).await? {
            slug_owner.insert((lang, slug), product);
        }
    }
    for item in items.iter_mut() {
        let Ok(p) = item else { continue };
        let id = p.row.id.clone();
        let taken_sku = p.checked.variants.iter().find(|v| sku_owner.get(&v.sku).is_some_and(|o| *o != id));
        let taken_slug = p
            .checked
            .texts
            .iter()
            .find(|t| slug_owner.get(&(t.lang.clone(), t.slug.clone())).is_some_and(|o| *o != id));
        let refusal = match (taken_sku, taken_slug) {
            (Some(v), _) => Some(conflict("sku_taken", format!("SKU {} belongs to another product", v.sku))),
            (None, Some(t)) => Some(conflict("slug_taken", format!("slug {} is used by another product", t.slug))),
            (None, None) => None,
        };
        match refusal {
            Some(e) => *item = Err(e),
            None => {
                // Later drafts cannot take what this one now holds.
                for v in &p.checked.variants {
                    sku_owner.insert(v.sku.clone(), id.clone());
                }
                for t in &p.checked.texts {
                    slug_owner.insert((t.lang.clone(), t.slug.clone()), id.clone());
                }
            }
        }
    }
    Ok(())
}

/// Writes prepared products in chunks; calls `progress(done)` after each.
/// Returns (created, updated).
pub async fn write(
    app: &App,
    ctx: &Ctx,
    items: Vec<Prepared>,
    mut progress: impl FnMut(usize),
) -> ServiceResult<(usize, usize)> {
    ctx.actor.require(Permission::CatalogManage)?;
    let (mut created, mut updated, mut done) = (0, 0, 0);
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<Prepared> = items.by_ref().take(CHUNK).collect();
        let (c, u) = write_chunk(app, ctx, &chunk).await?;
        created += c;
        updated += u;
        done += chunk.len();
        progress(done);
    }
    Ok((created, updated))
}

async fn write_chunk(app: &App, ctx: &Ctx, chunk: &[Prepared]) -> ServiceResult<(usize, usize)> {
    let store_id = &ctx.store.id;
    let (new, old): (Vec<&Prepared>, Vec<&Prepared>) = chunk.iter().partition(|p| p.is_new);
    let mut tx = app.db.begin().await?;
    let dialect = app.db.dialect();
    let result = async {
        // Updated products lose their parts and get them anew (variants
        // keep their ids by SKU), exactly as a single save replaces them.
        let old_ids: Vec<String> = old.iter().map(|p| p.row.id.clone()).collect();
        for ids in old_ids.chunks(500) {
            bulk::delete_parts(&mut tx, dialect, store_id, ids).await?;
        }
        let all: Vec<&Prepared> = chunk.iter().collect();
        write_rows(&mut tx, dialect, store_id, &all).await
    }
    .await;
    if let Err(e) = result {
        return Err(if crate::db::is_unique_violation(&e) {
            conflict("catalog_conflict", "a SKU or slug was taken meanwhile; retry".into())
        } else {
            e.into()
        });
    }
    let ids: Vec<&str> = chunk.iter().map(|p| p.row.id.as_str()).collect();
    let event_id = outbox::emit(
        &mut tx,
        store_id,
        "product.bulk_saved",
        json!({ "product_ids": ids, "created": new.len(), "updated": old.len() }),
    )
    .await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "catalog.products_bulk_saved",
        ids.first().copied().unwrap_or_default(),
        json!({ "created": new.len(), "updated": old.len(), "product_ids": ids }),
    )
    .await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    let ids: Vec<String> = ids.into_iter().map(str::to_string).collect();
    super::search::refresh(app, store_id, &ids, Some(&event_id)).await;
    Ok((new.len(), old.len()))
}

/// Products (inserted, or updated in place keeping `created_at`) and all
/// their parts, a statement or a few per table.
async fn write_rows(
    tx: &mut crate::db::Tx,
    dialect: crate::db::Dialect,
    store_id: &str,
    items: &[&Prepared],
) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let s = || Cell::Text(store_id.to_string());
    let t = |v: &str| Cell::Text(v.to_string());
    let products: Vec<Vec<Cell>> = items
        .iter()
        .map(|p| {
            let r = &p.row;
            vec![
                s(),
                t(&r.id),
                t(&r.kind),
                t(&r.status),
                Cell::OptInt(r.publish_at),
                Cell::OptInt(r.unpublish_at),
                Cell::Text(serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into())),
                Cell::Int(r.created_at),
                Cell::Int(r.updated_at),
                Cell::OptText(p.values.type_id.clone()),
            ]
        })
        .collect();
    bulk::insert_rows(
        tx,
        dialect,
        "products",
        &[
            "store_id",
            "id",
            "kind",
            "status",
            "publish_at",
            "unpublish_at",
            "tags",
            "created_at",
            "updated_at",
            "type_id",
        ],
        &products,
        "ON CONFLICT (store_id, id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
             publish_at = excluded.publish_at, unpublish_at = excluded.unpublish_at, tags = excluded.tags,
             updated_at = excluded.updated_at, type_id = excluded.type_id",
    )
    .await?;
    let mut texts = Vec::new();
    let mut variants = Vec::new();
    let mut prices = Vec::new();
    let mut categories = Vec::new();
    let mut values = Vec::new();
    for p in items {
        let id = &p.row.id;
        for x in &p.checked.texts {
            texts.push(vec![
                s(),
                t(id),
                t(&x.lang),
                t(&x.name),
                t(&x.slug),
                t(&x.description),
                t(&x.seo_title),
                t(&x.seo_description),
            ]);
        }
        for v in &p.checked.variants {
            variants.push(vec![
                s(),
                t(&v.id),
                t(id),
                t(&v.sku),
                Cell::OptText(v.gtin.clone()),
                Cell::Text(serde_json::to_string(&v.options).unwrap_or_else(|_| "[]".into())),
                Cell::OptInt(v.weight_grams),
                Cell::Int(v.position),
            ]);
        }
        for pr in &p.checked.prices {
            prices.push(vec![
                s(),
                t(&pr.channel_id),
                t(&pr.variant_id),
                Cell::Int(pr.min_qty),
                Cell::Int(pr.amount),
                Cell::OptInt(pr.sale_amount),
                Cell::OptInt(pr.sale_starts_at),
                Cell::OptInt(pr.sale_ends_at),
            ]);
        }
        for c in &p.categories {
            categories.push(vec![s(), t(id), t(c)]);
        }
        for (attribute, value) in &p.values.values {
            values.push(vec![s(), t(id), t(attribute), t(value)]);
        }
    }
    bulk::insert_rows(
        tx,
        dialect,
        "product_texts",
        &["store_id", "product_id", "lang", "name", "slug", "description", "seo_title", "seo_description"],
        &texts,
        "",
    )
    .await?;
    bulk::insert_rows(
        tx,
        dialect,
        "variants",
        &["store_id", "id", "product_id", "sku", "gtin", "options", "weight_grams", "position"],
        &variants,
        "",
    )
    .await?;
    bulk::insert_rows(
        tx,
        dialect,
        "prices",
        &["store_id", "channel_id", "variant_id", "min_qty", "amount", "sale_amount", "sale_starts_at", "sale_ends_at"],
        &prices,
        "",
    )
    .await?;
    bulk::insert_rows(tx, dialect, "product_categories", &["store_id", "product_id", "category_id"], &categories, "")
        .await?;
    bulk::insert_rows(
        tx,
        dialect,
        "product_attributes",
        &["store_id", "product_id", "attribute_id", "value"],
        &values,
        "",
    )
    .await?;
    Ok(())
}
