//! The category tree: staff build it; customers browse a category (and
//! everything below it) page by page.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::catalog::{ProductCard, cards_for};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::categories as sql;
use crate::domain::catalog::{is_valid_slug, pick_translation, slugify, subtree, would_cycle};
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::stores::Store;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryText {
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub position: i64,
    /// Names by language; the store's default language is required.
    pub texts: BTreeMap<Language, CategoryText>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub parent_id: Option<String>,
    pub position: i64,
    pub texts: BTreeMap<Language, CategoryText>,
}

pub struct CategoryTree {
    parents: HashMap<String, Option<String>>,
    texts: HashMap<String, BTreeMap<Language, CategoryText>>,
    order: Vec<(String, Option<String>, i64)>,
}

async fn tree(app: &App, store_id: &str) -> ServiceResult<CategoryTree> {
    let rows = sql::all(app.db.pool(), store_id).await?;
    let mut texts: HashMap<String, BTreeMap<Language, CategoryText>> = HashMap::new();
    for t in sql::all_texts(app.db.pool(), store_id).await? {
        if let Some(l) = Language::parse(&t.lang) {
            texts.entry(t.category_id).or_default().insert(l, CategoryText { name: t.name, slug: Some(t.slug) });
        }
    }
    Ok(CategoryTree {
        parents: rows.iter().map(|r| (r.id.clone(), r.parent_id.clone())).collect(),
        order: rows.into_iter().map(|r| (r.id, r.parent_id, r.position)).collect(),
        texts,
    })
}

impl CategoryTree {
    /// Estimated bytes, for the read cache's budget.
    pub fn weight(&self) -> u64 {
        let texts: usize = self.texts.values().flat_map(|t| t.values()).map(|t| t.name.len() + 64).sum();
        (texts + self.order.len() * 128) as u64
    }
}

/// The tree as storefront pages read it: from the read cache until the
/// store's catalog changes.
async fn cached_tree(app: &App, store_id: &str) -> ServiceResult<Arc<CategoryTree>> {
    let key = (store_id.to_string(), app.reads.generations.current(store_id));
    if let Some(t) = app.reads.category_trees.get(&key) {
        return Ok(t);
    }
    let t = Arc::new(tree(app, store_id).await?);
    app.reads.category_trees.put(key, t.clone());
    Ok(t)
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<CategoryView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    let mut t = tree(app, &ctx.store.id).await?;
    Ok(t.order
        .into_iter()
        .map(|(id, parent_id, position)| CategoryView {
            texts: t.texts.remove(&id).unwrap_or_default(),
            id,
            parent_id,
            position,
        })
        .collect())
}

/// Checks `input` for category `id` (new or existing) against the tree;
/// the text rows to store.
fn checked(
    ctx: &Ctx,
    parents: &HashMap<String, Option<String>>,
    id: &str,
    input: &CategoryInput,
) -> ServiceResult<Vec<sql::CategoryText>> {
    let mut errs = FieldErrors::default();
    if !input.texts.contains_key(&ctx.store.brand.default_language) {
        errs.add("texts", "default_language_missing", "texts must include the store's default language");
    }
    if let Some(p) = &input.parent_id {
        if !parents.contains_key(p) {
            errs.add("parent_id", "unknown_parent", "no such category in this store");
        } else if would_cycle(parents, id, p) {
            errs.add("parent_id", "cycle", "a category cannot sit below itself");
        }
    }
    let mut rows = Vec::new();
    for (lang, text) in &input.texts {
        errs.text(&format!("texts.{}.name", lang.code()), &text.name, 1, 100);
        let slug = text.slug.clone().unwrap_or_else(|| slugify(&text.name));
        if !is_valid_slug(&slug) {
            errs.add(
                &format!("texts.{}.slug", lang.code()),
                "invalid_format",
                "slug: lower-case letters and digits joined by dashes",
            );
        }
        rows.push(sql::CategoryText {
            category_id: id.to_string(),
            lang: lang.code().into(),
            name: text.name.trim().into(),
            slug,
        });
    }
    Ok(errs.finish(rows)?)
}

/// The tree's shape, read after locking it: edits of one store's tree
/// run one at a time (on PostgreSQL too), so a move and a delete, or two
/// moves, cannot together orphan a branch or make a cycle.
async fn locked_parents(tx: &mut crate::db::Tx, store_id: &str) -> ServiceResult<HashMap<String, Option<String>>> {
    sql::lock_tree(tx, store_id).await?;
    Ok(sql::all(&mut **tx, store_id).await?.into_iter().map(|r| (r.id, r.parent_id)).collect())
}

/// Refuses a slug another category has in the same language.
async fn check_slugs(
    tx: &mut crate::db::Tx,
    store_id: &str,
    id: &str,
    rows: &[sql::CategoryText],
) -> ServiceResult<()> {
    for r in rows {
        if sql::slug_owner(tx, store_id, &r.lang, &r.slug).await?.is_some_and(|owner| owner != id) {
            return Err(ServiceError::Conflict {
                code: "slug_taken",
                message: format!("slug {} is used by another category", r.slug),
            });
        }
    }
    Ok(())
}

fn view_of(id: String, input: &CategoryInput, rows: Vec<sql::CategoryText>) -> CategoryView {
    let texts = rows
        .into_iter()
        .filter_map(|r| Language::parse(&r.lang).map(|l| (l, CategoryText { name: r.name, slug: Some(r.slug) })))
        .collect();
    CategoryView { id, parent_id: input.parent_id.clone(), position: input.position, texts }
}

pub async fn create(app: &App, ctx: &Ctx, input: CategoryInput) -> ServiceResult<CategoryView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let id = ids::new_id("cat");
    let mut tx = app.db.begin().await?;
    let parents = locked_parents(&mut tx, &ctx.store.id).await?;
    let rows = checked(ctx, &parents, &id, &input)?;
    check_slugs(&mut tx, &ctx.store.id, &id, &rows).await?;
    sql::insert(
        &mut tx,
        &ctx.store.id,
        &sql::CategoryRow { id: id.clone(), parent_id: input.parent_id.clone(), position: input.position },
        now_ms(),
    )
    .await?;
    for r in &rows {
        sql::insert_text(&mut tx, &ctx.store.id, r).await?;
    }
    audit::record(app, &mut tx, ctx, "catalog.category_created", &id, json!({ "parent_id": input.parent_id })).await?;
    tx.commit().await?;
    app.catalog_changed(&ctx.store.id);
    Ok(view_of(id, &input, rows))
}

/// Replaces a category's place in the tree (parent, position) and its
/// texts. Products in it and below it are re-indexed for search, since
/// their category names and ancestors may have changed.
pub async fn update(app: &App, ctx: &Ctx, id: &str, input: CategoryInput) -> ServiceResult<CategoryView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let parents = locked_parents(&mut tx, store_id).await?;
    if !parents.contains_key(id) {
        return Err(ServiceError::NotFound);
    }
    let rows = checked(ctx, &parents, id, &input)?;
    check_slugs(&mut tx, store_id, id, &rows).await?;
    if !sql::update(&mut tx, store_id, id, input.parent_id.as_deref(), input.position).await? {
        return Err(ServiceError::NotFound);
    }
    sql::delete_texts(&mut tx, store_id, id).await?;
    for r in &rows {
        sql::insert_text(&mut tx, store_id, r).await?;
    }
    outbox::emit(&mut tx, store_id, "category.updated", json!({ "category_id": id })).await?;
    audit::record(app, &mut tx, ctx, "catalog.category_updated", id, json!({ "parent_id": input.parent_id })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    Ok(view_of(id.to_string(), &input, rows))
}

/// Deletes a category with no subcategories; its products stay and only
/// leave it. One with subcategories is refused (409): move or delete them
/// first, so no branch of the tree is lost by accident.
pub async fn delete(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let parents = locked_parents(&mut tx, store_id).await?;
    if !parents.contains_key(id) {
        return Err(ServiceError::NotFound);
    }
    let children = parents.values().filter(|p| p.as_deref() == Some(id)).count();
    if children > 0 {
        return Err(ServiceError::Conflict {
            code: "category_has_children",
            message: format!("the category has {children} subcategories; move or delete them first"),
        });
    }
    let products = sql::delete(&mut tx, store_id, id).await?;
    outbox::emit(&mut tx, store_id, "category.deleted", json!({ "category_id": id, "products": products })).await?;
    audit::record(app, &mut tx, ctx, "catalog.category_deleted", id, json!({ "products": products })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    Ok(())
}

/// Checks that every id names a category of the store.
pub(crate) async fn check_ids(app: &App, store_id: &str, ids: &[String]) -> ServiceResult<()> {
    let t = tree(app, store_id).await?;
    if let Some(bad) = ids.iter().find(|id| !t.parents.contains_key(*id)) {
        let mut e = FieldErrors::default();
        e.add("categories", "unknown_category", format!("no category {bad} in this store"));
        return Err(e.into());
    }
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryLink {
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryPage {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// From the top of the tree down to the parent.
    pub breadcrumbs: Vec<CategoryLink>,
    pub children: Vec<CategoryLink>,
    pub products: Vec<ProductCard>,
    /// Cursor for the next page, if there is one.
    pub next: Option<String>,
}

/// A category by slug with the visible products in it and below it
/// (`limit` 0: its name, breadcrumbs and children only).
pub async fn page(
    app: &App,
    store: &Store,
    slug: &str,
    lang: Language,
    after: Option<&str>,
    limit: i64,
) -> ServiceResult<CategoryPage> {
    let t = cached_tree(app, &store.id).await?;
    let default = store.brand.default_language;
    let link = |id: &str| {
        t.texts
            .get(id)
            .and_then(|texts| pick_translation(texts, lang, default))
            .map(|(_, text)| CategoryLink { name: text.name.clone(), slug: text.slug.clone().unwrap_or_default() })
    };
    let id = t
        .texts
        .iter()
        .find(|(_, texts)| texts.values().any(|x| x.slug.as_deref() == Some(slug)))
        .map(|(id, _)| id.clone())
        .ok_or(ServiceError::NotFound)?;
    let this = link(&id).ok_or(ServiceError::NotFound)?;
    let mut breadcrumbs = Vec::new();
    let mut cursor = t.parents.get(&id).cloned().flatten();
    while let Some(p) = cursor {
        if let Some(l) = link(&p) {
            breadcrumbs.insert(0, l);
        }
        cursor = t.parents.get(&p).cloned().flatten();
        if breadcrumbs.len() > 50 {
            break;
        }
    }
    let children =
        t.order.iter().filter(|(_, p, _)| p.as_deref() == Some(id.as_str())).filter_map(|(c, _, _)| link(c)).collect();
    // A limit of 0 asks for the heading only (pages list through search).
    if limit <= 0 {
        return Ok(CategoryPage {
            id,
            name: this.name,
            slug: this.slug,
            breadcrumbs,
            children,
            products: vec![],
            next: None,
        });
    }
    let limit = limit.min(100);
    let mut ids =
        sql::visible_products_in(app.db.pool(), &store.id, &subtree(&t.parents, &id), now_ms(), after, limit + 1)
            .await?;
    let next = if ids.len() as i64 > limit {
        ids.truncate(limit as usize);
        ids.last().cloned()
    } else {
        None
    };
    let products = cards_for(app, store, &ids, lang, "web").await?;
    Ok(CategoryPage { id, name: this.name, slug: this.slug, breadcrumbs, children, products, next })
}
