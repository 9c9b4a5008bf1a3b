//! Admin catalog pages: the product list (the staff search, with bulk
//! publish/archive) and the product editor (texts in every language,
//! variants with prices, categories). They call the same services as the
//! API, so the same checks apply.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::admin::{StaffSession, same_token};
use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, error_page, render};
use crate::domain::catalog::{ProductKind, PublishStatus};
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};
use crate::domain::validation::FieldErrors;
use crate::http::state::AppState;
use crate::i18n::format_money;
use crate::services::ServiceError;
use crate::services::catalog::{self, PriceInput, ProductInput, TextInput, VariantInput};
use crate::services::search::{self, SearchParams, SearchResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/products", get(list))
        .route("/admin/products/bulk", post(bulk))
        .route("/admin/products/new", get(new_form).post(create))
        .route("/admin/products/{id}", get(edit_form).post(update))
        // The upload reads its own limit (media.max_upload_bytes) field by field.
        .route("/admin/products/{id}/media", post(upload_media).layer(DefaultBodyLimit::disable()))
}

// ---- the list ----

#[derive(Template)]
#[template(path = "admin/products.html")]
struct ListPage {
    shell: Shell,
    csrf: String,
    q: String,
    status: String,
    result: SearchResult,
    next: Option<String>,
    notice: bool,
}

impl ListPage {
    fn price(&self, p: &search::SearchCard) -> String {
        p.price.map(|m| format_money(self.shell.lang, m)).unwrap_or_default()
    }
}

async fn list(State(state): State<AppState>, shell: Shell, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (q, status, cursor) = (get("q"), get("status"), get("cursor"));
    let params = SearchParams {
        q: q.clone(),
        statuses: PublishStatus::parse(&status).map(|s| vec![s.as_str().to_string()]).unwrap_or_default(),
        cursor: Some(cursor).filter(|c| !c.is_empty()),
        limit: 50,
        ..Default::default()
    };
    let store = s.ctx.store.clone();
    let result = match search::search(&state.app, &store, shell.lang, params, Some(&s.ctx)).await {
        Ok(r) => r,
        Err(ServiceError::Validation(_)) => return Redirect::to(&shell.href("/admin/products")).into_response(),
        Err(e) => return failure(&shell, e),
    };
    let next = result.next_cursor.as_ref().map(|c| {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("q", q.as_str()), ("status", status.as_str()), ("cursor", c.as_str())])
            .finish();
        format!("{}?{q}", shell.href("/admin/products"))
    });
    let notice = !get("done").is_empty();
    render(StatusCode::OK, &ListPage { shell, csrf: s.csrf, q, status, result, next, notice })
}

/// Publishes, archives or returns to draft the ticked products.
async fn bulk(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let Some(status) = PublishStatus::parse(&form.get("action")) else {
        return error_page(shell, StatusCode::UNPROCESSABLE_ENTITY);
    };
    for id in form.all("ids") {
        let result = async {
            let p = catalog::get(&state.app, &s.ctx, &id).await?;
            let mut input = catalog::input_of(p);
            input.status = status;
            catalog::update(&state.app, &s.ctx, &id, input).await
        }
        .await;
        if let Err(e) = result {
            return failure(&shell, e);
        }
    }
    Redirect::to(&shell.href("/admin/products?done=1")).into_response()
}

// ---- the editor ----

struct TextDraft {
    lang: Language,
    name: String,
    slug: String,
    description: String,
}

struct VariantDraft {
    sku: String,
    gtin: String,
    options: String,
    price: String,
}

struct CategoryChoice {
    id: String,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/product_edit.html")]
struct EditPage {
    shell: Shell,
    csrf: String,
    id: Option<String>,
    kind: String,
    status: String,
    tags: String,
    texts: Vec<TextDraft>,
    variants: Vec<VariantDraft>,
    categories: Vec<CategoryChoice>,
    errors: Vec<String>,
    saved: bool,
    currency: String,
    images: Vec<crate::services::media::MediaView>,
    /// A digital product's files and licence key pool.
    digital: Option<(Vec<crate::services::digital::DigitalFile>, crate::services::digital::KeyStock)>,
}

impl EditPage {
    fn kinds(&self) -> Vec<&'static str> {
        ProductKind::ALL.iter().map(|k| k.as_str()).collect()
    }
}

async fn currency(state: &AppState, s: &StaffSession) -> Currency {
    catalog::channels(&state.app, &s.ctx)
        .await
        .ok()
        .and_then(|cs| cs.into_iter().find(|c| c.code == "web"))
        .and_then(|c| Currency::parse(&c.currency))
        .unwrap_or(Currency::EUR)
}

/// The editor showing `input` (a saved product or a refused submission).
async fn editor(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    id: Option<String>,
    input: &ProductInput,
    errors: Vec<String>,
    saved: bool,
) -> Response {
    let cur = currency(state, s).await;
    let texts = Language::ALL
        .into_iter()
        .map(|lang| {
            let t = input.texts.get(&lang);
            TextDraft {
                lang,
                name: t.map(|t| t.name.clone()).unwrap_or_default(),
                slug: t.and_then(|t| t.slug.clone()).unwrap_or_default(),
                description: t.map(|t| t.description.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let mut variants: Vec<VariantDraft> = input
        .variants
        .iter()
        .map(|v| VariantDraft {
            sku: v.sku.clone(),
            gtin: v.gtin.clone().unwrap_or_default(),
            options: v.options.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("|"),
            price: v
                .prices
                .iter()
                .find(|p| p.channel == "web" && p.min_qty == 1)
                .map(|p| Money::new(p.amount, cur).decimal())
                .unwrap_or_default(),
        })
        .collect();
    // Room for one more variant.
    variants.push(VariantDraft {
        sku: String::new(),
        gtin: String::new(),
        options: String::new(),
        price: String::new(),
    });
    let categories = crate::services::categories::list(&state.app, &s.ctx)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| CategoryChoice {
            checked: input.categories.contains(&c.id),
            name: crate::domain::catalog::pick_translation(&c.texts, shell.lang, shell.store.brand.default_language)
                .map(|(_, t)| t.name.clone())
                .unwrap_or_default(),
            id: c.id,
        })
        .collect();
    let images = match &id {
        Some(pid) => crate::services::media::list(&state.app, &s.ctx, pid).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let digital = match &id {
        Some(pid) if input.kind == ProductKind::Digital => {
            let files = crate::services::digital::files(&state.app, &s.ctx, pid).await.unwrap_or_default();
            crate::services::digital::key_stock(&state.app, &s.ctx, pid).await.ok().map(|k| (files, k))
        }
        _ => None,
    };
    let page = EditPage {
        images,
        digital,
        csrf: s.csrf.clone(),
        id,
        kind: input.kind.as_str().into(),
        status: input.status.as_str().into(),
        tags: input.tags.join(", "),
        texts,
        variants,
        categories,
        errors,
        saved,
        currency: cur.code().into(),
        shell,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &page)
}

fn blank() -> ProductInput {
    ProductInput {
        kind: ProductKind::Physical,
        status: PublishStatus::Draft,
        publish_at: None,
        unpublish_at: None,
        tags: vec![],
        texts: BTreeMap::new(),
        variants: vec![],
        categories: vec![],
        product_type: None,
        attributes: BTreeMap::new(),
        tax_class: None,
    }
}

async fn new_form(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    if let Err(e) = s.ctx.actor.require(crate::services::actor::Permission::CatalogManage) {
        return failure(&shell, e);
    }
    editor(&state, shell, &s, None, &blank(), vec![], false).await
}

async fn edit_form(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    match catalog::get(&state.app, &s.ctx, &id).await {
        Ok(p) => {
            let saved = raw.as_deref().is_some_and(|q| q.contains("saved=1"));
            let input = catalog::input_of(p);
            editor(&state, shell, &s, Some(id), &input, vec![], saved).await
        }
        Err(e) => failure(&shell, e),
    }
}

/// Reads the editor's form; what cannot be read becomes field errors.
fn read_form(form: &FormPairs, cur: Currency, keep: Option<&ProductInput>) -> (ProductInput, FieldErrors) {
    let mut errs = FieldErrors::default();
    let mut input = blank();
    input.kind = ProductKind::parse(&form.get("kind")).unwrap_or(ProductKind::Physical);
    input.status = PublishStatus::parse(&form.get("status")).unwrap_or(PublishStatus::Draft);
    input.tags = form.get("tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
    input.categories = form.all("categories");
    if let Some(k) = keep {
        // Fields the editor does not show yet are kept as they were.
        input.publish_at = k.publish_at;
        input.unpublish_at = k.unpublish_at;
        input.product_type = k.product_type.clone();
        input.attributes = k.attributes.clone();
    }
    for lang in Language::ALL {
        let f = |field: &str| form.get(&format!("{field}.{}", lang.code()));
        if !f("name").trim().is_empty() {
            input.texts.insert(
                lang,
                TextInput {
                    name: f("name"),
                    slug: Some(f("slug")).filter(|s| !s.trim().is_empty()),
                    description: f("description").replace("\r\n", "\n"),
                    seo_title: keep.and_then(|k| k.texts.get(&lang)).map(|t| t.seo_title.clone()).unwrap_or_default(),
                    seo_description: keep
                        .and_then(|k| k.texts.get(&lang))
                        .map(|t| t.seo_description.clone())
                        .unwrap_or_default(),
                },
            );
        }
    }
    let skus = form.all("sku");
    let (gtins, options, prices) = (form.all("gtin"), form.all("options"), form.all("price"));
    for (i, sku) in skus.iter().enumerate() {
        let at = |v: &Vec<String>| v.get(i).cloned().unwrap_or_default();
        if sku.trim().is_empty() && at(&prices).trim().is_empty() {
            continue;
        }
        let mut opts = BTreeMap::new();
        for pair in at(&options).split('|').filter(|p| !p.trim().is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    opts.insert(k.trim().to_string(), v.trim().to_string());
                }
                _ => {
                    errs.add(&format!("variants[{i}].options"), "invalid_format", "options are axis=value joined by |")
                }
            }
        }
        let mut variant_prices = Vec::new();
        match at(&prices).trim() {
            "" => {}
            text => match Money::parse(text, cur) {
                Ok(m) => variant_prices.push(PriceInput {
                    channel: "web".into(),
                    min_qty: 1,
                    amount: m.amount,
                    sale_amount: None,
                    sale_starts_at: None,
                    sale_ends_at: None,
                }),
                Err(_) => errs.add(&format!("variants[{i}].price"), "invalid_amount", "a price such as 19.99"),
            },
        }
        // Other prices of a kept variant (tiers, other channels) stay.
        if let Some(old) = keep.and_then(|k| k.variants.iter().find(|v| &v.sku == sku)) {
            variant_prices.extend(old.prices.iter().filter(|p| !(p.channel == "web" && p.min_qty == 1)).cloned());
        }
        input.variants.push(VariantInput {
            sku: sku.trim().to_string(),
            gtin: Some(at(&gtins).trim().to_string()).filter(|g| !g.is_empty()),
            options: opts,
            weight_grams: keep.and_then(|k| k.variants.iter().find(|v| &v.sku == sku)).and_then(|v| v.weight_grams),
            prices: variant_prices,
        });
    }
    (input, errs)
}

async fn save(state: AppState, shell: Shell, headers: HeaderMap, form: FormPairs, id: Option<String>) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let keep = match &id {
        Some(id) => match catalog::get(&state.app, &s.ctx, id).await {
            Ok(p) => Some(catalog::input_of(p)),
            Err(e) => return failure(&shell, e),
        },
        None => None,
    };
    let cur = currency(&state, &s).await;
    let (input, errs) = read_form(&form, cur, keep.as_ref());
    if !errs.0.is_empty() {
        let errors = errs.0.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        return editor(&state, shell, &s, id, &input, errors, false).await;
    }
    let result = match &id {
        Some(id) => catalog::update(&state.app, &s.ctx, id, input.clone()).await,
        None => catalog::create(&state.app, &s.ctx, input.clone()).await,
    };
    match result {
        Ok(p) => Redirect::to(&shell.href(&format!("/admin/products/{}?saved=1", p.id))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => editor(&state, shell, &s, id, &input, errors, false).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn create(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    save(state, shell, headers, form, None).await
}

async fn update(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    save(state, shell, headers, form, Some(id)).await
}

/// Adds an image from the editor's upload form (multipart): checked and
/// re-encoded by the same service as the API.
async fn upload_media(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    if let Err(e) = crate::services::media::may_upload(&s.ctx) {
        return failure(&shell, e);
    }
    let limit = state.app.config.media.max_upload_bytes;
    let (mut csrf, mut bytes, mut alt) = (String::new(), Vec::new(), BTreeMap::new());
    let mut errors = Vec::new();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return error_page(shell, StatusCode::BAD_REQUEST),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "image" {
            while let Ok(Some(chunk)) = field.chunk().await {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > limit {
                    return error_page(shell, StatusCode::PAYLOAD_TOO_LARGE);
                }
            }
        } else {
            let text = field.text().await.unwrap_or_default();
            match name.strip_prefix("alt_").and_then(Language::parse) {
                Some(lang) if !text.trim().is_empty() => {
                    alt.insert(lang, text);
                }
                _ if name == "_csrf" => csrf = text,
                _ => {}
            }
        }
    }
    if !same_token(&s.csrf, &csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    match crate::services::media::upload(&state.app, &s.ctx, &id, bytes, alt).await {
        Ok(_) => return Redirect::to(&shell.href(&format!("/admin/products/{id}?saved=1"))).into_response(),
        Err(ServiceError::Validation(f)) => {
            errors.extend(f.0.into_iter().map(|e| format!("{}: {}", e.field, e.message)))
        }
        Err(ServiceError::UnsupportedContent { message, .. } | ServiceError::TooLarge { message, .. }) => {
            errors.push(message)
        }
        Err(ServiceError::Conflict { message, .. }) => errors.push(message),
        Err(e) => return failure(&shell, e),
    }
    stored_editor(&state, shell, &s, id, errors).await
}

/// The editor of a stored product, with the reasons a change was refused.
pub(super) async fn stored_editor(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    id: String,
    errors: Vec<String>,
) -> Response {
    match catalog::get(&state.app, &s.ctx, &id).await {
        Ok(p) => editor(state, shell, s, Some(id), &catalog::input_of(p), errors, false).await,
        Err(e) => failure(&shell, e),
    }
}
