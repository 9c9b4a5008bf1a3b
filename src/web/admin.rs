//! Admin pages: sign-in, the dashboard and the brand settings. Every form
//! carries a CSRF token; signed-in forms use the session's token, the
//! sign-in form a double-submit cookie.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::cookies;
use super::shell::{PageForm, Shell, error_page, render};
use crate::domain::locale::Language;
use crate::domain::validation::FieldError;
use crate::http::state::AppState;
use crate::services::actor::{Actor, Ctx};
use crate::services::auth::{self, Audience, LoginOutcome};
use crate::services::outbox::Event;
use crate::services::{ServiceError, stores, webhooks};

pub(super) struct StaffSession {
    pub(super) ctx: Ctx,
    pub(super) csrf: String,
    pub(super) token: String,
}

/// The signed-in staff member behind the session cookie, if any.
pub(super) async fn staff_session(state: &AppState, shell: &Shell, headers: &HeaderMap) -> Option<StaffSession> {
    for token in cookies::values(headers, cookies::SESSION) {
        if let Ok(Some((actor @ Actor::Staff { .. }, csrf))) = auth::authenticate(&state.app, &shell.store, token).await
        {
            return Some(StaffSession {
                ctx: Ctx { store: shell.store.clone(), actor, client_ip: shell.client_ip.clone() },
                csrf,
                token: token.to_string(),
            });
        }
    }
    None
}

pub(super) fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub(super) fn redirect_with_cookie(to: &str, cookie: Option<String>) -> Response {
    let mut res = Redirect::to(to).into_response();
    if let Some(v) = cookie.and_then(|c| c.parse().ok()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    shell: Shell,
    csrf: String,
    staff_id: String,
    events: Vec<Event>,
}

pub async fn home(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let Some(session) = staff_session(&state, &shell, &headers).await else {
        return Redirect::to(&shell.href("/admin/login")).into_response();
    };
    let events = webhooks::events(&state.app, &session.ctx, None, 10).await.unwrap_or_default();
    let staff_id = session.ctx.actor.principal();
    render(StatusCode::OK, &HomePage { shell, csrf: session.csrf, staff_id, events })
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    shell: Shell,
    csrf: String,
    email: String,
    error: Option<&'static str>,
}

pub(super) fn new_csrf() -> String {
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn login_page(
    shell: Shell,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    error: Option<&'static str>,
) -> Response {
    let csrf = new_csrf();
    let cookie = cookies::set(headers, cookies::CSRF, &csrf, &shell.base, 3600, true);
    let mut res = render(status, &LoginPage { shell, csrf, email, error });
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn login_form(shell: Shell, headers: HeaderMap) -> Response {
    login_page(shell, &headers, StatusCode::OK, String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let cookie_ok = cookies::values(&headers, cookies::CSRF).into_iter().any(|c| same_token(c, &form.csrf));
    if !cookie_ok {
        let msg = shell.t("form.csrf");
        return login_page(shell, &headers, StatusCode::FORBIDDEN, form.email, Some(msg));
    }
    let ctx = Ctx { store: shell.store.clone(), actor: Actor::Anonymous, client_ip: shell.client_ip.clone() };
    match auth::login(&state.app, &ctx, Audience::Staff, &form.email, &form.password).await {
        Ok(LoginOutcome::Session(session)) => session_cookie_redirect(&shell, &headers, &session),
        Ok(LoginOutcome::SecondFactor { challenge }) => {
            render(StatusCode::OK, &SecondFactorPage { shell, csrf: form.csrf, challenge, error: None })
        }
        Err(ServiceError::RateLimited { .. }) => {
            let msg = shell.t("admin.login_locked");
            login_page(shell, &headers, StatusCode::TOO_MANY_REQUESTS, form.email, Some(msg))
        }
        Err(ServiceError::InvalidCredentials) => {
            let msg = shell.t("admin.login_failed");
            login_page(shell, &headers, StatusCode::UNAUTHORIZED, form.email, Some(msg))
        }
        Err(e) => {
            tracing::error!(error = %e, "admin login failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn session_cookie_redirect(shell: &Shell, headers: &HeaderMap, session: &auth::NewSession) -> Response {
    let max_age = (session.expires_at - crate::services::now_ms()) / 1000;
    let cookie = cookies::set(headers, cookies::SESSION, &session.token, &shell.base, max_age, true);
    redirect_with_cookie(&shell.href("/admin"), Some(cookie))
}

#[derive(Template)]
#[template(path = "admin/login_totp.html")]
struct SecondFactorPage {
    shell: Shell,
    csrf: String,
    challenge: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct SecondFactorForm {
    challenge: String,
    code: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// The second sign-in step: the code from the authenticator app.
pub async fn login_totp_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<SecondFactorForm>,
) -> Response {
    if !cookies::values(&headers, cookies::CSRF).into_iter().any(|c| same_token(c, &form.csrf)) {
        let msg = shell.t("form.csrf");
        return login_page(shell, &headers, StatusCode::FORBIDDEN, String::new(), Some(msg));
    }
    let ctx = Ctx { store: shell.store.clone(), actor: Actor::Anonymous, client_ip: shell.client_ip.clone() };
    match auth::complete_second_factor(&state.app, &ctx, &form.challenge, &form.code).await {
        Ok(session) => session_cookie_redirect(&shell, &headers, &session),
        Err(ServiceError::RateLimited { .. }) => {
            let msg = shell.t("admin.login_locked");
            login_page(shell, &headers, StatusCode::TOO_MANY_REQUESTS, String::new(), Some(msg))
        }
        Err(ServiceError::InvalidCredentials) => {
            let msg = shell.t("admin.totp_failed");
            login_page(shell, &headers, StatusCode::UNAUTHORIZED, String::new(), Some(msg))
        }
        Err(e) => {
            tracing::error!(error = %e, "second factor failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfOnly>,
) -> Response {
    if let Some(session) = staff_session(&state, &shell, &headers).await {
        if !same_token(&session.csrf, &form.csrf) {
            return error_page(shell, StatusCode::FORBIDDEN);
        }
        if let Err(e) = auth::logout(&state.app, &shell.store, &session.token).await {
            tracing::error!(error = %e, "logout failed");
        }
    }
    let cookie = cookies::set(&headers, cookies::SESSION, "", &shell.base, 0, true);
    redirect_with_cookie(&shell.href("/admin/login"), Some(cookie))
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    shell: Shell,
    csrf: String,
    saved: bool,
    form: SettingsForm,
    errors: Vec<FieldError>,
    languages: [Language; 5],
}

impl SettingsPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Clone)]
pub struct SettingsForm {
    name: String,
    #[serde(default)]
    slogan: String,
    #[serde(default)]
    logo_url: String,
    primary_color: String,
    default_language: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings_form(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<SavedQuery>,
) -> Response {
    let Some(session) = staff_session(&state, &shell, &headers).await else {
        return Redirect::to(&shell.href("/admin/login")).into_response();
    };
    let b = &shell.store.brand;
    let form = SettingsForm {
        name: b.name.clone(),
        slogan: b.slogan.clone(),
        logo_url: b.logo_url.clone(),
        primary_color: b.primary_color.clone(),
        default_language: b.default_language.code().to_string(),
        csrf: String::new(),
    };
    render(
        StatusCode::OK,
        &SettingsPage {
            shell,
            csrf: session.csrf,
            saved: q.saved.is_some(),
            form,
            errors: Vec::new(),
            languages: Language::ALL,
        },
    )
}

pub async fn settings_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<SettingsForm>,
) -> Response {
    let Some(session) = staff_session(&state, &shell, &headers).await else {
        return Redirect::to(&shell.href("/admin/login")).into_response();
    };
    if !same_token(&session.csrf, &form.csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    let Some(lang) = Language::parse(&form.default_language) else {
        return error_page(shell, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let input = stores::UpdateBranding {
        name: form.name.clone(),
        slogan: form.slogan.clone(),
        logo_url: form.logo_url.clone(),
        primary_color: form.primary_color.clone(),
        default_language: lang,
    };
    match stores::update_branding(&state.app, &session.ctx, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/settings?saved=1")).into_response(),
        Err(ServiceError::Validation(errs)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage { shell, csrf: session.csrf, saved: false, form, errors: errs.0, languages: Language::ALL },
        ),
        Err(ServiceError::Forbidden(_)) => error_page(shell, StatusCode::FORBIDDEN),
        Err(e) => {
            tracing::error!(error = %e, "saving settings failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
