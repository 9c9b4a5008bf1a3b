//! A customer's own addresses. Each address is sealed as one value; every
//! lookup is scoped to the signed-in customer, so another customer's
//! address id is simply not found.

use serde::Serialize;

use super::actor::Ctx;
use super::{App, ServiceError, ServiceResult, audit, now_ms};
use crate::db::addresses as sql;
use crate::domain::addresses::Address;
use crate::domain::crypto::Slot;
use crate::domain::ids;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SavedAddress {
    pub id: String,
    #[serde(flatten)]
    pub address: Address,
    pub created_at: i64,
    pub updated_at: i64,
}

fn slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "customer_addresses", column: "data", store_id, row_id: id }
}

fn open(app: &App, store_id: &str, r: sql::AddressRow) -> ServiceResult<SavedAddress> {
    let json = app.open(slot(store_id, &r.id), &r.data_enc)?;
    let address = serde_json::from_str(&json).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(SavedAddress { id: r.id, address, created_at: r.created_at, updated_at: r.updated_at })
}

fn seal(app: &App, store_id: &str, id: &str, a: &Address) -> ServiceResult<String> {
    let json = serde_json::to_string(a).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(app.seal(slot(store_id, id), &json))
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<SavedAddress>> {
    let customer = ctx.actor.customer_id()?;
    sql::list(app.db.pool(), &ctx.store.id, customer).await?.into_iter().map(|r| open(app, &ctx.store.id, r)).collect()
}

pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<SavedAddress> {
    let customer = ctx.actor.customer_id()?;
    if !ids::is_valid("adr", id) {
        return Err(ServiceError::NotFound);
    }
    let row = sql::get(app.db.pool(), &ctx.store.id, customer, id).await?.ok_or(ServiceError::NotFound)?;
    open(app, &ctx.store.id, row)
}

pub async fn create(app: &App, ctx: &Ctx, input: Address) -> ServiceResult<SavedAddress> {
    let customer = ctx.actor.customer_id()?.to_string();
    let address = input.parse()?;
    let id = ids::new_id("adr");
    let now = now_ms();
    let row = sql::AddressRow {
        data_enc: seal(app, &ctx.store.id, &id, &address)?,
        id,
        customer_id: customer,
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    if sql::list(&mut *tx, &ctx.store.id, &row.customer_id).await?.len() >= 50 {
        return Err(ServiceError::Conflict {
            code: "too_many_addresses",
            message: "at most 50 addresses per account".into(),
        });
    }
    sql::insert(&mut tx, &ctx.store.id, &row).await?;
    tx.commit().await?;
    Ok(SavedAddress { id: row.id, address, created_at: now, updated_at: now })
}

pub async fn update(app: &App, ctx: &Ctx, id: &str, input: Address) -> ServiceResult<SavedAddress> {
    let customer = ctx.actor.customer_id()?.to_string();
    if !ids::is_valid("adr", id) {
        return Err(ServiceError::NotFound);
    }
    let address = input.parse()?;
    let sealed = seal(app, &ctx.store.id, id, &address)?;
    let mut tx = app.db.begin().await?;
    if !sql::update(&mut tx, &ctx.store.id, &customer, id, &sealed, now_ms()).await? {
        return Err(ServiceError::NotFound);
    }
    let row = sql::get(&mut *tx, &ctx.store.id, &customer, id).await?.ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    open(app, &ctx.store.id, row)
}

pub async fn delete(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let customer = ctx.actor.customer_id()?.to_string();
    if !ids::is_valid("adr", id) {
        return Err(ServiceError::NotFound);
    }
    let mut tx = app.db.begin().await?;
    if !sql::delete(&mut tx, &ctx.store.id, &customer, id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "address.deleted", id, serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}
