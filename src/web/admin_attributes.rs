//! Admin attributes and product types (`/admin/attributes`): the store's
//! attribute definitions and types, and forms to add them. Choices are typed
//! one per line as `code = label` in the store's default language (other
//! languages through the API). Same services as the API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::attributes::{AttributeKind, Choice};
use crate::domain::locale::Language;
use crate::http::state::AppState;
use crate::services::ServiceError;
use crate::services::attributes::{self, AttributeInput, AttributeView, ProductTypeInput, ProductTypeView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/attributes", get(page).post(create_attribute))
        .route("/admin/product-types", post(create_type))
}

#[derive(Template)]
#[template(path = "admin/attributes.html")]
struct AttributesPage {
    shell: Shell,
    csrf: String,
    attributes: Vec<AttributeView>,
    types: Vec<ProductTypeView>,
    errors: Vec<String>,
}

impl AttributesPage {
    fn name_of(&self, a: &AttributeView) -> String {
        let names = &a.input.names;
        names
            .get(&self.shell.lang)
            .or_else(|| names.get(&self.shell.store.brand.default_language))
            .cloned()
            .unwrap_or_else(|| a.input.code.clone())
    }

    fn languages(&self) -> &'static [Language] {
        &Language::ALL
    }

    fn kinds(&self) -> [&'static str; 5] {
        ["text", "number", "boolean", "choice", "multi_choice"]
    }
}

async fn show(state: &AppState, shell: Shell, s: &super::admin::StaffSession, errors: Vec<String>) -> Response {
    let loaded = async {
        Ok::<_, ServiceError>((
            attributes::list(&state.app, &s.ctx).await?,
            attributes::list_types(&state.app, &s.ctx).await?,
        ))
    }
    .await;
    match loaded {
        Ok((attributes, types)) => {
            let status = super::admin_forms::form_status(&errors);
            render(status, &AttributesPage { shell, csrf: s.csrf.clone(), attributes, types, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

/// A saved change redirects; refusals are listed on the page.
async fn answer<T>(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    result: Result<T, ServiceError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&shell.href("/admin/attributes")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(state, shell, s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, Vec::new()).await
}

async fn create_attribute(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let Some(kind) = AttributeKind::parse(&form.get("kind")) else {
        return show(&state, shell, &s, vec!["kind: choose one of the kinds".into()]).await;
    };
    let default = shell.store.brand.default_language;
    let names: BTreeMap<Language, String> = Language::ALL
        .iter()
        .map(|l| (*l, form.get(&format!("name.{}", l.code())).trim().to_string()))
        .filter(|(_, n)| !n.is_empty())
        .collect();
    let choices = form
        .get("choices")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (code, label) = line.split_once('=').unwrap_or((line, line));
            Choice { code: code.trim().to_string(), labels: BTreeMap::from([(default, label.trim().to_string())]) }
        })
        .collect();
    let input = AttributeInput {
        code: form.get("code").trim().to_string(),
        kind,
        unit: Some(form.get("unit").trim().to_string()).filter(|u| !u.is_empty()),
        filterable: form.get("filterable") == "1",
        names,
        choices,
    };
    let result = attributes::create(&state.app, &s.ctx, input).await;
    answer(&state, shell, &s, result).await
}

async fn create_type(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = ProductTypeInput {
        code: form.get("code").trim().to_string(),
        name: form.get("name"),
        attributes: form.all("attributes"),
    };
    let result = attributes::create_type(&state.app, &s.ctx, input).await;
    answer(&state, shell, &s, result).await
}
