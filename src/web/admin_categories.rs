//! Admin category tree (`/admin/categories`): the tree with each category's
//! names, and a form to add one anywhere in it, named in every language.
//! Same service as the API.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::catalog::pick_translation;
use crate::domain::locale::Language;
use crate::http::state::AppState;
use crate::services::categories::{self, CategoryInput, CategoryText, CategoryView};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/categories", get(page).post(create))
}

/// A category as a row of the tree: indented by depth, named in the page's language.
struct Row {
    id: String,
    name: String,
    slug: String,
    depth: usize,
}

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct CategoriesPage {
    shell: Shell,
    csrf: String,
    rows: Vec<Row>,
    errors: Vec<String>,
}

impl CategoriesPage {
    fn indent(&self, r: &Row) -> String {
        "— ".repeat(r.depth)
    }

    fn languages(&self) -> &'static [Language] {
        &Language::ALL
    }
}

/// Depth-first, siblings in position order.
fn tree_rows(all: Vec<CategoryView>, lang: Language, default: Language) -> Vec<Row> {
    let mut children: HashMap<Option<String>, Vec<CategoryView>> = HashMap::new();
    for c in all {
        children.entry(c.parent_id.clone()).or_default().push(c);
    }
    for list in children.values_mut() {
        list.sort_by_key(|c| c.position);
    }
    let mut rows = Vec::new();
    let mut stack: Vec<(CategoryView, usize)> =
        children.remove(&None).unwrap_or_default().into_iter().rev().map(|c| (c, 0)).collect();
    while let Some((c, depth)) = stack.pop() {
        for child in children.remove(&Some(c.id.clone())).unwrap_or_default().into_iter().rev() {
            stack.push((child, depth + 1));
        }
        let (name, slug) = pick_translation(&c.texts, lang, default)
            .map(|(_, t)| (t.name.clone(), t.slug.clone().unwrap_or_default()))
            .unwrap_or_default();
        rows.push(Row { id: c.id, name, slug, depth });
    }
    rows
}

async fn show(state: &AppState, shell: Shell, s: &super::admin::StaffSession, errors: Vec<String>) -> Response {
    match categories::list(&state.app, &s.ctx).await {
        Ok(all) => {
            let rows = tree_rows(all, shell.lang, shell.store.brand.default_language);
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            render(status, &CategoriesPage { shell, csrf: s.csrf.clone(), rows, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, Vec::new()).await
}

async fn create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let texts: BTreeMap<Language, CategoryText> = Language::ALL
        .iter()
        .filter(|l| !form.get(&format!("name.{}", l.code())).trim().is_empty())
        .map(|l| {
            let slug = form.get(&format!("slug.{}", l.code()));
            (
                *l,
                CategoryText {
                    name: form.get(&format!("name.{}", l.code())),
                    slug: Some(slug.trim().to_string()).filter(|s| !s.is_empty()),
                },
            )
        })
        .collect();
    let input = CategoryInput {
        parent_id: Some(form.get("parent_id")).filter(|p| !p.is_empty()),
        position: form.get("position").trim().parse().unwrap_or(0),
        texts,
    };
    match categories::create(&state.app, &s.ctx, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/categories")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}
