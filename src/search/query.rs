//! Turning a search request into a tantivy query: text matched in the
//! visitor's language (and the store's default, which untranslated
//! products fall back to), typo-tolerant for Latin scripts, name matches
//! ranked first, and filters that never affect the score.

use std::collections::BTreeMap;
use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::schema::{Fields, query_terms, terms};
use crate::domain::locale::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first; newest first when there is no text.
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    BestSelling,
}

impl Sort {
    pub const ALL: [Sort; 5] = [Sort::Relevance, Sort::PriceAsc, Sort::PriceDesc, Sort::Newest, Sort::BestSelling];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Newest => "newest",
            Sort::BestSelling => "best_selling",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Which products the request may see.
#[derive(Debug, Clone)]
pub enum Audience {
    /// Customers: only what is visible at this instant (ms).
    Customers { now: i64 },
    /// Staff: any status, optionally narrowed to some.
    Staff { statuses: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub store_id: String,
    pub channel_id: String,
    pub lang: Language,
    pub default_lang: Language,
    pub text: String,
    pub audience: Audience,
    /// Products in this category or below it.
    pub category: Option<String>,
    /// Attribute/option filters: values of one code are alternatives (OR),
    /// different codes must all hold (AND).
    pub facets: BTreeMap<String, Vec<String>>,
    pub kinds: Vec<String>,
    /// Only these products (a manual collection).
    pub product_ids: Vec<String>,
    pub price_min: Option<i64>,
    /// Exclusive.
    pub price_max: Option<i64>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    pub price_edges: Vec<i64>,
}

fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

fn i64_range(field: Field, lower: Bound<i64>, upper: Bound<i64>) -> Box<dyn Query> {
    let t = |b: Bound<i64>| match b {
        Bound::Included(v) => Bound::Included(Term::from_field_i64(field, v)),
        Bound::Excluded(v) => Bound::Excluded(Term::from_field_i64(field, v)),
        Bound::Unbounded => Bound::Unbounded,
    };
    Box::new(RangeQuery::new(t(lower), t(upper)))
}

/// Edit distance allowed for a query term: none for short words (too many
/// false friends), one from four letters, two from eight.
fn typo_distance(term: &str) -> u8 {
    match term.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// All of the text's terms must appear in the language's text field.
fn text_clause(f: &Fields, lang: Language, text: &str) -> Option<Box<dyn Query>> {
    let field = f.text(lang);
    let ts = query_terms(lang, text);
    if ts.is_empty() {
        return None;
    }
    let per_term: Vec<(Occur, Box<dyn Query>)> = ts
        .iter()
        .map(|t| {
            let term = Term::from_field_text(field, t);
            let exact: Box<dyn Query> = Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
            let d = if lang == Language::Zh { 0 } else { typo_distance(t) };
            let q: Box<dyn Query> = if d == 0 {
                exact
            } else {
                // The exact spelling outranks its near misses.
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, Box::new(BoostQuery::new(exact, 2.0))),
                    (Occur::Should, Box::new(FuzzyTermQuery::new(term, d, true))),
                ]))
            };
            (Occur::Must, q)
        })
        .collect();
    Some(Box::new(BooleanQuery::new(per_term)))
}

/// Name matches lift a product above description-only matches.
fn name_boost(f: &Fields, lang: Language, text: &str) -> Vec<(Occur, Box<dyn Query>)> {
    terms(lang, text)
        .into_iter()
        .map(|t| {
            let q = TermQuery::new(Term::from_field_text(f.name(lang), &t), IndexRecordOption::WithFreqs);
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), 3.0)) as Box<dyn Query>)
        })
        .collect()
}

fn languages(q: &SearchQuery) -> Vec<Language> {
    if q.lang == q.default_lang { vec![q.lang] } else { vec![q.lang, q.default_lang] }
}

pub fn build(f: &Fields, q: &SearchQuery) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![filter(term_query(f.store, &q.store_id)), filter(term_query(f.channel, &q.channel_id))];
    match &q.audience {
        Audience::Customers { now } => {
            clauses.push(filter(i64_range(f.visible_from, Bound::Unbounded, Bound::Included(*now))));
            clauses.push(filter(i64_range(f.visible_until, Bound::Excluded(*now), Bound::Unbounded)));
        }
        Audience::Staff { statuses } if !statuses.is_empty() => {
            let any = statuses.iter().map(|s| (Occur::Should, term_query(f.status, s))).collect();
            clauses.push(filter(Box::new(BooleanQuery::new(any))));
        }
        Audience::Staff { .. } => {}
    }
    if let Some(c) = &q.category {
        clauses.push(filter(term_query(f.category, c)));
    }
    for (code, values) in &q.facets {
        let any = values.iter().map(|v| (Occur::Should, term_query(f.facet, &format!("{code}={v}")))).collect();
        clauses.push(filter(Box::new(BooleanQuery::new(any))));
    }
    if !q.product_ids.is_empty() {
        let any = q.product_ids.iter().map(|p| (Occur::Should, term_query(f.product, p))).collect();
        clauses.push(filter(Box::new(BooleanQuery::new(any))));
    }
    if !q.kinds.is_empty() {
        let any = q.kinds.iter().map(|k| (Occur::Should, term_query(f.kind, k))).collect();
        clauses.push(filter(Box::new(BooleanQuery::new(any))));
    }
    if q.price_min.is_some() || q.price_max.is_some() {
        let lower = q.price_min.map_or(Bound::Unbounded, Bound::Included);
        let upper = q.price_max.map_or(Bound::Unbounded, Bound::Excluded);
        clauses.push(filter(i64_range(f.price, lower, upper)));
    }
    let text = q.text.trim();
    if text.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    } else {
        let mut matches: Vec<(Occur, Box<dyn Query>)> = languages(q)
            .into_iter()
            .filter_map(|lang| text_clause(f, lang, text).map(|c| (Occur::Should, c)))
            .collect();
        // A SKU typed whole finds its product (staff search by SKU).
        matches.push((Occur::Should, term_query(f.sku, &text.to_lowercase())));
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(matches))));
        for lang in languages(q) {
            clauses.extend(name_boost(f, lang, text));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Names starting like the text typed so far: every word but the last must
/// match, the last one as a prefix (with one typo allowed from four letters).
pub fn suggestion(
    f: &Fields,
    store_id: &str,
    channel_id: &str,
    lang: Language,
    now: i64,
    text: &str,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
        filter(term_query(f.store, store_id)),
        filter(term_query(f.channel, channel_id)),
        filter(i64_range(f.visible_from, Bound::Unbounded, Bound::Included(now))),
        filter(i64_range(f.visible_until, Bound::Excluded(now), Bound::Unbounded)),
    ];
    let field = f.name(lang);
    // Prefixes are matched unstemmed: a stem of a half word is meaningless.
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    let Some((last, rest)) = words.split_last() else {
        return Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(tantivy::query::EmptyQuery))]));
    };
    for w in rest {
        for t in terms(lang, w) {
            clauses.push((Occur::Must, term_query(field, &t)));
        }
    }
    let distance = if lang == Language::Zh || last.chars().count() < 4 { 0 } else { 1 };
    let prefixes: Vec<(Occur, Box<dyn Query>)> = std::iter::once(last.clone())
        .chain(terms(lang, last))
        .map(|p| {
            (
                Occur::Should,
                Box::new(FuzzyTermQuery::new_prefix(Term::from_field_text(field, &p), distance, true))
                    as Box<dyn Query>,
            )
        })
        .collect();
    clauses.push((Occur::Must, Box::new(BooleanQuery::new(prefixes))));
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_budget_grows_with_word_length() {
        assert_eq!(typo_distance("red"), 0);
        assert_eq!(typo_distance("shoe"), 1);
        assert_eq!(typo_distance("trailläufer"), 2);
    }

    #[test]
    fn sorts_round_trip() {
        for s in Sort::ALL {
            assert_eq!(Sort::parse(s.as_str()), Some(s));
        }
        assert_eq!(Sort::parse("cheapest"), None);
    }
}
