//! Customer account pages: sign-up, sign-in, profile, addresses, and the
//! customer's own data (export, erasure).

use axum::Router;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
