//! `/api/v1/staff`, `/api/v1/roles`, `/api/v1/permissions`: who works in
//! the back office and what they may do.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson};
use crate::http::state::AppState;
use crate::services::roles::{self, PermissionView, RoleInput, RoleView};
use crate::services::staff::{self, ChangeRole, NewStaff, StaffMember};

#[utoipa::path(get, path = "/api/v1/staff", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffMember>), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<StaffMember>>, ApiError> {
    Ok(Json(staff::list(&state.app, &ctx).await?))
}

/// Adds a staff member. Needs `staff.manage`; the role may not exceed the caller's own rights.
#[utoipa::path(post, path = "/api/v1/staff", tag = "access", security(("bearer" = [])), request_body = NewStaff,
    responses((status = 201, body = StaffMember), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffMember>), ApiError> {
    Ok((StatusCode::CREATED, Json(staff::create(&state.app, &ctx, input).await?)))
}

/// Changes a member's role; their sessions end and the change is audited.
#[utoipa::path(put, path = "/api/v1/staff/{id}/role", tag = "access", security(("bearer" = [])), request_body = ChangeRole,
    params(("id" = String, Path, description = "Staff id (stf_…)")),
    responses((status = 200, body = StaffMember), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change_role(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChangeRole>,
) -> Result<Json<StaffMember>, ApiError> {
    Ok(Json(staff::change_role(&state.app, &ctx, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Vec<RoleView>), (status = 403, body = Problem)))]
pub async fn roles(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Vec<RoleView>>, ApiError> {
    Ok(Json(roles::list(&state.app, &ctx).await?))
}

/// Composes a custom role. Needs `roles.manage` (owners).
#[utoipa::path(post, path = "/api/v1/roles", tag = "access", security(("bearer" = [])), request_body = RoleInput,
    responses((status = 201, body = RoleView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_role(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<(StatusCode, Json<RoleView>), ApiError> {
    Ok((StatusCode::CREATED, Json(roles::create(&state.app, &ctx, input).await?)))
}

#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = "access", security(("bearer" = [])), request_body = RoleInput,
    params(("id" = String, Path, description = "Custom role id (rol_…)")),
    responses((status = 200, body = RoleView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update_role(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<RoleView>, ApiError> {
    Ok(Json(roles::update(&state.app, &ctx, &id, input).await?))
}

/// Every permission a role or token can hold.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "access", responses((status = 200, body = Vec<PermissionView>)))]
pub async fn permissions() -> Json<Vec<PermissionView>> {
    Json(roles::permissions())
}
