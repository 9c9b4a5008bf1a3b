//! Finds the store a request is for, before routing: a path prefix
//! `/s/{slug}/…` (stripped, so routes are the same for every store), else
//! the `Host` header, else the installation's default store.

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::CurrentStore;
use super::state::AppState;
use crate::services::stores::{self, StoreRef};

/// Paths that belong to the installation, not to a store.
fn is_installation_path(path: &str) -> bool {
    ["/healthz", "/readyz", "/metrics", "/static/"].iter().any(|p| path == *p || path.starts_with(p))
}

pub async fn resolve_store(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_installation_path(&path) {
        return next.run(req).await;
    }
    let (store, base_path) = if let Some(rest) = path.strip_prefix("/s/") {
        let (slug, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let store = match stores::resolve(&state.app, StoreRef::Slug(slug)).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                return ApiError::new(StatusCode::NOT_FOUND, "store_not_found", "no store has this address")
                    .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        };
        let new_uri = match req.uri().query() {
            Some(q) => format!("{tail}?{q}"),
            None => tail.to_string(),
        };
        match new_uri.parse::<Uri>() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => {
                return ApiError::new(StatusCode::BAD_REQUEST, "bad_uri", "the request URI is malformed")
                    .into_response();
            }
        }
        (store, format!("/s/{slug}"))
    } else {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.rsplit_once(':').map_or(h, |(name, _port)| name).to_ascii_lowercase())
            .unwrap_or_default();
        match stores::resolve(&state.app, StoreRef::Host(&host)).await {
            Ok(Some(s)) => (s, String::new()),
            Ok(None) => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_store",
                    "this installation has no store yet",
                )
                .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    };
    req.extensions_mut().insert(CurrentStore { store, base_path });
    next.run(req).await
}
