//! Full-text search over the catalog with tantivy.
//!
//! The index is derived data: every node keeps its own on local disk and
//! can rebuild it from the database at any time. This module knows nothing
//! of the database; `services::search` feeds it [`ProductDoc`]s.
//!
//! On disk, `{dir}/CURRENT` names the generation in use (`{dir}/gen-…`).
//! A rebuild writes a new generation beside the old and then switches
//! `CURRENT`, so a running server keeps answering from the old one until
//! the new one is complete.

pub mod document;
mod facets;
pub mod query;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::schema::Value;
use tantivy::{DocAddress, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

pub use document::{LangText, ProductDoc};
pub use facets::FacetCounts;
pub use query::{Audience, SearchQuery, Sort};
use schema::Fields;

use crate::domain::locale::Language;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Tantivy(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the search index is held by another process; give each node its own search directory")]
    Locked,
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// What a commit records beside the documents: the schema it was built
/// with and how far into the event log it is current.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    pub schema: u32,
    /// Events created before this instant (ms) are reflected.
    pub cursor: i64,
    /// Events newer than the look-back before `cursor` that are reflected
    /// too: following skips them, so a restart (or a rebuild right after a
    /// bulk load) does not re-index what is already there.
    #[serde(default)]
    pub covered: Vec<String>,
}

/// One search hit, with what a listing card needs, read from the index.
#[derive(Debug, Clone)]
pub struct Hit {
    pub product_id: String,
    /// Names and slugs by language (only the languages the product has).
    pub names: Vec<(Language, String, String)>,
    pub price: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Hits {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub counts: FacetCounts,
}

pub struct Index {
    index: tantivy::Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    dir: PathBuf,
    /// Bumped after each commit is visible to searches.
    version: AtomicU64,
}

/// Memory for the writer's in-RAM segment before it flushes; small, as
/// catalog updates come a product at a time and bulk loads flush often.
const WRITER_HEAP_BYTES: usize = 32 * 1024 * 1024;

impl Index {
    /// Creates an empty generation directory under `root`.
    pub fn create(root: &Path) -> Result<Index> {
        let dir = root.join(format!("gen-{}", ulid::Ulid::new().to_string().to_lowercase()));
        std::fs::create_dir_all(&dir)?;
        let (schema, _) = schema::build();
        let index = tantivy::Index::create_in_dir(&dir, schema)?;
        Self::wrap(index, dir)
    }

    /// Opens the generation `CURRENT` names, if there is one.
    pub fn open_current(root: &Path) -> Result<Option<Index>> {
        let Some(name) = current_generation(root) else { return Ok(None) };
        let dir = root.join(name);
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let index = tantivy::Index::open_in_dir(&dir)?;
        Self::wrap(index, dir).map(Some)
    }

    fn wrap(index: tantivy::Index, dir: PathBuf) -> Result<Index> {
        schema::register(index.tokenizers());
        let (_, fields) = schema::build();
        let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => SearchError::Locked,
            e => e.into(),
        })?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Index { index, reader, writer: Mutex::new(writer), fields, dir, version: AtomicU64::new(0) })
    }

    /// The generation's directory name.
    pub fn generation(&self) -> String {
        self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Makes this generation the one every node on this directory uses.
    pub fn make_current(&self) -> Result<()> {
        let root = self.dir.parent().unwrap_or(Path::new("."));
        let tmp = root.join("CURRENT.tmp");
        std::fs::write(&tmp, self.generation())?;
        std::fs::rename(&tmp, root.join("CURRENT"))?;
        Ok(())
    }

    pub fn checkpoint(&self) -> Option<Checkpoint> {
        let metas = self.index.load_metas().ok()?;
        serde_json::from_str(metas.payload.as_deref()?).ok()
    }

    /// Replaces every document of these products by the given ones
    /// (absent products are simply removed). Not visible until [`commit`].
    ///
    /// [`commit`]: Index::commit
    pub fn replace(&self, product_ids: &[String], docs: &[ProductDoc]) -> Result<()> {
        let writer = self.writer.lock().expect("search writer lock");
        for id in product_ids {
            writer.delete_term(Term::from_field_text(self.fields.product, id));
        }
        for p in docs {
            for d in p.to_documents(&self.fields) {
                writer.add_document(d)?;
            }
        }
        Ok(())
    }

    /// Removes every document of a store (before re-adding it whole).
    pub fn remove_store(&self, store_id: &str) {
        let writer = self.writer.lock().expect("search writer lock");
        writer.delete_term(Term::from_field_text(self.fields.store, store_id));
    }

    /// Makes pending changes durable and searchable, recording the checkpoint.
    pub fn commit(&self, checkpoint: &Checkpoint) -> Result<()> {
        {
            let mut writer = self.writer.lock().expect("search writer lock");
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&serde_json::to_string(checkpoint).unwrap_or_default());
            prepared.commit()?;
        }
        self.reader.reload()?;
        self.version.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Changes each time a commit becomes visible: answers computed on an
    /// older version are out of date.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Documents (one per product and channel) in the committed index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn search(&self, q: &SearchQuery) -> Result<Hits> {
        let searcher = self.reader.searcher();
        let query = query::build(&self.fields, q);
        let counter = facets::FacetCounter { price_edges: q.price_edges.clone() };
        let window = TopDocs::with_limit(q.limit.max(1)).and_offset(q.offset);
        let sort = if q.sort == Sort::Relevance && q.text.trim().is_empty() { Sort::Newest } else { q.sort };
        let (addresses, total, counts): (Vec<DocAddress>, usize, FacetCounts) = match sort {
            Sort::Relevance => {
                let (top, total, counts) = searcher.search(&query, &(window.order_by_score(), Count, counter))?;
                (top.into_iter().map(|(_, a)| a).collect(), total, counts)
            }
            Sort::PriceAsc | Sort::PriceDesc | Sort::Newest | Sort::BestSelling => {
                let (field, order) = match sort {
                    Sort::PriceAsc => ("price", Order::Asc),
                    Sort::PriceDesc => ("price", Order::Desc),
                    Sort::BestSelling => ("sales", Order::Desc),
                    _ => ("created", Order::Desc),
                };
                let collector = window.order_by_fast_field::<i64>(field, order);
                let (top, total, counts) = searcher.search(&query, &(collector, Count, counter))?;
                (top.into_iter().map(|(_, a)| a).collect(), total, counts)
            }
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for a in addresses {
            let doc: TantivyDocument = searcher.doc(a)?;
            hits.push(self.hit(&doc));
        }
        Ok(Hits { total, hits, counts })
    }

    /// Up to `limit` product names completing what was typed so far.
    pub fn suggest(
        &self,
        store_id: &str,
        channel_id: &str,
        lang: Language,
        now: i64,
        text: &str,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let query = query::suggestion(&self.fields, store_id, channel_id, lang, now, text);
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        top.into_iter().map(|(_, a)| Ok(self.hit(&searcher.doc::<TantivyDocument>(a)?))).collect()
    }

    fn hit(&self, doc: &TantivyDocument) -> Hit {
        let f = &self.fields;
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
        let names = Language::ALL
            .into_iter()
            .filter_map(|l| Some((l, text(f.name(l))?, text(f.slug(l)).unwrap_or_default())))
            .collect();
        Hit {
            product_id: text(f.product).unwrap_or_default(),
            names,
            price: doc.get_first(f.price).and_then(|v| v.as_i64()),
        }
    }
}

/// The generation `CURRENT` points at.
pub fn current_generation(root: &Path) -> Option<String> {
    let name = std::fs::read_to_string(root.join("CURRENT")).ok()?;
    let name = name.trim();
    (name.starts_with("gen-") && !name.contains(['/', '\\', '.'])).then(|| name.to_string())
}

/// Deletes generations other than the current one that nobody has touched
/// for an hour (a rebuild in progress elsewhere writes to its own).
pub fn remove_stale_generations(root: &Path) {
    let current = current_generation(root);
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("gen-") || Some(&name) == current.as_ref() {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if old {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
