//! Customer accounts: sign-up and the customer's own profile. The identity
//! work adds verification, addresses and encryption of personal data.

use serde::{Deserialize, Serialize};

use super::actor::Ctx;
use super::idempotency::{self, Begin, IdempotencyRequest};
use super::{App, Outcome, ServiceError, ServiceResult, auth, now_ms, outbox};
use crate::db::{self, customers};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::validation::{FieldErrors, is_plausible_email};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

pub(crate) fn slot<'a>(row: &'a customers::CustomerRow, column: &'a str) -> Slot<'a> {
    Slot { table: "customers", column, store_id: &row.store_id, row_id: &row.id }
}

impl Customer {
    fn open(app: &App, r: customers::CustomerRow) -> ServiceResult<Customer> {
        Ok(Customer {
            email: app.open(slot(&r, "email"), &r.email_enc)?,
            display_name: app.open(slot(&r, "display_name"), &r.display_name_enc)?,
            id: r.id,
            created_at: r.created_at,
        })
    }
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

pub async fn sign_up(
    app: &App,
    ctx: &Ctx,
    input: SignUp,
    idem: Option<&IdempotencyRequest>,
) -> ServiceResult<Outcome<Customer>> {
    super::rate_limit::hit(
        app,
        &ctx.store.id,
        &format!("signup-ip:{}", ctx.client_ip),
        super::rate_limit::SIGNUP_PER_ADDRESS,
    )
    .await?;
    let email = input.email.trim().to_lowercase();
    let mut errs = FieldErrors::default();
    if !is_plausible_email(&email) {
        errs.add("email", "invalid_format", "email must be a valid e-mail address");
    }
    if let Err(msg) = auth::check_password_strength(&input.password) {
        errs.add("password", "weak_password", msg);
    }
    errs.text("display_name", &input.display_name, 1, 100);
    if !errs.is_empty() {
        return Err(errs.into());
    }
    let password_hash = auth::hash_password(&input.password).await?;

    let mut tx = app.db.begin().await?;
    if let Begin::Replay { status, body } = idempotency::claim(app, &mut tx, ctx, idem).await? {
        return Ok(Outcome::Replayed { status, body });
    }
    let mut row = customers::CustomerRow {
        id: ids::new_id(ids::CUSTOMER),
        store_id: ctx.store.id.clone(),
        email_index: app.email_index(&ctx.store.id, &email),
        email_enc: String::new(),
        display_name_enc: String::new(),
        password_hash,
        created_at: now_ms(),
        email_verified_at: None,
        erased_at: None,
    };
    row.email_enc = app.seal(slot(&row, "email"), &email);
    row.display_name_enc = app.seal(slot(&row, "display_name"), input.display_name.trim());
    if let Err(e) = customers::insert(&mut tx, &row).await {
        return Err(if db::is_unique_violation(&e) {
            ServiceError::Conflict { code: "email_taken", message: "an account with this e-mail already exists".into() }
        } else {
            e.into()
        });
    }
    let customer = Customer::open(app, row)?;
    super::recovery::send_verification(app, &mut tx, ctx, &customer.id, &customer.email).await?;
    outbox::emit(&mut tx, &ctx.store.id, "customer.created", serde_json::json!({ "customer_id": customer.id })).await?;
    idempotency::complete(app, &mut tx, ctx, idem, 201, &customer).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    Ok(Outcome::Fresh(customer))
}

pub async fn me(app: &App, ctx: &Ctx) -> ServiceResult<Customer> {
    let id = ctx.actor.customer_id()?;
    let row = customers::by_id(app.db.pool(), &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    Customer::open(app, row)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    pub display_name: String,
}

pub async fn update_me(app: &App, ctx: &Ctx, input: UpdateProfile) -> ServiceResult<Customer> {
    let id = ctx.actor.customer_id()?.to_string();
    let mut errs = FieldErrors::default();
    errs.text("display_name", &input.display_name, 1, 100);
    errs.finish(())?;
    let slot = Slot { table: "customers", column: "display_name", store_id: &ctx.store.id, row_id: &id };
    let sealed = app.seal(slot, input.display_name.trim());
    let mut tx = app.db.begin().await?;
    if customers::update_name(&mut tx, &ctx.store.id, &id, &sealed, now_ms()).await? == 0 {
        return Err(ServiceError::NotFound);
    }
    let row = customers::by_id(&mut *tx, &ctx.store.id, &id).await?.ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    Customer::open(app, row)
}
