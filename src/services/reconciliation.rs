//! Bank reconciliation: staff import a bank statement (camt.053 XML or
//! CSV); each incoming credit whose remittance quotes an awaited payment's
//! transfer reference, for exactly what that payment still awaits,
//! captures it; the rest are kept as unmatched lines for staff to match by
//! hand. A statement imported twice adds nothing (lines are unique by the
//! bank's reference), and the whole import is one transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::payments::{captured_in, gate, sync_order};
use super::{App, Outcome, ServiceError, ServiceResult, audit, now_ms};
use crate::db::Tx;
use crate::db::bank::{self as sql, BankLineRow};
use crate::db::payments as payment_sql;
use crate::domain::bank_statement::{self, Credit};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::money::Money;
use crate::domain::payments::Gate;
use crate::domain::validation::FieldErrors;

pub const BANK_LINE: &str = "bnk";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementFormat {
    Camt053,
    Csv,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BankLine {
    pub id: String,
    pub bank_ref: String,
    pub booked_on: String,
    pub currency: String,
    pub amount: i64,
    pub remittance: String,
    pub payer: String,
    /// matched or unmatched.
    pub status: String,
    pub payment_id: Option<String>,
    /// Why a line did not match, or how it did.
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Credits read from the statement.
    pub credits: usize,
    /// Lines already imported before (same bank reference): skipped.
    pub duplicates: usize,
    pub matched: usize,
    pub unmatched: usize,
    /// The lines this import added.
    pub lines: Vec<BankLine>,
}

fn payer_slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "bank_lines", column: "payer", store_id, row_id: id }
}

fn line_view(app: &App, store_id: &str, l: BankLineRow) -> ServiceResult<BankLine> {
    let payer = app.open(payer_slot(store_id, &l.id), &l.payer_enc)?;
    Ok(BankLine {
        id: l.id,
        bank_ref: l.bank_ref,
        booked_on: l.booked_on,
        currency: l.currency,
        amount: l.amount,
        remittance: l.remittance,
        payer,
        status: l.status,
        payment_id: l.payment_id,
        note: l.note,
    })
}

/// Imports a statement and matches what it can. Needs `payments.manage`;
/// accepts `Idempotency-Key`. A statement that cannot be read is refused
/// whole (422, with the first problem and where it is).
pub async fn import(
    app: &App,
    ctx: &Ctx,
    format: StatementFormat,
    text: &str,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<ImportReport>> {
    ctx.actor.require(Permission::PaymentsManage)?;
    let credits = match format {
        StatementFormat::Camt053 => bank_statement::parse_camt053(text),
        StatementFormat::Csv => bank_statement::parse_csv(text),
    }
    .map_err(|e| ServiceError::Validation(FieldErrors::single("statement", "unreadable", e.0)))?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let mut report =
        ImportReport { credits: credits.len(), duplicates: 0, matched: 0, unmatched: 0, lines: Vec::new() };
    let now = now_ms();
    for credit in &credits {
        let id = ids::new_id(BANK_LINE);
        let mut row = BankLineRow {
            id: id.clone(),
            bank_ref: credit.bank_ref.clone(),
            booked_on: credit.booked_on.clone(),
            currency: credit.amount.currency.code().into(),
            amount: credit.amount.amount,
            remittance: credit.remittance.chars().take(500).collect(),
            payer_enc: app.seal(payer_slot(store_id, &id), &credit.payer),
            status: "unmatched".into(),
            payment_id: None,
            note: String::new(),
            imported_at: now,
        };
        let found = find_payment(app, &mut tx, store_id, credit).await?;
        if let Err(why) = &found {
            row.note = why.clone();
        }
        if !sql::insert(&mut tx, store_id, &row).await? {
            report.duplicates += 1;
            continue;
        }
        if let Ok(payment) = found {
            let note = format!("matched by reference, bank entry {}", credit.bank_ref);
            apply_match(app, &mut tx, ctx, &mut row, &payment, &note).await?;
            report.matched += 1;
        } else {
            report.unmatched += 1;
        }
        report.lines.push(line_view(app, store_id, row)?);
    }
    audit::record(
        app,
        &mut tx,
        ctx,
        "bank.statement_imported",
        "",
        json!({ "credits": report.credits, "matched": report.matched, "unmatched": report.unmatched }),
    )
    .await?;
    idempotency::complete(app, &mut tx, ctx, idem, 200, &report).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    Ok(Outcome::Fresh(report))
}

/// The awaited payment a credit pays: one its remittance names by
/// reference, in its currency, awaiting exactly its amount. Otherwise why not.
async fn find_payment(
    app: &App,
    tx: &mut Tx,
    store_id: &str,
    credit: &Credit,
) -> ServiceResult<Result<payment_sql::PaymentRow, String>> {
    let references = bank_statement::references_in(&credit.remittance);
    if references.is_empty() {
        return Ok(Err("no transfer reference in the remittance".into()));
    }
    let mut why = String::new();
    for reference in &references {
        for provider in ["bank_transfer", "invoice"] {
            let Some(p) = payment_sql::by_provider_ref(app.db.pool(), store_id, provider, reference).await? else {
                continue;
            };
            // Read again in the transaction: an earlier line may have paid it.
            let p = payment_sql::by_id(tx, store_id, &p.id).await?.ok_or(ServiceError::NotFound)?;
            let awaited = Money::new(p.amount - p.captured - p.pending_capture, credit.amount.currency);
            if gate(&p) != Gate::Awaiting || p.captured > 0 {
                why = format!("{reference} is not awaiting money");
            } else if p.currency != credit.amount.currency.code() {
                why = format!("{reference} awaits {}, the credit is in {}", p.currency, credit.amount.currency.code());
            } else if awaited != credit.amount {
                why = format!("{reference} awaits {awaited}, the credit is {}", credit.amount);
            } else {
                return Ok(Ok(p));
            }
        }
    }
    if why.is_empty() {
        why = format!("no awaited payment has the reference {}", references.join(", "));
    }
    Ok(Err(why))
}

/// Captures `payment` with the line's amount and marks the line matched.
async fn apply_match(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    row: &mut BankLineRow,
    payment: &payment_sql::PaymentRow,
    note: &str,
) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let actor = ctx.actor.principal();
    captured_in(tx, store_id, payment, row.amount, &actor, note).await?;
    if !sql::mark_matched(tx, store_id, &row.id, &payment.id, note).await? {
        return Err(ServiceError::Conflict { code: "line_matched", message: "the line was matched meanwhile".into() });
    }
    sync_order(app, tx, ctx, &payment.order_id).await?;
    row.status = "matched".into();
    row.payment_id = Some(payment.id.clone());
    row.note = note.to_string();
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    /// The awaited payment this credit pays.
    pub payment_id: String,
}

/// Staff match an unmatched line to an awaited payment by hand (the payer
/// forgot the reference). The line's amount is captured; it must fit what
/// the payment still awaits and be in its currency.
pub async fn match_line(app: &App, ctx: &Ctx, line_id: &str, input: MatchInput) -> ServiceResult<BankLine> {
    ctx.actor.require(Permission::PaymentsManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let mut row = sql::get_in(&mut tx, store_id, line_id).await?.ok_or(ServiceError::NotFound)?;
    if row.status != "unmatched" {
        return Err(ServiceError::Conflict { code: "line_matched", message: "this line is already matched".into() });
    }
    if !payment_sql::lock(&mut tx, store_id, &input.payment_id).await? {
        return Err(ServiceError::Validation(FieldErrors::single("payment_id", "not_found", "no such payment")));
    }
    let p = payment_sql::by_id(&mut tx, store_id, &input.payment_id).await?.ok_or(ServiceError::NotFound)?;
    let left = p.amount - p.captured - p.pending_capture;
    if !matches!(gate(&p), Gate::Awaiting | Gate::Open) || p.currency != row.currency || row.amount > left {
        return Err(ServiceError::Conflict {
            code: "does_not_fit",
            message: format!("the payment awaits {left} {}; the line is {} {}", p.currency, row.amount, row.currency),
        });
    }
    let note = format!("matched by {}", ctx.actor.principal());
    apply_match(app, &mut tx, ctx, &mut row, &p, &note).await?;
    audit::record(app, &mut tx, ctx, "bank.line_matched", line_id, json!({ "payment_id": p.id })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    line_view(app, store_id, row)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BankLinePage {
    pub lines: Vec<BankLine>,
    pub next: Option<String>,
}

/// Statement lines, newest first, optionally only `matched` or `unmatched`.
/// Needs `payments.read`.
pub async fn lines(
    app: &App,
    ctx: &Ctx,
    status: Option<&str>,
    before: Option<&str>,
    limit: Option<i64>,
) -> ServiceResult<BankLinePage> {
    ctx.actor.require(Permission::PaymentsRead)?;
    if status.is_some_and(|s| s != "matched" && s != "unmatched") {
        return Err(ServiceError::Validation(FieldErrors::single(
            "status",
            "invalid",
            "status is matched or unmatched",
        )));
    }
    let limit = limit.unwrap_or(50).clamp(1, 200);
    let rows = sql::list(app.db.pool(), &ctx.store.id, status, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let mut lines = Vec::new();
    for r in rows.into_iter().take(limit as usize) {
        lines.push(line_view(app, &ctx.store.id, r)?);
    }
    let next = if more { lines.last().map(|l| l.id.clone()) } else { None };
    Ok(BankLinePage { lines, next })
}
