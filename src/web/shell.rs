//! What every page shares: the store's brand, the visitor's language, the
//! language switcher, and the error page.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::cookies;
use crate::domain::locale::Language;
use crate::domain::stores::Store;
use crate::http::error::ApiError;
use crate::http::extract::CurrentStore;
use crate::i18n;

#[derive(Clone)]
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub active: bool,
}

/// The frame of every page.
#[derive(Clone)]
pub struct Shell {
    pub lang: Language,
    pub base: String,
    pub store: std::sync::Arc<Store>,
    pub switcher: Vec<LangLink>,
    pub client_ip: String,
    /// The channel code the visitor shops in (`web` unless they chose
    /// another at `/channel/{code}`): decides currency and prices.
    pub channel: String,
}

impl Shell {
    pub fn t(&self, key: &'static str) -> &'static str {
        i18n::t(self.lang, key)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// A link inside this store (`/admin` → `/s/foodbank/admin`).
    pub fn href(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn kind_blurb(&self) -> &'static str {
        self.t(match self.store.kind {
            crate::domain::stores::StoreKind::Shop => "store.kind.shop",
            crate::domain::stores::StoreKind::Nonprofit => "store.kind.nonprofit",
            crate::domain::stores::StoreKind::Utility => "store.kind.utility",
            crate::domain::stores::StoreKind::B2b => "store.kind.b2b",
        })
    }
}

/// Picks the language: the visitor's cookie, else their browser's
/// preference, else the store's default.
fn pick_language(headers: &HeaderMap, store: &Store) -> Language {
    cookies::values(headers, cookies::LANG)
        .into_iter()
        .find_map(Language::parse)
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Language::from_accept_language)
        })
        .unwrap_or(store.brand.default_language)
}

impl<S: Send + Sync> FromRequestParts<S> for Shell {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let current = CurrentStore::from_request_parts(parts, state).await?;
        let lang = pick_language(&parts.headers, &current.store);
        let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let next = url_encode(here);
        let switcher = Language::ALL
            .iter()
            .map(|l| LangLink {
                code: l.code(),
                name: l.native_name(),
                href: format!("{}/lang/{}?next={}", current.base_path, l.code(), next),
                active: *l == lang,
            })
            .collect();
        let client_ip = crate::http::extract::client_ip(parts);
        let channel = cookies::values(&parts.headers, cookies::CHANNEL)
            .into_iter()
            .find(|c| {
                !c.is_empty() && c.len() <= 40 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map_or_else(|| "web".to_string(), str::to_string);
        Ok(Shell { lang, base: current.base_path, store: current.store, switcher, client_ip, channel })
    }
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_string()).unwrap_or_default()
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: remembers the language in a cookie and
/// goes back. Only local paths are followed (no open redirect).
pub async fn switch_language(
    current: CurrentStore,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<SwitchQuery>,
) -> Response {
    let Some(lang) = Language::parse(&code) else {
        return ApiError::new(StatusCode::NOT_FOUND, "unknown_language", "this language is not supported")
            .into_response();
    };
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let cookie = cookies::set(&headers, cookies::LANG, lang.code(), &current.base_path, 365 * 24 * 3600, false);
    let mut res = Redirect::to(&format!("{}{}", current.base_path, next)).into_response();
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `GET /channel/{code}?next=/path`: shops in another channel (currency)
/// of the store from now on; unknown codes are 404.
pub async fn switch_channel(
    axum::extract::State(state): axum::extract::State<crate::http::state::AppState>,
    current: CurrentStore,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<SwitchQuery>,
) -> Response {
    let known = crate::services::line_facts::channels(&state.app, &current.store.id)
        .await
        .map(|cs| cs.iter().any(|c| c.code == code))
        .unwrap_or(false);
    if !known {
        return ApiError::new(StatusCode::NOT_FOUND, "unknown_channel", "this store has no such channel")
            .into_response();
    }
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let cookie = cookies::set(&headers, cookies::CHANNEL, &code, &current.base_path, 365 * 24 * 3600, false);
    let mut res = Redirect::to(&format!("{}{}", current.base_path, next)).into_response();
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub shell: Shell,
    pub title: &'static str,
}

/// Renders a template, or a plain 500 if rendering itself fails.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn error_page(shell: Shell, status: StatusCode) -> Response {
    let key = match status {
        StatusCode::NOT_FOUND => "error.not_found",
        StatusCode::FORBIDDEN => "error.forbidden",
        _ => "error.internal",
    };
    let title = shell.t(key);
    render(status, &ErrorPage { shell, title })
}

/// A URL-encoded form body; a malformed one is a problem+json 400/415/413
/// like every other bad request.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Form::<T>::from_request(req, state).await {
            Ok(axum::extract::Form(v)) => Ok(PageForm(v)),
            Err(rej) => {
                let status = rej.status();
                let code = match status {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                    _ => "invalid_form",
                };
                let status = if status.is_client_error() { status } else { StatusCode::BAD_REQUEST };
                Err(ApiError::new(status, code, rej.body_text()))
            }
        }
    }
}
