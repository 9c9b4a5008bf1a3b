//! What carts and checkout need of the catalog per variant (its facts,
//! its product's names, its prices in a channel) and the store's channels,
//! kept between requests.
//!
//! Every cart request and every checkout prices its lines; reading the same
//! rows from the database each time cost three queries per request, each a
//! hand-off to the database driver's thread. The entries are keyed by the
//! store's catalog generation (see [`super::read_cache`]), which the node
//! bumps after committing any product, price or channel change and when it
//! follows another node's, so a change is priced at once on the node that
//! made it, as the product page shows it. Rules that depend on the instant
//! (publishing windows, sale prices) and price lists are applied at each
//! request to what is kept here. A change written to the database behind
//! Oxcart's back shows within the caches' time to live (10 s).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::db::carts::{self as sql, LineFacts};
use crate::db::catalog::ChannelRow;
use crate::domain::catalog::PriceTier;
use crate::domain::locale::Language;

use super::read_cache::Recent;
use super::{App, ServiceResult};

/// A variant as carts see it.
#[derive(Debug, Clone)]
pub struct VariantSheet {
    pub facts: LineFacts,
    /// Its product's name per language.
    pub names: BTreeMap<Language, String>,
}

impl VariantSheet {
    pub fn weight(&self) -> u64 {
        let f = &self.facts;
        let names: usize = self.names.values().map(|n| n.len() + 16).sum();
        (256 + f.variant_id.len() + f.sku.len() + f.options.len() + f.product_id.len() + names) as u64
    }
}

/// The store's channels.
pub async fn channels(app: &App, store_id: &str) -> ServiceResult<Arc<Vec<ChannelRow>>> {
    let key = (store_id.to_string(), app.reads.generations.current(store_id));
    if let Some(hit) = app.reads.channels.get(&key) {
        return Ok(hit);
    }
    let rows = Arc::new(crate::db::catalog::channels(app.db.pool(), store_id).await?);
    app.reads.channels.put(key, rows.clone());
    Ok(rows)
}

/// The sheets of some variants by id; a variant that does not exist (any
/// more) is absent.
pub async fn by_ids(app: &App, store_id: &str, ids: &[String]) -> ServiceResult<HashMap<String, Arc<VariantSheet>>> {
    // The generation is read before the database: a change committed
    // meanwhile bumps it, so what is read here is never kept under the new one.
    let generation = app.reads.generations.current(store_id);
    let key = |id: &str| (store_id.to_string(), generation, id.to_string());
    let (hits, missing) = cached(&app.reads.variant_sheets, ids, key);
    let mut out: HashMap<String, Arc<VariantSheet>> =
        hits.into_iter().filter_map(|(id, sheet)| sheet.as_ref().clone().map(|s| (id, s))).collect();
    if missing.is_empty() {
        return Ok(out);
    }
    let mut read = read_sheets(app, store_id, "id", &missing).await?;
    for id in missing {
        let sheet = read.remove(&id).map(Arc::new);
        app.reads.variant_sheets.put(key(&id), Arc::new(sheet.clone()));
        if let Some(s) = sheet {
            out.insert(id, s);
        }
    }
    Ok(out)
}

/// The sheet of the variant with this SKU, if there is one.
pub async fn by_sku(app: &App, store_id: &str, sku: &str) -> ServiceResult<Option<Arc<VariantSheet>>> {
    let generation = app.reads.generations.current(store_id);
    let key = (store_id.to_string(), generation, sku.to_string());
    let id = match app.reads.skus.get(&key) {
        Some(hit) => hit.as_ref().clone(),
        None => {
            let found = read_sheets(app, store_id, "sku", &[sku.to_string()]).await?.into_values().next().map(Arc::new);
            let id = found.as_ref().map(|s| s.facts.variant_id.clone());
            if let (Some(sheet), Some(id)) = (&found, &id) {
                app.reads
                    .variant_sheets
                    .put((store_id.to_string(), generation, id.clone()), Arc::new(Some(sheet.clone())));
            }
            app.reads.skus.put(key, Arc::new(id));
            return Ok(found);
        }
    };
    let Some(id) = id else { return Ok(None) };
    Ok(by_ids(app, store_id, std::slice::from_ref(&id)).await?.remove(&id))
}

/// Splits `ids` into what `cache` holds (by id) and the ids it does not
/// (sorted, each once).
fn cached<K: Eq + std::hash::Hash + Clone, V>(
    cache: &Recent<K, V>,
    ids: &[String],
    key: impl Fn(&str) -> K,
) -> (HashMap<String, Arc<V>>, Vec<String>) {
    let mut hits = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match cache.get(&key(id)) {
            Some(hit) => {
                hits.insert(id.clone(), hit);
            }
            None => missing.push(id.clone()),
        }
    }
    missing.sort();
    missing.dedup();
    (hits, missing)
}

/// Reads sheets by `column` ("id" or "sku"), keyed by that column's value.
async fn read_sheets(
    app: &App,
    store_id: &str,
    column: &str,
    keys: &[String],
) -> ServiceResult<HashMap<String, VariantSheet>> {
    let (pool, dialect) = (app.db.pool(), app.db.dialect());
    let facts = sql::facts_by(pool, dialect, store_id, column, keys).await?;
    let mut product_ids: Vec<String> = facts.iter().map(|f| f.product_id.clone()).collect();
    product_ids.sort();
    product_ids.dedup();
    let mut names: HashMap<String, BTreeMap<Language, String>> = HashMap::new();
    for (p, l, n) in sql::names(pool, dialect, store_id, &product_ids).await? {
        if let Some(l) = Language::parse(&l) {
            names.entry(p).or_default().insert(l, n);
        }
    }
    Ok(facts
        .into_iter()
        .map(|f| {
            let key = if column == "sku" { f.sku.clone() } else { f.variant_id.clone() };
            let names = names.get(&f.product_id).cloned().unwrap_or_default();
            (key, VariantSheet { facts: f, names })
        })
        .collect())
}

/// The channel's base prices (volume tiers, sale prices) of some variants;
/// a variant without any is absent.
pub async fn prices(
    app: &App,
    store_id: &str,
    channel_id: &str,
    ids: &[String],
) -> ServiceResult<HashMap<String, Arc<Vec<PriceTier>>>> {
    let generation = app.reads.generations.current(store_id);
    let key = |id: &str| (store_id.to_string(), generation, channel_id.to_string(), id.to_string());
    let (mut out, missing) = cached(&app.reads.variant_prices, ids, key);
    if missing.is_empty() {
        return Ok(out);
    }
    let mut read: HashMap<String, Vec<PriceTier>> = HashMap::new();
    for (v, tier) in sql::prices_of(app.db.pool(), app.db.dialect(), store_id, channel_id, &missing).await? {
        read.entry(v).or_default().push(tier);
    }
    for id in missing {
        let tiers = Arc::new(read.remove(&id).unwrap_or_default());
        out.insert(id.clone(), tiers.clone());
        app.reads.variant_prices.put(key(&id), tiers);
    }
    Ok(out)
}
