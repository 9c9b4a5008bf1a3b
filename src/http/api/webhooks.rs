//! `/api/v1/webhooks` and `/api/v1/events`: outgoing webhook endpoints,
//! their delivery log, and the store's event log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::respond;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::idempotency::IdempotencyRequest;
use crate::services::outbox::Event;
use crate::services::webhooks::{self, CreateEndpoint, CreatedEndpoint, Delivery, Endpoint};

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<Endpoint>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<Endpoint>>, ApiError> {
    Ok(Json(webhooks::list(&state.app, &ctx).await?))
}

/// Registers an endpoint. The signing secret is in this response only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = CreateEndpoint,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = CreatedEndpoint), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<CreateEndpoint>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "webhooks.create", &input));
    let outcome = webhooks::create(&state.app, &ctx, input, idem.as_ref()).await?;
    Ok(respond(StatusCode::CREATED, outcome))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id (whk_…)")),
    responses((status = 200, body = Endpoint), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(webhooks::get(&state.app, &ctx, &id).await?))
}

/// Stops deliveries to the endpoint; its log is kept.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id (whk_…)")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state.app, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Recent deliveries to the endpoint, each with its attempt log.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id (whk_…)")),
    responses((status = 200, body = Vec<Delivery>), (status = 404, body = Problem)))]
pub async fn deliveries(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    Ok(Json(webhooks::deliveries(&state.app, &ctx, &id).await?))
}

/// Sends a `webhook.ping` event through the outbox. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/ping", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id (whk_…)"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 202, body = Event), (status = 404, body = Problem)))]
pub async fn ping(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, &format!("webhooks.ping:{id}"), &()));
    let outcome = webhooks::ping(&state.app, &ctx, &id, idem.as_ref()).await?;
    Ok(respond(StatusCode::ACCEPTED, outcome))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Return events older than this event id (cursor from the last page).
    pub before: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// The store's events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "webhooks", security(("bearer" = [])), params(EventsQuery),
    responses((status = 200, body = Vec<Event>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn events(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    Ok(Json(webhooks::events(&state.app, &ctx, q.before.as_deref(), q.limit.unwrap_or(50)).await?))
}
