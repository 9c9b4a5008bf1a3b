//! Admin pricing pages: sales channels, customer groups and price lists
//! (`/admin/pricing`, `/admin/price-lists/{id}`). Prices are typed as
//! decimals in the channel's currency, one `SKU, min qty, price` per line.
//! Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::money::{Currency, Money};
use crate::http::state::AppState;
use crate::services::ServiceError;
use crate::services::catalog::{self, Channel, ChannelInput};
use crate::services::pricing::{self, CustomerGroup, GroupInput, ListPriceInput, PriceListInput, PriceListView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/pricing", get(page))
        .route("/admin/channels", post(create_channel))
        .route("/admin/customer-groups", post(create_group))
        .route("/admin/price-lists", post(create_list))
        .route("/admin/price-lists/{id}", get(edit_list).post(update_list))
}

#[derive(Template)]
#[template(path = "admin/pricing.html")]
struct PricingPage {
    shell: Shell,
    csrf: String,
    channels: Vec<Channel>,
    groups: Vec<CustomerGroup>,
    lists: Vec<PriceListView>,
    errors: Vec<String>,
    /// The price list being edited (None: a new one).
    editing: Option<String>,
    draft: ListDraft,
}

/// The price-list form as typed.
#[derive(Default)]
struct ListDraft {
    code: String,
    name: String,
    channel: String,
    group: String,
    starts_at: String,
    ends_at: String,
    prices: String,
}

async fn show(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    errors: Vec<String>,
    editing: Option<String>,
    draft: ListDraft,
) -> Response {
    let app = &state.app;
    let loaded = async {
        Ok::<_, ServiceError>((
            catalog::channels(app, &s.ctx).await?,
            pricing::groups(app, &s.ctx).await?,
            pricing::lists(app, &s.ctx).await?,
        ))
    }
    .await;
    match loaded {
        Ok((channels, groups, lists)) => {
            let status = super::admin_forms::form_status(&errors);
            render(
                status,
                &PricingPage { shell, csrf: s.csrf.clone(), channels, groups, lists, errors, editing, draft },
            )
        }
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    let draft = ListDraft { channel: "web".into(), ..Default::default() };
    show(&state, shell, &s, Vec::new(), None, draft).await
}

async fn create_channel(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = ChannelInput {
        code: form.get("code").trim().to_string(),
        name: form.get("name"),
        currency: form.get("currency").trim().to_uppercase(),
        prices_include_tax: form.get("prices_include_tax") == "1",
    };
    match catalog::create_channel(&state.app, &s.ctx, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/pricing")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors, None, ListDraft::default()).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn create_group(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = GroupInput { code: form.get("code").trim().to_string(), name: form.get("name") };
    match pricing::create_group(&state.app, &s.ctx, input).await {
        Ok(_) => Redirect::to(&shell.href("/admin/pricing")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors, None, ListDraft::default()).await,
            Err(e) => failure(&shell, e),
        },
    }
}

/// `2026-11-27T00:00` (UTC) → Unix ms; empty → none.
fn parse_time(field: &str, text: &str, errors: &mut Vec<String>) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        Ok(t) => Some(t.and_utc().timestamp_millis()),
        Err(_) => {
            errors.push(format!("{field}: a date and time such as 2026-11-27T00:00 (UTC)"));
            None
        }
    }
}

/// Reads the form: the input for the service, or the problems found before it.
fn read_list(form: &FormPairs, channels: &[Channel]) -> (ListDraft, Result<PriceListInput, Vec<String>>) {
    let draft = ListDraft {
        code: form.get("code").trim().to_string(),
        name: form.get("name"),
        channel: form.get("channel"),
        group: form.get("customer_group"),
        starts_at: form.get("starts_at"),
        ends_at: form.get("ends_at"),
        prices: form.get("prices"),
    };
    let mut errors = Vec::new();
    let currency = channels
        .iter()
        .find(|c| c.code == draft.channel)
        .and_then(|c| Currency::parse(&c.currency))
        .unwrap_or(Currency::EUR);
    let mut prices = Vec::new();
    for (i, line) in draft.prices.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed = match cells.as_slice() {
            [sku, price] => Money::parse(price, currency).ok().map(|m| (sku, 1, m.amount)),
            [sku, qty, price] => {
                qty.parse::<i64>().ok().zip(Money::parse(price, currency).ok()).map(|(q, m)| (sku, q, m.amount))
            }
            _ => None,
        };
        match parsed {
            Some((sku, min_qty, amount)) => prices.push(ListPriceInput { sku: sku.to_string(), min_qty, amount }),
            None => errors.push(format!("prices, line {}: SKU, min qty, price (e.g. TENT-2, 10, 79.00)", i + 1)),
        }
    }
    let starts_at = parse_time("starts_at", &draft.starts_at, &mut errors);
    let ends_at = parse_time("ends_at", &draft.ends_at, &mut errors);
    if !errors.is_empty() {
        return (draft, Err(errors));
    }
    let input = PriceListInput {
        code: draft.code.clone(),
        name: draft.name.clone(),
        channel: draft.channel.clone(),
        customer_group: Some(draft.group.clone()).filter(|g| !g.is_empty()),
        starts_at,
        ends_at,
        prices,
    };
    (draft, Ok(input))
}

async fn save_list(state: AppState, shell: Shell, headers: HeaderMap, form: FormPairs, id: Option<String>) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let channels = match catalog::channels(&state.app, &s.ctx).await {
        Ok(c) => c,
        Err(e) => return failure(&shell, e),
    };
    let (draft, input) = read_list(&form, &channels);
    let input = match input {
        Ok(i) => i,
        Err(errors) => return show(&state, shell, &s, errors, id, draft).await,
    };
    let result = match &id {
        Some(id) => pricing::update_list(&state.app, &s.ctx, id, input).await,
        None => pricing::create_list(&state.app, &s.ctx, input).await,
    };
    match result {
        Ok(v) => Redirect::to(&shell.href(&format!("/admin/price-lists/{}", v.id))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors, id, draft).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn create_list(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    save_list(state, shell, headers, form, None).await
}

async fn update_list(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    save_list(state, shell, headers, form, Some(id)).await
}

async fn edit_list(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    let list = match pricing::get_list(&state.app, &s.ctx, &id).await {
        Ok(l) => l,
        Err(e) => return failure(&shell, e),
    };
    let currency = Currency::parse(&list.currency).unwrap_or(Currency::EUR);
    let time = |t: Option<i64>| {
        t.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    };
    let prices = list
        .prices
        .unwrap_or_default()
        .iter()
        .map(|p| format!("{}, {}, {}", p.sku, p.min_qty, Money::new(p.amount, currency).decimal()))
        .collect::<Vec<_>>()
        .join("\n");
    let draft = ListDraft {
        code: list.code,
        name: list.name,
        channel: list.channel,
        group: list.customer_group.unwrap_or_default(),
        starts_at: time(list.starts_at),
        ends_at: time(list.ends_at),
        prices,
    };
    show(&state, shell, &s, Vec::new(), Some(id), draft).await
}
