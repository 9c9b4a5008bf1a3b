//! SQL for balances the store owes its customers: gift cards and store
//! credit. Spending is one conditional update (`balance >= amount`), so two
//! concurrent redemptions can never together spend more than is there.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Tx;

#[derive(Debug, Clone)]
pub struct GiftCardRow {
    pub id: String,
    pub code_hash: String,
    pub last4: String,
    pub currency: String,
    pub initial: i64,
    pub balance: i64,
    pub expires_at: Option<i64>,
    pub origin: String,
    pub note: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const CARD_COLUMNS: &str =
    "id, code_hash, last4, currency, initial, balance, expires_at, origin, note, disabled, created_at, updated_at";

fn card(r: &AnyRow) -> Result<GiftCardRow, sqlx::Error> {
    Ok(GiftCardRow {
        id: r.try_get("id")?,
        code_hash: r.try_get("code_hash")?,
        last4: r.try_get("last4")?,
        currency: r.try_get("currency")?,
        initial: r.try_get("initial")?,
        balance: r.try_get("balance")?,
        expires_at: r.try_get("expires_at")?,
        origin: r.try_get("origin")?,
        note: r.try_get("note")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert_gift_card(tx: &mut Tx, store_id: &str, c: &GiftCardRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO gift_cards (store_id, {CARD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    tx.write(
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store_id)
            .bind(&c.id)
            .bind(&c.code_hash)
            .bind(&c.last4)
            .bind(&c.currency)
            .bind(c.initial)
            .bind(c.balance)
            .bind(c.expires_at)
            .bind(&c.origin)
            .bind(&c.note)
            .bind(i64::from(c.disabled))
            .bind(c.created_at)
            .bind(c.updated_at),
    )
    .await
}

pub async fn gift_card_by_hash(
    pool: &sqlx::AnyPool,
    store_id: &str,
    code_hash: &str,
) -> Result<Option<GiftCardRow>, sqlx::Error> {
    let sql = format!("SELECT {CARD_COLUMNS} FROM gift_cards WHERE store_id = $1 AND code_hash = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(code_hash)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(card)
        .transpose()
}

pub async fn gift_card_in(tx: &mut Tx, store_id: &str, id: &str) -> Result<Option<GiftCardRow>, sqlx::Error> {
    let sql = format!("SELECT {CARD_COLUMNS} FROM gift_cards WHERE store_id = $1 AND id = $2");
    tx.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(id))
        .await?
        .as_ref()
        .map(card)
        .transpose()
}

/// Newest first, before the cursor id.
pub async fn gift_cards(
    pool: &sqlx::AnyPool,
    store_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<GiftCardRow>, sqlx::Error> {
    let sql =
        format!("SELECT {CARD_COLUMNS} FROM gift_cards WHERE store_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(store_id)
        .bind(before.unwrap_or("~"))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(card).collect()
}

/// Takes `amount` from a usable card when its balance covers it.
pub async fn spend_gift_card(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    amount: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE gift_cards SET balance = balance - $3, updated_at = $4
                 WHERE store_id = $1 AND id = $2 AND balance >= $3 AND disabled = 0
                   AND (expires_at IS NULL OR expires_at > $4)",
            )
            .bind(store_id)
            .bind(id)
            .bind(amount)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts `amount` back on a card (a refund), never above what it started with.
pub async fn restore_gift_card(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    amount: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE gift_cards SET balance = balance + $3, updated_at = $4
                 WHERE store_id = $1 AND id = $2 AND balance + $3 <= initial",
            )
            .bind(store_id)
            .bind(id)
            .bind(amount)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds to a customer's store credit in a currency.
pub async fn add_credit(
    tx: &mut Tx,
    store_id: &str,
    customer_id: &str,
    currency: &str,
    amount: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    tx.write(
        sqlx::query(
            "INSERT INTO store_credit (store_id, customer_id, currency, balance, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (store_id, customer_id, currency) DO UPDATE
             SET balance = store_credit.balance + excluded.balance, updated_at = excluded.updated_at",
        )
        .bind(store_id)
        .bind(customer_id)
        .bind(currency)
        .bind(amount)
        .bind(now),
    )
    .await
}

/// Takes `amount` of a customer's store credit when the balance covers it.
pub async fn spend_credit(
    tx: &mut Tx,
    store_id: &str,
    customer_id: &str,
    currency: &str,
    amount: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = tx
        .execute(
            sqlx::query(
                "UPDATE store_credit SET balance = balance - $4, updated_at = $5
                 WHERE store_id = $1 AND customer_id = $2 AND currency = $3 AND balance >= $4",
            )
            .bind(store_id)
            .bind(customer_id)
            .bind(currency)
            .bind(amount)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A customer's store credit per currency.
pub async fn credit_of(
    pool: &sqlx::AnyPool,
    store_id: &str,
    customer_id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT currency, balance FROM store_credit WHERE store_id = $1 AND customer_id = $2 ORDER BY currency",
    )
    .bind(store_id)
    .bind(customer_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("currency")?, r.try_get("balance")?))).collect()
}

/// As [`credit_of`], read in a transaction.
pub async fn credit_in(tx: &mut Tx, store_id: &str, customer_id: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = tx
        .fetch_all(
            sqlx::query(
                "SELECT currency, balance FROM store_credit WHERE store_id = $1 AND customer_id = $2 ORDER BY currency",
            )
            .bind(store_id)
            .bind(customer_id),
        )
        .await?;
    rows.iter().map(|r| Ok((r.try_get("currency")?, r.try_get("balance")?))).collect()
}
