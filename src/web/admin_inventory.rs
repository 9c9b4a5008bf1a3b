//! Admin inventory pages: stock locations and the latest movements
//! (`/admin/inventory`), and one SKU's stock with its settings,
//! adjustments and transfers (`/admin/inventory/sku/{sku}`). Forms that
//! move stock carry an idempotency key made when the form was shown, so a
//! double submit moves stock once. Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, render};
use crate::domain::ids;
use crate::domain::inventory::{AdjustReason, StockPolicy};
use crate::http::state::AppState;
use crate::services::idempotency::IdempotencyRequest;
use crate::services::inventory::{
    self, AdjustmentInput, AdjustmentLine, Location, LocationInput, Movement, SettingsInput, TransferInput,
    TransferLine, VariantInventory,
};
use crate::services::{Outcome, ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/inventory", get(page))
        .route("/admin/inventory/locations", post(create_location))
        .route("/admin/inventory/locations/{id}", post(update_location))
        .route("/admin/inventory/sku/{sku}", get(item))
        .route("/admin/inventory/sku/{sku}/settings", post(save_settings))
        .route("/admin/inventory/sku/{sku}/adjust", post(adjust))
        .route("/admin/inventory/sku/{sku}/transfer", post(transfer))
}

/// A SKU as one URL path segment (SKUs may hold `/`).
fn segment(sku: &str) -> String {
    url::form_urlencoded::byte_serialize(sku.as_bytes()).collect::<String>().replace('+', "%20")
}

fn time_text(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t).map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin/inventory.html")]
struct InventoryPage {
    shell: Shell,
    csrf: String,
    locations: Vec<Location>,
    movements: Vec<Movement>,
    errors: Vec<String>,
}

impl InventoryPage {
    fn when(&self, t: &i64) -> String {
        time_text(*t)
    }
}

async fn show_page(state: &AppState, shell: Shell, s: &super::admin::StaffSession, errors: Vec<String>) -> Response {
    let app = &state.app;
    let loaded = async {
        Ok::<_, ServiceError>((
            inventory::locations(app, &s.ctx).await?,
            inventory::movements(app, &s.ctx, None, None, None, 50).await?.items,
        ))
    }
    .await;
    match loaded {
        Ok((locations, movements)) => {
            let status = super::admin_forms::form_status(&errors);
            render(status, &InventoryPage { shell, csrf: s.csrf.clone(), locations, movements, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

#[derive(Deserialize)]
struct Lookup {
    sku: Option<String>,
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Query(q): Query<Lookup>) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    if let Some(sku) = q.sku.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        return Redirect::to(&shell.href(&format!("/admin/inventory/sku/{}", segment(&sku)))).into_response();
    }
    show_page(&state, shell, &s, Vec::new()).await
}

fn location_input(form: &FormPairs) -> LocationInput {
    LocationInput {
        code: form.get("code").trim().to_string(),
        name: form.get("name"),
        country: form.get("country"),
        priority: form.get("priority").trim().parse().unwrap_or(0),
        active: form.get("active") == "1",
    }
}

async fn save_location(
    state: AppState,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
    id: Option<String>,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = location_input(&form);
    let result = match &id {
        Some(id) => inventory::update_location(&state.app, &s.ctx, id, input).await,
        None => inventory::create_location(&state.app, &s.ctx, input).await,
    };
    match result {
        Ok(_) => Redirect::to(&shell.href("/admin/inventory")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_page(&state, shell, &s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn create_location(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    save_location(state, shell, headers, form, None).await
}

async fn update_location(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    save_location(state, shell, headers, form, Some(id)).await
}

#[derive(Template)]
#[template(path = "admin/stock_item.html")]
struct ItemPage {
    shell: Shell,
    csrf: String,
    item: VariantInventory,
    locations: Vec<Location>,
    movements: Vec<Movement>,
    errors: Vec<String>,
    /// Idempotency key for the stock-moving forms on this page.
    form_key: String,
    policies: Vec<&'static str>,
    reasons: Vec<&'static str>,
}

impl ItemPage {
    fn when(&self, t: &i64) -> String {
        time_text(*t)
    }

    fn restock_value(&self) -> String {
        self.item
            .restock_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    fn href_sku(&self, rest: &str) -> String {
        self.shell.href(&format!("/admin/inventory/sku/{}{rest}", segment(&self.item.sku)))
    }
}

async fn show_item(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    sku: &str,
    errors: Vec<String>,
) -> Response {
    let app = &state.app;
    let loaded = async {
        Ok::<_, ServiceError>((
            inventory::variant(app, &s.ctx, sku).await?,
            inventory::locations(app, &s.ctx).await?,
            inventory::movements(app, &s.ctx, Some(sku), None, None, 50).await?.items,
        ))
    }
    .await;
    match loaded {
        Ok((item, locations, movements)) => {
            let status = super::admin_forms::form_status(&errors);
            let page = ItemPage {
                shell,
                csrf: s.csrf.clone(),
                item,
                locations,
                movements,
                errors,
                form_key: ids::new_id("frm"),
                policies: StockPolicy::ALL.iter().map(|p| p.as_str()).collect(),
                reasons: AdjustReason::ALL.iter().map(|r| r.as_str()).collect(),
            };
            render(status, &page)
        }
        Err(e) => failure(&shell, e),
    }
}

async fn item(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Path(sku): Path<String>) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_item(&state, shell, &s, &sku, Vec::new()).await
}

/// After a stock-moving form: back to the SKU page (a replayed submit too),
/// or the page again with what was wrong.
async fn after_change(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    sku: &str,
    result: Result<Outcome<inventory::StockChange>, ServiceError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&shell.href(&format!("/admin/inventory/sku/{}", segment(sku)))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_item(state, shell, s, sku, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

fn form_key<T: serde::Serialize>(form: &FormPairs, operation: &str, input: &T) -> Option<IdempotencyRequest> {
    let key = form.get("_key");
    (!key.is_empty()).then(|| IdempotencyRequest::new(key, operation, input))
}

async fn save_settings(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(sku): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let mut errors = Vec::new();
    let policy = StockPolicy::parse(&form.get("policy")).unwrap_or_else(|| {
        errors.push("policy: choose how the variant is sold".to_string());
        StockPolicy::Track
    });
    let low = form.get("low_stock_at");
    let low_stock_at = match low.trim() {
        "" => None,
        n => n.parse::<i64>().map_err(|_| errors.push("low_stock_at: a whole number".into())).ok(),
    };
    let restock = form.get("restock_at");
    let restock_at = match restock.trim() {
        "" => None,
        d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
            .or_else(|| {
                errors.push("restock_at: a date such as 2026-12-01".into());
                None
            }),
    };
    if !errors.is_empty() {
        return show_item(&state, shell, &s, &sku, errors).await;
    }
    let input = SettingsInput { policy, low_stock_at, restock_at };
    match inventory::update_settings(&state.app, &s.ctx, &sku, input).await {
        Ok(_) => Redirect::to(&shell.href(&format!("/admin/inventory/sku/{}", segment(&sku)))).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show_item(&state, shell, &s, &sku, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn adjust(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(sku): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let reason = match AdjustReason::parse(&form.get("reason")) {
        Some(r) => r,
        None => return show_item(&state, shell, &s, &sku, vec!["reason: choose a reason".into()]).await,
    };
    let Ok(quantity) = form.get("quantity").trim().parse::<i64>() else {
        return show_item(&state, shell, &s, &sku, vec!["quantity: a whole number".into()]).await;
    };
    // A count states the units on hand; every other reason a change.
    let (delta, counted) =
        if reason == AdjustReason::Counted { (None, Some(quantity)) } else { (Some(quantity), None) };
    let input = AdjustmentInput {
        lines: vec![AdjustmentLine {
            sku: sku.clone(),
            location: form.get("location"),
            delta,
            counted,
            reason,
            note: form.get("note"),
        }],
    };
    let idem = form_key(&form, "inventory.adjust", &input);
    let result = inventory::adjust(&state.app, &s.ctx, input, idem.as_ref()).await;
    after_change(&state, shell, &s, &sku, result).await
}

async fn transfer(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(sku): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let Ok(quantity) = form.get("quantity").trim().parse::<i64>() else {
        return show_item(&state, shell, &s, &sku, vec!["quantity: a whole number".into()]).await;
    };
    let input = TransferInput {
        from: form.get("from"),
        to: form.get("to"),
        lines: vec![TransferLine { sku: sku.clone(), quantity }],
        note: form.get("note"),
    };
    let idem = form_key(&form, "inventory.transfer", &input);
    let result = inventory::transfer(&state.app, &s.ctx, input, idem.as_ref()).await;
    after_change(&state, shell, &s, &sku, result).await
}
