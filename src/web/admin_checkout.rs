//! Admin page for the rules checkout prices with (`/admin/checkout`): tax
//! settings and rates, shipping zones with flat-rate methods, promotions
//! with a coupon. Weight and value rate tables, pickup points and line
//! filters are set through the API; this page shows them. Same services
//! as the API.

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
use crate::domain::promotions::{Conditions, Effect};
use crate::domain::shipping::RateTable;
use crate::domain::tax::{Rate, Rounding};
use crate::domain::validation::FieldErrors;
use crate::http::state::AppState;
use crate::i18n::format_money;
use crate::services::ServiceError;
use crate::services::promotions::{self, CouponInput, PromotionInput, PromotionView};
use crate::services::shipping::{self, MethodInput, Zone, ZoneInput};
use crate::services::tax_rules::{self, TaxConfig, TaxRateInput, TaxSettings};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/checkout", get(page))
        .route("/admin/checkout/tax-settings", post(save_tax_settings))
        .route("/admin/checkout/tax-rates", post(save_rate))
        .route("/admin/checkout/tax-rates/{id}/delete", post(delete_rate))
        .route("/admin/checkout/zones", post(create_zone))
        .route("/admin/checkout/zones/{id}/methods", post(create_method))
        .route("/admin/checkout/promotions", post(create_promotion))
}

#[derive(Template)]
#[template(path = "admin/checkout.html")]
struct CheckoutPage {
    shell: Shell,
    csrf: String,
    tax: TaxConfig,
    zones: Vec<Zone>,
    promotions: Vec<PromotionView>,
    errors: Vec<String>,
}

impl CheckoutPage {
    fn amount(&self, currency: &str, a: &i64) -> String {
        format_money(self.shell.lang, Money::new(*a, Currency::parse(currency).unwrap_or(Currency::EUR)))
    }

    fn rates_text(&self, currency: &str, r: &RateTable) -> String {
        let step = |up_to: Option<i64>, amount: i64, unit: &str| match up_to {
            Some(u) => format!("≤ {u}{unit}: {}", self.amount(currency, &amount)),
            None => format!("{}: {}", "more", self.amount(currency, &amount)),
        };
        match r {
            RateTable::Flat { amount } => self.amount(currency, amount),
            RateTable::ByWeight { brackets } => {
                brackets.iter().map(|b| step(b.up_to, b.amount, " g")).collect::<Vec<_>>().join(", ")
            }
            RateTable::ByValue { brackets } => {
                brackets.iter().map(|b| step(b.up_to, b.amount, "")).collect::<Vec<_>>().join(", ")
            }
        }
    }

    fn effect_text(&self, p: &PromotionView) -> String {
        let cur = p.conditions.currency.clone().unwrap_or_else(|| "EUR".into());
        match &p.effect {
            Effect::OrderPercent { percent } => format!("{} % off the order", percent.percent_text()),
            Effect::OrderAmount { amount } => format!("{} off the order", self.amount(&cur, amount)),
            Effect::LinePercent { percent, .. } => format!("{} % off matching lines", percent.percent_text()),
            Effect::UnitAmount { amount, .. } => format!("{} off each matching unit", self.amount(&cur, amount)),
            Effect::BuyXGetY { buy, get, percent, .. } => {
                format!("buy {buy}, get {get} at {} % off", percent.percent_text())
            }
            Effect::FreeShipping => "free shipping".into(),
            Effect::Tiered { tiers } => format!("{} tiers", tiers.len()),
        }
    }

    fn limit_text(&self, l: &Option<i64>) -> String {
        l.map_or_else(|| "∞".to_string(), |n| n.to_string())
    }
}

async fn show(state: &AppState, shell: Shell, s: &super::admin::StaffSession, errors: Vec<String>) -> Response {
    let app = &state.app;
    let loaded = async {
        Ok::<_, ServiceError>((
            tax_rules::get(app, &s.ctx).await?,
            shipping::zones(app, &s.ctx).await?,
            promotions::list(app, &s.ctx).await?,
        ))
    }
    .await;
    match loaded {
        Ok((tax, zones, promotions)) => {
            let status = super::admin_forms::form_status(&errors);
            render(status, &CheckoutPage { shell, csrf: s.csrf.clone(), tax, zones, promotions, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, Vec::new()).await
}

/// Back to the page after a change, or the page with the refusal's messages.
async fn after<T>(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    result: Result<T, ServiceError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&shell.href("/admin/checkout")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(state, shell, s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

fn field_error(field: &str, message: &str) -> ServiceError {
    let mut errs = FieldErrors::default();
    errs.add(field, "invalid", message);
    errs.into()
}

/// An amount typed as a decimal ("4.90") in a currency; empty is None.
fn amount(form: &FormPairs, field: &str, currency: Currency) -> Result<Option<i64>, ServiceError> {
    let text = form.get(field);
    if text.trim().is_empty() {
        return Ok(None);
    }
    Money::parse(&text, currency).map(|m| Some(m.amount)).map_err(|e| field_error(field, &e.to_string()))
}

fn currency_of(form: &FormPairs) -> Result<Currency, ServiceError> {
    Currency::parse(&form.get("currency"))
        .ok_or_else(|| field_error("currency", "not a currency this platform prices in"))
}

async fn save_tax_settings(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = TaxSettings {
        origin_country: form.get("origin_country"),
        rounding: Rounding::parse(&form.get("rounding")).unwrap_or(Rounding::Line),
        reverse_charge: form.get("reverse_charge") == "1",
    };
    let result = tax_rules::set_settings(&state.app, &s.ctx, input).await;
    after(&state, shell, &s, result).await
}

async fn save_rate(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = match Rate::parse_percent(&form.get("rate")) {
        None => Err(field_error("rate", "a percentage from 0 to 100 with at most 4 decimals")),
        Some(rate) => {
            let input = TaxRateInput {
                country: form.get("country"),
                region: form.get("region"),
                tax_class: form.get("tax_class"),
                rate,
                label: form.get("label"),
            };
            tax_rules::put_rate(&state.app, &s.ctx, input).await.map(|_| ())
        }
    };
    after(&state, shell, &s, result).await
}

async fn delete_rate(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = tax_rules::delete_rate(&state.app, &s.ctx, &id).await;
    after(&state, shell, &s, result).await
}

async fn create_zone(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let list = |f: &str| -> Vec<String> {
        form.get(f).split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
    };
    let input = ZoneInput {
        name: form.get("name"),
        regions: list("regions"),
        postcodes: list("postcodes"),
        position: form.get("position").trim().parse().unwrap_or(0),
    };
    let result = shipping::create_zone(&state.app, &s.ctx, input).await;
    after(&state, shell, &s, result).await
}

async fn create_method(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(zone): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = async {
        let currency = currency_of(&form)?;
        let flat = amount(&form, "amount", currency)?.ok_or_else(|| field_error("amount", "give the price"))?;
        let input = MethodInput {
            code: form.get("code"),
            name: form.get("name"),
            carrier: "manual".into(),
            currency: currency.code().into(),
            rates: RateTable::Flat { amount: flat },
            free_over: amount(&form, "free_over", currency)?,
            pickup_points: vec![],
            active: true,
        };
        shipping::create_method(&state.app, &s.ctx, &zone, input).await
    }
    .await;
    after(&state, shell, &s, result).await
}

async fn create_promotion(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let result = async {
        let value = form.get("value");
        let (effect, currency) = match form.get("type").as_str() {
            "order_percent" => {
                let percent = Rate::parse_percent(&value).ok_or_else(|| field_error("value", "a percentage"))?;
                (Effect::OrderPercent { percent }, None)
            }
            "order_amount" => {
                let currency = currency_of(&form)?;
                let amount =
                    amount(&form, "value", currency)?.ok_or_else(|| field_error("value", "give the amount"))?;
                (Effect::OrderAmount { amount }, Some(currency.code().to_string()))
            }
            "free_shipping" => (Effect::FreeShipping, None),
            _ => return Err(field_error("type", "choose what the promotion does")),
        };
        let code = form.get("coupon").trim().to_string();
        let input = PromotionInput {
            name: form.get("name"),
            effect,
            conditions: Conditions { currency, ..Conditions::default() },
            priority: form.get("priority").trim().parse().unwrap_or(0),
            exclusive: form.get("exclusive") == "1",
            needs_coupon: !code.is_empty(),
            active: true,
        };
        let limit = |f: &str| form.get(f).trim().parse::<i64>().ok();
        let coupon =
            CouponInput { code, usage_limit: limit("usage_limit"), per_customer_limit: limit("per_customer_limit") };
        // A bad or taken code must not leave a promotion behind that needs it.
        let wanted = promotions::normalize_code(&coupon.code);
        if input.needs_coupon && (wanted.len() < 3 || wanted.len() > 40) {
            return Err(field_error("coupon", "a code is 3 to 40 letters, digits, - or _"));
        }
        let taken =
            promotions::list(&state.app, &s.ctx).await?.iter().any(|p| p.coupons.iter().any(|c| c.code == wanted));
        if input.needs_coupon && taken {
            return Err(ServiceError::Conflict {
                code: "code_taken",
                message: format!("the coupon code {wanted} exists"),
            });
        }
        let created = promotions::create(&state.app, &s.ctx, input).await?;
        if created.needs_coupon {
            promotions::add_coupon(&state.app, &s.ctx, &created.id, coupon).await?;
        }
        Ok(created)
    }
    .await;
    after(&state, shell, &s, result).await
}
