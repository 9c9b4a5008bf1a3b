//! Counts for facets in one pass over the matching documents: categories,
//! attribute/option values (string columns, counted by term ordinal and
//! named once at the end) and price buckets (integer minor units, exact).

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

#[derive(Debug, Default, Clone)]
pub struct FacetCounts {
    pub categories: HashMap<String, u64>,
    pub facets: HashMap<String, u64>,
    /// One count per bucket of the edges the collector was given:
    /// bucket i holds prices in `[edges[i-1], edges[i])`, the last one
    /// everything from the last edge up.
    pub prices: Vec<u64>,
}

pub struct FacetCounter {
    /// Ascending bucket edges in minor units.
    pub price_edges: Vec<i64>,
}

pub struct SegmentCounter {
    category: Option<StrColumn>,
    facet: Option<StrColumn>,
    price: Option<Column<i64>>,
    edges: Vec<i64>,
    category_counts: Vec<u64>,
    facet_counts: Vec<u64>,
    price_counts: Vec<u64>,
}

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentCounter;

    fn for_segment(&self, _ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentCounter> {
        let ff = segment.fast_fields();
        let category = ff.str("category")?;
        let facet = ff.str("facet")?;
        let price = ff.column_opt::<i64>("price")?;
        Ok(SegmentCounter {
            category_counts: vec![0; category.as_ref().map_or(0, |c| c.num_terms())],
            facet_counts: vec![0; facet.as_ref().map_or(0, |c| c.num_terms())],
            price_counts: vec![0; self.price_edges.len() + 1],
            category,
            facet,
            price,
            edges: self.price_edges.clone(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut out = FacetCounts { prices: vec![0; self.price_edges.len() + 1], ..Default::default() };
        for f in fruits {
            for (k, v) in f.categories {
                *out.categories.entry(k).or_default() += v;
            }
            for (k, v) in f.facets {
                *out.facets.entry(k).or_default() += v;
            }
            for (i, v) in f.prices.into_iter().enumerate() {
                out.prices[i] += v;
            }
        }
        Ok(out)
    }
}

fn named(column: Option<&StrColumn>, counts: &[u64]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Some(column) = column else { return out };
    for (ord, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        let mut name = String::new();
        if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
            out.insert(name, *n);
        }
    }
    out
}

impl SegmentCollector for SegmentCounter {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(c) = &self.category {
            for ord in c.term_ords(doc) {
                self.category_counts[ord as usize] += 1;
            }
        }
        if let Some(c) = &self.facet {
            for ord in c.term_ords(doc) {
                self.facet_counts[ord as usize] += 1;
            }
        }
        if let Some(p) = self.price.as_ref().and_then(|c| c.first(doc)) {
            let bucket = self.edges.partition_point(|e| *e <= p);
            self.price_counts[bucket] += 1;
        }
    }

    fn harvest(self) -> FacetCounts {
        FacetCounts {
            categories: named(self.category.as_ref(), &self.category_counts),
            facets: named(self.facet.as_ref(), &self.facet_counts),
            prices: self.price_counts,
        }
    }
}
