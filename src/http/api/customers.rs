//! `/api/v1/customers` and `/api/v1/me`: sign-up and the signed-in
//! customer's own profile.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::respond;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, IdempotencyKey};
use crate::http::state::AppState;
use crate::services::customers::{self, Customer, SignUp, UpdateProfile};
use crate::services::idempotency::IdempotencyRequest;

/// Creates a customer account. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = SignUp,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Customer), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_up(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<SignUp>,
) -> Result<Response, ApiError> {
    let idem = key.map(|k| IdempotencyRequest::new(k, "customers.sign_up", &input));
    let outcome = customers::sign_up(&state.app, &ctx, input, idem.as_ref()).await?;
    Ok(respond(StatusCode::CREATED, outcome))
}

/// The signed-in customer.
#[utoipa::path(get, path = "/api/v1/me", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Customer), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, ApiCtx(ctx): ApiCtx) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::me(&state.app, &ctx).await?))
}

/// Updates the signed-in customer's profile.
#[utoipa::path(patch, path = "/api/v1/me", tag = "customers", security(("bearer" = [])), request_body = UpdateProfile,
    responses((status = 200, body = Customer), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<UpdateProfile>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::update_me(&state.app, &ctx, input).await?))
}
