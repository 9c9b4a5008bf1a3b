//! The one error model of the HTTP API: every error is
//! `application/problem+json` (RFC 9457) with a stable machine `code`, a
//! human `detail`, and for validation errors the offending fields.
//! Internal errors are logged with detail and shown without it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::validation::{FieldError, FieldErrors};
use crate::services::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds until a rate-limited caller may retry (`Retry-After`).
    pub retry_after: Option<u64>,
}

/// The problem document, as the OpenAPI document describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into(), errors: Vec::new(), retry_after: None }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "the requested resource does not exist")
    }

    pub fn validation(errors: FieldErrors) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            detail: "the request has invalid fields".into(),
            errors: errors.0,
            retry_after: None,
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.clone(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in or send a valid bearer token")
            }
            ServiceError::InvalidCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "e-mail or password is wrong")
            }
            ServiceError::Forbidden(p) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("this action needs the {p} permission"))
            }
            ServiceError::Validation(errs) => ApiError::validation(errs),
            ServiceError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            ServiceError::Gone { code, message } => ApiError::new(StatusCode::GONE, code, message),
            ServiceError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request",
            ),
            ServiceError::IdempotencyInFlight => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_flight",
                "a request with this Idempotency-Key is still being processed; retry later",
            ),
            ServiceError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many attempts; retry in {retry_after_secs} seconds"),
                )
            },
            ServiceError::Unavailable { retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    format!("temporarily unavailable; retry in {retry_after} seconds"),
                )
            },
            ServiceError::UnsupportedContent { code, message } => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, code, message)
            }
            ServiceError::TooLarge { code, message } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, message),
            ServiceError::Database(err) => {
                tracing::error!(error = %err, "database error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
            }
            ServiceError::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
