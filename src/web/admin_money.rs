//! Admin money pages: the ledger (trial balance, an account's statement,
//! receivables ageing, payments by day, recording a provider payout), bank
//! statements (import, unmatched lines, matching by hand), gift cards
//! (list, issue) and invoices (list). Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::StaffSession;
use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{back_or_show, failure};
use super::shell::{Shell, render};
use crate::domain::invoices::SellerSettings;
use crate::domain::money::{Currency, Money};
use crate::http::state::AppState;
use crate::services::ServiceError;
use crate::services::accounts::{self, GiftCard, GiftCardInput, Origin};
use crate::services::bookkeeping::{self, PayoutInput};
use crate::services::idempotency::IdempotencyRequest;
use crate::services::invoices::{self, Invoice};
use crate::services::ledger::{self, Statement, TrialBalance};
use crate::services::reconciliation::{self, BankLine, MatchInput, StatementFormat};
use crate::services::reports::{self, AgeingReport, DayTotals};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/ledger", get(ledger_page))
        .route("/admin/ledger/payouts", post(record_payout))
        .route("/admin/bank", get(bank_page).post(import_statement))
        .route("/admin/bank/match", post(match_line))
        .route("/admin/gift-cards", get(gift_cards_page).post(issue_gift_card))
        .route("/admin/invoices", get(invoices_page))
        .route("/admin/invoices/settings", post(save_invoice_settings))
}

fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t).map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn amount(shell: &Shell, minor: i64, currency: &str) -> String {
    crate::i18n::format_minor(shell.lang, minor, currency)
}

/// A decimal typed in a form (`12.50`) in minor units of `currency`.
fn typed_amount(text: &str, currency: &str) -> Result<i64, String> {
    let c = Currency::parse(currency).ok_or_else(|| format!("unknown currency {currency}"))?;
    Money::parse(text.trim(), c).map(|m| m.amount).map_err(|e| e.to_string())
}

#[derive(Template)]
#[template(path = "admin/ledger.html")]
struct LedgerPage {
    shell: Shell,
    csrf: String,
    trial: TrialBalance,
    /// The latest entries' lines, newest first.
    journal: Vec<crate::services::ledger::JournalLine>,
    statement: Option<Statement>,
    account: String,
    ageing: Option<AgeingReport>,
    days: Vec<DayTotals>,
    methods: Vec<&'static str>,
    payout_key: String,
    errors: Vec<String>,
}

impl LedgerPage {
    fn money(&self, minor: &i64, currency: &str) -> String {
        amount(&self.shell, *minor, currency)
    }

    fn when(&self, t: &i64) -> String {
        when(*t)
    }
}

#[derive(Deserialize, Default)]
struct LedgerQuery {
    account: Option<String>,
    currency: Option<String>,
    before: Option<String>,
}

async fn show_ledger(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    q: LedgerQuery,
    errors: Vec<String>,
) -> Response {
    let app = &state.app;
    let loaded = async {
        let trial = ledger::trial_balance(app, &s.ctx).await?;
        let journal = ledger::recent(app, &s.ctx).await?;
        let account = q.account.clone().unwrap_or_default();
        let statement = if account.is_empty() {
            None
        } else {
            let currency = q.currency.clone().unwrap_or_else(|| s.ctx.store.currency.clone());
            Some(ledger::statement(app, &s.ctx, &account, &currency, q.before.as_deref(), Some(50)).await?)
        };
        // Reports the member may not read are left out.
        let ageing = match reports::ageing(app, &s.ctx, None).await {
            Ok(r) => Some(r),
            Err(ServiceError::Forbidden(_)) => None,
            Err(e) => return Err(e),
        };
        let days = match reports::payments_by_day(app, &s.ctx, None, None).await {
            Err(ServiceError::Forbidden(_)) => Vec::new(),
            other => other?,
        };
        Ok::<_, ServiceError>(((trial, journal), statement, account, ageing, days))
    }
    .await;
    match loaded {
        Ok(((trial, journal), statement, account, ageing, days)) => {
            let status = super::admin_forms::form_status(&errors);
            let page = LedgerPage {
                shell,
                csrf: s.csrf.clone(),
                trial,
                journal,
                statement,
                account,
                ageing,
                days,
                methods: vec!["test_card", "cash_on_delivery"],
                payout_key: crate::domain::ids::new_id("key"),
                errors,
            };
            render(status, &page)
        }
        Err(e) => failure(&shell, e),
    }
}

async fn ledger_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<LedgerQuery>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_ledger(&state, shell, &s, q, Vec::new()).await
}

async fn record_payout(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let currency = s.ctx.store.currency.clone();
    let (gross, fee) = match (typed_amount(&form.get("gross"), &currency), typed_amount(&form.get("fee"), &currency)) {
        (Ok(g), Ok(f)) => (g, f),
        (Err(e), _) => {
            return show_ledger(&state, shell, &s, LedgerQuery::default(), vec![format!("gross: {e}")]).await;
        }
        (_, Err(e)) => return show_ledger(&state, shell, &s, LedgerQuery::default(), vec![format!("fee: {e}")]).await,
    };
    let input =
        PayoutInput { method: form.get("method"), currency: None, gross, fee, reference: form.get("reference") };
    let key = form.get("_key");
    let idem = (!key.is_empty()).then(|| IdempotencyRequest::new(key, "ledger.payout", &input));
    let result = bookkeeping::payout(&state.app, &s.ctx, input, idem.as_ref()).await;
    back_or_show(shell, "/admin/ledger", result, |shell, errors| {
        show_ledger(&state, shell, &s, LedgerQuery::default(), errors)
    })
    .await
}

#[derive(Template)]
#[template(path = "admin/bank.html")]
struct BankPage {
    shell: Shell,
    csrf: String,
    lines: Vec<BankLine>,
    /// What the last import did, when there was one.
    report: Option<String>,
    errors: Vec<String>,
}

impl BankPage {
    fn money(&self, minor: &i64, currency: &str) -> String {
        amount(&self.shell, *minor, currency)
    }
}

async fn show_bank(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    report: Option<String>,
    errors: Vec<String>,
) -> Response {
    match reconciliation::lines(&state.app, &s.ctx, None, None, Some(100)).await {
        Ok(page) => {
            let status = super::admin_forms::form_status(&errors);
            render(status, &BankPage { shell, csrf: s.csrf.clone(), lines: page.lines, report, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn bank_page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_bank(&state, shell, &s, None, Vec::new()).await
}

/// The statement pasted (or uploaded as text) with its format.
async fn import_statement(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let format = if form.get("format") == "csv" { StatementFormat::Csv } else { StatementFormat::Camt053 };
    match reconciliation::import(&state.app, &s.ctx, format, &form.get("statement"), None).await {
        Ok(crate::services::Outcome::Fresh(r)) => {
            let text = format!(
                "{} credits: {} matched, {} unmatched, {} already imported",
                r.credits, r.matched, r.unmatched, r.duplicates
            );
            show_bank(&state, shell, &s, Some(text), Vec::new()).await
        }
        Ok(_) => show_bank(&state, shell, &s, None, Vec::new()).await,
        Err(e) => match super::admin_forms::messages(e) {
            Ok(errors) => show_bank(&state, shell, &s, None, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn match_line(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let input = MatchInput { payment_id: form.get("payment_id").trim().to_string() };
    let result = reconciliation::match_line(&state.app, &s.ctx, &form.get("line"), input).await;
    back_or_show(shell, "/admin/bank", result, |shell, errors| show_bank(&state, shell, &s, None, errors)).await
}

#[derive(Template)]
#[template(path = "admin/gift_cards.html")]
struct GiftCardsPage {
    shell: Shell,
    csrf: String,
    cards: Vec<GiftCard>,
    /// The code of a card just issued: shown this once.
    issued: Option<String>,
    key: String,
    errors: Vec<String>,
}

impl GiftCardsPage {
    fn money(&self, minor: &i64, currency: &str) -> String {
        amount(&self.shell, *minor, currency)
    }

    fn when(&self, t: &i64) -> String {
        when(*t)
    }
}

async fn show_cards(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    issued: Option<String>,
    errors: Vec<String>,
) -> Response {
    match accounts::gift_cards(&state.app, &s.ctx, None, Some(100)).await {
        Ok(page) => {
            let status = super::admin_forms::form_status(&errors);
            let key = crate::domain::ids::new_id("key");
            render(status, &GiftCardsPage { shell, csrf: s.csrf.clone(), cards: page.gift_cards, issued, key, errors })
        }
        Err(e) => failure(&shell, e),
    }
}

async fn gift_cards_page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_cards(&state, shell, &s, None, Vec::new()).await
}

async fn issue_gift_card(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let amount = match typed_amount(&form.get("amount"), &s.ctx.store.currency) {
        Ok(a) => a,
        Err(e) => return show_cards(&state, shell, &s, None, vec![format!("amount: {e}")]).await,
    };
    let valid_days = form.get("valid_days").trim().parse::<i64>().ok();
    let origin = if form.get("origin") == "promotion" { Origin::Promotion } else { Origin::Sold };
    let input = GiftCardInput { amount, currency: None, origin, valid_days, code: None, note: form.get("note") };
    let key = form.get("_key");
    let idem = (!key.is_empty()).then(|| IdempotencyRequest::new(key, "gift_cards.issue", &input));
    match accounts::issue_gift_card(&state.app, &s.ctx, input, idem.as_ref()).await {
        Ok(crate::services::Outcome::Fresh(issued)) => {
            show_cards(&state, shell, &s, Some(issued.code), Vec::new()).await
        }
        // A repeated form shows the list; the code was shown the first time.
        Ok(_) => show_cards(&state, shell, &s, None, Vec::new()).await,
        Err(e) => match super::admin_forms::messages(e) {
            Ok(errors) => show_cards(&state, shell, &s, None, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

#[derive(Template)]
#[template(path = "admin/invoices.html")]
struct InvoicesPage {
    shell: Shell,
    invoices: Vec<Invoice>,
    next: Option<String>,
    csrf: String,
    settings: SellerSettings,
    errors: Vec<String>,
}

impl InvoicesPage {
    fn money(&self, minor: &i64, currency: &str) -> String {
        amount(&self.shell, *minor, currency)
    }
}

#[derive(Deserialize)]
struct PageQuery {
    before: Option<String>,
}

async fn show_invoices(
    state: &AppState,
    shell: Shell,
    s: &StaffSession,
    before: Option<&str>,
    typed: Option<SellerSettings>,
    errors: Vec<String>,
) -> Response {
    let loaded = async {
        let page = invoices::list(&state.app, &s.ctx, before, Some(50)).await?;
        let settings = match typed {
            Some(t) => t,
            None => invoices::settings(&state.app, &s.ctx).await?,
        };
        Ok::<_, ServiceError>((page, settings))
    }
    .await;
    match loaded {
        Ok((page, settings)) => {
            let status = super::admin_forms::form_status(&errors);
            let html = InvoicesPage {
                shell,
                invoices: page.invoices,
                next: page.next,
                csrf: s.csrf.clone(),
                settings,
                errors,
            };
            render(status, &html)
        }
        Err(e) => failure(&shell, e),
    }
}

async fn invoices_page(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show_invoices(&state, shell, &s, q.before.as_deref(), None, Vec::new()).await
}

async fn save_invoice_settings(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let typed = SellerSettings {
        legal_name: form.get("legal_name").trim().to_string(),
        address_lines: form.get("address").lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect(),
        country: form.get("country").trim().to_uppercase(),
        vat_id: form.get("vat_id").trim().to_string(),
        tax_number: form.get("tax_number").trim().to_string(),
        payment_terms_days: form.get("payment_terms_days").trim().parse().unwrap_or(0),
        iban: form.get("iban"),
        bic: form.get("bic").trim().to_string(),
        footer: form.get("footer").trim().to_string(),
    };
    let result = invoices::put_settings(&state.app, &s.ctx, typed.clone()).await;
    back_or_show(shell, "/admin/invoices", result, |shell, errors| {
        show_invoices(&state, shell, &s, None, Some(typed.clone()), errors)
    })
    .await
}
