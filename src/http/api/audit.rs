//! `/api/v1/audit`: the audit log, searchable, newest first.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::ApiCtx;
use crate::http::state::AppState;
use crate::services::audit::{self, AuditEntry, AuditQuery};

#[utoipa::path(get, path = "/api/v1/audit", tag = "access", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    Ok(Json(audit::search(&state.app, &ctx, &q).await?))
}
