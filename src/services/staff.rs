//! Staff accounts and their roles. Changing a role ends the member's
//! sessions (so new rights apply at once and a stolen session cannot keep
//! old ones) and is audited with the before and after.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission, PermissionSet};
use super::{App, ServiceError, ServiceResult, audit, auth, now_ms};
use crate::db::{roles, sessions, staff};
use crate::domain::access::{BuiltinRole, may_grant, parse_permissions};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::validation::{FieldErrors, is_plausible_email};

/// The permissions a role key grants in a store: a built-in role's name or
/// a custom role's id. `None` for a role that does not exist.
pub async fn role_permissions(app: &App, store_id: &str, role: &str) -> ServiceResult<Option<PermissionSet>> {
    if let Some(builtin) = BuiltinRole::parse(role) {
        return Ok(Some(builtin.permissions()));
    }
    if !ids::is_valid("rol", role) {
        return Ok(None);
    }
    Ok(roles::by_id(app.db.pool(), store_id, role)
        .await?
        .map(|r| parse_permissions(&r.permissions).unwrap_or_default()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffMember {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// A built-in role (`owner`, `order_manager`, …) or a custom role id.
    pub role: String,
}

fn slot<'a>(store_id: &'a str, id: &'a str, column: &'a str) -> Slot<'a> {
    Slot { table: "staff_users", column, store_id, row_id: id }
}

fn open(app: &App, r: staff::StaffRow) -> ServiceResult<StaffMember> {
    Ok(StaffMember {
        email: app.open(slot(&r.store_id, &r.id, "email"), &r.email_enc)?,
        display_name: app.open(slot(&r.store_id, &r.id, "display_name"), &r.display_name_enc)?,
        id: r.id,
        role: r.role,
    })
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<StaffMember>> {
    ctx.actor.require(Permission::StaffRead)?;
    staff::list(app.db.pool(), &ctx.store.id).await?.into_iter().map(|r| open(app, r)).collect()
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub email: String,
    pub display_name: String,
    /// Initial password; the member should change it at first sign-in.
    pub password: String,
    pub role: String,
}

/// Refuses a role the actor may not hand out: unknown, broader than the
/// actor's own rights, or `owner` when the actor is not an owner.
async fn check_grant(app: &App, ctx: &Ctx, role: &str) -> ServiceResult<()> {
    let Some(granted) = role_permissions(app, &ctx.store.id, role).await? else {
        let mut e = FieldErrors::default();
        e.add("role", "unknown_role", "no such role in this store");
        return Err(e.into());
    };
    let is_owner = matches!(&ctx.actor, super::Actor::Staff { role, .. } if role == "owner");
    if !may_grant(&ctx.actor.permissions(), &granted) || (role == "owner" && !is_owner) {
        return Err(ServiceError::Conflict {
            code: "role_exceeds_own_rights",
            message: "you can only grant roles whose permissions you hold yourself".into(),
        });
    }
    Ok(())
}

pub async fn create(app: &App, ctx: &Ctx, input: NewStaff) -> ServiceResult<StaffMember> {
    ctx.actor.require(Permission::StaffManage)?;
    let email = super::pii::normalise_email(&input.email);
    let mut errs = FieldErrors::default();
    if !is_plausible_email(&email) {
        errs.add("email", "invalid_format", "email must be a valid e-mail address");
    }
    errs.text("display_name", &input.display_name, 1, 100);
    if let Err(msg) = auth::check_password_strength(&input.password) {
        errs.add("password", "weak_password", msg);
    }
    errs.finish(())?;
    check_grant(app, ctx, &input.role).await?;
    let hash = auth::hash_password(&input.password).await?;
    let id = ids::new_id(ids::STAFF);
    let row = staff::StaffRow {
        id: id.clone(),
        store_id: ctx.store.id.clone(),
        email_index: app.email_index(&ctx.store.id, &email),
        email_enc: app.seal(slot(&ctx.store.id, &id, "email"), &email),
        display_name_enc: app.seal(slot(&ctx.store.id, &id, "display_name"), input.display_name.trim()),
        password_hash: hash,
        role: input.role.clone(),
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = staff::insert(&mut tx, &row, now_ms()).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict { code: "email_taken", message: "a staff member with this e-mail exists".into() }
        } else {
            e.into()
        });
    }
    audit::record(app, &mut tx, ctx, "staff.created", &id, json!({ "role": input.role })).await?;
    tx.commit().await?;
    open(app, row)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: String,
}

pub async fn change_role(app: &App, ctx: &Ctx, staff_id: &str, input: ChangeRole) -> ServiceResult<StaffMember> {
    ctx.actor.require(Permission::StaffManage)?;
    if !ids::is_valid(ids::STAFF, staff_id) {
        return Err(ServiceError::NotFound);
    }
    let current = staff::by_id(app.db.pool(), &ctx.store.id, staff_id).await?.ok_or(ServiceError::NotFound)?;
    check_grant(app, ctx, &input.role).await?;
    // Taking a role away needs the right to grant it, too.
    check_grant(app, ctx, &current.role).await?;
    let mut tx = app.db.begin().await?;
    if current.role == "owner"
        && input.role != "owner"
        && staff::count_with_role(&mut tx, &ctx.store.id, "owner").await? <= 1
    {
        return Err(ServiceError::Conflict { code: "last_owner", message: "a store needs at least one owner".into() });
    }
    staff::update_role(&mut tx, &ctx.store.id, staff_id, &input.role).await?;
    let ended = sessions::delete_for_principal(&mut tx, &ctx.store.id, "staff", staff_id).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "staff.role_changed",
        staff_id,
        json!({ "before": { "role": current.role }, "after": { "role": input.role }, "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    let updated = staff::by_id(app.db.pool(), &ctx.store.id, staff_id).await?.ok_or(ServiceError::NotFound)?;
    open(app, updated)
}
