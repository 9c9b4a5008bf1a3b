//! Customer account pages: sign-up, sign-in, password reset, e-mail
//! verification, the profile and addresses, and the customer's own data
//! (download, erasure). Every form carries a CSRF token: the session's once
//! signed in, a double-submit cookie before.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::{new_csrf, redirect_with_cookie, same_token};
use super::cookies;
use super::shell::{PageForm, Shell, error_page, render};
use crate::domain::addresses::Address;
use crate::domain::validation::FieldError;
use crate::http::state::AppState;
use crate::services::actor::{Actor, Ctx};
use crate::services::addresses::SavedAddress;
use crate::services::auth::{self, Audience, LoginOutcome};
use crate::services::customers::{self, Customer, SignUp, UpdateProfile};
use crate::services::recovery::{self, ResetConfirm};
use crate::services::{ServiceError, addresses, privacy};

/// Customers have their own cookie so one browser can hold a staff and a
/// customer session side by side.
const SESSION: &str = "oxcart_account";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(home))
        .route("/account/signup", get(signup_form).post(signup_submit))
        .route("/account/login", get(login_form).post(login_submit))
        .route("/account/logout", post(logout))
        .route("/account/profile", post(profile_submit))
        .route("/account/addresses", post(address_create))
        .route("/account/addresses/{id}", post(address_update))
        .route("/account/addresses/{id}/delete", post(address_delete))
        .route("/account/export", get(export))
        .route("/account/gift-card", post(gift_card_check))
        .route("/account/store-credit/top-up", post(top_up))
        .route("/account/erasure", post(erasure))
        .route("/account/verify", get(verify_form).post(verify_submit))
        .route("/account/reset", get(reset_form).post(reset_request))
        .route("/account/reset/confirm", post(reset_confirm))
}

struct CustomerSession {
    ctx: Ctx,
    csrf: String,
}

async fn session(state: &AppState, shell: &Shell, headers: &HeaderMap) -> Option<CustomerSession> {
    for token in cookies::values(headers, SESSION) {
        if let Ok(Some((actor @ Actor::Customer { .. }, csrf))) =
            auth::authenticate(&state.app, &shell.store, token).await
        {
            return Some(CustomerSession {
                ctx: Ctx { store: shell.store.clone(), actor, client_ip: shell.client_ip.clone() },
                csrf,
            });
        }
    }
    None
}

/// The signed-in customer's id, if any: pages that price for them (their
/// groups' price lists) need only this.
pub(crate) async fn customer_id(state: &AppState, shell: &Shell, headers: &HeaderMap) -> Option<String> {
    if !headers.contains_key(axum::http::header::COOKIE) {
        return None;
    }
    session(state, shell, headers).await.and_then(|s| s.ctx.actor.customer_id().ok().map(str::to_string))
}

/// The signed-in customer behind a form post whose CSRF token matches, or
/// the answer to give instead: the sign-in page, or 403 for a bad token.
async fn form_session(
    state: &AppState,
    shell: &Shell,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<CustomerSession, Response> {
    let Some(s) = session(state, shell, headers).await else {
        return Err(Redirect::to(&shell.href("/account/login")).into_response());
    };
    if !same_token(&s.csrf, csrf) {
        return Err(error_page(shell.clone(), StatusCode::FORBIDDEN));
    }
    Ok(s)
}

fn anonymous(shell: &Shell) -> Ctx {
    Ctx { store: shell.store.clone(), actor: Actor::Anonymous, client_ip: shell.client_ip.clone() }
}

fn double_submit_ok(headers: &HeaderMap, sent: &str) -> bool {
    cookies::values(headers, cookies::CSRF).into_iter().any(|c| same_token(c, sent))
}

/// A page for visitors who are not signed in, with a fresh CSRF cookie.
fn guest_page<T: Template>(shell: &Shell, headers: &HeaderMap, status: StatusCode, page: &T, csrf: &str) -> Response {
    let mut res = render(status, page);
    let cookie = cookies::set(headers, cookies::CSRF, csrf, &shell.base, 3600, true);
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The cart a visitor filled before signing in becomes the customer's.
async fn claim_guest_cart(state: &AppState, shell: &Shell, headers: &HeaderMap, actor: &Actor) {
    let Some((id, token)) = super::shop::cart_cookie(headers) else { return };
    let ctx = Ctx { store: shell.store.clone(), actor: actor.clone(), client_ip: shell.client_ip.clone() };
    let key = crate::services::cart::CartKey { id: &id, token: Some(&token) };
    match crate::services::cart::claim(&state.app, &ctx, &key).await {
        Ok(_) | Err(ServiceError::NotFound) => {}
        Err(e) => tracing::warn!(error = %e, "claiming the guest cart at sign-in failed"),
    }
}

// ---- sign-up and sign-in ----

#[derive(Template)]
#[template(path = "account/signup.html")]
struct SignupPage {
    shell: Shell,
    csrf: String,
    email: String,
    display_name: String,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
}

impl SignupPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

async fn signup_form(shell: Shell, headers: HeaderMap) -> Response {
    let csrf = new_csrf();
    let page = SignupPage {
        shell,
        csrf: csrf.clone(),
        email: String::new(),
        display_name: String::new(),
        errors: vec![],
        message: None,
    };
    guest_page(&page.shell, &headers, StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct SignupForm {
    email: String,
    display_name: String,
    password: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn signup_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<SignupForm>,
) -> Response {
    let csrf = new_csrf();
    let mut page = SignupPage {
        csrf: csrf.clone(),
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        errors: vec![],
        message: None,
        shell,
    };
    if !double_submit_ok(&headers, &form.csrf) {
        page.message = Some(page.shell.t("form.csrf"));
        return guest_page(&page.shell, &headers, StatusCode::FORBIDDEN, &page, &csrf);
    }
    let ctx = anonymous(&page.shell);
    let input = SignUp { email: form.email.clone(), password: form.password.clone(), display_name: form.display_name };
    match customers::sign_up(&state.app, &ctx, input, None).await {
        Ok(_) => sign_in_and_redirect(&state, &page.shell, &headers, &form.email, &form.password).await,
        Err(ServiceError::Validation(errs)) => {
            page.errors = errs.0;
            page.message = Some(page.shell.t("form.invalid"));
            guest_page(&page.shell, &headers, StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(ServiceError::Conflict { .. }) => {
            page.message = Some(page.shell.t("account.email_taken"));
            guest_page(&page.shell, &headers, StatusCode::CONFLICT, &page, &csrf)
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-up failed");
            error_page(page.shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn sign_in_and_redirect(
    state: &AppState,
    shell: &Shell,
    headers: &HeaderMap,
    email: &str,
    password: &str,
) -> Response {
    match auth::login(&state.app, &anonymous(shell), Audience::Customer, email, password).await {
        Ok(LoginOutcome::Session(s)) => {
            claim_guest_cart(state, shell, headers, &s.actor).await;
            let max_age = (s.expires_at - crate::services::now_ms()) / 1000;
            let cookie = cookies::set(headers, SESSION, &s.token, &shell.base, max_age, true);
            redirect_with_cookie(&shell.href("/account"), Some(cookie))
        }
        _ => Redirect::to(&shell.href("/account/login")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    shell: Shell,
    csrf: String,
    email: String,
    message: Option<&'static str>,
}

async fn login_form(shell: Shell, headers: HeaderMap) -> Response {
    let csrf = new_csrf();
    let page = LoginPage { shell, csrf: csrf.clone(), email: String::new(), message: None };
    guest_page(&page.shell, &headers, StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn login_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let csrf = new_csrf();
    let fail = |shell: Shell, status: StatusCode, key: &'static str| {
        let page = LoginPage { message: Some(shell.t(key)), shell, csrf: csrf.clone(), email: form.email.clone() };
        guest_page(&page.shell, &headers, status, &page, &csrf)
    };
    if !double_submit_ok(&headers, &form.csrf) {
        return fail(shell, StatusCode::FORBIDDEN, "form.csrf");
    }
    match auth::login(&state.app, &anonymous(&shell), Audience::Customer, &form.email, &form.password).await {
        Ok(LoginOutcome::Session(s)) => {
            claim_guest_cart(&state, &shell, &headers, &s.actor).await;
            let max_age = (s.expires_at - crate::services::now_ms()) / 1000;
            let cookie = cookies::set(&headers, SESSION, &s.token, &shell.base, max_age, true);
            redirect_with_cookie(&shell.href("/account"), Some(cookie))
        }
        Ok(LoginOutcome::SecondFactor { .. }) | Err(ServiceError::InvalidCredentials) => {
            fail(shell, StatusCode::UNAUTHORIZED, "admin.login_failed")
        }
        Err(ServiceError::RateLimited { .. }) => fail(shell, StatusCode::TOO_MANY_REQUESTS, "admin.login_locked"),
        Err(e) => {
            tracing::error!(error = %e, "customer sign-in failed");
            error_page(shell, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfOnly>,
) -> Response {
    if let Some(s) = session(&state, &shell, &headers).await {
        if !same_token(&s.csrf, &form.csrf) {
            return error_page(shell, StatusCode::FORBIDDEN);
        }
        for token in cookies::values(&headers, SESSION) {
            let _ = auth::logout(&state.app, &shell.store, token).await;
        }
    }
    let cookie = cookies::set(&headers, SESSION, "", &shell.base, 0, true);
    redirect_with_cookie(&shell.href("/"), Some(cookie))
}

// ---- the account page ----

#[derive(Template)]
#[template(path = "account/home.html")]
struct HomePage {
    shell: Shell,
    csrf: String,
    me: Customer,
    addresses: Vec<SavedAddress>,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    /// The address form being corrected after a failed save.
    draft: Option<Address>,
    orders: Vec<crate::services::orders::OrderSummary>,
    /// Store credit per currency, with its latest movements.
    credit: Vec<crate::services::ledger::Statement>,
    payments: Vec<crate::services::payments::Payment>,
    /// The answer to a gift card balance check.
    gift_card: Option<String>,
}

impl HomePage {
    fn money(&self, m: &crate::domain::money::Money) -> String {
        crate::i18n::format_money(self.shell.lang, *m)
    }

    fn minor(&self, amount: &i64, currency: &str) -> String {
        crate::i18n::format_minor(self.shell.lang, *amount, currency)
    }

    fn day(&self, at: &i64) -> String {
        chrono::DateTime::from_timestamp_millis(*at).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct HomeQuery {
    done: Option<String>,
}

async fn home(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Query(q): Query<HomeQuery>) -> Response {
    let Some(s) = session(&state, &shell, &headers).await else {
        return Redirect::to(&shell.href("/account/login")).into_response();
    };
    let notice = q.done.map(|_| shell.t("settings.saved"));
    account_page(&state, shell, s, StatusCode::OK, notice, vec![], None).await
}

#[derive(Deserialize)]
struct GiftCardForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    code: String,
}

/// Adds a gift card's balance to the customer's store credit.
async fn top_up(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<GiftCardForm>,
) -> Response {
    let s = match form_session(&state, &shell, &headers, &form.csrf).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let input = crate::services::accounts::CodeInput { code: form.code };
    match crate::services::accounts::top_up_with_gift_card(&state.app, &s.ctx, input, None).await {
        Ok(_) => saved(&shell),
        Err(e) => {
            let text = match e {
                crate::services::ServiceError::Conflict { message, .. } => message,
                _ => shell.t("account.gift_card_unknown").to_string(),
            };
            account_page_with(&state, shell, s, StatusCode::UNPROCESSABLE_ENTITY, None, vec![], None, Some(text)).await
        }
    }
}

/// Checks a gift card's balance by its code, shown on the account page.
async fn gift_card_check(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<GiftCardForm>,
) -> Response {
    let s = match form_session(&state, &shell, &headers, &form.csrf).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let input = crate::services::accounts::CodeInput { code: form.code };
    let (status, text) = match crate::services::accounts::gift_card_balance(&state.app, &s.ctx, input).await {
        Ok(b) => {
            let money = crate::domain::money::Currency::parse(&b.currency)
                .map(|c| crate::i18n::format_money(shell.lang, crate::domain::money::Money::new(b.balance, c)))
                .unwrap_or_default();
            (StatusCode::OK, format!("{}: {money}", shell.t("account.gift_card_balance")))
        }
        Err(_) => (StatusCode::UNPROCESSABLE_ENTITY, shell.t("account.gift_card_unknown").to_string()),
    };
    account_page_with(&state, shell, s, status, None, vec![], None, Some(text)).await
}

async fn account_page(
    state: &AppState,
    shell: Shell,
    s: CustomerSession,
    status: StatusCode,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    draft: Option<Address>,
) -> Response {
    account_page_with(state, shell, s, status, notice, errors, draft, None).await
}

#[allow(clippy::too_many_arguments)]
async fn account_page_with(
    state: &AppState,
    shell: Shell,
    s: CustomerSession,
    status: StatusCode,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    draft: Option<Address>,
    gift_card: Option<String>,
) -> Response {
    let me = match customers::me(&state.app, &s.ctx).await {
        Ok(me) => me,
        Err(_) => return error_page(shell, StatusCode::NOT_FOUND),
    };
    let addresses = addresses::list(&state.app, &s.ctx).await.unwrap_or_default();
    let orders = crate::services::orders::list(
        &state.app,
        &s.ctx,
        &crate::services::orders::OrderQuery { limit: Some(20), ..Default::default() },
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    let mut credit = Vec::new();
    for b in crate::services::accounts::credit(&state.app, &s.ctx, None).await.unwrap_or_default() {
        if let Ok(st) = crate::services::ledger::my_credit_statement(&state.app, &s.ctx, &b.currency).await {
            credit.push(st);
        }
    }
    let payments = crate::services::payments::mine(&state.app, &s.ctx).await.unwrap_or_default();
    let page =
        HomePage { shell, csrf: s.csrf, me, addresses, notice, errors, draft, orders, credit, payments, gift_card };
    render(status, &page)
}

fn saved(shell: &Shell) -> Response {
    Redirect::to(&shell.href("/account?done=1")).into_response()
}

#[derive(Deserialize)]
pub struct ProfileForm {
    display_name: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn profile_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<ProfileForm>,
) -> Response {
    let s = or_respond!(form_session(&state, &shell, &headers, &form.csrf).await);
    match customers::update_me(&state.app, &s.ctx, UpdateProfile { display_name: form.display_name }).await {
        Ok(_) => saved(&shell),
        Err(ServiceError::Validation(e)) => {
            account_page(&state, shell, s, StatusCode::UNPROCESSABLE_ENTITY, None, e.0, None).await
        }
        Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[derive(Deserialize)]
pub struct AddressForm {
    name: String,
    line1: String,
    #[serde(default)]
    line2: String,
    city: String,
    #[serde(default)]
    region: String,
    postal_code: String,
    country: String,
    #[serde(default)]
    phone: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

impl AddressForm {
    fn address(&self) -> Address {
        Address {
            name: self.name.clone(),
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            phone: self.phone.clone(),
        }
    }
}

async fn address_create(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<AddressForm>,
) -> Response {
    address_save(state, shell, headers, None, form).await
}

async fn address_update(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<AddressForm>,
) -> Response {
    address_save(state, shell, headers, Some(id), form).await
}

async fn address_save(
    state: AppState,
    shell: Shell,
    headers: HeaderMap,
    id: Option<String>,
    form: AddressForm,
) -> Response {
    let s = or_respond!(form_session(&state, &shell, &headers, &form.csrf).await);
    let result = match &id {
        None => addresses::create(&state.app, &s.ctx, form.address()).await,
        Some(id) => addresses::update(&state.app, &s.ctx, id, form.address()).await,
    };
    match result {
        Ok(_) => saved(&shell),
        Err(ServiceError::Validation(e)) => {
            account_page(&state, shell, s, StatusCode::UNPROCESSABLE_ENTITY, None, e.0, Some(form.address())).await
        }
        Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
        Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn address_delete(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Response {
    let s = or_respond!(form_session(&state, &shell, &headers, &form.csrf).await);
    match addresses::delete(&state.app, &s.ctx, &id).await {
        Ok(()) => saved(&shell),
        Err(ServiceError::NotFound) => error_page(shell, StatusCode::NOT_FOUND),
        Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// "My data": everything about the customer as a JSON download.
async fn export(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let Some(s) = session(&state, &shell, &headers).await else {
        return Redirect::to(&shell.href("/account/login")).into_response();
    };
    match privacy::export(&state.app, &s.ctx).await {
        Ok(data) => (
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"my-data-{}.json\"", shell.store.slug)),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            serde_json::to_string_pretty(&data).unwrap_or_default(),
        )
            .into_response(),
        Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[derive(Deserialize)]
pub struct ErasureForm {
    password: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn erasure(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<ErasureForm>,
) -> Response {
    let s = or_respond!(form_session(&state, &shell, &headers, &form.csrf).await);
    match privacy::erase_me(&state.app, &s.ctx, privacy::ErasureRequest { password: form.password }).await {
        Ok(()) => {
            let cookie = cookies::set(&headers, SESSION, "", &shell.base, 0, true);
            let page = MessagePage { message: shell.t("account.erased"), shell };
            let mut res = render(StatusCode::OK, &page);
            if let Ok(v) = cookie.parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(ServiceError::InvalidCredentials) => {
            let notice = Some(shell.t("account.wrong_password"));
            account_page(&state, shell, s, StatusCode::UNAUTHORIZED, notice, vec![], None).await
        }
        Err(_) => error_page(shell, StatusCode::INTERNAL_SERVER_ERROR),
    }
}

// ---- verification and password reset ----

#[derive(Template)]
#[template(path = "account/message.html")]
struct MessagePage {
    shell: Shell,
    message: &'static str,
}

#[derive(Template)]
#[template(path = "account/token_form.html")]
struct TokenFormPage {
    shell: Shell,
    csrf: String,
    /// `verify`, `reset-request` or `reset-confirm`.
    mode: &'static str,
    token: String,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The link from the verification e-mail shows a button, so that mail
/// scanners following links do not verify on the customer's behalf.
async fn verify_form(shell: Shell, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let csrf = new_csrf();
    let page =
        TokenFormPage { shell, csrf: csrf.clone(), mode: "verify", token: q.token.unwrap_or_default(), message: None };
    guest_page(&page.shell, &headers, StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    email: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn verify_submit(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Response {
    if !double_submit_ok(&headers, &form.csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    let (status, key) = match recovery::verify_email(&state.app, &anonymous(&shell), &form.token).await {
        Ok(()) => (StatusCode::OK, "account.verified"),
        Err(_) => (StatusCode::CONFLICT, "account.link_invalid"),
    };
    render(status, &MessagePage { message: shell.t(key), shell })
}

async fn reset_form(shell: Shell, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let csrf = new_csrf();
    let (mode, token) = match q.token {
        Some(t) => ("reset-confirm", t),
        None => ("reset-request", String::new()),
    };
    let page = TokenFormPage { shell, csrf: csrf.clone(), mode, token, message: None };
    guest_page(&page.shell, &headers, StatusCode::OK, &page, &csrf)
}

async fn reset_request(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Response {
    if !double_submit_ok(&headers, &form.csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    let (status, key) = match recovery::request_password_reset(&state.app, &anonymous(&shell), &form.email).await {
        Ok(()) => (StatusCode::OK, "account.reset_sent"),
        Err(ServiceError::RateLimited { .. }) => (StatusCode::TOO_MANY_REQUESTS, "admin.login_locked"),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
    };
    render(status, &MessagePage { message: shell.t(key), shell })
}

async fn reset_confirm(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Response {
    if !double_submit_ok(&headers, &form.csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    let input = ResetConfirm { token: form.token.clone(), password: form.password };
    match recovery::reset_password(&state.app, &anonymous(&shell), input).await {
        Ok(()) => render(StatusCode::OK, &MessagePage { message: shell.t("account.password_changed"), shell }),
        Err(ServiceError::Validation(_)) => {
            let csrf = new_csrf();
            let message = Some(shell.t("account.weak_password"));
            let page = TokenFormPage { shell, csrf: csrf.clone(), mode: "reset-confirm", token: form.token, message };
            guest_page(&page.shell, &headers, StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(_) => render(StatusCode::CONFLICT, &MessagePage { message: shell.t("account.link_invalid"), shell }),
    }
}
