//! Storefront pages: the home page and product pages. Product pages carry
//! structured data (JSON-LD) and canonical/alternate links for search
//! engines, and pick variants by link, without JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::shell::{Shell, error_page, render};
use crate::domain::inventory::Availability;
use crate::http::state::AppState;
use crate::i18n::{format_money, t};
use crate::services::ServiceError;
use crate::services::catalog::{self, ProductCard};
use crate::services::collections::CollectionHeading;
use crate::services::media::GalleryImage;
use crate::services::product_page::{self, StoreProduct, StoreVariant};
use crate::services::search::SearchCard;

#[derive(Template)]
#[template(path = "storefront/home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub products: Vec<ProductCard>,
    pub collections: Vec<(CollectionHeading, Vec<SearchCard>)>,
    /// (code, currency) of the store's channels, when there are several to choose from.
    pub channels: Vec<(String, String)>,
}

impl HomePage {
    fn price(&self, card: &ProductCard) -> String {
        card.from_price.map(|p| format_money(self.shell.lang, p)).unwrap_or_default()
    }

    fn card_price(&self, card: &SearchCard) -> String {
        card.price.map(|p| format_money(self.shell.lang, p)).unwrap_or_default()
    }
}

pub async fn home(State(state): State<AppState>, shell: Shell) -> Response {
    let products =
        catalog::featured(&state.app, &shell.store, shell.lang, &shell.channel, 12).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "featured products failed");
            Vec::new()
        });
    let collections =
        crate::services::collections::featured(&state.app, &shell.store, shell.lang, 4).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "featured collections failed");
            Vec::new()
        });
    let channels: Vec<(String, String)> = crate::services::line_facts::channels(&state.app, &shell.store.id)
        .await
        .map(|cs| cs.iter().map(|c| (c.code.clone(), c.currency.clone())).collect())
        .unwrap_or_default();
    let channels = if channels.len() > 1 { channels } else { Vec::new() };
    render(StatusCode::OK, &HomePage { shell, products, collections, channels })
}

#[derive(Template)]
#[template(path = "storefront/product.html")]
struct ProductPage {
    shell: Shell,
    product: StoreProduct,
    selected: usize,
    json_ld: String,
    images: Vec<GalleryImage>,
    /// The description's Markdown as safe HTML (see `domain::richtext`).
    description_html: std::sync::Arc<str>,
    /// For the add-to-cart form.
    csrf: String,
}

impl ProductPage {
    fn price_text(&self, v: &StoreVariant) -> String {
        v.price.map(|p| format_money(self.shell.lang, p)).unwrap_or_default()
    }

    fn compare_text(&self, v: &StoreVariant) -> String {
        v.compare_at.map(|p| format_money(self.shell.lang, p)).unwrap_or_default()
    }

    fn tier_text(&self, tier: &(i64, crate::domain::money::Money)) -> String {
        format!("{}+ : {}", tier.0, format_money(self.shell.lang, tier.1))
    }

    fn option_text(&self, v: &StoreVariant) -> String {
        if v.options.is_empty() { v.sku.clone() } else { v.options.values().cloned().collect::<Vec<_>>().join(" / ") }
    }

    /// "In stock", "Only 3 left", "Pre-order · ships from 2026-12-01"…
    fn stock_text(&self, v: &StoreVariant) -> String {
        let lang = self.shell.lang;
        let ships = |at: Option<i64>| {
            at.and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| {
                    format!(" · {}", t(lang, "stock.ships_from").replace("{date}", &d.format("%Y-%m-%d").to_string()))
                })
                .unwrap_or_default()
        };
        match v.availability {
            Availability::Available | Availability::InStock => t(lang, "stock.in_stock").into(),
            Availability::LowStock { quantity } => t(lang, "stock.low").replace("{n}", &quantity.to_string()),
            Availability::OutOfStock => t(lang, "stock.out_of_stock").into(),
            Availability::Backorder { restock_at } => format!("{}{}", t(lang, "stock.backorder"), ships(restock_at)),
            Availability::Preorder { restock_at } => format!("{}{}", t(lang, "stock.preorder"), ships(restock_at)),
        }
    }

    fn selected_variant(&self) -> Option<&StoreVariant> {
        self.product.variants.get(self.selected)
    }

    fn image_url(&self, url: &str) -> String {
        self.shell.href(url)
    }

    /// The rendition a browser without `srcset` shows: the first thumbnail
    /// at least 480 pixels wide, else the full image.
    fn image_src(&self, img: &GalleryImage) -> String {
        let url = img.thumbnails.iter().find(|t| t.width >= 480).map_or(&img.url, |t| &t.url);
        self.shell.href(url)
    }

    fn srcset(&self, img: &GalleryImage) -> String {
        let mut set: Vec<String> =
            img.thumbnails.iter().map(|t| format!("{} {}w", self.shell.href(&t.url), t.width)).collect();
        set.push(format!("{} {}w", self.shell.href(&img.url), img.width));
        set.join(", ")
    }

    /// Alt text in the visitor's language (or the store's); the product's
    /// name when none was written.
    fn alt_text<'a>(&'a self, img: &'a GalleryImage) -> &'a str {
        if img.alt.is_empty() { &self.product.name } else { &img.alt }
    }
}

#[derive(Deserialize)]
pub struct ProductQuery {
    variant: Option<String>,
}

pub async fn product(
    State(state): State<AppState>,
    shell: Shell,
    Path(slug): Path<String>,
    Query(q): Query<ProductQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let customer = super::account::customer_id(&state, &shell, &headers).await;
    let shown = match product_page::storefront_product(
        &state.app,
        &shell.store,
        &slug,
        shell.lang,
        &shell.channel,
        customer.as_deref(),
    )
    .await
    {
        Ok(p) => p,
        Err(ServiceError::NotFound) => return error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "product page failed");
            return error_page(shell, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let product_page::Shown { product, images, description_html } = shown;
    let selected = q.variant.and_then(|sku| product.variants.iter().position(|v| v.sku == sku)).unwrap_or(0);
    let base = format!("{}{}", state.app.config.public_url(), shell.base);
    let image_urls: Vec<String> = images.iter().map(|i| format!("{base}{}", i.url)).collect();
    let json_ld = structured_data(&product, &image_urls);
    let (csrf, set_cookie) = super::shop::csrf_token(&headers, &shell);
    let mut res =
        render(StatusCode::OK, &ProductPage { shell, product, selected, json_ld, images, description_html, csrf });
    if let Some(v) = set_cookie.and_then(|c| c.parse().ok()) {
        res.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    res
}

/// schema.org Product with one Offer per priced variant and its images
/// (absolute URLs). `<` is escaped so the JSON cannot close its script
/// element.
/// schema.org's ItemAvailability for an offer.
fn schema_availability(a: Availability) -> &'static str {
    match a {
        Availability::Available | Availability::InStock => "https://schema.org/InStock",
        Availability::LowStock { .. } => "https://schema.org/LimitedAvailability",
        Availability::OutOfStock => "https://schema.org/OutOfStock",
        Availability::Backorder { .. } => "https://schema.org/BackOrder",
        Availability::Preorder { .. } => "https://schema.org/PreOrder",
    }
}

fn structured_data(p: &StoreProduct, images: &[String]) -> String {
    let offers: Vec<serde_json::Value> = p
        .variants
        .iter()
        .filter_map(|v| {
            v.price.map(|price| {
                serde_json::json!({
                    "@type": "Offer", "sku": v.sku, "gtin": v.gtin, "price": price.decimal(),
                    "priceCurrency": price.currency.code(), "availability": schema_availability(v.availability),
                })
            })
        })
        .collect();
    let doc = serde_json::json!({
        "@context": "https://schema.org", "@type": "Product", "name": p.name, "description": p.description,
        "sku": p.variants.first().map(|v| v.sku.clone()), "offers": offers, "image": images,
    });
    doc.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// `sitemap.xml`: every visible product page in every language, absolute
/// URLs from the configured public address.
pub async fn sitemap(State(state): State<AppState>, current: crate::http::extract::CurrentStore) -> Response {
    use axum::response::IntoResponse;
    let entries = match catalog::sitemap_entries(&state.app, &current.store).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "sitemap failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let base = format!("{}{}", state.app.config.public_url(), current.base_path);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    xml.push_str(&format!("  <url><loc>{}/</loc></url>\n", xml_escape(&base)));
    for (slug, updated) in entries {
        let loc = format!("{base}/p/{}", url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>());
        let lastmod = chrono::DateTime::from_timestamp_millis(updated)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        xml.push_str(&format!("  <url><loc>{}</loc><lastmod>{lastmod}</lastmod></url>\n", xml_escape(&loc)));
    }
    xml.push_str("</urlset>\n");
    ([(axum::http::header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}
