//! Admin pages for access control: staff members and their roles, the
//! custom-role editor, API tokens, and the audit log viewer. They call the
//! same services as the API, so the same permission checks apply.

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
    fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a url-encoded form",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            let status =
                if rej.status() == StatusCode::PAYLOAD_TOO_LARGE { rej.status() } else { StatusCode::BAD_REQUEST };
            ApiError::new(status, "invalid_form", rej.body_text())
        })?;
        Ok(FormPairs(url::form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

/// What a page shows after a post: a notice, or the errors to correct.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    errors: Vec<String>,
}

impl Outcome {
    fn from_error(e: ServiceError) -> (StatusCode, Outcome) {
        let (status, errors) = match e {
            ServiceError::Validation(f) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                f.0.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
            ),
            ServiceError::Conflict { message, .. } => (StatusCode::CONFLICT, vec![message]),
            ServiceError::Forbidden(p) => (StatusCode::FORBIDDEN, vec![format!("this needs the {p} permission")]),
            ServiceError::NotFound => (StatusCode::NOT_FOUND, vec!["not found".into()]),
            ServiceError::RateLimited { retry_after_secs } => {
                (StatusCode::TOO_MANY_REQUESTS, vec![format!("too many attempts; retry in {retry_after_secs} s")])
            }
            other => {
                tracing::error!(error = %other, "admin access page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, vec!["internal error".into()])
            }
        };
        (status, Outcome { notice: None, errors })
    }
}

/// The signed-in staff member, or the answer to give instead.
async fn signed_in(state: &AppState, shell: &Shell, headers: &HeaderMap) -> Result<StaffSession, Response> {
    staff_session(state, shell, headers).await.ok_or_else(|| Redirect::to(&shell.href("/admin/login")).into_response())
}

/// As `signed_in`, for a form post whose CSRF token must match.
async fn signed_in_post(
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

fn done(shell: &Shell, path: &str) -> Response {
    Redirect::to(&shell.href(&format!("{path}?done=1"))).into_response()
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice(shell: &Shell, q: &DoneQuery) -> Outcome {
    Outcome { notice: q.done.as_ref().map(|_| shell.t("settings.saved")), errors: vec![] }
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

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    shell: Shell,
    csrf: String,
    staff: Vec<StaffMember>,
    roles: Vec<RoleView>,
    outcome: Outcome,
}

async fn render_staff(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let staff = match or_error(&shell, staff::list(&state.app, &s.ctx).await) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let roles = roles::list(&state.app, &s.ctx).await.unwrap_or_default();
    render(status, &StaffPage { shell, csrf: s.csrf, staff, roles, outcome })
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
            render_staff(&state, shell, s, StatusCode::OK, outcome).await
        }
        Err(r) => r,
    }
}

async fn staff_create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let input = NewStaff {
        email: form.get("email"),
        display_name: form.get("display_name"),
        password: form.get("password"),
        role: form.get("role"),
    };
    match staff::create(&state.app, &s.ctx, input).await {
        Ok(_) => done(&shell, "/admin/staff"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_staff(&state, shell, s, status, outcome).await
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
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match staff::change_role(&state.app, &s.ctx, &id, ChangeRole { role: form.get("role") }).await {
        Ok(_) => done(&shell, "/admin/staff"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_staff(&state, shell, s, status, outcome).await
        }
    }
}

// ---- roles ----

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    shell: Shell,
    csrf: String,
    roles: Vec<RoleView>,
    permissions: Vec<PermissionView>,
    outcome: Outcome,
}

async fn render_roles(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let roles = match or_error(&shell, roles::list(&state.app, &s.ctx).await) {
        Ok(v) => v,
        Err(r) => return r,
    };
    render(status, &RolesPage { shell, csrf: s.csrf, roles, permissions: roles::permissions(), outcome })
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
            render_roles(&state, shell, s, StatusCode::OK, outcome).await
        }
        Err(r) => r,
    }
}

async fn role_create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match roles::create(&state.app, &s.ctx, RoleInput { name: form.get("name"), permissions: form.all("permissions") })
        .await
    {
        Ok(_) => done(&shell, "/admin/roles"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_roles(&state, shell, s, status, outcome).await
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
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match roles::update(
        &state.app,
        &s.ctx,
        &id,
        RoleInput { name: form.get("name"), permissions: form.all("permissions") },
    )
    .await
    {
        Ok(_) => done(&shell, "/admin/roles"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_roles(&state, shell, s, status, outcome).await
        }
    }
}

// ---- API tokens ----

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    shell: Shell,
    csrf: String,
    tokens: Vec<TokenView>,
    permissions: Vec<PermissionView>,
    /// The secret of a token just created: shown this once.
    secret: Option<String>,
    outcome: Outcome,
}

async fn render_tokens(
    state: &AppState,
    shell: Shell,
    s: StaffSession,
    status: StatusCode,
    outcome: Outcome,
    secret: Option<String>,
) -> Response {
    let tokens = match or_error(&shell, tokens::list(&state.app, &s.ctx).await) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut res =
        render(status, &TokensPage { shell, csrf: s.csrf, tokens, permissions: roles::permissions(), secret, outcome });
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
            render_tokens(&state, shell, s, StatusCode::OK, outcome, None).await
        }
        Err(r) => r,
    }
}

async fn token_create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let days: Option<i64> = form.get("expires_days").trim().parse().ok().filter(|d| *d > 0);
    let input = NewToken {
        name: form.get("name"),
        permissions: form.all("permissions"),
        expires_at: days.map(|d| crate::services::now_ms() + d * 24 * 60 * 60 * 1000),
    };
    match tokens::create(&state.app, &s.ctx, input).await {
        Ok(created) => {
            let outcome = Outcome { notice: Some(shell.t("access.token_created")), errors: vec![] };
            render_tokens(&state, shell, s, StatusCode::CREATED, outcome, Some(created.secret)).await
        }
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_tokens(&state, shell, s, status, outcome, None).await
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
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match tokens::revoke(&state.app, &s.ctx, &id).await {
        Ok(()) => done(&shell, "/admin/tokens"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_tokens(&state, shell, s, status, outcome, None).await
        }
    }
}

// ---- audit log ----

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    csrf: String,
    entries: Vec<AuditEntry>,
    action: String,
    actor: String,
    target: String,
    older: Option<String>,
}

impl AuditPage {
    fn when(&self, at: &i64) -> String {
        chrono::DateTime::from_timestamp_millis(*at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
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
    before: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(f): Query<AuditFilter>,
) -> Response {
    let s = match signed_in(&state, &shell, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let query = AuditQuery {
        action: opt(&f.action),
        actor: opt(&f.actor),
        target: opt(&f.target),
        before: f.before,
        limit: Some(50),
    };
    let entries = match or_error(&shell, audit::search(&state.app, &s.ctx, &query).await) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let older = (entries.len() == 50).then(|| {
        let last = entries.last().map(|e| e.seq).unwrap_or(0);
        let q = serde_urlencoded::to_string([("action", &f.action), ("actor", &f.actor), ("target", &f.target)])
            .unwrap_or_default();
        shell.href(&format!("/admin/audit?{q}&before={last}"))
    });
    render(
        StatusCode::OK,
        &AuditPage { shell, csrf: s.csrf, entries, action: f.action, actor: f.actor, target: f.target, older },
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
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match mfa::setup(&state.app, &s.ctx).await {
        Ok(setup) => render_security(&state, shell, s, StatusCode::OK, Outcome::default(), Some(setup)).await,
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
            render_security(&state, shell, s, status, outcome, None).await
        }
    }
}

async fn totp_enable(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match mfa::enable(&state.app, &s.ctx, CodeInput { code: form.get("code") }).await {
        Ok(()) => done(&shell, "/admin/security"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
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
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let input = SecuritySettings { require_owner_mfa: form.get("require_owner_mfa") == "on" };
    match mfa::update_settings(&state.app, &s.ctx, input).await {
        Ok(()) => done(&shell, "/admin/security"),
        Err(e) => {
            let (status, outcome) = Outcome::from_error(e);
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
    let s = match signed_in_post(&state, &shell, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = auth::logout_everywhere(&state.app, &s.ctx).await {
        tracing::error!(error = %e, "logout everywhere failed");
        return error_page(shell, StatusCode::INTERNAL_SERVER_ERROR);
    }
    Redirect::to(&shell.href("/admin/login")).into_response()
}
