//! A product as customers see it on its page and through the storefront API.
//!
//! What the database says about a product in one language and channel (a
//! [`Snapshot`]) is read once and kept in the read cache until the store's
//! catalog changes (see `read_cache`). Visibility, sale windows and price
//! lists depend on the instant and the visitor, so they are applied to the
//! snapshot at every request.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::media::GalleryImage;
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::catalog as sql;
use crate::domain::catalog::{PriceTier, ProductKind, PublishStatus, is_visible, pick_translation};
use crate::domain::inventory::Availability;
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::domain::pricing::{ListTier, PriceSource, resolve};
use crate::domain::stores::Store;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreVariant {
    pub sku: String,
    pub gtin: Option<String>,
    pub options: BTreeMap<String, String>,
    /// Unit price for one, now, in the channel's currency; absent when the
    /// variant has no price in this channel (not for sale there).
    pub price: Option<Money>,
    /// Volume prices: from `min_qty` units on, this unit price (now).
    pub tiers: Vec<(i64, Money)>,
    /// The regular price while a sale or a lower list price applies.
    pub compare_at: Option<Money>,
    /// Code of the price list the single-unit price comes from, if any.
    pub price_list: Option<String>,
    /// Whether it can be ordered now, and what customers are told.
    pub availability: Availability,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreProduct {
    pub id: String,
    pub kind: ProductKind,
    /// The language the texts are in (after fallback).
    pub language: Language,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub seo_title: String,
    pub seo_description: String,
    /// Slugs by language, for alternate links.
    pub slugs: BTreeMap<Language, String>,
    pub channel: String,
    pub prices_include_tax: bool,
    pub variants: Vec<StoreVariant>,
    /// The product's attributes as they read in the language shown.
    pub attributes: Vec<AttributeLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttributeLine {
    pub code: String,
    pub name: String,
    pub value: String,
}

/// A product page's data as stored, for one language and channel: the
/// product with its publishing window, texts after fallback, attributes as
/// they read in that language, variants with their channel price tiers,
/// and the gallery.
pub struct Snapshot {
    status: PublishStatus,
    publish_at: Option<i64>,
    unpublish_at: Option<i64>,
    product: StoreProduct,
    channel_id: String,
    currency: Currency,
    variants: Vec<(sql::VariantRow, Vec<PriceTier>)>,
    images: Vec<GalleryImage>,
    /// The description rendered once (see `domain::richtext`).
    description_html: Arc<str>,
}

impl Snapshot {
    /// Estimated bytes, for the read cache's budget.
    pub fn weight(snapshot: &Option<Snapshot>) -> u64 {
        let Some(s) = snapshot else { return 256 };
        let p = &s.product;
        let texts = p.name.len() + p.description.len() + p.seo_title.len() + p.seo_description.len();
        let slugs: usize = p.slugs.values().map(|x| x.len() + 32).sum();
        let attributes: usize = p.attributes.iter().map(|a| a.code.len() + a.name.len() + a.value.len() + 72).sum();
        let images: usize = s.images.iter().map(|i| i.url.len() + i.alt.len() + i.thumbnails.len() * 96 + 128).sum();
        (1_024 + texts + s.description_html.len() + slugs + attributes + images + s.variants.len() * 320) as u64
    }
}

/// A product as one visitor sees it now, with its gallery and the
/// description as safe HTML.
pub struct Shown {
    pub product: StoreProduct,
    pub images: Vec<GalleryImage>,
    pub description_html: Arc<str>,
}

/// Cache key: store, its catalog generation, slug, language, channel code.
pub type SnapshotKey = (String, u64, String, Language, String);

/// A published product by any of its slugs, as a customer in `lang` sees it
/// in `channel` now, priced for `customer` (their groups' price lists apply)
/// or for an anonymous visitor, with its gallery. Not found when
/// unpublished, scheduled or archived.
pub async fn storefront_product(
    app: &App,
    store: &Store,
    slug: &str,
    lang: Language,
    channel: &str,
    customer: Option<&str>,
) -> ServiceResult<Shown> {
    let snapshot = snapshot(app, store, slug, lang, channel).await?;
    let s = snapshot.as_ref().as_ref().ok_or(ServiceError::NotFound)?;
    let now = now_ms();
    if !is_visible(s.status, s.publish_at, s.unpublish_at, now) {
        return Err(ServiceError::NotFound);
    }
    let lists = super::pricing::applicable_lists(app, &store.id, &s.channel_id, customer, now).await?;
    let mut list_tiers = if lists.is_empty() {
        HashMap::new()
    } else {
        let variant_ids: Vec<String> = s.variants.iter().map(|(v, _)| v.id.clone()).collect();
        super::pricing::list_tiers(app, &store.id, &lists, &variant_ids).await?
    };
    // Stock is not part of the snapshot: it changes with every order.
    let stock = super::inventory::product_stock(app, &store.id, &s.product.id).await?;
    // The snapshot's product has no variants: they are priced here.
    let mut product = s.product.clone();
    product.variants = s
        .variants
        .iter()
        .map(|(v, base)| {
            let listed = list_tiers.remove(&v.id).unwrap_or_default();
            let availability = stock.get(&v.id).copied().unwrap_or(Availability::Available);
            store_variant(v, base, &listed, s.currency, now, availability)
        })
        .collect();
    Ok(Shown { product, images: s.images.clone(), description_html: s.description_html.clone() })
}

/// The snapshot from the read cache, or read now (and kept). A slug no
/// product has is kept too (as `None`), until the catalog changes.
async fn snapshot(
    app: &App,
    store: &Store,
    slug: &str,
    lang: Language,
    channel: &str,
) -> ServiceResult<Arc<Option<Snapshot>>> {
    // The generation is read before the database: a change committed while
    // reading bumps it, so what was read is filed under the old one.
    let key: SnapshotKey =
        (store.id.clone(), app.reads.generations.current(&store.id), slug.to_string(), lang, channel.to_string());
    if let Some(hit) = app.reads.product_pages.get(&key) {
        return Ok(hit);
    }
    let read = match read_snapshot(app, store, slug, lang, channel).await {
        Ok(s) => Some(s),
        Err(ServiceError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let read = Arc::new(read);
    app.reads.product_pages.put(key, read.clone());
    Ok(read)
}

async fn read_snapshot(app: &App, store: &Store, slug: &str, lang: Language, channel: &str) -> ServiceResult<Snapshot> {
    let pool = app.db.pool();
    let id = sql::product_id_by_slug(pool, &store.id, slug).await?.ok_or(ServiceError::NotFound)?;
    let p = sql::product(pool, &store.id, &id).await?.ok_or(ServiceError::NotFound)?;
    let ch =
        sql::channels(pool, &store.id).await?.into_iter().find(|c| c.code == channel).ok_or(ServiceError::NotFound)?;
    let currency = Currency::parse(&ch.currency).unwrap_or(Currency::EUR);
    let texts: BTreeMap<Language, sql::TextRow> = sql::texts(pool, &store.id, &id)
        .await?
        .into_iter()
        .filter_map(|t| Language::parse(&t.lang).map(|l| (l, t)))
        .collect();
    let (language, text) =
        pick_translation(&texts, lang, store.brand.default_language).ok_or(ServiceError::NotFound)?;
    let mut tiers: HashMap<String, Vec<PriceTier>> = HashMap::new();
    for pr in sql::prices(pool, &store.id, &id).await?.into_iter().filter(|pr| pr.channel_id == ch.id) {
        tiers.entry(pr.variant_id).or_default().push(PriceTier {
            min_qty: pr.min_qty,
            amount: pr.amount,
            sale_amount: pr.sale_amount,
            sale_starts_at: pr.sale_starts_at,
            sale_ends_at: pr.sale_ends_at,
        });
    }
    let defs = super::attributes::definitions(app, &store.id).await?;
    let (_, stored) = crate::db::attributes::product_values(pool, &store.id, &id).await?;
    let yes_no = (crate::i18n::t(lang, "catalog.yes"), crate::i18n::t(lang, "catalog.no"));
    let attributes = super::attributes::typed_values(&defs, &stored)
        .into_iter()
        .map(|(d, v)| AttributeLine {
            code: d.code.clone(),
            name: d.name(lang, store.brand.default_language),
            value: d.display(&v, lang, store.brand.default_language, yes_no),
        })
        .collect();
    let variants = sql::variants(pool, &store.id, &id)
        .await?
        .into_iter()
        .map(|v| {
            let base = tiers.remove(&v.id).unwrap_or_default();
            (v, base)
        })
        .collect();
    let images = super::media::gallery(app, store, &id, lang).await?;
    let description_html = crate::domain::richtext::render_markdown(&text.description).into();
    Ok(Snapshot {
        status: PublishStatus::parse(&p.status).unwrap_or(PublishStatus::Draft),
        publish_at: p.publish_at,
        unpublish_at: p.unpublish_at,
        product: StoreProduct {
            id: p.id,
            kind: ProductKind::parse(&p.kind).unwrap_or(ProductKind::Physical),
            language,
            name: text.name.clone(),
            slug: text.slug.clone(),
            description: text.description.clone(),
            seo_title: text.seo_title.clone(),
            seo_description: text.seo_description.clone(),
            slugs: texts.iter().map(|(l, t)| (*l, t.slug.clone())).collect(),
            channel: ch.code,
            prices_include_tax: ch.prices_include_tax,
            variants: Vec::new(),
            attributes,
        },
        channel_id: ch.id,
        currency,
        variants,
        images,
        description_html,
    })
}

/// A variant's prices as one visitor sees them: the unit price for one, and
/// the volume breaks where the price drops, each resolved by the pricing rule.
fn store_variant(
    v: &sql::VariantRow,
    base: &[PriceTier],
    listed: &[(String, Vec<ListTier>)],
    currency: Currency,
    now: i64,
    availability: Availability,
) -> StoreVariant {
    let refs: Vec<(&str, &[ListTier])> = listed.iter().map(|(c, t)| (c.as_str(), t.as_slice())).collect();
    let one = resolve(base, &refs, 1, now);
    let breaks: BTreeSet<i64> = base
        .iter()
        .map(|t| t.min_qty)
        .chain(listed.iter().flat_map(|(_, t)| t.iter().map(|x| x.min_qty)))
        .filter(|q| *q > 1)
        .collect();
    let mut last = one.as_ref().map(|r| r.unit);
    let mut volume = Vec::new();
    for q in breaks {
        if let Some(r) = resolve(base, &refs, q, now)
            && last.is_none_or(|l| r.unit < l)
        {
            volume.push((q, Money::new(r.unit, currency)));
            last = Some(r.unit);
        }
    }
    StoreVariant {
        sku: v.sku.clone(),
        gtin: v.gtin.clone(),
        options: v.options.iter().cloned().collect(),
        price: one.as_ref().map(|r| Money::new(r.unit, currency)),
        compare_at: one.as_ref().and_then(|r| r.regular.filter(|reg| *reg > r.unit)).map(|a| Money::new(a, currency)),
        price_list: one.and_then(|r| match r.source {
            PriceSource::PriceList { code } => Some(code),
            _ => None,
        }),
        tiers: volume,
        availability,
    }
}
