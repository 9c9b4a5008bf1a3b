//! Answers storefront reads keep between requests, so a busy product page
//! or listing does not ask the database or the index again for what has
//! not changed.
//!
//! Two ways keep an answer honest:
//! - a *generation* in its key: a store's catalog generation, which this
//!   node bumps after committing any catalog change and when it follows
//!   another node's change from the event log, or the search index's
//!   version, bumped at each index commit. A bump makes older answers
//!   unreachable at once; they age out of the bounded cache;
//! - a time to live, for what depends on the clock alone (a listing's
//!   scheduled publishing) or on tables other nodes change (stores).
//!
//! Rules that depend on the visitor or the instant (visibility windows,
//! sale prices, price lists) are applied to cached data at each request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use super::categories::CategoryTree;
use super::inventory::ProductStock;
use super::line_facts::VariantSheet;
use super::product_page::{Snapshot, SnapshotKey};
use super::search::{SearchKey, SearchResult};
use crate::config::CacheConfig;
use crate::db::catalog::ChannelRow;
use crate::domain::catalog::PriceTier;
use crate::domain::stores::Store;

/// A bounded cache of shared answers with an optional time to live, sized
/// in (estimated) bytes so its memory stays within a budget. A budget of 0
/// turns it off (every lookup misses).
pub struct Recent<K, V> {
    entries: Option<Cache<K, Stamped<V>, ByWeight<V>>>,
    ttl: Option<Duration>,
}

/// A value with the instant it was kept.
type Stamped<V> = (Instant, Arc<V>);

/// Weighs an entry by its value's estimated size in bytes.
pub struct ByWeight<V>(fn(&V) -> u64);

impl<V> Clone for ByWeight<V> {
    fn clone(&self) -> Self {
        ByWeight(self.0)
    }
}

impl<K, V> quick_cache::Weighter<K, Stamped<V>> for ByWeight<V> {
    fn weight(&self, _key: &K, value: &Stamped<V>) -> u64 {
        (self.0)(&value.1).max(1)
    }
}

impl<K: Eq + Hash + Clone, V> Recent<K, V> {
    pub fn new(budget_bytes: u64, ttl: Option<Duration>, weigh: fn(&V) -> u64) -> Recent<K, V> {
        let estimated_items = (budget_bytes / 2_048).max(16) as usize;
        Recent {
            entries: (budget_bytes > 0).then(|| Cache::with_weighter(estimated_items, budget_bytes, ByWeight(weigh))),
            ttl,
        }
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let (at, value) = self.entries.as_ref()?.get(key)?;
        self.ttl.is_none_or(|ttl| at.elapsed() < ttl).then_some(value)
    }

    pub fn put(&self, key: K, value: Arc<V>) {
        if let Some(entries) = &self.entries {
            entries.insert(key, (Instant::now(), value));
        }
    }

    pub fn remove(&self, key: &K) {
        if let Some(entries) = &self.entries {
            entries.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }
}

/// Each store's catalog generation on this node.
#[derive(Default)]
pub struct Generations {
    by_store: RwLock<HashMap<String, u64>>,
}

impl Generations {
    pub fn current(&self, store_id: &str) -> u64 {
        self.by_store.read().expect("generations lock").get(store_id).copied().unwrap_or(0)
    }

    /// Call after a catalog change to the store has committed (or arrived
    /// from another node): answers built before it are no longer used.
    pub fn bump(&self, store_id: &str) {
        *self.by_store.write().expect("generations lock").entry(store_id.to_string()).or_default() += 1;
    }
}

/// This node's cached answers for storefront reads.
pub struct Reads {
    pub generations: Generations,
    pub product_pages: Recent<SnapshotKey, Option<Snapshot>>,
    /// Stores by `host:…` or `slug:…`; every request resolves one.
    pub stores: Recent<String, Option<Arc<Store>>>,
    pub searches: Recent<SearchKey, SearchResult>,
    /// Each store's category tree, by (store, catalog generation).
    pub category_trees: Recent<(String, u64), CategoryTree>,
    /// What customers are told of a product's variants' stock, by (store,
    /// product): dropped on this node's stock changes, kept briefly for
    /// other nodes' (checkout counts again; a page may lag a second).
    pub stock: Recent<(String, String), ProductStock>,
    /// Each store's channels, by (store, catalog generation).
    pub channels: Recent<(String, u64), Vec<ChannelRow>>,
    /// What carts need of a variant, by (store, generation, variant id);
    /// None: no such variant.
    pub variant_sheets: Recent<(String, u64, String), Option<Arc<VariantSheet>>>,
    /// Variant ids by (store, generation, SKU); None: no such SKU.
    pub skus: Recent<(String, u64, String), Option<String>>,
    /// A variant's base prices in a channel, by (store, generation, channel, variant).
    pub variant_prices: Recent<(String, u64, String, String), Vec<PriceTier>>,
    /// Whether a store keeps stock anywhere (an active location).
    pub keeps_stock: Recent<String, bool>,
}

/// How long a resolved store is used before reading it again: branding
/// changed on another node shows within this.
const STORE_TTL: Duration = Duration::from_secs(5);

/// How long a product's stock shown to customers is reused.
const STOCK_TTL: Duration = Duration::from_secs(1);

/// How long what carts read of the catalog is used at most: changes made
/// through Oxcart bump the generation and show at once; this bounds how
/// long one written to the database behind its back goes unseen.
const LINE_FACTS_TTL: Duration = Duration::from_secs(10);

/// How long whether a store keeps stock is reused on nodes other than the
/// one that changed its locations (that one forgets it at once).
const KEEPS_STOCK_TTL: Duration = Duration::from_secs(5);

const MIB: u64 = 1024 * 1024;

impl Reads {
    pub fn new(config: &CacheConfig) -> Reads {
        Reads {
            generations: Generations::default(),
            product_pages: Recent::new(config.product_pages_mib * MIB, None, Snapshot::weight),
            stores: Recent::new(MIB, Some(STORE_TTL), |_| 2_048),
            searches: Recent::new(
                config.searches_mib * MIB,
                Some(Duration::from_millis(config.search_ttl_ms)),
                SearchResult::weight,
            ),
            category_trees: Recent::new(4 * MIB, None, CategoryTree::weight),
            stock: Recent::new(4 * MIB, Some(STOCK_TTL), |s| 64 + 96 * s.len() as u64),
            channels: Recent::new(MIB, Some(LINE_FACTS_TTL), |c| 256 * c.len() as u64),
            variant_sheets: Recent::new(config.line_facts_mib * MIB, Some(LINE_FACTS_TTL), |s| {
                s.as_ref().map_or(64, |s| s.weight())
            }),
            skus: Recent::new(config.line_facts_mib * MIB / 4, Some(LINE_FACTS_TTL), |_| 128),
            variant_prices: Recent::new(config.line_facts_mib * MIB / 2, Some(LINE_FACTS_TTL), |t| {
                96 + 64 * t.len() as u64
            }),
            keeps_stock: Recent::new(MIB, Some(KEEPS_STOCK_TTL), |_| 64),
        }
    }
}

impl super::App {
    /// Call after a change to a store's catalog (products, media, types,
    /// attributes, categories, channels) has committed: this node's cached
    /// product pages and search context for the store are dropped.
    pub fn catalog_changed(&self, store_id: &str) {
        self.reads.generations.bump(store_id);
        self.search.forget(store_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_and_can_be_turned_off() {
        let weigh: fn(&&str) -> u64 = |s| s.len() as u64;
        let fresh: Recent<u32, &str> = Recent::new(1_000, Some(Duration::from_secs(60)), weigh);
        fresh.put(1, Arc::new("one"));
        assert_eq!(fresh.get(&1).as_deref(), Some(&"one"));
        let stale: Recent<u32, &str> = Recent::new(1_000, Some(Duration::ZERO), weigh);
        stale.put(1, Arc::new("one"));
        assert!(stale.get(&1).is_none(), "older than its time to live");
        let off: Recent<u32, &str> = Recent::new(0, None, weigh);
        off.put(1, Arc::new("one"));
        assert!(off.get(&1).is_none(), "a budget of 0 keeps nothing");
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let big = "x".repeat(100);
        let cache: Recent<u32, String> = Recent::new(1_000, None, |s| s.len() as u64);
        for i in 0..100 {
            cache.put(i, Arc::new(big.clone()));
        }
        let kept = (0..100).filter(|i| cache.get(i).is_some()).count();
        assert!(kept <= 10, "100 entries of 100 bytes in a 1,000-byte budget: {kept} kept");
    }

    #[test]
    fn a_bump_moves_only_that_store_on() {
        let g = Generations::default();
        assert_eq!(g.current("a"), 0);
        g.bump("a");
        assert_eq!((g.current("a"), g.current("b")), (1, 0));
    }
}
