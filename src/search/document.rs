//! What the index knows of a product, assembled by the catalog side and
//! turned here into one tantivy document per channel.

use tantivy::TantivyDocument;

use super::schema::Fields;
use crate::domain::catalog::PublishStatus;
use crate::domain::locale::Language;

/// A product's searchable text in one language.
#[derive(Debug, Clone)]
pub struct LangText {
    pub lang: Language,
    pub name: String,
    pub slug: String,
    /// Everything else a customer may search for in this language:
    /// description, tags, category names, attribute and option values.
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct ProductDoc {
    pub store_id: String,
    pub product_id: String,
    pub kind: String,
    pub status: PublishStatus,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub created_at: i64,
    pub sales: i64,
    pub texts: Vec<LangText>,
    pub skus: Vec<String>,
    pub categories: Vec<String>,
    pub facets: Vec<String>,
    /// (channel id, lowest current unit price) for every channel of the store.
    pub prices: Vec<(String, Option<i64>)>,
}

/// The visibility window of `domain::catalog::is_visible` as two numbers,
/// so a listing filters with two range clauses: visible while
/// `from <= now < until`.
pub fn visibility_window(status: PublishStatus, publish_at: Option<i64>, unpublish_at: Option<i64>) -> (i64, i64) {
    let from = match status {
        PublishStatus::Published => publish_at.unwrap_or(i64::MIN),
        PublishStatus::Draft => publish_at.unwrap_or(i64::MAX),
        PublishStatus::Archived => i64::MAX,
    };
    (from, unpublish_at.unwrap_or(i64::MAX))
}

impl ProductDoc {
    pub fn to_documents(&self, f: &Fields) -> Vec<TantivyDocument> {
        let (from, until) = visibility_window(self.status, self.publish_at, self.unpublish_at);
        self.prices
            .iter()
            .map(|(channel, price)| {
                let mut d = TantivyDocument::new();
                d.add_text(f.store, &self.store_id);
                d.add_text(f.product, &self.product_id);
                d.add_text(f.channel, channel);
                d.add_text(f.status, self.status.as_str());
                d.add_text(f.kind, &self.kind);
                d.add_i64(f.visible_from, from);
                d.add_i64(f.visible_until, until);
                d.add_i64(f.created, self.created_at);
                d.add_i64(f.sales, self.sales);
                if let Some(p) = price {
                    d.add_i64(f.price, *p);
                }
                for c in &self.categories {
                    d.add_text(f.category, c);
                }
                for x in &self.facets {
                    d.add_text(f.facet, x);
                }
                for s in &self.skus {
                    d.add_text(f.sku, s.to_lowercase());
                }
                for t in &self.texts {
                    d.add_text(f.name(t.lang), &t.name);
                    d.add_text(f.slug(t.lang), &t.slug);
                    d.add_text(f.text(t.lang), &t.name);
                    d.add_text(f.text(t.lang), &t.body);
                }
                d
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::is_visible;

    #[test]
    fn the_window_agrees_with_the_visibility_rule() {
        let now = 1_000;
        let statuses = [PublishStatus::Draft, PublishStatus::Published, PublishStatus::Archived];
        let times = [None, Some(0), Some(now), Some(now + 1)];
        for status in statuses {
            for publish in times {
                for unpublish in times {
                    let (from, until) = visibility_window(status, publish, unpublish);
                    let window = from <= now && now < until;
                    assert_eq!(
                        window,
                        is_visible(status, publish, unpublish, now),
                        "{status:?} {publish:?} {unpublish:?}"
                    );
                }
            }
        }
    }
}
