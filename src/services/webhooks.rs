//! Webhook endpoints and their delivery log, as staff manage them. The
//! sending itself is the job of `workers::webhooks`.

use std::collections::HashMap;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::actor::{Ctx, Permission};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::{outbox as outbox_sql, webhooks as sql};
use crate::domain::{ids, webhooks};

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// Where to POST events: an absolute http(s) URL.
    pub url: String,
    /// Event types to send: exact (`store.updated`), a family (`order.*`) or `*`.
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Returned once, on creation: the signing secret is not shown again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

impl From<sql::EndpointRow> for Endpoint {
    fn from(r: sql::EndpointRow) -> Self {
        Endpoint {
            id: r.id,
            url: r.url,
            description: r.description,
            event_types: r.event_types,
            created_at: r.created_at,
        }
    }
}

pub async fn create(
    app: &App,
    ctx: &Ctx,
    input: CreateEndpoint,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<CreatedEndpoint>> {
    ctx.actor.require(Permission::WebhooksManage)?;
    let url = webhooks::validate_endpoint(&input.url, &input.event_types)?;
    let mut desc_errs = crate::domain::validation::FieldErrors::default();
    desc_errs.text("description", &input.description, 0, 200);
    desc_errs.finish(())?;

    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    let row = sql::EndpointRow {
        id: ids::new_id(ids::WEBHOOK),
        store_id: ctx.store.id.clone(),
        url: url.to_string(),
        description: input.description.trim().to_string(),
        secret: webhooks::secret_from_bytes(&key),
        event_types: input.event_types,
        active: true,
        created_at: now_ms(),
    };
    sql::insert_endpoint(&mut tx, &row).await?;
    let created = CreatedEndpoint { secret: row.secret.clone(), endpoint: row.into() };
    audit::record(
        app,
        &mut tx,
        ctx,
        "webhook.created",
        &created.endpoint.id,
        serde_json::json!({ "url": created.endpoint.url, "event_types": created.endpoint.event_types }),
    )
    .await?;
    idempotency::complete(app, &mut tx, ctx, idem, 201, &created).await?;
    tx.commit().await?;
    Ok(Outcome::Fresh(created))
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Endpoint>> {
    ctx.actor.require(Permission::WebhooksManage)?;
    Ok(sql::endpoints(app.db.pool(), &ctx.store.id).await?.into_iter().map(Endpoint::from).collect())
}

async fn active_endpoint(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<sql::EndpointRow> {
    if !ids::is_valid(ids::WEBHOOK, id) {
        return Err(ServiceError::NotFound);
    }
    match sql::endpoint(app.db.pool(), &ctx.store.id, id).await? {
        Some(e) if e.active => Ok(e),
        _ => Err(ServiceError::NotFound),
    }
}

pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<Endpoint> {
    ctx.actor.require(Permission::WebhooksManage)?;
    active_endpoint(app, ctx, id).await.map(Endpoint::from)
}

pub async fn delete(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::WebhooksManage)?;
    if !ids::is_valid(ids::WEBHOOK, id) {
        return Err(ServiceError::NotFound);
    }
    let mut tx = app.db.begin().await?;
    let found = sql::deactivate(&mut tx, &ctx.store.id, id, now_ms()).await?;
    if found {
        audit::record(app, &mut tx, ctx, "webhook.deleted", id, serde_json::json!({})).await?;
    }
    tx.commit().await?;
    if found { Ok(()) } else { Err(ServiceError::NotFound) }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub attempt_no: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `parked` (gave up after the last attempt).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub attempt_log: Vec<Attempt>,
}

/// The endpoint's most recent deliveries with every attempt made.
pub async fn deliveries(app: &App, ctx: &Ctx, endpoint_id: &str) -> ServiceResult<Vec<Delivery>> {
    ctx.actor.require(Permission::WebhooksManage)?;
    if !ids::is_valid(ids::WEBHOOK, endpoint_id)
        || sql::endpoint(app.db.pool(), &ctx.store.id, endpoint_id).await?.is_none()
    {
        return Err(ServiceError::NotFound);
    }
    let rows = sql::deliveries(app.db.pool(), &ctx.store.id, endpoint_id, 100).await?;
    let mut attempts: HashMap<String, Vec<Attempt>> = HashMap::new();
    for a in sql::attempts_for_endpoint(app.db.pool(), &ctx.store.id, endpoint_id).await? {
        attempts.entry(a.delivery_id).or_default().push(Attempt {
            attempt_no: a.attempt_no,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            response_status: a.response_status,
            error: a.error,
        });
    }
    Ok(rows
        .into_iter()
        .map(|d| Delivery {
            attempt_log: attempts.remove(&d.id).unwrap_or_default(),
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_response_status: d.last_response_status,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
        })
        .collect())
}

/// Emits a `webhook.ping` event for this endpoint to check the wiring.
pub async fn ping(
    app: &App,
    ctx: &Ctx,
    endpoint_id: &str,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<outbox::Event>> {
    ctx.actor.require(Permission::WebhooksManage)?;
    active_endpoint(app, ctx, endpoint_id).await?;
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let id =
        outbox::emit(&mut tx, &ctx.store.id, "webhook.ping", serde_json::json!({ "endpoint_id": endpoint_id })).await?;
    let event = outbox_sql::by_id(&mut *tx, &ctx.store.id, &id)
        .await?
        .map(outbox::Event::from_row)
        .ok_or(ServiceError::NotFound)?;
    idempotency::complete(app, &mut tx, ctx, idem, 202, &event).await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok(Outcome::Fresh(event))
}

/// The store's event log, newest first.
pub async fn events(app: &App, ctx: &Ctx, before: Option<&str>, limit: i64) -> ServiceResult<Vec<outbox::Event>> {
    ctx.actor.require(Permission::EventsRead)?;
    let rows = outbox_sql::list(app.db.pool(), &ctx.store.id, before, limit.clamp(1, 200)).await?;
    Ok(rows.into_iter().map(outbox::Event::from_row).collect())
}
