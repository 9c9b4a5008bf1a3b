//! Draft orders for phone and B2B sales: staff start a cart for a
//! customer (or for an e-mail address), fill it through the cart API
//! (lines, contact, shipping, coupons — staff may open any draft), and
//! place it with the same checkout as shoppers; the order is the
//! customer's. Drafts are not purged with abandoned carts.

use serde::{Deserialize, Serialize};

use super::actor::{Ctx, Permission};
use super::cart::{self, CartView, NewCart};
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::carts as sql;
use crate::domain::locale::Language;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    /// Channel code (default `web`).
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub lang: Option<Language>,
    /// The customer the order is for (their price lists apply; it lands in their account).
    #[serde(default)]
    pub customer_id: Option<String>,
}

/// Starts a draft order.
pub async fn create(app: &App, ctx: &Ctx, input: DraftInput) -> ServiceResult<CartView> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    if let Some(c) = &input.customer_id
        && crate::db::customers::by_id(app.db.pool(), store_id, c).await?.is_none()
    {
        let mut errs = FieldErrors::default();
        errs.add("customer_id", "unknown_customer", "no customer with this id");
        return Err(errs.into());
    }
    let created = cart::create(app, ctx, NewCart { channel: input.channel, lang: input.lang }).await?;
    let mut tx = app.db.begin().await?;
    sql::make_draft(
        &mut tx,
        store_id,
        &created.cart.id,
        &ctx.actor.principal(),
        input.customer_id.as_deref(),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    let row = sql::by_id(app.db.pool(), store_id, &created.cart.id).await?.ok_or(ServiceError::NotFound)?;
    cart::view(app, ctx, &row).await
}

/// The store's open drafts, most recently changed first.
pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<CartView>> {
    ctx.actor.require(Permission::OrdersRead)?;
    let mut out = Vec::new();
    for row in sql::drafts(app.db.pool(), &ctx.store.id).await? {
        out.push(cart::view(app, ctx, &row).await?);
    }
    Ok(out)
}
