//! The electronic accounts: posting balanced entries inside the business
//! transaction that causes them (so an event and its money movement commit
//! together), and reading them back: account balances, statements, the
//! trial balance, a CSV export for accountants, and verification.

use serde::Serialize;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::ledger::{self as sql, EntryHead, LineRow};
use crate::db::{Tx, stores};
use crate::domain::ids;
use crate::domain::ledger::{AccountKind, AccountRef, Entry};
use crate::domain::money::{Currency, Money};

pub const ENTRY: &str = "jnl";

/// Appends `entry` to the store's journal in `tx`. The id of the entry.
pub async fn post(
    tx: &mut Tx,
    store_id: &str,
    kind: &str,
    reference: &str,
    memo: &str,
    actor: &str,
    entry: &Entry,
) -> ServiceResult<String> {
    let id = ids::new_id(ENTRY);
    let head = EntryHead { id: &id, kind, reference, memo, reverses: None, actor, posted_at: now_ms() };
    sql::append(tx, store_id, &head, entry.lines()).await?;
    Ok(id)
}

/// An account's balance in one currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    /// `code` or `code:party`.
    pub account: String,
    pub number: u32,
    pub name: &'static str,
    pub kind: AccountKind,
    pub currency: Currency,
    pub debits: i64,
    pub credits: i64,
    /// On the account's normal side (debits − credits for assets and
    /// expenses, credits − debits otherwise), in minor units.
    pub balance: i64,
    pub lines: i64,
}

fn account_balance(r: sql::BalanceRow) -> Option<AccountBalance> {
    let account = AccountRef::parse(&r.account)?;
    let kind = account.account.kind();
    Some(AccountBalance {
        number: account.account.number(),
        name: account.account.name(),
        kind,
        currency: Currency::parse(&r.currency)?,
        balance: kind.balance(r.debits, r.credits),
        debits: r.debits,
        credits: r.credits,
        lines: r.lines,
        account: r.account,
    })
}

/// Every account with postings, with its balance.
pub async fn accounts(app: &App, ctx: &Ctx) -> ServiceResult<Vec<AccountBalance>> {
    ctx.actor.require(Permission::LedgerRead)?;
    Ok(sql::balances(app.db.pool(), &ctx.store.id).await?.into_iter().filter_map(account_balance).collect())
}

/// The trial balance: per currency, total debits equal total credits.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrialBalance {
    pub accounts: Vec<AccountBalance>,
    pub totals: Vec<TrialTotal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrialTotal {
    pub currency: Currency,
    pub debits: i64,
    pub credits: i64,
    pub balanced: bool,
}

/// Accounts with their debit or credit balance, and the totals per currency.
pub async fn trial_balance(app: &App, ctx: &Ctx) -> ServiceResult<TrialBalance> {
    let accounts = accounts(app, ctx).await?;
    let mut totals: std::collections::BTreeMap<Currency, (i64, i64)> = Default::default();
    for a in &accounts {
        let t = totals.entry(a.currency).or_default();
        let net = a.debits - a.credits;
        if net >= 0 {
            t.0 += net;
        } else {
            t.1 -= net;
        }
    }
    let totals = totals
        .into_iter()
        .map(|(currency, (debits, credits))| TrialTotal { currency, debits, credits, balanced: debits == credits })
        .collect();
    Ok(TrialBalance { accounts, totals })
}

/// One line of a statement or the journal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JournalLine {
    pub entry_id: String,
    pub line_no: i64,
    pub kind: String,
    pub reference: String,
    pub memo: String,
    pub reverses: Option<String>,
    /// Unix milliseconds.
    pub posted_at: i64,
    pub account: String,
    pub currency: String,
    pub debit: i64,
    pub credit: i64,
    /// The account's balance after this line (statements only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_after: Option<i64>,
}

fn journal_line(r: LineRow) -> JournalLine {
    JournalLine {
        entry_id: r.entry_id,
        line_no: r.line_no,
        kind: r.kind,
        reference: r.reference,
        memo: r.memo,
        reverses: r.reverses,
        posted_at: r.posted_at,
        account: r.account,
        currency: r.currency,
        debit: r.debit,
        credit: r.credit,
        balance_after: None,
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub account: AccountBalance,
    /// Newest first.
    pub lines: Vec<JournalLine>,
    /// Pass as `before` for the next (older) page.
    pub next: Option<String>,
}

/// A statement cursor: `entry_id.line_no` of the last line shown.
fn parse_cursor(cursor: &str) -> Option<(&str, i64)> {
    let (entry, line) = cursor.rsplit_once('.')?;
    Some((entry, line.parse().ok()?))
}

/// An account's statement in a currency, newest first, a page at a time,
/// each line with the balance after it. The kept totals give the current
/// balance, so the first page costs one indexed range read (and a later
/// page one sum over the newer lines).
pub async fn statement(
    app: &App,
    ctx: &Ctx,
    account: &str,
    currency: &str,
    before: Option<&str>,
    limit: Option<i64>,
) -> ServiceResult<Statement> {
    ctx.actor.require(Permission::LedgerRead)?;
    statement_of(app, &ctx.store.id, account, currency, before, limit).await
}

/// A customer's own store credit statement in a currency (empty when
/// they never had any).
pub async fn my_credit_statement(app: &App, ctx: &Ctx, currency: &str) -> ServiceResult<Statement> {
    let customer = ctx.actor.customer_id()?;
    let account = crate::domain::ledger::Account::StoreCredit.of(customer).key();
    statement_of(app, &ctx.store.id, &account, currency, None, Some(50)).await
}

/// An account's statement page; the caller checked who may read it.
async fn statement_of(
    app: &App,
    store_id: &str,
    account: &str,
    currency: &str,
    before: Option<&str>,
    limit: Option<i64>,
) -> ServiceResult<Statement> {
    let account_ref = AccountRef::parse(account).ok_or(ServiceError::NotFound)?;
    let currency = Currency::parse(currency).ok_or(ServiceError::NotFound)?;
    let before = match before {
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            ServiceError::Validation(crate::domain::validation::FieldErrors::single(
                "before",
                "invalid_format",
                "not a statement cursor",
            ))
        })?),
        None => None,
    };
    let pool = app.db.pool();
    let kept = sql::balance_of(pool, store_id, account, currency.code()).await?.ok_or(ServiceError::NotFound)?;
    let kind = account_ref.account.kind();
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let mut balance = kind.balance(kept.debits, kept.credits);
    if let Some(cursor) = before {
        let (d, c) = sql::sums_from(pool, store_id, account, currency.code(), cursor).await?;
        balance -= kind.balance(d, c);
    }
    let rows = sql::statement(pool, store_id, account, currency.code(), before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let mut lines = Vec::with_capacity(rows.len());
    for r in rows.into_iter().take(limit as usize) {
        let mut line = journal_line(r);
        line.balance_after = Some(balance);
        balance -= kind.balance(line.debit, line.credit);
        lines.push(line);
    }
    let next = if more { lines.last().map(|l| format!("{}.{}", l.entry_id, l.line_no)) } else { None };
    let account = account_balance(kept).ok_or(ServiceError::NotFound)?;
    Ok(Statement { account, lines, next })
}

/// The latest 30 journal entries' lines, newest entry first (the journal
/// as staff browse it). Needs `ledger.read`.
pub async fn recent(app: &App, ctx: &Ctx) -> ServiceResult<Vec<JournalLine>> {
    ctx.actor.require(Permission::LedgerRead)?;
    Ok(sql::recent(app.db.pool(), &ctx.store.id, 30).await?.into_iter().map(journal_line).collect())
}

/// The journal lines of one order, payment or gift card, in posting order.
pub async fn entries_for(app: &App, ctx: &Ctx, reference: &str) -> ServiceResult<Vec<JournalLine>> {
    ctx.actor.require(Permission::LedgerRead)?;
    Ok(sql::entries_for(app.db.pool(), &ctx.store.id, reference).await?.into_iter().map(journal_line).collect())
}

/// The whole journal as CSV (one row per line, amounts as decimals), for
/// an external accounting system.
pub async fn export_csv(app: &App, ctx: &Ctx) -> ServiceResult<String> {
    ctx.actor.require(Permission::LedgerRead)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "entry_id",
        "posted_at",
        "kind",
        "reference",
        "memo",
        "reverses",
        "line_no",
        "account",
        "account_number",
        "currency",
        "debit",
        "credit",
    ];
    out.write_record(header).map_err(csv_error)?;
    let mut cursor = (String::new(), 0);
    loop {
        let page = sql::journal_page(app.db.pool(), &ctx.store.id, (&cursor.0, cursor.1), 2_000).await?;
        let Some(last) = page.last() else { break };
        cursor = (last.entry_id.clone(), last.line_no);
        for r in page {
            let currency = Currency::parse(&r.currency).unwrap_or(Currency::EUR);
            let number = AccountRef::parse(&r.account).map(|a| a.account.number().to_string()).unwrap_or_default();
            let posted =
                chrono::DateTime::from_timestamp_millis(r.posted_at).map(|t| t.to_rfc3339()).unwrap_or_default();
            let amount = |x: i64| if x == 0 { String::new() } else { Money::new(x, currency).decimal() };
            out.write_record([
                r.entry_id.as_str(),
                &posted,
                &r.kind,
                &r.reference,
                &r.memo,
                r.reverses.as_deref().unwrap_or(""),
                &r.line_no.to_string(),
                &r.account,
                &number,
                &r.currency,
                &amount(r.debit),
                &amount(r.credit),
            ])
            .map_err(csv_error)?;
        }
    }
    let bytes = out.into_inner().map_err(|e| ServiceError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ServiceError::Internal(e.to_string()))
}

fn csv_error(e: csv::Error) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

/// What verification found for one store.
#[derive(Debug, Serialize)]
pub struct Verified {
    pub store: String,
    pub entries: i64,
    pub lines: i64,
    pub unbalanced_entries: Vec<String>,
    pub mismatched_accounts: Vec<String>,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.unbalanced_entries.is_empty() && self.mismatched_accounts.is_empty()
    }
}

/// Checks every store's journal: each entry balances per currency and the
/// kept account totals equal the sums of their lines (`oxcart ledger verify`).
pub async fn verify(app: &App) -> ServiceResult<Vec<Verified>> {
    let mut out = Vec::new();
    for store in stores::list(app.db.pool()).await? {
        let f = sql::verify(app.db.pool(), &store.id).await?;
        out.push(Verified {
            store: store.slug,
            entries: f.entries,
            lines: f.lines,
            unbalanced_entries: f.unbalanced.iter().map(|(e, c, n)| format!("{e} {c} off by {n}")).collect(),
            mismatched_accounts: f
                .mismatched
                .iter()
                .map(|m| format!("{} {}: kept {:?}, journal {:?}", m.account, m.currency, m.kept, m.journal))
                .collect(),
        });
    }
    Ok(out)
}

/// An order's placement as an entry (None for an order with nothing to
/// record). `channel` is the channel's code, which names the revenue account.
fn order_entry(row: &crate::db::orders::OrderRow, channel: &str) -> ServiceResult<Option<Entry>> {
    let party = row.customer_id.as_deref().unwrap_or(&row.id);
    let figures = crate::domain::ledger::OrderFigures {
        currency: Currency::parse(&row.currency).unwrap_or(Currency::EUR),
        party,
        channel,
        total: row.total,
        shipping: row.shipping_total,
        discount: row.discount_total,
        tax: row.tax_total,
    };
    crate::domain::ledger::order_placed(&figures).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The channel code an order's revenue and refunds are booked under.
pub async fn channel_code(app: &App, store_id: &str, channel_id: &str) -> ServiceResult<String> {
    let channels = super::line_facts::channels(app, store_id).await?;
    Ok(channels.iter().find(|c| c.id == channel_id).map_or(channel_id, |c| c.code.as_str()).to_string())
}

/// Order placed: the buyer owes its total (posted in the checkout's
/// transaction, which knows its channel's code).
pub async fn order_placed(
    tx: &mut Tx,
    row: &crate::db::orders::OrderRow,
    channel: &str,
    store_id: &str,
    actor: &str,
) -> ServiceResult<()> {
    if let Some(entry) = order_entry(row, channel)? {
        post(tx, store_id, "order_placed", &row.id, &format!("order {} placed", row.number), actor, &entry).await?;
    }
    Ok(())
}

/// Order cancelled: the sale is reversed (money already taken stays owed
/// to the buyer until refunded).
pub async fn order_cancelled(
    app: &App,
    tx: &mut Tx,
    row: &crate::db::orders::OrderRow,
    store_id: &str,
    actor: &str,
) -> ServiceResult<()> {
    let channel = channel_code(app, store_id, &row.channel_id).await?;
    if let Some(entry) = order_entry(row, &channel)? {
        let memo = format!("order {} cancelled", row.number);
        post(tx, store_id, "order_cancelled", &row.id, &memo, actor, &entry.reversal()).await?;
    }
    Ok(())
}

/// Order edited: the old figures are reversed and the new ones posted.
pub async fn order_changed(
    app: &App,
    tx: &mut Tx,
    before: &crate::db::orders::OrderRow,
    after: &crate::db::orders::OrderRow,
    store_id: &str,
    actor: &str,
) -> ServiceResult<()> {
    let channel = channel_code(app, store_id, &after.channel_id).await?;
    let (old, new) = (order_entry(before, &channel)?, order_entry(after, &channel)?);
    if old == new {
        return Ok(());
    }
    let memo = format!("order {} edited", after.number);
    if let Some(old) = old {
        post(tx, store_id, "order_edited", &after.id, &memo, actor, &old.reversal()).await?;
    }
    if let Some(new) = new {
        post(tx, store_id, "order_placed", &after.id, &memo, actor, &new).await?;
    }
    Ok(())
}
