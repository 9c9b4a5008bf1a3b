//! Postings staff make by hand: a provider's payout to the bank (its fee
//! booked as an expense) and writing off what an order will never pay.
//! Each is one balanced journal entry in one transaction, with an audit
//! entry and an event, and accepts `Idempotency-Key`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::{App, Outcome, ServiceError, ServiceResult, audit, ledger, now_ms, outbox};
use crate::db::ledger as ledger_sql;
use crate::db::orders::{self as order_sql, HistoryRow};
use crate::domain::ids;
use crate::domain::ledger::{Account, EntryBuilder, holding_account};
use crate::domain::money::Currency;
use crate::domain::orders::OrderStatus;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutInput {
    /// The payment method whose money is paid out (`test_card`, `cash_on_delivery`, …).
    pub method: String,
    /// ISO 4217; the store's currency by default.
    #[serde(default)]
    pub currency: Option<String>,
    /// What the provider took for buyers, in minor units.
    pub gross: i64,
    /// The provider's fee, kept back from the payout.
    #[serde(default)]
    pub fee: i64,
    /// The payout's reference (on the bank statement).
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Posted {
    /// The journal entry's id.
    pub entry_id: String,
    /// What reached the bank (payout) or was written off, in minor units.
    pub amount: i64,
    pub currency: String,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

/// A provider paid out what it holds, less its fee: the bank gets the net,
/// the fee is an expense, the provider's clearing account goes down by the
/// gross. Refused when the clearing account does not hold that much.
pub async fn payout(
    app: &App,
    ctx: &Ctx,
    input: PayoutInput,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Posted>> {
    ctx.actor.require(Permission::PaymentsManage)?;
    let mut errs = FieldErrors::default();
    let holding = holding_account(&input.method, "");
    if app.payments.by_code(&input.method).is_none() {
        errs.add("method", "unknown_method", format!("method must be one of {}", app.payments.codes().join(", ")));
    } else if !matches!(holding.account, Account::Clearing | Account::Cash) {
        errs.add("method", "not_paid_out", "this method's money does not pass through a provider or the till");
    }
    let currency = Currency::parse(input.currency.as_deref().unwrap_or(&ctx.store.currency));
    if currency.is_none() {
        errs.add("currency", "unknown_currency", "not a supported currency");
    }
    if !(1..=1_000_000_000_000).contains(&input.gross) {
        errs.add("gross", "invalid_amount", "gross must be more than zero");
    }
    if input.fee < 0 || input.fee > input.gross {
        errs.add("fee", "invalid_amount", "the fee must be from zero to the gross amount");
    }
    errs.text("reference", &input.reference, 1, 140);
    errs.finish(())?;
    let currency = currency.ok_or(ServiceError::NotFound)?;
    let net = input.gross - input.fee;
    let mut builder = EntryBuilder::new().credit(holding.clone(), currency, input.gross);
    if net > 0 {
        builder = builder.debit(Account::Bank.whole(), currency, net);
    }
    if input.fee > 0 {
        builder = builder.debit(Account::Fees.of(&input.method), currency, input.fee);
    }
    let entry = builder.build().map_err(internal)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let memo = format!("payout {} by {}", input.reference.trim(), input.method);
    let actor = ctx.actor.principal();
    let entry_id = ledger::post(&mut tx, store_id, "payout", input.reference.trim(), &memo, &actor, &entry).await?;
    let (debits, credits) = ledger_sql::totals_in(&mut tx, store_id, &holding.key(), currency.code()).await?;
    if debits < credits {
        return Err(ServiceError::Conflict {
            code: "exceeds_balance",
            message: format!(
                "{} holds {} {}, less than the payout's {}",
                holding.key(),
                debits - credits + input.gross,
                currency.code(),
                input.gross
            ),
        });
    }
    outbox::emit(
        &mut tx,
        store_id,
        "ledger.payout",
        json!({ "method": input.method, "gross": input.gross, "fee": input.fee, "currency": currency.code() }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "ledger.payout", &entry_id, json!({ "gross": input.gross, "fee": input.fee }))
        .await?;
    let answer = Posted { entry_id, amount: net, currency: currency.code().into() };
    idempotency::complete(app, &mut tx, ctx, idem, 201, &answer).await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok(Outcome::Fresh(answer))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteOffInput {
    /// Why (for the order's history and the journal).
    pub note: String,
}

/// Gives up on what a shipped order still owes: the receivable is written
/// off as an expense, so it leaves the ageing report. Orders not yet
/// shipped are cancelled instead.
pub async fn write_off(
    app: &App,
    ctx: &Ctx,
    order_id: &str,
    input: WriteOffInput,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Posted>> {
    ctx.actor.require(Permission::PaymentsManage)?;
    let mut errs = FieldErrors::default();
    errs.text("note", &input.note, 1, 500);
    errs.finish(())?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let order = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let status = OrderStatus::parse(&order.status).unwrap_or(OrderStatus::Placed);
    if !matches!(status, OrderStatus::PartiallyFulfilled | OrderStatus::Fulfilled | OrderStatus::Completed) {
        return Err(ServiceError::Conflict {
            code: "not_shipped",
            message: "only what a shipped order owes is written off; cancel an order that has not shipped".into(),
        });
    }
    let party = super::payments::party_of(&order);
    let account = Account::Receivable.of(&party);
    let (debits, credits) = ledger_sql::totals_in(&mut tx, store_id, &account.key(), &order.currency).await?;
    let payments = crate::db::payments::for_order_in(&mut tx, store_id, order_id).await?;
    let live = payments.iter().any(|p| {
        use crate::domain::payments::Gate;
        matches!(Gate::parse(&p.gate), Some(Gate::Open | Gate::Awaiting | Gate::Processing | Gate::RequiresAction))
            && p.captured < p.amount
    });
    if live {
        return Err(ServiceError::Conflict {
            code: "payment_pending",
            message: "a payment of this order may still bring money; void it first".into(),
        });
    }
    let captured: i64 = payments.iter().map(|p| p.captured).sum();
    let written: i64 = ledger_sql::count_entries(&mut tx, store_id, order_id, "write_off").await?;
    // What this order still owes, never more than the party's receivable.
    let owed = if written > 0 { 0 } else { (order.total - captured).min(debits - credits) };
    if owed <= 0 {
        return Err(ServiceError::Conflict { code: "nothing_owed", message: "this order owes nothing".into() });
    }
    let currency = Currency::parse(&order.currency).unwrap_or(Currency::EUR);
    let entry = EntryBuilder::new()
        .debit(Account::WriteOffs.whole(), currency, owed)
        .credit(account, currency, owed)
        .build()
        .map_err(internal)?;
    let actor = ctx.actor.principal();
    let entry_id = ledger::post(&mut tx, store_id, "write_off", order_id, input.note.trim(), &actor, &entry).await?;
    let history = HistoryRow {
        kind: "payment".into(),
        from_status: Some(order.status.clone()),
        to_status: order.status.clone(),
        note: format!("written off {owed}: {}", input.note.trim()),
        actor: actor.clone(),
        at: now_ms(),
    };
    order_sql::add_history(&mut tx, store_id, order_id, &ids::new_id("ohs"), &history).await?;
    outbox::emit(
        &mut tx,
        store_id,
        "order.written_off",
        json!({ "order_id": order_id, "number": order.number, "amount": owed, "currency": order.currency }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "orders.written_off", order_id, json!({ "amount": owed })).await?;
    let answer = Posted { entry_id, amount: owed, currency: order.currency.clone() };
    idempotency::complete(app, &mut tx, ctx, idem, 201, &answer).await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok(Outcome::Fresh(answer))
}
