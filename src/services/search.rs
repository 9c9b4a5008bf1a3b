//! Catalog search for customers and staff, and keeping this node's index
//! current.
//!
//! Writes reach the index two ways: the node that saves a product indexes
//! it before answering (so its own next page shows it), and every node
//! follows the catalog events in the outbox log, so changes made on other
//! nodes or by the CLI arrive within a second. Applying a change twice is
//! harmless: a product's documents are always rebuilt from the database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use super::actor::{Ctx, Permission};
use super::store_cache::StoreCache;
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::search::{self as sql, Selection};
use crate::domain::attributes::AttributeDef;
use crate::domain::catalog::{PriceTier, PublishStatus, pick_translation};
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::domain::stores::Store;
use crate::search::schema::SCHEMA_VERSION;
use crate::search::{Audience, Checkpoint, Hits, Index, LangText, ProductDoc, SearchQuery, Sort};

/// Events are re-read this far back: a transaction may commit a little
/// after the time its event carries.
pub const LOOKBACK_MS: i64 = 10_000;
/// Products read and indexed per step of a rebuild.
const CHUNK: i64 = 2_000;
/// Covered event ids a checkpoint keeps (bulk saves emit one event per
/// 2,000 products, so a window rarely holds more than a few hundred).
const MAX_COVERED: usize = 5_000;

/// This node's index and the state around it.
pub struct SearchService {
    root: PathBuf,
    index: RwLock<Option<Arc<Index>>>,
    /// One writer at a time: loading from the database and applying happen
    /// under it, so a later load never loses to an earlier one.
    write: Arc<tokio::sync::Mutex<()>>,
    ready: watch::Sender<bool>,
    /// Events already reflected (id → created_at), so following the log
    /// does not redo what this node indexed while answering.
    covered: Mutex<HashMap<String, i64>>,
    /// What searches need of each store (channels, category tree, attribute
    /// definitions), kept briefly: reading it is most of a search's cost.
    contexts: StoreCache<StoreContext>,
}

/// How long a search may use a store's channels, categories and attribute
/// names before reading them again (a renamed category shows within this).
const CONTEXT_TTL: Duration = Duration::from_secs(5);

impl SearchService {
    pub fn new(root: PathBuf) -> SearchService {
        SearchService {
            root,
            index: RwLock::new(None),
            write: Arc::new(tokio::sync::Mutex::new(())),
            ready: watch::channel(false).0,
            covered: Mutex::new(HashMap::new()),
            contexts: StoreCache::new(CONTEXT_TTL),
        }
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    fn current(&self) -> Option<Arc<Index>> {
        self.index.read().expect("search index lock").clone()
    }

    fn install(&self, index: Index) {
        // What the index already reflects need not be followed again.
        if let Some(c) = index.checkpoint() {
            let mut covered = self.covered.lock().expect("covered lock");
            for id in c.covered {
                covered.entry(id).or_insert(c.cursor);
            }
        }
        let old = self.index.write().expect("search index lock").replace(Arc::new(index));
        // send_replace stores the value even when nobody is subscribed yet.
        self.ready.send_replace(true);
        // The previous generation is ours alone once replaced.
        if let Some(old) = old {
            let dir = self.root.join(old.generation());
            drop(old);
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Waits (briefly) for the first build after start-up.
    async fn ready_index(&self) -> ServiceResult<Arc<Index>> {
        if let Some(index) = self.current() {
            return Ok(index);
        }
        let mut rx = self.ready.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(3), rx.wait_for(|r| *r)).await;
        self.current().ok_or(ServiceError::Unavailable { retry_after: 5 })
    }

    async fn context(&self, app: &App, store_id: &str) -> ServiceResult<Arc<StoreContext>> {
        if let Some(cx) = self.contexts.get(store_id) {
            return Ok(cx);
        }
        let cx = Arc::new(store_context(app, store_id).await?);
        self.contexts.put(store_id, cx.clone());
        Ok(cx)
    }

    /// Forgets a store's cached context: call after changing its channels,
    /// categories or attribute definitions, so this node's next search reads them.
    pub fn forget(&self, store_id: &str) {
        self.contexts.forget(store_id);
    }

    fn cover(&self, event_id: &str, created_at: i64) {
        self.covered.lock().expect("covered lock").insert(event_id.to_string(), created_at);
    }

    /// The checkpoint to commit at `cursor`: with the covered events that
    /// following from it would otherwise re-read (the newest, at most
    /// [`MAX_COVERED`]; any left out are merely indexed again).
    fn checkpoint(&self, cursor: i64) -> Checkpoint {
        let covered = self.covered.lock().expect("covered lock");
        let mut recent: Vec<(&String, &i64)> = covered.iter().filter(|(_, t)| **t > cursor - LOOKBACK_MS).collect();
        recent.sort_by_key(|(_, t)| std::cmp::Reverse(**t));
        let covered = recent.into_iter().take(MAX_COVERED).map(|(id, _)| id.clone()).collect();
        Checkpoint { schema: SCHEMA_VERSION, cursor, covered }
    }
}

// ---- building documents from the database ----

/// What every product of a store shares: channels, the category tree with
/// names, attribute definitions.
struct StoreContext {
    store_id: String,
    default_lang: Language,
    channels: Vec<String>,
    /// (id, code, currency) of each channel.
    channel_codes: Vec<(String, String, String)>,
    parents: HashMap<String, Option<String>>,
    category_names: HashMap<String, BTreeMap<Language, (String, String)>>,
    attributes: Vec<AttributeDef>,
    /// Whether the store keeps stock: only then do products carry the
    /// availability facet (in or out of stock).
    keeps_stock: bool,
}

async fn store_context(app: &App, store_id: &str) -> ServiceResult<StoreContext> {
    let pool = app.db.pool();
    let store = crate::db::stores::by_id(pool, store_id).await?.ok_or(ServiceError::NotFound)?;
    let channel_rows = crate::db::catalog::channels(pool, store_id).await?;
    let channels = channel_rows.iter().map(|c| c.id.clone()).collect();
    let channel_codes = channel_rows.into_iter().map(|c| (c.id, c.code, c.currency)).collect();
    let parents = crate::db::categories::all(pool, store_id).await?.into_iter().map(|c| (c.id, c.parent_id)).collect();
    let mut category_names: HashMap<String, BTreeMap<Language, (String, String)>> = HashMap::new();
    for t in crate::db::categories::all_texts(pool, store_id).await? {
        if let Some(l) = Language::parse(&t.lang) {
            category_names.entry(t.category_id).or_default().insert(l, (t.name, t.slug));
        }
    }
    Ok(StoreContext {
        store_id: store_id.to_string(),
        default_lang: store.brand.default_language,
        channels,
        channel_codes,
        parents,
        category_names,
        attributes: super::attributes::definitions(app, store_id).await?,
        keeps_stock: crate::db::inventory::keeps_stock(pool, store_id).await?,
    })
}

fn with_ancestors(parents: &HashMap<String, Option<String>>, ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let mut at = Some(id.clone());
        // Bounded walk: the tree has no cycles, but a bad row must not hang us.
        for _ in 0..64 {
            let Some(c) = at else { break };
            if !out.contains(&c) {
                out.push(c.clone());
            }
            at = parents.get(&c).cloned().flatten();
        }
    }
    out
}

/// Of these products, those a customer can order now (some variant is
/// sellable); None when the store keeps no stock.
async fn sellable(app: &App, cx: &StoreContext, ids: &[String]) -> ServiceResult<Option<HashSet<String>>> {
    if !cx.keeps_stock {
        return Ok(None);
    }
    let stock = super::inventory::stock_of_products(&app.db, &app.reads, &cx.store_id, ids).await?;
    Ok(Some(stock.into_values().filter(|(_, a)| a.sellable()).map(|(p, _)| p).collect()))
}

fn documents(cx: &StoreContext, batch: sql::Batch, sellable: Option<&HashSet<String>>, now: i64) -> Vec<ProductDoc> {
    let mut texts: HashMap<String, Vec<sql::TextRow>> = HashMap::new();
    for t in batch.texts {
        texts.entry(t.product_id.clone()).or_default().push(t);
    }
    let mut variants: HashMap<String, Vec<sql::VariantRow>> = HashMap::new();
    for v in batch.variants {
        variants.entry(v.product_id.clone()).or_default().push(v);
    }
    let mut prices: HashMap<(String, String), i64> = HashMap::new();
    for p in batch.prices {
        let unit = PriceTier {
            min_qty: 1,
            amount: p.amount,
            sale_amount: p.sale_amount,
            sale_starts_at: p.sale_starts_at,
            sale_ends_at: p.sale_ends_at,
        }
        .unit_amount(now);
        prices.entry((p.product_id, p.channel_id)).and_modify(|m| *m = (*m).min(unit)).or_insert(unit);
    }
    let mut categories: HashMap<String, Vec<String>> = HashMap::new();
    for (p, c) in batch.categories {
        categories.entry(p).or_default().push(c);
    }
    let mut values: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (p, a, v) in batch.attributes {
        values.entry(p).or_default().push((a, v));
    }
    batch
        .products
        .into_iter()
        .map(|p| {
            let own = texts.remove(&p.id).unwrap_or_default();
            let vs = variants.remove(&p.id).unwrap_or_default();
            let cats = with_ancestors(&cx.parents, &categories.remove(&p.id).unwrap_or_default());
            let typed = super::attributes::typed_values(&cx.attributes, &values.remove(&p.id).unwrap_or_default());
            let options: Vec<(String, String)> = vs
                .iter()
                .flat_map(|v| serde_json::from_str::<Vec<(String, String)>>(&v.options).unwrap_or_default())
                .collect();
            let tags: Vec<String> = serde_json::from_str(&p.tags).unwrap_or_default();
            let mut facets: Vec<String> = Vec::new();
            for (d, v) in &typed {
                if d.filterable {
                    facets.extend(d.facet_values(v).into_iter().map(|x| format!("{}={x}", d.code)));
                }
            }
            for (axis, value) in &options {
                facets.push(format!("option.{}={}", axis.to_lowercase(), value));
            }
            for t in &tags {
                facets.push(format!("tag={}", t.to_lowercase()));
            }
            if let Some(sellable) = sellable {
                let state = if sellable.contains(&p.id) { IN_STOCK } else { OUT_OF_STOCK };
                facets.push(format!("{AVAILABILITY}={state}"));
            }
            facets.sort();
            facets.dedup();
            let lang_texts = own
                .into_iter()
                .filter_map(|t| {
                    let lang = Language::parse(&t.lang)?;
                    let mut body = vec![t.description];
                    body.extend(tags.iter().cloned());
                    for c in &cats {
                        if let Some(names) = cx.category_names.get(c)
                            && let Some((_, (n, _))) = pick_translation(names, lang, cx.default_lang)
                        {
                            body.push(n.clone());
                        }
                    }
                    for (d, v) in &typed {
                        body.push(d.display(v, lang, cx.default_lang, ("", "")));
                    }
                    body.extend(options.iter().map(|(_, v)| v.clone()));
                    Some(LangText { lang, name: t.name, slug: t.slug, body: body.join("\n") })
                })
                .collect();
            ProductDoc {
                store_id: cx.store_id.clone(),
                status: PublishStatus::parse(&p.status).unwrap_or(PublishStatus::Draft),
                kind: p.kind,
                publish_at: p.publish_at,
                unpublish_at: p.unpublish_at,
                created_at: p.created_at,
                sales: 0,
                texts: lang_texts,
                skus: vs.into_iter().map(|v| v.sku).collect(),
                categories: cats,
                facets,
                prices: cx
                    .channels
                    .iter()
                    .map(|c| (c.clone(), prices.get(&(p.id.clone(), c.clone())).copied()))
                    .collect(),
                product_id: p.id,
            }
        })
        .collect()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::search::Result<T> + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Re-reads these products of a store and replaces their documents.
async fn apply(app: &App, index: &Arc<Index>, cx: &StoreContext, ids: &[String]) -> ServiceResult<()> {
    for chunk in ids.chunks(CHUNK as usize) {
        let batch = sql::batch(&app.db, &cx.store_id, &Selection::Ids(chunk)).await?;
        let sellable = sellable(app, cx, chunk).await?;
        let docs = documents(cx, batch, sellable.as_ref(), now_ms());
        let (index, chunk) = (index.clone(), chunk.to_vec());
        blocking(move || index.replace(&chunk, &docs)).await?;
    }
    Ok(())
}

async fn commit(index: &Arc<Index>, checkpoint: Checkpoint) -> ServiceResult<()> {
    let index = index.clone();
    blocking(move || index.commit(&checkpoint)).await
}

/// Indexes these products now (called after a save commits). Failures are
/// logged, not returned: the save itself succeeded, and following the
/// event log repairs the index.
pub async fn refresh(app: &App, store_id: &str, ids: &[String], event_id: Option<&str>) {
    // Lock first: a start-up build holds the lock until its index is
    // installed, and may have read the database before this save.
    let _guard = app.search.write.lock().await;
    let Some(index) = app.search.current() else { return };
    let result = async {
        let cx = store_context(app, store_id).await?;
        apply(app, &index, &cx, ids).await?;
        let cursor = index.checkpoint().map_or(0, |c| c.cursor);
        commit(&index, app.search.checkpoint(cursor)).await
    }
    .await;
    match result {
        Ok(()) => {
            if let Some(e) = event_id {
                app.search.cover(e, now_ms());
            }
        }
        Err(e) => tracing::warn!(error = %e, "search refresh failed; the event log will repair it"),
    }
}

/// Progress of a rebuild: (products done, products in all).
pub type Progress = Box<dyn Fn(u64, u64) + Send + Sync>;

/// Builds a complete new generation from the database and makes it current.
/// Returns it with the number of products indexed.
pub async fn rebuild(app: &App, progress: Progress) -> ServiceResult<(Index, u64)> {
    let started = now_ms();
    let root = app.search.root.clone();
    std::fs::create_dir_all(&root).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let index = Arc::new(blocking(move || Index::create(&root)).await?);
    // Events already committed are reflected in what the rebuild reads next.
    let cursor = started - LOOKBACK_MS;
    let covered = sql::event_ids_since(app.db.pool(), cursor - LOOKBACK_MS, MAX_COVERED as i64).await?;
    let total = sql::product_count(app.db.pool()).await? as u64;
    let mut done = 0u64;
    progress(0, total);
    for store in crate::db::stores::list(app.db.pool()).await? {
        let cx = store_context(app, &store.id).await?;
        let mut after = String::new();
        loop {
            let ids = sql::product_ids_after(app.db.pool(), &store.id, &after, CHUNK).await?;
            let (Some(first), Some(last)) = (ids.first(), ids.last()) else { break };
            let batch = sql::batch(&app.db, &store.id, &Selection::Range(first, last)).await?;
            let sellable = sellable(app, &cx, &ids).await?;
            let docs = documents(&cx, batch, sellable.as_ref(), now_ms());
            let ix = index.clone();
            blocking(move || ix.replace(&[], &docs)).await?;
            done += ids.len() as u64;
            progress(done, total);
            after = last.clone();
        }
    }
    commit(&index, Checkpoint { schema: SCHEMA_VERSION, cursor, covered }).await?;
    let ix = index.clone();
    blocking(move || ix.make_current()).await?;
    let index = Arc::try_unwrap(index).map_err(|_| ServiceError::Internal("index still shared".into()))?;
    Ok((index, done))
}

/// Opens this node's index when the server starts: the current generation
/// if it was built with this schema, else a rebuild in the background
/// (searches wait for it briefly, then answer 503 until it is done).
pub async fn attach(app: &App) -> anyhow::Result<()> {
    let root = app.search.root.clone();
    std::fs::create_dir_all(&root)?;
    crate::search::remove_stale_generations(&root);
    let opened = tokio::task::spawn_blocking(move || Index::open_current(&root)).await??;
    match opened {
        Some(ix) if ix.checkpoint().is_some_and(|c| c.schema == SCHEMA_VERSION) => app.search.install(ix),
        _ => {
            let app = app.clone();
            let guard = app.search.write.clone().lock_owned().await;
            tokio::spawn(async move {
                let _guard = guard;
                match rebuild(&app, Box::new(|_, _| {})).await {
                    Ok((ix, n)) => {
                        tracing::info!(products = n, "search index built");
                        app.search.install(ix);
                    }
                    Err(e) => tracing::error!(error = %e, "search index build failed"),
                }
            });
        }
    }
    Ok(())
}

// ---- following the event log ----

/// What an event means for the index.
enum Change {
    /// One product (`product_id`) or a bulk save's (`product_ids`).
    Products(Vec<String>),
    /// Something every product of the store may show (types, attributes,
    /// channels, a bulk load).
    Store,
    /// A new definition (type, attribute, channel, category): no product
    /// uses it yet, so only the cached store context is stale.
    Definitions,
    None,
}

fn change_of(event_type: &str, payload: &str) -> Change {
    let (area, _) = event_type.split_once('.').unwrap_or((event_type, ""));
    match area {
        "product" => {
            let v = serde_json::from_str::<serde_json::Value>(payload).unwrap_or_default();
            let data = &v["data"];
            let ids: Vec<String> = match (data["product_id"].as_str(), data["product_ids"].as_array()) {
                (Some(id), _) => vec![id.to_string()],
                (None, Some(ids)) => ids.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
                (None, None) => Vec::new(),
            };
            if ids.is_empty() { Change::None } else { Change::Products(ids) }
        }
        "product_type" | "attribute" | "channel" | "category" if event_type.ends_with(".created") => {
            Change::Definitions
        }
        // The default language decides every fallback.
        "store" => Change::Definitions,
        // Which locations sell decides every product's availability.
        "stock_location" => Change::Store,
        "stock" if event_type == "stock.status_changed" => {
            let v = serde_json::from_str::<serde_json::Value>(payload).unwrap_or_default();
            let ids: Vec<String> = v["data"]["product_ids"]
                .as_array()
                .map(|a| a.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if ids.is_empty() { Change::None } else { Change::Products(ids) }
        }
        "product_type" | "attribute" | "channel" | "category" | "catalog" => Change::Store,
        _ => Change::None,
    }
}

async fn reindex_store(app: &App, index: &Arc<Index>, store_id: &str) -> ServiceResult<()> {
    let cx = store_context(app, store_id).await?;
    let ix = index.clone();
    let sid = store_id.to_string();
    blocking(move || {
        ix.remove_store(&sid);
        Ok(())
    })
    .await?;
    let mut after = String::new();
    loop {
        let ids = sql::product_ids_after(app.db.pool(), store_id, &after, CHUNK).await?;
        let Some(last) = ids.last().cloned() else { break };
        apply(app, index, &cx, &ids).await?;
        after = last;
    }
    Ok(())
}

/// One step of following: picks up a generation another process built,
/// then applies catalog events not yet reflected. Returns how many
/// products were re-indexed.
pub async fn follow(app: &App) -> ServiceResult<usize> {
    let svc = &app.search;
    let Some(mut index) = svc.current() else { return Ok(0) };
    let _guard = svc.write.lock().await;
    if let Some(generation) = crate::search::current_generation(&svc.root)
        && generation != index.generation()
    {
        let root = svc.root.clone();
        if let Some(fresh) = blocking(move || Index::open_current(&root)).await? {
            tracing::info!(generation = %fresh.generation(), "search index switched to a new generation");
            svc.install(fresh);
            index = svc.current().ok_or(ServiceError::Unavailable { retry_after: 1 })?;
        }
    }
    let cursor = index.checkpoint().map_or(0, |c| c.cursor);
    let mut since = cursor - LOOKBACK_MS;
    let mut newest = cursor;
    let mut products: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stores: HashSet<String> = HashSet::new();
    loop {
        let events = sql::events_since(app.db.pool(), since, 1000).await?;
        let full = events.len() == 1000;
        for e in &events {
            newest = newest.max(e.created_at);
            since = since.max(e.created_at);
            if svc.covered.lock().expect("covered lock").contains_key(&e.id) {
                continue;
            }
            let change = change_of(&e.event_type, &e.payload);
            if !matches!(change, Change::None) {
                // Another node changed this store's catalog: what this node keeps of it is stale.
                app.catalog_changed(&e.store_id);
            }
            match change {
                Change::Products(ids) => products.entry(e.store_id.clone()).or_default().extend(ids),
                Change::Store => {
                    stores.insert(e.store_id.clone());
                }
                Change::Definitions | Change::None => {}
            }
            svc.cover(&e.id, e.created_at);
        }
        if !full {
            break;
        }
    }
    let mut n = 0;
    for store in &stores {
        reindex_store(app, &index, store).await?;
        n += 1;
    }
    for (store, mut ids) in products.into_iter().filter(|(s, _)| !stores.contains(s)) {
        ids.sort();
        ids.dedup();
        let cx = store_context(app, &store).await?;
        apply(app, &index, &cx, &ids).await?;
        n += ids.len();
    }
    if n > 0 || newest > cursor {
        commit(&index, svc.checkpoint(newest)).await?;
    }
    svc.covered.lock().expect("covered lock").retain(|_, t| *t >= newest - 3 * LOOKBACK_MS);
    Ok(n)
}

/// Re-indexes products whose sale started or ended in `(from, to]`.
pub async fn apply_sale_boundaries(app: &App, from: i64, to: i64) -> ServiceResult<usize> {
    let Some(index) = app.search.current() else { return Ok(0) };
    let due = sql::sale_boundaries(app.db.pool(), from, to).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let _guard = app.search.write.lock().await;
    let mut by_store: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (s, p) in due {
        by_store.entry(s).or_default().push(p);
    }
    let mut n = 0;
    for (store, ids) in by_store {
        let cx = store_context(app, &store).await?;
        apply(app, &index, &cx, &ids).await?;
        n += ids.len();
    }
    let cursor = index.checkpoint().map_or(0, |c| c.cursor);
    commit(&index, app.search.checkpoint(cursor)).await?;
    Ok(n)
}

// ---- searching ----

/// A search as the API and pages ask it.
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    pub q: String,
    pub channel: Option<String>,
    /// Category id or slug (any language).
    pub category: Option<String>,
    /// `code` → accepted values.
    pub facets: BTreeMap<String, Vec<String>>,
    pub kinds: Vec<String>,
    /// Only these products, in this order when sorted by relevance with
    /// no words (a manual collection).
    pub product_ids: Vec<String>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: usize,
    /// Staff only: narrow to these statuses (any status when empty).
    pub statuses: Vec<String>,
    /// The signed-in customer: cards show their price-list prices where lower.
    /// (Price filters and sorting use the channel's prices.)
    pub customer: Option<String>,
}

impl SearchParams {
    /// What decides the answer, as a cache key (the customer does not:
    /// their prices are applied to a copy).
    fn key(&self) -> String {
        format!(
            "{:?}",
            (
                &self.q,
                &self.channel,
                &self.category,
                &self.facets,
                &self.kinds,
                &self.product_ids,
                (self.price_min, self.price_max),
                self.sort,
                &self.cursor,
                self.limit,
                &self.statuses,
            )
        )
    }
}

impl SearchResult {
    /// Estimated bytes, for the read cache's budget.
    pub fn weight(&self) -> u64 {
        let items: usize = self.items.iter().map(|c| c.name.len() + c.slug.len() + c.id.len() + 96).sum();
        let facets: usize =
            self.facets.iter().flat_map(|g| &g.values).map(|v| v.value.len() + v.label.len() + 64).sum();
        (512 + items + facets + self.categories.len() * 128 + self.prices.len() * 32) as u64
    }
}

/// Cache key of a customer's search: store, index generation and version,
/// language, the parameters.
pub type SearchKey = (String, String, u64, Language, String);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchCard {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// The language name and slug are in (after fallback).
    pub language: Language,
    /// Lowest current single-unit price in the channel.
    pub price: Option<Money>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: u64,
    /// Whether the request filters on this value.
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacetGroup {
    /// Attribute code, or `option.<axis>` for variant options.
    pub code: String,
    pub name: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PriceRange {
    /// Inclusive, minor units; absent for the lowest bucket.
    pub min: Option<i64>,
    /// Exclusive, minor units; absent for the highest bucket.
    pub max: Option<i64>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub total: u64,
    pub items: Vec<SearchCard>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub currency: String,
    /// Categories among the results (with their ancestors), with counts.
    pub categories: Vec<CategoryCount>,
    pub facets: Vec<FacetGroup>,
    pub prices: Vec<PriceRange>,
}

/// The facet customers filter on to see only what they can order now:
/// `facets[availability]=in_stock`.
pub const AVAILABILITY: &str = "availability";
pub const IN_STOCK: &str = "in_stock";
pub const OUT_OF_STOCK: &str = "out_of_stock";

/// Deepest result a cursor may reach: paging further is a crawler, not a shopper.
const MAX_OFFSET: usize = 10_000;

fn decode_cursor(cursor: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("o:")?.parse().ok().filter(|o| *o <= MAX_OFFSET)
}

fn encode_cursor(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// Price bucket edges for a currency: 10, 25, 50, 100, 250, 500 major units.
fn price_edges(currency: Currency) -> Vec<i64> {
    let unit = 10i64.pow(currency.minor_digits());
    [10, 25, 50, 100, 250, 500].iter().map(|m| m * unit).collect()
}

/// Searches the catalog. `staff` decides the audience: customers see what
/// is visible now; staff with `catalog.read` see every status.
pub async fn search(
    app: &App,
    store: &Store,
    lang: Language,
    params: SearchParams,
    staff: Option<&Ctx>,
) -> ServiceResult<SearchResult> {
    let mut errs = crate::domain::validation::FieldErrors::default();
    if params.q.chars().count() > 200 {
        errs.add("q", "too_long", "at most 200 characters");
    }
    let offset = match params.cursor.as_deref() {
        None => 0,
        Some(c) => decode_cursor(c).unwrap_or_else(|| {
            errs.add("cursor", "invalid_cursor", "not a cursor this search returned");
            0
        }),
    };
    if params.price_min.is_some_and(|p| p < 0) || params.price_max.is_some_and(|p| p < 0) {
        errs.add("price_min", "negative", "prices are ≥ 0");
    }
    for s in &params.statuses {
        if PublishStatus::parse(s).is_none() {
            errs.add("status", "invalid_status", "draft, published or archived");
        }
    }
    errs.finish(())?;
    let audience = match staff {
        Some(ctx) => {
            ctx.actor.require(Permission::CatalogRead)?;
            Audience::Staff { statuses: params.statuses.clone() }
        }
        None if !params.statuses.is_empty() => {
            return Err(ServiceError::Forbidden(Permission::CatalogRead));
        }
        None => Audience::Customers { now: now_ms() },
    };
    let code = params.channel.as_deref().unwrap_or("web");
    let cx = app.search.context(app, &store.id).await?;
    let (channel_id, _, currency) =
        cx.channel_codes.iter().find(|(_, c, _)| c == code).ok_or(ServiceError::NotFound)?;
    let currency = Currency::parse(currency).unwrap_or(Currency::EUR);
    let category = match &params.category {
        None => None,
        Some(c) if cx.parents.contains_key(c) => Some(c.clone()),
        Some(slug) => Some(
            cx.category_names
                .iter()
                .find(|(_, texts)| texts.values().any(|(_, s)| s == slug))
                .map(|(id, _)| id.clone())
                .ok_or(ServiceError::NotFound)?,
        ),
    };
    let limit = params.limit.clamp(1, 100);
    let query = SearchQuery {
        store_id: store.id.clone(),
        channel_id: channel_id.clone(),
        lang,
        default_lang: store.brand.default_language,
        text: params.q.clone(),
        audience,
        category: category.clone(),
        facets: params.facets.clone(),
        kinds: params.kinds.clone(),
        product_ids: params.product_ids.clone(),
        price_min: params.price_min,
        price_max: params.price_max,
        sort: params.sort,
        offset,
        limit,
        price_edges: price_edges(currency),
    };
    let index = app.search.ready_index().await?;
    // Customers' searches are kept briefly, filed under the index version
    // they ran on (read first: a commit during the search files it under
    // the old one). Staff always see the index as it is.
    let key = staff.is_none().then(|| (store.id.clone(), index.generation(), index.version(), lang, params.key()));
    let cached = key.as_ref().and_then(|k| app.reads.searches.get(k));
    let mut result = match cached {
        Some(hit) => (*hit).clone(),
        None => {
            let hits: Hits = tokio::task::spawn_blocking(move || index.search(&query))
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            let result = present(&cx, lang, currency, &params, category.as_deref(), hits, offset, limit);
            if let Some(key) = key {
                app.reads.searches.put(key, Arc::new(result.clone()));
            }
            result
        }
    };
    apply_list_prices(app, &store.id, channel_id, params.customer.as_deref(), currency, &mut result.items).await?;
    Ok(result)
}

/// Lowers card prices to the visitor's price lists where those are lower.
/// Costs nothing for a store without lists in the channel.
async fn apply_list_prices(
    app: &App,
    store_id: &str,
    channel_id: &str,
    customer: Option<&str>,
    currency: Currency,
    cards: &mut [SearchCard],
) -> ServiceResult<()> {
    let lists = super::pricing::applicable_lists(app, store_id, channel_id, customer, now_ms()).await?;
    if lists.is_empty() || cards.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = cards.iter().map(|c| c.id.clone()).collect();
    let listed = super::pricing::unit_list_prices(app, store_id, &lists, &ids).await?;
    for card in cards {
        if let Some(amount) = listed.get(&card.id)
            && card.price.is_none_or(|p| *amount < p.amount)
        {
            card.price = Some(Money::new(*amount, currency));
        }
    }
    Ok(())
}

/// A hit as a listing card: name and slug in `lang`, else the default language.
fn card(h: crate::search::Hit, lang: Language, default: Language, currency: Currency) -> Option<SearchCard> {
    let names: BTreeMap<Language, (String, String)> = h.names.into_iter().map(|(l, n, s)| (l, (n, s))).collect();
    let (language, (name, slug)) = pick_translation(&names, lang, default)?;
    Some(SearchCard {
        id: h.product_id,
        name: name.clone(),
        slug: slug.clone(),
        language,
        price: h.price.map(|a| Money::new(a, currency)),
    })
}

#[allow(clippy::too_many_arguments)]
fn present(
    cx: &StoreContext,
    lang: Language,
    currency: Currency,
    params: &SearchParams,
    category: Option<&str>,
    hits: Hits,
    offset: usize,
    limit: usize,
) -> SearchResult {
    let mut hits = hits;
    if !params.product_ids.is_empty() && params.sort == Sort::Relevance && params.q.trim().is_empty() {
        let at = |id: &str| params.product_ids.iter().position(|p| p == id).unwrap_or(usize::MAX);
        hits.hits.sort_by_key(|h| at(&h.product_id));
    }
    let items = hits.hits.into_iter().filter_map(|h| card(h, lang, cx.default_lang, currency)).collect();
    let next = offset + limit;
    let next_cursor = (next < hits.total && next <= MAX_OFFSET).then(|| encode_cursor(next));
    // Categories: the children of the one filtered on (or the roots), so a
    // visitor narrows step by step.
    let mut categories: Vec<CategoryCount> = hits
        .counts
        .categories
        .iter()
        .filter(|(id, _)| cx.parents.get(*id).is_some_and(|p| p.as_deref() == category))
        .filter_map(|(id, count)| {
            let names = cx.category_names.get(id)?;
            let (_, (name, slug)) = pick_translation(names, lang, cx.default_lang)?;
            Some(CategoryCount { id: id.clone(), name: name.clone(), slug: slug.clone(), count: *count })
        })
        .collect();
    categories.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    let mut groups: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (pair, count) in &hits.counts.facets {
        if let Some((code, value)) = pair.split_once('=') {
            groups.entry(code.to_string()).or_default().push((value.to_string(), *count));
        }
    }
    let facets = groups
        .into_iter()
        .map(|(code, mut values)| {
            let def = cx.attributes.iter().find(|d| d.code == code);
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let selected = params.facets.get(&code);
            FacetGroup {
                name: match (def, code.strip_prefix("option.")) {
                    (Some(d), _) => d.name(lang, cx.default_lang),
                    (None, Some(axis)) => axis.to_string(),
                    (None, None) if code == "tag" => crate::i18n::t(lang, "search.tags").to_string(),
                    (None, None) if code == AVAILABILITY => crate::i18n::t(lang, "search.availability").to_string(),
                    (None, None) => code.clone(),
                },
                values: values
                    .into_iter()
                    .map(|(value, count)| FacetValue {
                        label: match (def, code.as_str(), value.as_str()) {
                            (Some(d), _, _) => d.label(&value, lang, cx.default_lang),
                            (None, AVAILABILITY, IN_STOCK) => crate::i18n::t(lang, "stock.in_stock").to_string(),
                            (None, AVAILABILITY, OUT_OF_STOCK) => {
                                crate::i18n::t(lang, "stock.out_of_stock").to_string()
                            }
                            (None, _, _) => value.clone(),
                        },
                        selected: selected.is_some_and(|s| s.contains(&value)),
                        value,
                        count,
                    })
                    .collect(),
                code,
            }
        })
        .collect();
    let edges = price_edges(currency);
    let prices = hits
        .counts
        .prices
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| PriceRange { min: i.checked_sub(1).map(|j| edges[j]), max: edges.get(i).copied(), count: *n })
        .collect();
    SearchResult {
        total: hits.total as u64,
        items,
        next_cursor,
        currency: currency.code().into(),
        categories,
        facets,
        prices,
    }
}

/// Names completing what a visitor typed, for the search box.
pub async fn suggest(app: &App, store: &Store, lang: Language, q: &str) -> ServiceResult<Vec<SearchCard>> {
    if q.trim().is_empty() || q.chars().count() > 100 {
        return Ok(Vec::new());
    }
    let cx = app.search.context(app, &store.id).await?;
    let Some((channel_id, _, currency)) = cx.channel_codes.iter().find(|(_, code, _)| code == "web") else {
        return Ok(Vec::new());
    };
    let currency = Currency::parse(currency).unwrap_or(Currency::EUR);
    let index = app.search.ready_index().await?;
    let (sid, cid, text) = (store.id.clone(), channel_id.clone(), q.to_string());
    let hits = tokio::task::spawn_blocking(move || index.suggest(&sid, &cid, lang, now_ms(), &text, 8))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(hits.into_iter().filter_map(|h| card(h, lang, cx.default_lang, currency)).collect())
}
