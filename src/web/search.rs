//! The storefront's search page and faceted category listings, without
//! JavaScript: every filter, sort and page is a link or a GET form built
//! from the current query.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::shell::{Shell, error_page, render};
use crate::domain::money::{Currency, Money};
use crate::http::api::search::parse_params;
use crate::http::state::AppState;
use crate::i18n::format_money;
use crate::search::Sort;
use crate::services::ServiceError;
use crate::services::categories::CategoryPage;
use crate::services::collections::CollectionHeading;
use crate::services::search::{self, CategoryCount, PriceRange, SearchCard, SearchParams, SearchResult};

/// Results with the links that change them.
pub struct Listing {
    shell: Shell,
    /// The page's path (search or category), without the query.
    path: String,
    /// The query as given, minus the cursor.
    pairs: Vec<(String, String)>,
    pub result: SearchResult,
    /// On category pages, subcategories link to their own pages.
    category_pages: bool,
}

impl Listing {
    fn href(&self, pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return self.path.clone();
        }
        let q: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("{}?{q}", self.path)
    }

    fn without(&self, keys: &[&str]) -> Vec<(String, String)> {
        self.pairs.iter().filter(|(k, _)| !keys.contains(&k.as_str())).cloned().collect()
    }

    pub fn toggle_href(&self, code: &str, value: &str) -> String {
        let f = format!("{code}:{value}");
        let mut pairs = self.without(&[]);
        match pairs.iter().position(|(k, v)| k == "f" && *v == f) {
            Some(i) => {
                pairs.remove(i);
            }
            None => pairs.push(("f".into(), f)),
        }
        self.href(&pairs)
    }

    pub fn category_href(&self, c: &CategoryCount) -> String {
        if self.category_pages {
            let mut href = self.shell.href("/c/");
            href.push_str(&url::form_urlencoded::byte_serialize(c.slug.as_bytes()).collect::<String>());
            return href;
        }
        let mut pairs = self.without(&["category"]);
        pairs.push(("category".into(), c.id.clone()));
        self.href(&pairs)
    }

    pub fn price_href(&self, r: &PriceRange) -> String {
        let mut pairs = self.without(&["price_min", "price_max"]);
        if let Some(m) = r.min {
            pairs.push(("price_min".into(), m.to_string()));
        }
        if let Some(m) = r.max {
            pairs.push(("price_max".into(), m.to_string()));
        }
        self.href(&pairs)
    }

    pub fn clear_price_href(&self) -> String {
        self.href(&self.without(&["price_min", "price_max"]))
    }

    pub fn price_filtered(&self) -> bool {
        self.pairs.iter().any(|(k, _)| k == "price_min" || k == "price_max")
    }

    pub fn price_label(&self, r: &PriceRange) -> String {
        let currency = Currency::parse(&self.result.currency).unwrap_or(Currency::EUR);
        let m = |a: i64| format_money(self.shell.lang, Money::new(a, currency));
        match (r.min, r.max) {
            (Some(a), Some(b)) => format!("{} – {}", m(a), m(b)),
            (None, Some(b)) => format!("< {}", m(b)),
            (Some(a), None) => format!("≥ {}", m(a)),
            (None, None) => String::new(),
        }
    }

    pub fn card_price(&self, c: &SearchCard) -> String {
        c.price.map(|p| format_money(self.shell.lang, p)).unwrap_or_default()
    }

    pub fn next_href(&self) -> Option<String> {
        let cursor = self.result.next_cursor.clone()?;
        let mut pairs = self.without(&[]);
        pairs.push(("cursor".into(), cursor));
        Some(self.href(&pairs))
    }

    /// Hidden fields that carry the current filters through the sort form.
    pub fn kept_for_sort(&self) -> Vec<(String, String)> {
        self.without(&["sort"])
    }

    pub fn sorts(&self) -> Vec<(&'static str, &'static str, bool)> {
        let current =
            self.pairs.iter().find(|(k, _)| k == "sort").and_then(|(_, v)| Sort::parse(v)).unwrap_or_default();
        Sort::ALL
            .into_iter()
            .map(|s| {
                let key = match s {
                    Sort::Relevance => "search.sort.relevance",
                    Sort::PriceAsc => "search.sort.price_asc",
                    Sort::PriceDesc => "search.sort.price_desc",
                    Sort::Newest => "search.sort.newest",
                    Sort::BestSelling => "search.sort.best_selling",
                };
                (s.as_str(), self.shell.t(key), s == current)
            })
            .collect()
    }

    pub fn total_text(&self) -> String {
        format!("{} {}", self.result.total, self.shell.t("search.results"))
    }
}

/// Reads the page's query the way the API does; a query the API would
/// refuse shows the unfiltered listing rather than an error page.
fn page_params(raw: Option<&str>, shell: &Shell) -> (SearchParams, Vec<(String, String)>) {
    let (mut params, _) = parse_params(raw, false).unwrap_or_default();
    params.channel = Some(shell.channel.clone());
    let pairs =
        url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().filter(|(k, _)| k != "cursor").collect();
    (params, pairs)
}

async fn listing(
    state: &AppState,
    shell: &Shell,
    path: String,
    raw: Option<&str>,
    category: Option<String>,
    headers: &HeaderMap,
) -> Result<Listing, ServiceError> {
    let (mut params, pairs) = page_params(raw, shell);
    params.category = category.or(params.category);
    params.customer = super::account::customer_id(state, shell, headers).await;
    let category_pages = path.contains("/c/");
    let result = search::search(&state.app, &shell.store, shell.lang, params, None).await?;
    Ok(Listing { shell: shell.clone(), path, pairs, result, category_pages })
}

#[derive(Template)]
#[template(path = "storefront/search.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    listing: Listing,
    suggestions: Vec<SearchCard>,
}

pub async fn search_page(
    State(state): State<AppState>,
    shell: Shell,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let path = shell.href("/search");
    let listing = match listing(&state, &shell, path, raw.as_deref(), None, &headers).await {
        Ok(l) => l,
        Err(ServiceError::NotFound) => return error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "search page failed");
            return error_page(shell, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    // No hits: offer names that start like the words typed.
    let suggestions = if listing.result.total == 0 && !q.trim().is_empty() {
        search::suggest(&state.app, &shell.store, shell.lang, &q).await.unwrap_or_default().into_iter().collect()
    } else {
        Vec::new()
    };
    render(StatusCode::OK, &SearchPage { shell, q, listing, suggestions })
}

#[derive(Template)]
#[template(path = "storefront/category.html")]
struct CategoryTemplate {
    shell: Shell,
    page: CategoryPage,
    listing: Listing,
}

pub async fn category(
    State(state): State<AppState>,
    shell: Shell,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let page = match crate::services::categories::page(&state.app, &shell.store, &slug, shell.lang, None, 0).await {
        Ok(p) => p,
        Err(ServiceError::NotFound) => return error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "category page failed");
            return error_page(shell, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let path =
        format!("{}{}", shell.href("/c/"), url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>());
    match listing(&state, &shell, path, raw.as_deref(), Some(page.id.clone()), &headers).await {
        Ok(listing) => render(StatusCode::OK, &CategoryTemplate { shell, page, listing }),
        Err(e) => {
            tracing::error!(error = %e, "category listing failed");
            error_page(shell, StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

#[derive(Template)]
#[template(path = "storefront/collection.html")]
struct CollectionTemplate {
    shell: Shell,
    collection: CollectionHeading,
    listing: Listing,
}

impl CollectionTemplate {
    fn description_html(&self) -> String {
        crate::domain::richtext::render_markdown(&self.collection.description)
    }
}

pub async fn collection(
    State(state): State<AppState>,
    shell: Shell,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (mut params, pairs) = page_params(raw.as_deref(), &shell);
    params.customer = super::account::customer_id(&state, &shell, &headers).await;
    match crate::services::collections::page(&state.app, &shell.store, &slug, shell.lang, params).await {
        Ok((collection, result)) => {
            let path = format!(
                "{}{}",
                shell.href("/collections/"),
                url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>()
            );
            let listing = Listing { shell: shell.clone(), path, pairs, result, category_pages: false };
            render(StatusCode::OK, &CollectionTemplate { shell, collection, listing })
        }
        Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "collection page failed");
            error_page(shell, StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}
