//! Admin category tree (`/admin/categories`): the tree with each category's
//! names, and a form to add one anywhere in it, named in every language.
//! Same service as the API.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::catalog::pick_translation;
use crate::domain::locale::Language;
use crate::http::state::AppState;
use crate::services::categories::{self, CategoryInput, CategoryText, CategoryView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(page).post(create))
        .route("/admin/categories/{id}", get(edit_page).post(update))
        .route("/admin/categories/{id}/delete", post(delete))
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
            let status = super::admin_forms::form_status(&errors);
            render(status, &CategoriesPage { shell, csrf: s.csrf.clone(), rows, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, Vec::new()).await
}

/// The category form's fields as the service's input.
fn input_of(form: &FormPairs) -> CategoryInput {
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
    CategoryInput {
        parent_id: Some(form.get("parent_id")).filter(|p| !p.is_empty()),
        position: form.get("position").trim().parse().unwrap_or(0),
        texts,
    }
}

async fn create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match categories::create(&state.app, &s.ctx, input_of(&form)).await {
        Ok(_) => Redirect::to(&shell.href("/admin/categories")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

/// One language's fields on the edit form.
struct TextFields {
    lang: Language,
    name: String,
    slug: String,
}

#[derive(Template)]
#[template(path = "admin/category_edit.html")]
struct EditPage {
    shell: Shell,
    csrf: String,
    id: String,
    /// Where it may go: every category outside its own branch.
    parents: Vec<Row>,
    parent_id: String,
    position: i64,
    texts: Vec<TextFields>,
    errors: Vec<String>,
}

impl EditPage {
    fn indent(&self, r: &Row) -> String {
        "— ".repeat(r.depth)
    }
}

async fn show_edit(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    id: &str,
    shown: Option<CategoryInput>,
    errors: Vec<String>,
) -> Response {
    let all = match categories::list(&state.app, &s.ctx).await {
        Ok(all) => all,
        Err(e) => return failure(&shell, e),
    };
    let Some(current) = all.iter().find(|c| c.id == id) else {
        return failure(&shell, crate::services::ServiceError::NotFound);
    };
    // The form shows what was sent when it was refused, else what is stored.
    let input = shown.unwrap_or_else(|| CategoryInput {
        parent_id: current.parent_id.clone(),
        position: current.position,
        texts: current.texts.clone(),
    });
    let parents_of: HashMap<String, Option<String>> = all.iter().map(|c| (c.id.clone(), c.parent_id.clone())).collect();
    let branch = crate::domain::catalog::subtree(&parents_of, id);
    let parents = tree_rows(all, shell.lang, shell.store.brand.default_language)
        .into_iter()
        .filter(|r| !branch.contains(&r.id))
        .collect();
    let texts = Language::ALL
        .iter()
        .map(|l| {
            let t = input.texts.get(l);
            TextFields {
                lang: *l,
                name: t.map(|t| t.name.clone()).unwrap_or_default(),
                slug: t.and_then(|t| t.slug.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let status = super::admin_forms::form_status(&errors);
    let page = EditPage {
        shell,
        csrf: s.csrf.clone(),
        id: id.to_string(),
        parents,
        parent_id: input.parent_id.unwrap_or_default(),
        position: input.position,
        texts,
        errors,
    };
    render(status, &page)
}

async fn edit_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_edit(&state, shell, &s, &id, None, Vec::new()).await
}

async fn update(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = input_of(&form);
    match categories::update(&state.app, &s.ctx, &id, input.clone()).await {
        Ok(_) => Redirect::to(&shell.href("/admin/categories")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_edit(&state, shell, &s, &id, Some(input), errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn delete(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match categories::delete(&state.app, &s.ctx, &id).await {
        Ok(()) => Redirect::to(&shell.href("/admin/categories")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_edit(&state, shell, &s, &id, None, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}
