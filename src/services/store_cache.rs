//! A per-store value kept for a few seconds: what nearly every request of a
//! store reads and staff rarely change (channels, category tree, attribute
//! definitions, price lists). The node that makes a change forgets the value
//! at once; other nodes see it when it ages out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct StoreCache<T> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<T>)>>,
}

impl<T> StoreCache<T> {
    pub fn new(ttl: Duration) -> StoreCache<T> {
        StoreCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The store's value if it is younger than the time to live.
    pub fn get(&self, store_id: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().expect("store cache lock");
        entries.get(store_id).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    pub fn put(&self, store_id: &str, value: Arc<T>) {
        self.entries.lock().expect("store cache lock").insert(store_id.to_string(), (Instant::now(), value));
    }

    pub fn forget(&self, store_id: &str) {
        self.entries.lock().expect("store cache lock").remove(store_id);
    }
}
