//! The customer's rights over their data: a full export, and erasure that
//! anonymises personal data while keeping the records the law requires
//! (orders, invoices, ledger entries keep pointing at the anonymised id).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::Ctx;
use super::addresses::{self, SavedAddress};
use super::customers::{self, Customer};
use super::{App, ServiceError, ServiceResult, audit, auth, now_ms, outbox};
use crate::db::{addresses as address_sql, customers as customer_sql, sessions};
use crate::domain::crypto::Slot;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DataExport {
    /// Unix milliseconds.
    pub exported_at: i64,
    pub store: String,
    pub profile: Customer,
    pub addresses: Vec<SavedAddress>,
}

/// Everything the store holds about the signed-in customer, as JSON.
pub async fn export(app: &App, ctx: &Ctx) -> ServiceResult<DataExport> {
    let profile = customers::me(app, ctx).await?;
    let addresses = addresses::list(app, ctx).await?;
    audit::record_alone(app, ctx, "privacy.exported", &profile.id, json!({ "addresses": addresses.len() })).await?;
    Ok(DataExport { exported_at: now_ms(), store: ctx.store.slug.clone(), profile, addresses })
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The account's password, confirming the request.
    pub password: String,
}

/// Erases the signed-in customer's personal data now: e-mail and name are
/// replaced by placeholders, addresses deleted, sessions ended, sign-in
/// disabled. The account id stays for the records that must be kept.
pub async fn erase_me(app: &App, ctx: &Ctx, input: ErasureRequest) -> ServiceResult<()> {
    let id = ctx.actor.customer_id()?.to_string();
    let row = customer_sql::by_id(app.db.pool(), &ctx.store.id, &id).await?.ok_or(ServiceError::NotFound)?;
    if !auth::password_matches(&input.password, &row.password_hash).await {
        return Err(ServiceError::InvalidCredentials);
    }
    let placeholder = format!("erased-{id}@invalid");
    let slot = |column| Slot { table: "customers", column, store_id: &ctx.store.id, row_id: &id };
    let email_enc = app.seal(slot("email"), &placeholder);
    let name_enc = app.seal(slot("display_name"), "Erased customer");
    let index = app.email_index(&ctx.store.id, &placeholder);
    let mut tx = app.db.begin().await?;
    if !customer_sql::anonymise(&mut tx, &ctx.store.id, &id, &index, &email_enc, &name_enc, now_ms()).await? {
        return Err(ServiceError::NotFound);
    }
    let removed = address_sql::delete_all(&mut tx, &ctx.store.id, &id).await?;
    let ended = sessions::delete_for_principal(&mut tx, &ctx.store.id, "customer", &id).await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "privacy.erased",
        &id,
        json!({ "addresses_deleted": removed, "sessions_ended": ended }),
    )
    .await?;
    outbox::emit(&mut tx, &ctx.store.id, "customer.erased", json!({ "customer_id": id })).await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok(())
}
