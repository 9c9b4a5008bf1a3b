//! Roles: the built-in set every store has, and custom roles an owner
//! composes from permissions.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms};
use crate::db::roles;
use crate::domain::access::{BuiltinRole, parse_permissions};
use crate::domain::ids;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleView {
    /// The key to assign: a built-in role's name or a custom role's id.
    pub id: String,
    pub name: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    pub code: String,
    pub description: String,
}

pub fn permissions() -> Vec<PermissionView> {
    Permission::ALL
        .iter()
        .map(|p| PermissionView { code: p.code().into(), description: p.description().into() })
        .collect()
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<RoleView>> {
    ctx.actor.require(Permission::StaffRead)?;
    let mut out: Vec<RoleView> = BuiltinRole::ALL
        .iter()
        .map(|r| RoleView {
            id: r.key().into(),
            name: r.key().into(),
            builtin: true,
            permissions: r.permissions().iter().map(|p| p.code().to_string()).collect(),
        })
        .collect();
    for r in roles::list(app.db.pool(), &ctx.store.id).await? {
        out.push(RoleView { id: r.id, name: r.name, builtin: false, permissions: r.permissions });
    }
    Ok(out)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub name: String,
    pub permissions: Vec<String>,
}

fn validate(input: &RoleInput) -> ServiceResult<Vec<String>> {
    let mut errs = FieldErrors::default();
    errs.text("name", &input.name, 1, 60);
    if BuiltinRole::parse(input.name.trim()).is_some() {
        errs.add("name", "reserved", "this name belongs to a built-in role");
    }
    match parse_permissions(&input.permissions) {
        Ok(set) if set.is_empty() => errs.add("permissions", "required", "a role needs at least one permission"),
        Ok(set) => return errs.finish(set.iter().map(|p| p.code().to_string()).collect()).map_err(Into::into),
        Err(unknown) => {
            errs.add("permissions", "unknown_permission", format!("unknown permissions: {}", unknown.join(", ")))
        }
    }
    Err(errs.into())
}

pub async fn create(app: &App, ctx: &Ctx, input: RoleInput) -> ServiceResult<RoleView> {
    ctx.actor.require(Permission::RolesManage)?;
    let perms = validate(&input)?;
    let row = roles::RoleRow {
        id: ids::new_id("rol"),
        name: input.name.trim().to_string(),
        permissions: perms,
        created_at: now_ms(),
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = roles::insert(&mut tx, &ctx.store.id, &row).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict { code: "role_name_taken", message: "a role with this name exists".into() }
        } else {
            e.into()
        });
    }
    audit::record(
        app,
        &mut tx,
        ctx,
        "role.created",
        &row.id,
        json!({ "name": row.name, "permissions": row.permissions }),
    )
    .await?;
    tx.commit().await?;
    Ok(RoleView { id: row.id, name: row.name, builtin: false, permissions: row.permissions })
}

/// Changes a custom role's permissions. Members keep their sessions but
/// the new permissions apply to their next request, since permissions are
/// resolved from the role on every request.
pub async fn update(app: &App, ctx: &Ctx, id: &str, input: RoleInput) -> ServiceResult<RoleView> {
    ctx.actor.require(Permission::RolesManage)?;
    if !ids::is_valid("rol", id) {
        return Err(ServiceError::NotFound);
    }
    let perms = validate(&input)?;
    let before = roles::by_id(app.db.pool(), &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    let mut tx = app.db.begin().await?;
    roles::update_permissions(&mut tx, &ctx.store.id, id, &perms, now_ms()).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "role.changed",
        id,
        json!({ "before": { "permissions": before.permissions }, "after": { "permissions": perms } }),
    )
    .await?;
    tx.commit().await?;
    Ok(RoleView { id: id.to_string(), name: before.name, builtin: false, permissions: perms })
}
