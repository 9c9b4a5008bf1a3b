//! Admin pages for access control: staff members and their roles, the
//! custom-role editor, API tokens, the audit log viewer, and the member's
//! own security settings. They call the same services as the API, so the
//! same permission checks apply; the pages only translate and lay out.

use std::collections::BTreeSet;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::{StaffSession, same_token, staff_session};
use super::shell::{Shell, error_page, render};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::services::actor::Permission;
use crate::services::audit::{self, AuditEntry, AuditQuery};
use crate::services::mfa::{self, CodeInput, SecuritySettings, TotpSetup};
use crate::services::roles::{self, PermissionView, RoleInput, RoleView};
use crate::services::staff::{self, ChangeRole, NewStaff, StaffMember};
use crate::services::tokens::{self, NewToken, TokenView};
use crate::services::{ServiceError, ServiceResult, auth};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(staff_page).post(staff_create))
        .route("/admin/staff/{id}/role", post(staff_role))
        .route("/admin/roles", get(roles_page).post(role_create))
        .route("/admin/roles/{id}", post(role_update))
        .route("/admin/tokens", get(tokens_page).post(token_create))
        .route("/admin/tokens/{id}/revoke", post(token_revoke))
        .route("/admin/audit", get(audit_page))
        .route("/admin/security", get(security_page))
        .route("/admin/security/totp", post(totp_setup))
        .route("/admin/security/totp/enable", post(totp_enable))
        .route("/admin/security/settings", post(security_settings))
        .route("/admin/security/logout-everywhere", post(logout_everywhere))
}

/// A url-encoded form as pairs, so repeated fields (checkboxes) survive.
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    pub(super) fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every (name, value) pair, in the order sent.
    pub(super) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub(super) fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a url-encoded form",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            let (status, code) = if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                (rej.status(), "payload_too_large")
            } else {
                (StatusCode::BAD_REQUEST, "invalid_form")
            };
            ApiError::new(status, code, rej.body_text())
        })?;
        Ok(FormPairs(url::form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

// ---- texts: field names, problems, permissions and built-in roles ----

/// The text key of the label of a form field a service names in an error.
fn field_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "email" => "form.email",
        "display_name" => "access.display_name",
        "password" => "access.initial_password",
        "role" => "access.role",
        "name" => "access.role_name",
        "permissions" => "access.permissions",
        "expires_at" | "expires_days" => "access.expires",
        "code" => "admin.totp_code",
        _ => return None,
    })
}

/// The text key for a service's error code; `None` for a code without a
/// translation, whose (English) message is shown instead.
fn problem_key(field: &str, code: &str) -> Option<&'static str> {
    Some(match (field, code) {
        ("permissions", "required") => "access.err.no_permissions",
        (_, "required") => "access.err.required",
        (_, "too_long") => "access.err.too_long",
        (_, "invalid_characters") => "access.err.invalid_characters",
        ("email", "invalid_format") => "access.err.email",
        (_, "weak_password") => "account.weak_password",
        (_, "unknown_role") => "access.err.unknown_role",
        (_, "reserved") => "access.err.reserved",
        (_, "unknown_permission") => "access.err.unknown_permission",
        (_, "in_the_past") => "access.err.in_the_past",
        (_, "invalid_days") => "access.err.days",
        (_, "email_taken") => "account.email_taken",
        (_, "role_exceeds_own_rights") => "access.err.role_exceeds_own_rights",
        (_, "scope_exceeds_own_rights") => "access.err.scope_exceeds_own_rights",
        (_, "last_owner") => "access.err.last_owner",
        (_, "role_name_taken") => "access.err.role_name_taken",
        (_, "invalid_code") => "access.err.invalid_code",
        (_, "mfa_already_enabled") => "access.err.mfa_already_enabled",
        _ => return None,
    })
}

/// The text keys of the permissions' descriptions: `access.perm.` and the
/// permission's code.
const PERMISSION_KEYS: &[&str] = &[
    "access.perm.settings.manage",
    "access.perm.staff.read",
    "access.perm.staff.manage",
    "access.perm.roles.manage",
    "access.perm.tokens.manage",
    "access.perm.audit.read",
    "access.perm.webhooks.manage",
    "access.perm.events.read",
    "access.perm.customers.read",
    "access.perm.customers.manage",
    "access.perm.catalog.read",
    "access.perm.catalog.manage",
    "access.perm.orders.read",
    "access.perm.orders.manage",
    "access.perm.inventory.read",
    "access.perm.inventory.manage",
    "access.perm.payments.read",
    "access.perm.payments.manage",
    "access.perm.ledger.read",
    "access.perm.reports.read",
    "access.perm.support.manage",
];

/// The text keys of the built-in roles' names: `access.role.` and the key.
const ROLE_KEYS: &[&str] = &[
    "access.role.owner",
    "access.role.administrator",
    "access.role.catalog_manager",
    "access.role.order_manager",
    "access.role.warehouse",
    "access.role.support_agent",
    "access.role.accountant",
    "access.role.analyst",
];

fn key_for(keys: &'static [&'static str], prefix: &str, code: &str) -> Option<&'static str> {
    keys.iter().copied().find(|k| k.strip_prefix(prefix) == Some(code))
}

/// What a permission allows, in the visitor's language (English for a
/// permission newer than the translations).
fn permission_text(shell: &Shell, p: &PermissionView) -> String {
    key_for(PERMISSION_KEYS, "access.perm.", &p.code).map(|k| shell.t(k).to_string()).unwrap_or(p.description.clone())
}

/// A role's name as shown: a built-in role's in the visitor's language, a
/// custom role's as its owner named it.
fn role_label(shell: &Shell, r: &RoleView) -> String {
    match key_for(ROLE_KEYS, "access.role.", &r.id) {
        Some(k) if r.builtin => shell.t(k).to_string(),
        _ => r.name.clone(),
    }
}

/// A time in Unix milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC).
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

/// One permission checkbox.
struct PermChoice {
    code: String,
    label: String,
    checked: bool,
}

fn choices(shell: &Shell, all: &[PermissionView], checked: &[String]) -> Vec<PermChoice> {
    all.iter()
        .map(|p| PermChoice {
            code: p.code.clone(),
            label: permission_text(shell, p),
            checked: checked.contains(&p.code),
        })
        .collect()
}

fn holds(s: &StaffSession, p: Permission) -> bool {
    s.ctx.actor.require(p).is_ok()
}

// ---- outcome of a post ----

/// What a page shows after a post: a notice, or the errors to correct.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    errors: Vec<String>,
}

impl Outcome {
    /// The status and the translated messages for a refused change.
    fn from_error(shell: &Shell, e: ServiceError) -> (StatusCode, Outcome) {
        let text = |field: &str, code: &str, message: String| {
            let what = problem_key(field, code).map(|k| shell.t(k).to_string()).unwrap_or(message);
            match field_key(field) {
                Some(label) => format!("{}: {what}", shell.t(label)),
                None => what,
            }
        };
        let (status, errors) = match e {
            ServiceError::Validation(f) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                f.0.into_iter().map(|e| text(&e.field, &e.code, e.message)).collect(),
            ),
            ServiceError::Conflict { code, message } => (StatusCode::CONFLICT, vec![text("", code, message)]),
            ServiceError::Forbidden(p) => {
                (StatusCode::FORBIDDEN, vec![format!("{} ({})", shell.t("error.forbidden"), p.code())])
            }
            ServiceError::NotFound => (StatusCode::NOT_FOUND, vec![shell.t("access.err.not_found").to_string()]),
            ServiceError::RateLimited { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, vec![shell.t("access.err.rate_limited").to_string()])
            }
            other => {
                tracing::error!(error = %other, "admin access page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, vec![shell.t("error.internal").to_string()])
            }
        };
        (status, Outcome { notice: None, errors })
    }
}

/// The signed-in staff member, or the answer to give instead.
pub(super) async fn signed_in(state: &AppState, shell: &Shell, headers: &HeaderMap) -> Result<StaffSession, Response> {
    staff_session(state, shell, headers).await.ok_or_else(|| Redirect::to(&shell.href("/admin/login")).into_response())
}

/// As `signed_in`, for a form post whose CSRF token must match.
pub(super) async fn signed_in_post(
    state: &AppState,
    shell: &Shell,
    headers: &HeaderMap,
    form: &FormPairs,
) -> Result<StaffSession, Response> {
    let s = signed_in(state, shell, headers).await?;
    if !same_token(&s.csrf, &form.get("_csrf")) {
        return Err(error_page(shell.clone(), StatusCode::FORBIDDEN));
    }
    Ok(s)
}

/// Back to the list after a change (post/redirect/get).
fn done(shell: &Shell, path: &str) -> Response {
    Redirect::to(&shell.href(&format!("{path}?done=1"))).into_response()
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice(shell: &Shell, q: &DoneQuery) -> Outcome {
    Outcome { notice: q.done.as_ref().map(|_| shell.t("access.done")), errors: vec![] }
}

/// A page's data, or the error page when the member may not see it.
// The error is the response itself, built once on a cold path: boxing it
// would buy nothing.
#[allow(clippy::result_large_err)]
fn or_error<T>(shell: &Shell, r: ServiceResult<T>) -> Result<T, Response> {
    r.map_err(|e| match e {
        ServiceError::Forbidden(_) => error_page(shell.clone(), StatusCode::FORBIDDEN),
        other => {
            tracing::error!(error = %other, "admin access page failed");
            error_page(shell.clone(), StatusCode::INTERNAL_SERVER_ERROR)
        }
    })
}

// ---- staff ----

/// A role to pick in a `<select>`.
struct RoleChoice {
    id: String,
    label: String,
}

/// What the add-staff form shows again after a refusal (never the password).
#[derive(Default)]
struct StaffDraft {
    email: String,
    display_name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    shell: Shell,
    csrf: String,
    staff: Vec<StaffMember>,
    roles: Vec<RoleChoice>,
    can_manage: bool,
    draft: StaffDraft,
    outcome: Outcome,
}

impl StaffPage {
    fn role_of(&self, role: &str) -> String {
        self.roles.iter().find(|r| r.id == role).map(|r| r.label.clone()).unwrap_or_else(|| role.to_string())
    }
}

async fn render_staff(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
    draft: StaffDraft,
) -> Response {
    let staff = or_respond!(or_error(&shell, staff::list(&state.app, &s.ctx).await));
    let roles = match or_error(&shell, roles::list(&state.app, &s.ctx).await) {
        Ok(v) => v.iter().map(|r| RoleChoice { id: r.id.clone(), label: role_label(&shell, r) }).collect(),
        Err(r) => return r,
    };
    let can_manage = holds(&s, Permission::StaffManage);
    render(status, &StaffPage { shell, csrf: s.csrf, staff, roles, can_manage, draft, outcome })
}

async fn staff_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    match signed_in(&state, &shell, &headers).await {
        Ok(s) => {
            let outcome = notice(&shell, &q);
            render_staff(&state, shell, s, StatusCode::OK, outcome, StaffDraft::default()).await
        }
        Err(r) => r,
    }
}

async fn staff_create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = NewStaff {
        email: form.get("email"),
        display_name: form.get("display_name"),
        password: form.get("password"),
        role: form.get("role"),
    };
    let draft =
        StaffDraft { email: input.email.clone(), display_name: input.display_name.clone(), role: input.role.clone() };
    match staff::create(&state.app, &s.ctx, input).await {
        Ok(_) => done(&shell, "/admin/staff"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_staff(&state, shell, s, status, outcome, draft).await
        }
    }
}

async fn staff_role(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match staff::change_role(&state.app, &s.ctx, &id, ChangeRole { role: form.get("role") }).await {
        Ok(_) => done(&shell, "/admin/staff"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_staff(&state, shell, s, status, outcome, StaffDraft::default()).await
        }
    }
}

// ---- roles ----

/// A role with its permissions; a custom one with its checkboxes.
struct RoleItem {
    id: String,
    label: String,
    builtin: bool,
    /// How many permissions the role holds.
    held: usize,
    permissions: Vec<PermChoice>,
}

/// What the new-role form shows again after a refusal.
#[derive(Default)]
struct RoleDraft {
    name: String,
    permissions: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    shell: Shell,
    csrf: String,
    roles: Vec<RoleItem>,
    new_role: Vec<PermChoice>,
    can_manage: bool,
    draft: RoleDraft,
    outcome: Outcome,
}

async fn render_roles(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
    draft: RoleDraft,
) -> Response {
    let views = or_respond!(or_error(&shell, roles::list(&state.app, &s.ctx).await));
    let all = roles::permissions();
    let roles = views
        .iter()
        .map(|r| RoleItem {
            id: r.id.clone(),
            label: role_label(&shell, r),
            builtin: r.builtin,
            held: r.permissions.len(),
            permissions: if r.builtin {
                all.iter()
                    .filter(|p| r.permissions.contains(&p.code))
                    .map(|p| PermChoice { code: p.code.clone(), label: permission_text(&shell, p), checked: true })
                    .collect()
            } else {
                choices(&shell, &all, &r.permissions)
            },
        })
        .collect();
    let new_role = choices(&shell, &all, &draft.permissions);
    let can_manage = holds(&s, Permission::RolesManage);
    render(status, &RolesPage { shell, csrf: s.csrf, roles, new_role, can_manage, draft, outcome })
}

async fn roles_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    match signed_in(&state, &shell, &headers).await {
        Ok(s) => {
            let outcome = notice(&shell, &q);
            render_roles(&state, shell, s, StatusCode::OK, outcome, RoleDraft::default()).await
        }
        Err(r) => r,
    }
}

async fn role_create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let draft = RoleDraft { name: form.get("name"), permissions: form.all("permissions") };
    let input = RoleInput { name: draft.name.clone(), permissions: draft.permissions.clone() };
    match roles::create(&state.app, &s.ctx, input).await {
        Ok(_) => done(&shell, "/admin/roles"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_roles(&state, shell, s, status, outcome, draft).await
        }
    }
}

async fn role_update(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = RoleInput { name: form.get("name"), permissions: form.all("permissions") };
    match roles::update(&state.app, &s.ctx, &id, input).await {
        Ok(_) => done(&shell, "/admin/roles"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_roles(&state, shell, s, status, outcome, RoleDraft::default()).await
        }
    }
}

// ---- API tokens ----

/// A token as listed, its times formatted.
struct TokenRow {
    id: String,
    name: String,
    permissions: Vec<String>,
    created: String,
    expires: Option<String>,
    expired: bool,
    last_used: Option<String>,
    revoked: Option<String>,
}

impl TokenRow {
    fn new(t: TokenView, now: i64) -> TokenRow {
        TokenRow {
            expired: t.expires_at.is_some_and(|e| e <= now),
            created: utc(t.created_at),
            expires: t.expires_at.map(utc),
            last_used: t.last_used_at.map(utc),
            revoked: t.revoked_at.map(utc),
            id: t.id,
            name: t.name,
            permissions: t.permissions,
        }
    }
}

/// What the new-token form shows again after a refusal.
#[derive(Default)]
struct TokenDraft {
    name: String,
    expires_days: String,
    permissions: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    shell: Shell,
    csrf: String,
    tokens: Vec<TokenRow>,
    /// The permissions a new token may carry: those the member holds.
    grantable: Vec<PermChoice>,
    /// The secret of a token just created: shown this once.
    secret: Option<String>,
    draft: TokenDraft,
    outcome: Outcome,
}

async fn render_tokens(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
    secret: Option<String>,
    draft: TokenDraft,
) -> Response {
    let list = or_respond!(or_error(&shell, tokens::list(&state.app, &s.ctx).await));
    let now = crate::services::now_ms();
    let tokens = list.into_iter().map(|t| TokenRow::new(t, now)).collect();
    let held: BTreeSet<&str> = s.ctx.actor.permissions().iter().map(|p| p.code()).collect();
    let all: Vec<PermissionView> =
        roles::permissions().into_iter().filter(|p| held.contains(p.code.as_str())).collect();
    let grantable = choices(&shell, &all, &draft.permissions);
    let page = TokensPage { shell, csrf: s.csrf, tokens, grantable, secret, draft, outcome };
    let mut res = render(status, &page);
    // The page may carry a secret: keep it out of every cache.
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

async fn tokens_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    match signed_in(&state, &shell, &headers).await {
        Ok(s) => {
            let outcome = notice(&shell, &q);
            render_tokens(&state, shell, s, StatusCode::OK, outcome, None, TokenDraft::default()).await
        }
        Err(r) => r,
    }
}

/// The longest lifetime the form offers, in days (ten years).
const MAX_TOKEN_DAYS: i64 = 3650;

async fn token_create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let draft = TokenDraft {
        name: form.get("name"),
        expires_days: form.get("expires_days"),
        permissions: form.all("permissions"),
    };
    let days = draft.expires_days.trim();
    let expires_at = if days.is_empty() {
        None
    } else {
        match days.parse::<i64>() {
            Ok(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Some(crate::services::now_ms() + d * 24 * 60 * 60 * 1000),
            _ => {
                let mut errs = crate::domain::validation::FieldErrors::default();
                errs.add("expires_days", "invalid_days", "expires_days must be a whole number from 1 to 3650");
                let (status, outcome) = Outcome::from_error(&shell, errs.into());
                return render_tokens(&state, shell, s, status, outcome, None, draft).await;
            }
        }
    };
    let input = NewToken { name: draft.name.clone(), permissions: draft.permissions.clone(), expires_at };
    match tokens::create(&state.app, &s.ctx, input).await {
        Ok(created) => {
            let outcome = Outcome { notice: Some(shell.t("access.token_created")), errors: vec![] };
            let secret = Some(created.secret);
            render_tokens(&state, shell, s, StatusCode::CREATED, outcome, secret, TokenDraft::default()).await
        }
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_tokens(&state, shell, s, status, outcome, None, draft).await
        }
    }
}

async fn token_revoke(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match tokens::revoke(&state.app, &s.ctx, &id).await {
        Ok(()) => done(&shell, "/admin/tokens"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_tokens(&state, shell, s, status, outcome, None, TokenDraft::default()).await
        }
    }
}

// ---- audit log ----

/// Entries per page of the audit log.
const AUDIT_PAGE: usize = 50;

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    csrf: String,
    entries: Vec<AuditEntry>,
    action: String,
    actor: String,
    target: String,
    /// The next, older page, when there may be one.
    older: Option<String>,
    /// The first page with the same filters, when this is not it.
    newest: Option<String>,
}

impl AuditPage {
    fn when(&self, at: &i64) -> String {
        utc(*at)
    }
}

#[derive(Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    /// The cursor; anything but a number starts from the newest entry.
    #[serde(default)]
    before: String,
}

async fn audit_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(f): Query<AuditFilter>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let before = f.before.trim().parse::<i64>().ok();
    let query = AuditQuery {
        action: opt(&f.action),
        actor: opt(&f.actor),
        target: opt(&f.target),
        before,
        limit: Some(AUDIT_PAGE as i64),
    };
    let entries = or_respond!(or_error(&shell, audit::search(&state.app, &s.ctx, &query).await));
    let filters = serde_urlencoded::to_string([
        ("action", f.action.trim()),
        ("actor", f.actor.trim()),
        ("target", f.target.trim()),
    ])
    .unwrap_or_default();
    let older = match entries.last() {
        Some(last) if entries.len() == AUDIT_PAGE => {
            Some(shell.href(&format!("/admin/audit?{filters}&before={}", last.seq)))
        }
        _ => None,
    };
    let newest = before.map(|_| shell.href(&format!("/admin/audit?{filters}")));
    render(
        StatusCode::OK,
        &AuditPage { shell, csrf: s.csrf, entries, action: f.action, actor: f.actor, target: f.target, older, newest },
    )
}
// ---- own security: second factor, sessions; store security settings ----

#[derive(Template)]
#[template(path = "admin/security.html")]
struct SecurityPage {
    shell: Shell,
    csrf: String,
    mfa_enabled: bool,
    setup: Option<TotpSetup>,
    may_set_policy: bool,
    outcome: Outcome,
}

async fn render_security(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
    setup: Option<TotpSetup>,
) -> Response {
    let id = s.ctx.actor.principal();
    let mfa_enabled = mfa::is_enabled(&state.app, &shell.store.id, &id).await.unwrap_or(false);
    let may_set_policy = s.ctx.actor.require(crate::services::Permission::RolesManage).is_ok();
    let mut res = render(status, &SecurityPage { shell, csrf: s.csrf, mfa_enabled, setup, may_set_policy, outcome });
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

async fn security_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    match signed_in(&state, &shell, &headers).await {
        Ok(s) => {
            let outcome = notice(&shell, &q);
            render_security(&state, shell, s, StatusCode::OK, outcome, None).await
        }
        Err(r) => r,
    }
}

async fn totp_setup(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match mfa::setup(&state.app, &s.ctx).await {
        Ok(setup) => render_security(&state, shell, s, StatusCode::OK, Outcome::default(), Some(setup)).await,
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_security(&state, shell, s, status, outcome, None).await
        }
    }
}

async fn totp_enable(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match mfa::enable(&state.app, &s.ctx, CodeInput { code: form.get("code") }).await {
        Ok(()) => done(&shell, "/admin/security"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_security(&state, shell, s, status, outcome, None).await
        }
    }
}

async fn security_settings(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = SecuritySettings { require_owner_mfa: form.get("require_owner_mfa") == "on" };
    match mfa::update_settings(&state.app, &s.ctx, input).await {
        Ok(()) => done(&shell, "/admin/security"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(&shell, e);
            render_security(&state, shell, s, status, outcome, None).await
        }
    }
}

async fn logout_everywhere(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    if let Err(e) = auth::logout_everywhere(&state.app, &s.ctx).await {
        tracing::error!(error = %e, "logout everywhere failed");
        return error_page(shell, StatusCode::INTERNAL_SERVER_ERROR);
    }
    Redirect::to(&shell.href("/admin/login")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::BuiltinRole;
    use crate::domain::locale::Language;

    fn translated(key: &'static str) -> bool {
        Language::ALL.iter().all(|l| crate::i18n::t(*l, key) != key)
    }

    #[test]
    fn i18n_names_every_permission_and_builtin_role() {
        assert_eq!(PERMISSION_KEYS.len(), Permission::ALL.len());
        for p in Permission::ALL {
            let key = key_for(PERMISSION_KEYS, "access.perm.", p.code());
            assert!(key.is_some_and(translated), "no text for permission {}", p.code());
        }
        assert_eq!(ROLE_KEYS.len(), BuiltinRole::ALL.len());
        for r in BuiltinRole::ALL {
            let key = key_for(ROLE_KEYS, "access.role.", r.key());
            assert!(key.is_some_and(translated), "no text for role {}", r.key());
        }
    }

    #[test]
    fn i18n_explains_the_services_refusals() {
        let problems = [
            ("email", "invalid_format"),
            ("display_name", "required"),
            ("name", "too_long"),
            ("name", "invalid_characters"),
            ("name", "reserved"),
            ("password", "weak_password"),
            ("role", "unknown_role"),
            ("permissions", "required"),
            ("permissions", "unknown_permission"),
            ("expires_at", "in_the_past"),
            ("expires_days", "invalid_days"),
            ("code", "invalid_code"),
            ("", "email_taken"),
            ("", "role_exceeds_own_rights"),
            ("", "scope_exceeds_own_rights"),
            ("", "last_owner"),
            ("", "role_name_taken"),
            ("", "mfa_already_enabled"),
        ];
        for (field, code) in problems {
            assert!(problem_key(field, code).is_some_and(translated), "{field}/{code}");
            if !field.is_empty() {
                assert!(field_key(field).is_some_and(translated), "{field}");
            }
        }
        for key in ["access.err.not_found", "access.err.rate_limited", "access.done", "error.forbidden"] {
            assert!(translated(key), "{key}");
        }
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_700_000_000_999), "2023-11-14 22:13:20");
    }
}
