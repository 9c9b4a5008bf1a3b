//! Saving many products at once (CSV imports, generated demo catalogs).
//! Each product gets exactly the checks `catalog::create`/`update` give it,
//! but the store's channels, categories and attribute rules are read once,
//! SKU and slug ownership is looked up for the whole list in a few queries,
//! and new products are written with multi-row inserts: one transaction,
//! one event (`product.bulk_saved`) and one audit entry per chunk of
//! [`CHUNK`] products, then one search refresh for the chunk, which runs
//! while the next chunk is written.

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
    let mut owned_skus: Vec<(String, String)> = Vec::new();
    for chunk in skus.chunks(LOOKUP) {
        owned_skus.extend(bulk::owners_of_skus(&app.db, store_id, chunk).await?);
    }
    let mut owned_slugs: Vec<(String, String, String)> = Vec::new();
    for chunk in slugs.chunks(LOOKUP) {
        owned_slugs.extend(bulk::owners_of_slugs(&app.db, store_id, chunk).await?);
    }
    // Keys borrowed, not copied: an import checks hundreds of thousands.
    let mut sku_owner: HashMap<&str, &str> = owned_skus.iter().map(|(s, p)| (s.as_str(), p.as_str())).collect();
    let mut slug_owner: HashMap<(&str, &str), &str> =
        owned_slugs.iter().map(|(l, s, p)| ((l.as_str(), s.as_str()), p.as_str())).collect();
    let mut refusals: Vec<(usize, ServiceError)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Ok(p) = item else { continue };
        let id = p.row.id.as_str();
        let taken_sku = p.checked.variants.iter().find(|v| sku_owner.get(v.sku.as_str()).is_some_and(|o| *o != id));
        let taken_slug = p
            .checked
            .texts
            .iter()
            .find(|t| slug_owner.get(&(t.lang.as_str(), t.slug.as_str())).is_some_and(|o| *o != id));
        match (taken_sku, taken_slug) {
            (Some(v), _) => {
                refusals.push((i, conflict("sku_taken", format!("SKU {} belongs to another product", v.sku))))
            }
            (None, Some(t)) => {
                refusals.push((i, conflict("slug_taken", format!("slug {} is used by another product", t.slug))))
            }
            (None, None) => {
                // Later drafts cannot take what this one now holds.
                for v in &p.checked.variants {
                    sku_owner.insert(&v.sku, id);
                }
                for t in &p.checked.texts {
                    slug_owner.insert((&t.lang, &t.slug), id);
                }
            }
        }
    }
    for (i, refusal) in refusals {
        items[i] = Err(refusal);
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
    let mut items = items.into_iter();
    let mut next_chunk = move || {
        let chunk: Vec<Prepared> = items.by_ref().take(CHUNK).collect();
        (!chunk.is_empty()).then_some(chunk)
    };
    // A chunk's statements are built while the one before is written, and
    // it is indexed while the one after is: each stage keeps a core busy.
    let plan_later = |chunk: Vec<Prepared>| {
        let (dialect, store_id) = (app.db.dialect(), ctx.store.id.clone());
        tokio::task::spawn_blocking(move || plan(dialect, &store_id, chunk))
    };
    let mut planning = next_chunk().map(plan_later);
    let mut indexing: Option<tokio::task::JoinHandle<()>> = None;
    while let Some(current) = planning.take() {
        let planned = current.await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        planning = next_chunk().map(plan_later);
        let (c, u, n) = (planned.created, planned.updated, planned.ids.len());
        // On the writer's thread: its statements run in place there.
        let (app_, ctx_) = (app.clone(), ctx.clone());
        let (ids, event_id) = app.db.on_writer(async move { write_chunk(&app_, &ctx_, planned).await }).await?;
        created += c;
        updated += u;
        done += n;
        // One indexing at a time, in order.
        if let Some(previous) = indexing.take() {
            let _ = previous.await;
        }
        let (app, store_id) = (app.clone(), ctx.store.id.clone());
        indexing = Some(tokio::spawn(async move {
            super::search::refresh(&app, &store_id, &ids, Some(&event_id)).await;
        }));
        progress(done);
    }
    if let Some(last) = indexing {
        let _ = last.await;
    }
    Ok((created, updated))
}

/// One chunk's writes, ready to run.
struct Planned {
    statements: Vec<crate::db::AnyQuery<'static>>,
    ids: Vec<String>,
    created: usize,
    updated: usize,
}

/// Writes one planned chunk in one transaction with its event and audit
/// entry; returns the chunk's product ids and the event's id.
async fn write_chunk(app: &App, ctx: &Ctx, planned: Planned) -> ServiceResult<(Vec<String>, String)> {
    let store_id = &ctx.store.id;
    let Planned { statements, ids, created, updated } = planned;
    let mut tx = app.db.begin_bulk().await?;
    for statement in statements {
        if let Err(e) = tx.write(statement).await {
            return Err(if crate::db::is_unique_violation(&e) {
                conflict("catalog_conflict", "a SKU or slug was taken meanwhile; retry".into())
            } else {
                e.into()
            });
        }
    }
    let event_id = outbox::emit(
        &mut tx,
        store_id,
        "product.bulk_saved",
        json!({ "product_ids": ids, "created": created, "updated": updated }),
    )
    .await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "catalog.products_bulk_saved",
        ids.first().map(String::as_str).unwrap_or_default(),
        json!({ "created": created, "updated": updated, "product_ids": ids }),
    )
    .await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    Ok((ids, event_id))
}

/// The statements that write a chunk: updated products first lose their
/// parts and get them anew (variants keep their ids by SKU), exactly as a
/// single save replaces them; then products (inserted, or updated in place
/// keeping `created_at`) and all their parts, a statement or a few per table.
fn plan(dialect: crate::db::Dialect, store_id: &str, items: Vec<Prepared>) -> Planned {
    let ids: Vec<String> = items.iter().map(|p| p.row.id.clone()).collect();
    let old_ids: Vec<String> = items.iter().filter(|p| !p.is_new).map(|p| p.row.id.clone()).collect();
    let mut statements: Vec<crate::db::AnyQuery<'static>> =
        old_ids.chunks(500).flat_map(|ids| bulk::delete_parts_statements(dialect, store_id, ids)).collect();
    let created = items.iter().filter(|p| p.is_new).count();
    let updated = items.len() - created;
    let s = || Cell::Text(store_id.to_string());
    let mut products = Vec::with_capacity(items.len());
    let mut texts = Vec::new();
    let mut variants = Vec::new();
    let mut prices = Vec::new();
    let mut categories = Vec::new();
    let mut values = Vec::new();
    for p in items {
        let Prepared { row: r, checked, categories: cats, values: vals, .. } = p;
        let id = r.id;
        let t = || Cell::Text(id.clone());
        products.push(vec![
            s(),
            t(),
            Cell::Text(r.kind),
            Cell::Text(r.status),
            Cell::OptInt(r.publish_at),
            Cell::OptInt(r.unpublish_at),
            Cell::Text(serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into())),
            Cell::Int(r.created_at),
            Cell::Int(r.updated_at),
            Cell::OptText(vals.type_id),
        ]);
        for x in checked.texts {
            texts.push(vec![
                s(),
                t(),
                Cell::Text(x.lang),
                Cell::Text(x.name),
                Cell::Text(x.slug),
                Cell::Text(x.description),
                Cell::Text(x.seo_title),
                Cell::Text(x.seo_description),
            ]);
        }
        for v in checked.variants {
            variants.push(vec![
                s(),
                Cell::Text(v.id),
                t(),
                Cell::Text(v.sku),
                Cell::OptText(v.gtin),
                Cell::Text(serde_json::to_string(&v.options).unwrap_or_else(|_| "[]".into())),
                Cell::OptInt(v.weight_grams),
                Cell::Int(v.position),
            ]);
        }
        for pr in checked.prices {
            prices.push(vec![
                s(),
                Cell::Text(pr.channel_id),
                Cell::Text(pr.variant_id),
                Cell::Int(pr.min_qty),
                Cell::Int(pr.amount),
                Cell::OptInt(pr.sale_amount),
                Cell::OptInt(pr.sale_starts_at),
                Cell::OptInt(pr.sale_ends_at),
            ]);
        }
        for c in cats {
            categories.push(vec![s(), t(), Cell::Text(c)]);
        }
        for (attribute, value) in vals.values {
            values.push(vec![s(), t(), Cell::Text(attribute), Cell::Text(value)]);
        }
    }
    let mut insert = |table: &str, columns: &[&str], rows: Vec<Vec<Cell>>, on_conflict: &str| {
        statements.extend(bulk::insert_statements(dialect, table, columns, rows, on_conflict));
    };
    insert(
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
        products,
        "ON CONFLICT (store_id, id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
             publish_at = excluded.publish_at, unpublish_at = excluded.unpublish_at, tags = excluded.tags,
             updated_at = excluded.updated_at, type_id = excluded.type_id",
    );
    insert(
        "product_texts",
        &["store_id", "product_id", "lang", "name", "slug", "description", "seo_title", "seo_description"],
        texts,
        "",
    );
    insert(
        "variants",
        &["store_id", "id", "product_id", "sku", "gtin", "options", "weight_grams", "position"],
        variants,
        "",
    );
    insert(
        "prices",
        &["store_id", "channel_id", "variant_id", "min_qty", "amount", "sale_amount", "sale_starts_at", "sale_ends_at"],
        prices,
        "",
    );
    insert("product_categories", &["store_id", "product_id", "category_id"], categories, "");
    insert("product_attributes", &["store_id", "product_id", "attribute_id", "value"], values, "");
    Planned { statements, ids, created, updated }
}
