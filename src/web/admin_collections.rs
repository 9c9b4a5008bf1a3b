//! Admin collections (`/admin/collections`): the store's collections and a
//! form to add one, either hand-picked (products by SKU, in order) or
//! rule-based (tags, category, price ceiling). Same service as the API.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::http::state::AppState;
use crate::services::ServiceError;
use crate::services::collections::{
    self, CollectionInput, CollectionKind, CollectionRules, CollectionText, CollectionView,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/collections", get(page).post(create))
        .route("/admin/collections/{id}", get(edit_page).post(update))
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
            let status = super::admin_forms::form_status(&errors);
            render(status, &CollectionsPage { shell, csrf: s.csrf.clone(), collections, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, Vec::new()).await
}

/// The form's fields over `base` (a new collection's defaults, or the stored
/// one, whose rules and slugs the form does not show and so keeps). Err:
/// what the form got wrong.
async fn input_of(
    state: &AppState,
    shell: &Shell,
    store_id: &str,
    form: &FormPairs,
    mut base: CollectionInput,
) -> Result<Result<CollectionInput, Vec<String>>, ServiceError> {
    let mut errors = Vec::new();
    let kind = if form.get("kind") == "manual" { CollectionKind::Manual } else { CollectionKind::Rule };
    let texts: BTreeMap<Language, CollectionText> = Language::ALL
        .iter()
        .filter(|l| !form.get(&format!("name.{}", l.code())).trim().is_empty())
        .map(|l| {
            let text = CollectionText {
                name: form.get(&format!("name.{}", l.code())),
                slug: base.texts.get(l).and_then(|t| t.slug.clone()),
                description: form.get(&format!("description.{}", l.code())),
            };
            (*l, text)
        })
        .collect();
    // Hand-picked products by SKU, one per line, in display order.
    let skus: Vec<String> =
        form.get("skus").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    let skus = &skus[..skus.len().min(100)];
    let owners: HashMap<String, String> =
        crate::db::catalog_bulk::owners_of_skus(&state.app.db, store_id, skus).await?.into_iter().collect();
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
        return Ok(Err(errors));
    }
    let tags: Vec<String> =
        form.get("tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
    match kind {
        CollectionKind::Rule => {
            let rules = &mut base.rules;
            if tags.is_empty() {
                rules.facets.remove("tag");
            } else {
                rules.facets.insert("tag".to_string(), tags);
            }
            rules.category = Some(form.get("category")).filter(|c| !c.trim().is_empty());
            rules.price_max = price_max;
            base.products = Vec::new();
        }
        CollectionKind::Manual => {
            base.rules = CollectionRules::default();
            base.products = products;
        }
    }
    Ok(Ok(CollectionInput {
        kind,
        texts,
        featured: form.get("featured") == "1",
        position: form.get("position").trim().parse().unwrap_or(0),
        ..base
    }))
}

fn fresh() -> CollectionInput {
    CollectionInput {
        kind: CollectionKind::Rule,
        texts: BTreeMap::new(),
        rules: CollectionRules::default(),
        products: Vec::new(),
        featured: false,
        position: 0,
    }
}

async fn create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = match input_of(&state, &shell, &s.ctx.store.id, &form, fresh()).await {
        Ok(Ok(input)) => input,
        Ok(Err(errors)) => return show(&state, shell, &s, errors).await,
        Err(e) => return failure(&shell, e),
    };
    match collections::create(&state.app, &s.ctx, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/collections")).into_response(),
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
    description: String,
}

#[derive(Template)]
#[template(path = "admin/collection_edit.html")]
struct EditPage {
    shell: Shell,
    csrf: String,
    id: String,
    manual: bool,
    texts: Vec<TextFields>,
    tags: String,
    category: String,
    price_max: String,
    skus: String,
    featured: bool,
    position: i64,
    errors: Vec<String>,
}

async fn stored(state: &AppState, s: &super::admin::StaffSession, id: &str) -> Result<CollectionInput, ServiceError> {
    collections::list(&state.app, &s.ctx)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.input)
        .ok_or(ServiceError::NotFound)
}

async fn show_edit(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    id: &str,
    errors: Vec<String>,
) -> Response {
    let c = match stored(state, s, id).await {
        Ok(c) => c,
        Err(e) => return failure(&shell, e),
    };
    let skus = match crate::db::catalog_bulk::skus_of_products(&state.app.db, &s.ctx.store.id, &c.products).await {
        Ok(found) => found,
        Err(e) => return failure(&shell, e.into()),
    };
    // A product shows as its first SKU, in the collection's order.
    let mut first: HashMap<String, String> = HashMap::new();
    for (product, sku) in skus {
        let e = first.entry(product).or_insert_with(|| sku.clone());
        if sku < *e {
            *e = sku;
        }
    }
    let currency = Currency::parse(&shell.store.currency).unwrap_or(Currency::EUR);
    let page = EditPage {
        csrf: s.csrf.clone(),
        id: id.to_string(),
        manual: c.kind == CollectionKind::Manual,
        texts: Language::ALL
            .iter()
            .map(|l| {
                let t = c.texts.get(l);
                TextFields {
                    lang: *l,
                    name: t.map(|t| t.name.clone()).unwrap_or_default(),
                    description: t.map(|t| t.description.clone()).unwrap_or_default(),
                }
            })
            .collect(),
        tags: c.rules.facets.get("tag").map(|t| t.join(", ")).unwrap_or_default(),
        category: c.rules.category.clone().unwrap_or_default(),
        price_max: c.rules.price_max.map(|a| Money::new(a, currency).decimal()).unwrap_or_default(),
        skus: c.products.iter().filter_map(|p| first.get(p).cloned()).collect::<Vec<_>>().join("\n"),
        featured: c.featured,
        position: c.position,
        shell,
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &page)
}

async fn edit_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_edit(&state, shell, &s, &id, Vec::new()).await
}

async fn update(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let base = match stored(&state, &s, &id).await {
        Ok(c) => c,
        Err(e) => return failure(&shell, e),
    };
    let input = match input_of(&state, &shell, &s.ctx.store.id, &form, base).await {
        Ok(Ok(input)) => input,
        Ok(Err(errors)) => return show_edit(&state, shell, &s, &id, errors).await,
        Err(e) => return failure(&shell, e),
    };
    match collections::update(&state.app, &s.ctx, &id, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/collections")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_edit(&state, shell, &s, &id, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}
