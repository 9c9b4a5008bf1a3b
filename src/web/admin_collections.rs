//! Admin collections (`/admin/collections`): the store's collections and a
//! form to add one, either hand-picked (products by SKU, in order) or
//! rule-based (tags, category, price ceiling). Same service as the API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::http::state::AppState;
use crate::services::collections::{
    self, CollectionInput, CollectionKind, CollectionRules, CollectionText, CollectionView,
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/collections", get(page).post(create))
}

#[derive(Template)]
#[template(path = "admin/collections.html")]
struct CollectionsPage {
    shell: Shell,
    csrf: String,
    collections: Vec<CollectionView>,
    errors: Vec<String>,
}

impl CollectionsPage {
    fn name_of(&self, c: &CollectionView) -> String {
        let texts = &c.input.texts;
        texts
            .get(&self.shell.lang)
            .or_else(|| texts.get(&self.shell.store.brand.default_language))
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    fn slug_of(&self, c: &CollectionView) -> String {
        c.input.texts.get(&self.shell.store.brand.default_language).and_then(|t| t.slug.clone()).unwrap_or_default()
    }

    fn is_manual(&self, c: &CollectionView) -> bool {
        c.input.kind == CollectionKind::Manual
    }

    fn languages(&self) -> &'static [Language] {
        &Language::ALL
    }
}

async fn show(state: &AppState, shell: Shell, s: &super::admin::StaffSession, errors: Vec<String>) -> Response {
    match collections::list(&state.app, &s.ctx).await {
        Ok(collections) => {
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            render(status, &CollectionsPage { shell, csrf: s.csrf.clone(), collections, errors })
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
    let mut errors = Vec::new();
    let kind = if form.get("kind") == "manual" { CollectionKind::Manual } else { CollectionKind::Rule };
    let texts: BTreeMap<Language, CollectionText> = Language::ALL
        .iter()
        .filter(|l| !form.get(&format!("name.{}", l.code())).trim().is_empty())
        .map(|l| {
            let text = CollectionText {
                name: form.get(&format!("name.{}", l.code())),
                slug: None,
                description: form.get(&format!("description.{}", l.code())),
            };
            (*l, text)
        })
        .collect();
    // Hand-picked products by SKU, one per line, in display order.
    let skus: Vec<String> =
        form.get("skus").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    let skus = &skus[..skus.len().min(100)];
    let owners: std::collections::HashMap<String, String> =
        match crate::db::catalog_bulk::owners_of_skus(&state.app.db, &s.ctx.store.id, skus).await {
            Ok(found) => found.into_iter().collect(),
            Err(e) => return failure(&shell, e.into()),
        };
    let mut products = Vec::new();
    for sku in skus {
        match owners.get(sku) {
            Some(p) if !products.contains(p) => products.push(p.clone()),
            Some(_) => {}
            None => errors.push(format!("skus: no product has the SKU {sku}")),
        }
    }
    let currency = Currency::parse(&shell.store.currency).unwrap_or(Currency::EUR);
    let price_max = match form.get("price_max").trim() {
        "" => None,
        text => match Money::parse(text, currency) {
            Ok(m) => Some(m.amount),
            Err(_) => {
                errors.push(format!("price_max: a price such as 49.99 in {}", currency.code()));
                None
            }
        },
    };
    if !errors.is_empty() {
        return show(&state, shell, &s, errors).await;
    }
    let tags: Vec<String> =
        form.get("tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
    let mut facets = BTreeMap::new();
    if !tags.is_empty() {
        facets.insert("tag".to_string(), tags);
    }
    let rules = match kind {
        CollectionKind::Rule => CollectionRules {
            facets,
            category: Some(form.get("category")).filter(|c| !c.trim().is_empty()),
            price_max,
            ..Default::default()
        },
        CollectionKind::Manual => CollectionRules::default(),
    };
    let input = CollectionInput {
        kind,
        texts,
        rules,
        products: if kind == CollectionKind::Manual { products } else { Vec::new() },
        featured: form.get("featured") == "1",
        position: form.get("position").trim().parse().unwrap_or(0),
    };
    match collections::create(&state.app, &s.ctx, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/collections")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}
