//! `/api/v1/catalog/imports`, `/api/v1/catalog/exports` and `/api/v1/jobs`:
//! bulk catalog work as background jobs with progress.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, CurrentStore};
use crate::http::state::AppState;
use crate::services::jobs::{self, JobView};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Apply the good products of a file that has bad rows (default: apply nothing).
    pub skip_bad_rows: Option<bool>,
}

fn accepted(view: JobView, base: &str) -> Response {
    let location = format!("{base}/api/v1/jobs/{}", view.id);
    let mut res = (StatusCode::ACCEPTED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Queues an import of a catalog CSV sent as the body (format:
/// `docs/catalog-csv.md`). Answers at once with the job; follow its progress
/// at `Location`. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/catalog/imports", tag = "catalog", security(("bearer" = [])), params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 202, body = JobView), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    current: CurrentStore,
    query: Result<Query<ImportQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    // Refuse strangers before reading a large body from them.
    ctx.actor.require(crate::services::actor::Permission::CatalogManage)?;
    let limit = state.app.config.catalog.max_import_bytes;
    let csv = super::media::read_limited(&headers, body, limit, "an import file").await?;
    let view = jobs::start_import(&state.app, &ctx, csv, q.skip_bad_rows.unwrap_or(false)).await?;
    Ok(accepted(view, &current.base_path))
}

/// Queues an export of the whole catalog as CSV; the finished job links the file.
#[utoipa::path(post, path = "/api/v1/catalog/exports", tag = "catalog", security(("bearer" = [])),
    responses((status = 202, body = JobView), (status = 403, body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    current: CurrentStore,
) -> Result<Response, ApiError> {
    Ok(accepted(jobs::start_export(&state.app, &ctx).await?, &current.base_path))
}

/// The store's recent jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<JobView>), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<JobView>>, ApiError> {
    Ok(Json(jobs::recent(&state.app, &ctx, 50).await?))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id (job_…)")),
    responses((status = 200, body = JobView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(jobs::get(&state.app, &ctx, &id).await?))
}

/// A finished export's CSV file.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/file", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id (job_…)")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
pub async fn file(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (name, bytes) = jobs::file(&state.app, &ctx, &id).await?;
    Ok(csv_attachment(&name, bytes))
}

/// A CSV file to save under `name` (the API and the admin download alike).
pub fn csv_attachment(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}
