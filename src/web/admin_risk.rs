//! The admin risk page (`/admin/risk`): orders held for a fraud review
//! (each links to its order page, where staff approve or reject it), the
//! store's rules as JSON, and the blocked lists. Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use super::admin::StaffSession;
use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{back_or_show, failure};
use super::shell::{Shell, render};
use crate::domain::risk::Settings;
use crate::http::state::AppState;
use crate::services::ServiceError;
use crate::services::risk::{self, Block, NewBlock, ReviewItem};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/risk", get(page))
        .route("/admin/risk/settings", post(save_settings))
        .route("/admin/risk/blocks", post(add_block))
        .route("/admin/risk/blocks/{id}/remove", post(remove_block))
}

#[derive(Template)]
#[template(path = "admin/risk.html")]
struct RiskPage {
    shell: Shell,
    csrf: String,
    queue: Vec<ReviewItem>,
    /// The rules as pretty JSON (or as the member typed them, when refused).
    settings: String,
    blocks: Vec<Block>,
    errors: Vec<String>,
}

impl RiskPage {
    fn money(&self, amount: &i64, currency: &str) -> String {
        crate::i18n::format_minor(self.shell.lang, *amount, currency)
    }
}

async fn show(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    typed: Option<String>,
    errors: Vec<String>,
) -> Response {
    let app = &state.app;
    let loaded = async {
        let queue = risk::queue(app, &s.ctx).await?;
        let settings = risk::settings(app, &s.ctx).await?;
        let blocks = risk::blocks(app, &s.ctx).await?;
        Ok::<_, ServiceError>((queue, settings, blocks))
    }
    .await;
    match loaded {
        Ok((queue, settings, blocks)) => {
            let settings = typed.unwrap_or_else(|| serde_json::to_string_pretty(&settings).unwrap_or_default());
            let status = super::admin_forms::form_status(&errors);
            render(status, &RiskPage { shell, csrf: s.csrf.clone(), queue, settings, blocks, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, None, Vec::new()).await
}

async fn save_settings(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let typed = form.get("settings");
    let parsed: Result<Settings, _> = serde_json::from_str(&typed);
    let result = match parsed {
        Ok(settings) => risk::put_settings(&state.app, &s.ctx, settings).await.map(|_| ()),
        Err(e) => return show(&state, shell, &s, Some(typed), vec![format!("settings: {e}")]).await,
    };
    back_or_show(shell, "/admin/risk", result, |shell, errors| show(&state, shell, &s, Some(typed.clone()), errors))
        .await
}

async fn add_block(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = NewBlock { kind: form.get("kind"), value: form.get("value") };
    let result = risk::add_block(&state.app, &s.ctx, input).await;
    back_or_show(shell, "/admin/risk", result, |shell, errors| show(&state, shell, &s, None, errors)).await
}

async fn remove_block(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = risk::remove_block(&state.app, &s.ctx, &id).await;
    back_or_show(shell, "/admin/risk", result, |shell, errors| show(&state, shell, &s, None, errors)).await
}
