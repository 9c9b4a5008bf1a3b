//! Admin pages for access control: staff members and their roles, the
//! custom-role editor, API tokens, and the audit log viewer.

use axum::Router;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
