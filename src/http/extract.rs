//! Request extractors that turn raw HTTP into typed, checked input: strict
//! JSON bodies, the caller's identity, and the `Idempotency-Key` header.
//! Each rejects bad input with a problem+json 4xx before a service runs.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::state::AppState;
use crate::domain::stores::Store;
use crate::domain::validation::FieldErrors;
use crate::services::actor::{Actor, Ctx};
use crate::services::auth;

/// The store this request is for, and the path prefix its links need
/// (`""` or `/s/{slug}`). Set by the tenant middleware.
#[derive(Debug, Clone)]
pub struct CurrentStore {
    pub store: Arc<Store>,
    pub base_path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentStore {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<CurrentStore>().cloned().ok_or_else(ApiError::not_found)
    }
}

/// A JSON body parsed strictly: `application/json` only, unknown fields
/// rejected (input types use `deny_unknown_fields`), size-limited by the
/// configured body limit.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the request body could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so a broken document is always "malformed" (400) even
    // when its readable prefix would also fail the type check (422).
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let mut errs = FieldErrors::default();
                let field = if path == "." { String::new() } else { path };
                errs.add(&field, "invalid_value", strip_position(&inner.to_string()));
                ApiError::validation(errs)
            }
            _ => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {inner}"))
            }
        }
    })?;
    de.end().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "unexpected data after the JSON value")
    })?;
    Ok(value)
}

/// serde's messages end in "at line 1 column 42", which is noise for a
/// field-level error that already names the field.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The caller: the store and the signed-in principal behind the bearer
/// token (anonymous without one). A token that is present but unknown,
/// expired or from another store is a 401, never silently anonymous.
pub struct ApiCtx(pub Ctx);

impl FromRequestParts<AppState> for ApiCtx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let current = CurrentStore::from_request_parts(parts, state).await?;
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let actor = match header {
            None => Actor::Anonymous,
            Some(h) => {
                let token = h.strip_prefix("Bearer ").ok_or_else(|| {
                    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "use Authorization: Bearer <token>")
                })?;
                match auth::authenticate(&state.app, &current.store, token.trim()).await? {
                    Some((actor, _csrf)) => actor,
                    None => {
                        return Err(ApiError::new(
                            StatusCode::UNAUTHORIZED,
                            "invalid_token",
                            "the bearer token is unknown or expired",
                        ));
                    }
                }
            }
        };
        Ok(ApiCtx(Ctx { store: current.store, actor, client_ip: client_ip(parts) }))
    }
}

/// The client's address as the server saw it. (Behind a reverse proxy this
/// is the proxy; trusting forwarded headers needs a configured proxy list,
/// which the deployment work adds.)
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = raw.to_str().unwrap_or("");
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(IdempotencyKey(Some(key.to_string())))
    }
}
