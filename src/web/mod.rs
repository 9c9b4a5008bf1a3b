//! Server-rendered pages: the storefront and the admin, in the store's
//! brand and the visitor's language, working without JavaScript.

/// Takes the value of a page precondition (`Result<T, Response>`, such as
/// "signed in with a valid CSRF token"), or returns the response it gave
/// instead (a sign-in redirect, a 403 page).
macro_rules! or_respond {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response,
        }
    };
}

pub mod account;
pub mod admin;
pub mod admin_access;
pub mod admin_attributes;
pub mod admin_bulk;
pub mod admin_catalog;
pub mod admin_categories;
pub mod admin_checkout;
pub mod admin_collections;
pub mod admin_digital;
pub mod admin_drafts;
pub mod admin_forms;
pub mod admin_inventory;
pub mod admin_money;
pub mod admin_orders;
pub mod admin_pricing;
pub mod admin_risk;
pub mod assets;
pub mod cookies;
pub mod pay;
pub mod search;
pub mod shell;
pub mod shop;
pub mod storefront;

use axum::Router;
use axum::routing::get;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(storefront::home))
        .route("/p/{slug}", get(storefront::product))
        .route("/c/{slug}", get(search::category))
        .route("/search", get(search::search_page))
        .route("/collections/{slug}", get(search::collection))
        .route("/sitemap.xml", get(storefront::sitemap))
        .route("/lang/{code}", get(shell::switch_language))
        .route("/channel/{code}", get(shell::switch_channel))
        .route("/brand.css", get(assets::brand_css))
        .route("/static/{*file}", get(assets::static_file))
        .route("/admin", get(admin::home))
        .route("/admin/login", get(admin::login_form).post(admin::login_submit))
        .route("/admin/login/totp", axum::routing::post(admin::login_totp_submit))
        .route("/admin/logout", axum::routing::post(admin::logout))
        .route("/admin/settings", get(admin::settings_form).post(admin::settings_submit))
        .merge(admin_access::routes())
        .merge(admin_catalog::routes())
        .merge(admin_drafts::routes())
        .merge(admin_digital::routes())
        .merge(admin_bulk::routes())
        .merge(admin_checkout::routes())
        .merge(admin_inventory::routes())
        .merge(admin_orders::routes())
        .merge(admin_risk::routes())
        .merge(admin_money::routes())
        .merge(shop::routes())
        .merge(pay::routes())
        .merge(admin_pricing::routes())
        .merge(admin_categories::routes())
        .merge(admin_attributes::routes())
        .merge(admin_collections::routes())
        .merge(account::routes())
}
