//! SQL for the journal: appending a balanced entry with its lines and the
//! account totals it changes (one transaction), statements, balances, the
//! journal export, and the checks `oxcart ledger verify` runs.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;
use super::catalog_bulk::{Cell, insert_rows};
use crate::domain::ledger::Line;

/// What an entry records, besides its lines.
pub struct EntryHead<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub reference: &'a str,
    pub memo: &'a str,
    pub reverses: Option<&'a str>,
    pub actor: &'a str,
    pub posted_at: i64,
}

/// Appends an entry (already balanced: `domain::ledger::Entry`) and adds
/// its lines to the account totals.
pub async fn append(tx: &mut Tx, store_id: &str, head: &EntryHead<'_>, lines: &[Line]) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "INSERT INTO journal_entries (store_id, id, kind, reference, memo, reverses, actor, posted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(store_id)
        .bind(head.id)
        .bind(head.kind)
        .bind(head.reference)
        .bind(head.memo)
        .bind(head.reverses)
        .bind(head.actor)
        .bind(head.posted_at),
    )
    .await?;
    let rows = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            vec![
                Cell::Text(store_id.into()),
                Cell::Text(head.id.into()),
                Cell::Int(i as i64 + 1),
                Cell::Text(l.account.key()),
                Cell::Text(l.currency.code().into()),
                Cell::Int(l.debit),
                Cell::Int(l.credit),
            ]
        })
        .collect();
    let dialect = tx.dialect();
    let columns = ["store_id", "entry_id", "line_no", "account", "currency", "debit", "credit"];
    insert_rows(tx, dialect, "journal_lines", &columns, rows, "").await?;
    // One upsert per account touched, in a fixed order (two entries touching
    // the same accounts on PostgreSQL lock them in the same order).
    let mut totals: BTreeMap<(String, &str), (i64, i64, i64)> = BTreeMap::new();
    for l in lines {
        let t = totals.entry((l.account.key(), l.currency.code())).or_default();
        *t = (t.0 + l.debit, t.1 + l.credit, t.2 + 1);
    }
    for ((account, currency), (debits, credits, count)) in totals {
        tx.write(
            sqlx::query(
                "INSERT INTO ledger_balances (store_id, account, currency, debits, credits, lines)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (store_id, account, currency) DO UPDATE
                 SET debits = ledger_balances.debits + excluded.debits,
                     credits = ledger_balances.credits + excluded.credits,
                     lines = ledger_balances.lines + excluded.lines",
            )
            .bind(store_id)
            .bind(account)
            .bind(currency)
            .bind(debits)
            .bind(credits)
            .bind(count),
        )
        .await?;
    }
    Ok(())
}

/// An account's totals in one currency.
#[derive(Debug, Clone)]
pub struct BalanceRow {
    pub account: String,
    pub currency: String,
    pub debits: i64,
    pub credits: i64,
    pub lines: i64,
}

fn balance_row(r: &AnyRow) -> Result<BalanceRow, sqlx::Error> {
    Ok(BalanceRow {
        account: r.try_get("account")?,
        currency: r.try_get("currency")?,
        debits: r.try_get("debits")?,
        credits: r.try_get("credits")?,
        lines: r.try_get("lines")?,
    })
}

/// Every account's kept totals, in account order.
pub async fn balances(pool: &sqlx::AnyPool, store_id: &str) -> Result<Vec<BalanceRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT account, currency, debits, credits, lines FROM ledger_balances
         WHERE store_id = $1 ORDER BY account, currency",
    )
    .bind(store_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(balance_row).collect()
}

/// One account's kept totals (accounts split by party: each part).
pub async fn balance_of(
    pool: &sqlx::AnyPool,
    store_id: &str,
    account: &str,
    currency: &str,
) -> Result<Option<BalanceRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT account, currency, debits, credits, lines FROM ledger_balances
         WHERE store_id = $1 AND account = $2 AND currency = $3",
    )
    .bind(store_id)
    .bind(account)
    .bind(currency)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(balance_row).transpose()
}

/// A journal line with its entry's facts.
#[derive(Debug, Clone)]
pub struct LineRow {
    pub entry_id: String,
    pub line_no: i64,
    pub kind: String,
    pub reference: String,
    pub memo: String,
    pub reverses: Option<String>,
    pub posted_at: i64,
    pub account: String,
    pub currency: String,
    pub debit: i64,
    pub credit: i64,
}

fn line_row(r: &AnyRow) -> Result<LineRow, sqlx::Error> {
    Ok(LineRow {
        entry_id: r.try_get("entry_id")?,
        line_no: r.try_get("line_no")?,
        kind: r.try_get("kind")?,
        reference: r.try_get("reference")?,
        memo: r.try_get("memo")?,
        reverses: r.try_get("reverses")?,
        posted_at: r.try_get("posted_at")?,
        account: r.try_get("account")?,
        currency: r.try_get("currency")?,
        debit: r.try_get("debit")?,
        credit: r.try_get("credit")?,
    })
}

const LINE_COLUMNS: &str = "l.entry_id, l.line_no, e.kind, e.reference, e.memo, e.reverses, e.posted_at,
    l.account, l.currency, l.debit, l.credit";

/// An account's lines in one currency, newest first, before the cursor
/// line (entry id, line no; exclusive), at most `limit`.
pub async fn statement(
    pool: &sqlx::AnyPool,
    store_id: &str,
    account: &str,
    currency: &str,
    before: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<LineRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM journal_lines l
         JOIN journal_entries e ON e.store_id = l.store_id AND e.id = l.entry_id
         WHERE l.store_id = $1 AND l.account = $2 AND l.currency = $3
           AND (l.entry_id < $4 OR (l.entry_id = $4 AND l.line_no < $5))
         ORDER BY l.entry_id DESC, l.line_no DESC LIMIT $6"
    );
    let (entry, line) = before.unwrap_or(("~", 0));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(account)
        .bind(currency)
        .bind(entry)
        .bind(line)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(line_row).collect()
}

/// Sums of an account's lines from the cursor line on (inclusive): with
/// the kept totals they give the running balance at any page.
pub async fn sums_from(
    pool: &sqlx::AnyPool,
    store_id: &str,
    account: &str,
    currency: &str,
    from: (&str, i64),
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(debit), 0) AS BIGINT) AS d, CAST(COALESCE(SUM(credit), 0) AS BIGINT) AS c
         FROM journal_lines WHERE store_id = $1 AND account = $2 AND currency = $3
           AND (entry_id > $4 OR (entry_id = $4 AND line_no >= $5))",
    )
    .bind(store_id)
    .bind(account)
    .bind(currency)
    .bind(from.0)
    .bind(from.1)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("d")?, row.try_get("c")?))
}

/// Journal lines in posting order after the cursor (entry id, line no),
/// at most `limit`: the export reads the journal in pages.
pub async fn journal_page(
    pool: &sqlx::AnyPool,
    store_id: &str,
    after: (&str, i64),
    limit: i64,
) -> Result<Vec<LineRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM journal_lines l
         JOIN journal_entries e ON e.store_id = l.store_id AND e.id = l.entry_id
         WHERE l.store_id = $1 AND (l.entry_id > $2 OR (l.entry_id = $2 AND l.line_no > $3))
         ORDER BY l.entry_id, l.line_no LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(line_row).collect()
}

/// The newest journal entries' lines (the latest `entries` entries, newest
/// first, each entry's lines in order).
pub async fn recent(pool: &sqlx::AnyPool, store_id: &str, entries: i64) -> Result<Vec<LineRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM journal_lines l
         JOIN journal_entries e ON e.store_id = l.store_id AND e.id = l.entry_id
         WHERE l.store_id = $1 AND l.entry_id IN
             (SELECT id FROM journal_entries WHERE store_id = $1 ORDER BY posted_at DESC, id DESC LIMIT $2)
         ORDER BY e.posted_at DESC, l.entry_id DESC, l.line_no"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(entries).fetch_all(pool).await?;
    rows.iter().map(line_row).collect()
}

/// The lines of the entries recording `reference`, in posting order.
pub async fn entries_for(pool: &sqlx::AnyPool, store_id: &str, reference: &str) -> Result<Vec<LineRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM journal_lines l
         JOIN journal_entries e ON e.store_id = l.store_id AND e.id = l.entry_id
         WHERE e.store_id = $1 AND e.reference = $2 ORDER BY l.entry_id, l.line_no"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(reference).fetch_all(pool).await?;
    rows.iter().map(line_row).collect()
}

/// Entries of a kind recording `reference`, read in a transaction (has
/// this order's placement been posted? has it been reversed?).
pub async fn count_entries(tx: &mut Tx, store_id: &str, reference: &str, kind: &str) -> Result<i64, sqlx::Error> {
    let row = tx
        .fetch_optional(
            sqlx::query(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM journal_entries
                 WHERE store_id = $1 AND reference = $2 AND kind = $3",
            )
            .bind(store_id)
            .bind(reference)
            .bind(kind),
        )
        .await?;
    row.map_or(Ok(0), |r| r.try_get("n"))
}

/// An account whose kept totals differ from its journal lines.
#[derive(Debug)]
pub struct Mismatch {
    pub account: String,
    pub currency: String,
    /// (debits, credits) kept.
    pub kept: (i64, i64),
    /// (debits, credits) summed from the journal.
    pub journal: (i64, i64),
}

/// What `oxcart ledger verify` finds wrong, per store.
#[derive(Debug, Default)]
pub struct Findings {
    pub entries: i64,
    pub lines: i64,
    /// Entries whose lines do not balance in some currency: (entry, currency, debits − credits).
    pub unbalanced: Vec<(String, String, i64)>,
    /// Kept totals that differ from the journal.
    pub mismatched: Vec<Mismatch>,
}

/// Recomputes every entry's balance and every account's totals from the
/// journal and compares them with what is kept.
pub async fn verify(pool: &sqlx::AnyPool, store_id: &str) -> Result<Findings, sqlx::Error> {
    let mut f = Findings::default();
    let counts = sqlx::query(
        "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM journal_entries WHERE store_id = $1) AS e,
                (SELECT CAST(COUNT(*) AS BIGINT) FROM journal_lines WHERE store_id = $1) AS l",
    )
    .bind(store_id)
    .fetch_one(pool)
    .await?;
    (f.entries, f.lines) = (counts.try_get("e")?, counts.try_get("l")?);
    let unbalanced = sqlx::query(
        "SELECT entry_id, currency, CAST(SUM(debit) - SUM(credit) AS BIGINT) AS net FROM journal_lines
         WHERE store_id = $1 GROUP BY entry_id, currency HAVING SUM(debit) <> SUM(credit) ORDER BY entry_id",
    )
    .bind(store_id)
    .fetch_all(pool)
    .await?;
    for r in unbalanced {
        f.unbalanced.push((r.try_get("entry_id")?, r.try_get("currency")?, r.try_get("net")?));
    }
    let journal = sqlx::query(
        "SELECT account, currency, CAST(SUM(debit) AS BIGINT) AS d, CAST(SUM(credit) AS BIGINT) AS c
         FROM journal_lines WHERE store_id = $1 GROUP BY account, currency",
    )
    .bind(store_id)
    .fetch_all(pool)
    .await?;
    let mut from_journal: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for r in journal {
        from_journal.insert((r.try_get("account")?, r.try_get("currency")?), (r.try_get("d")?, r.try_get("c")?));
    }
    for kept in balances(pool, store_id).await? {
        let key = (kept.account, kept.currency);
        let journal = from_journal.remove(&key).unwrap_or((0, 0));
        if journal != (kept.debits, kept.credits) {
            f.mismatched.push(Mismatch { account: key.0, currency: key.1, kept: (kept.debits, kept.credits), journal });
        }
    }
    for ((account, currency), journal) in from_journal {
        f.mismatched.push(Mismatch { account, currency, kept: (0, 0), journal });
    }
    Ok(f)
}

/// One account's kept totals (debits, credits), read in a transaction
/// (after a posting, to refuse one that overdraws it).
pub async fn totals_in(tx: &mut Tx, store_id: &str, account: &str, currency: &str) -> Result<(i64, i64), sqlx::Error> {
    let row = tx
        .fetch_optional(
            sqlx::query(
                "SELECT debits, credits FROM ledger_balances WHERE store_id = $1 AND account = $2 AND currency = $3",
            )
            .bind(store_id)
            .bind(account)
            .bind(currency),
        )
        .await?;
    match row {
        Some(r) => Ok((r.try_get("debits")?, r.try_get("credits")?)),
        None => Ok((0, 0)),
    }
}
