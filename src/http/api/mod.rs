//! The JSON API under `/api/v1`. One file per resource; handlers parse,
//! call one service, and map the result. The OpenAPI document is generated
//! from the handlers' annotations and the input/output types.

pub mod account;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod books;
pub mod catalog;
pub mod checkout_rules;
pub mod customers;
pub mod digital;
pub mod docs;
pub mod inventory;
pub mod jobs;
pub mod media;
pub mod orders;
pub mod payments;
pub mod pricing;
pub mod risk;
pub mod search;
pub mod staff;
pub mod stores;
pub mod tokens;
pub mod webhooks;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use utoipa::OpenApi;

use super::state::AppState;
use crate::services::Outcome;

#[derive(OpenApi)]
#[openapi(
    info(title = "Oxcart API", version = "1", description = "Run an online business: storefront, back office and partner integrations. Errors are application/problem+json (RFC 9457). POSTs that create things accept an Idempotency-Key header; a replayed answer carries Idempotency-Replayed: true."),
    paths(
        stores::get_store, stores::update_branding,
        auth::login, auth::second_factor, auth::totp_setup, auth::totp_enable, auth::security_settings, auth::logout, auth::logout_everywhere, auth::verify_email, auth::request_reset, auth::confirm_reset,
        staff::list, staff::create, staff::change_role, staff::roles, staff::create_role, staff::update_role, staff::permissions,
        tokens::list, tokens::create, tokens::revoke, audit::search,
        customers::sign_up, customers::me, customers::update_me,
        account::list, account::create, account::get, account::update, account::delete, account::export, account::erase,
        catalog::channels, catalog::create_channel, catalog::create, catalog::get, catalog::update, catalog::storefront_product,
        catalog::categories, catalog::create_category, catalog::update_category, catalog::delete_category,
        catalog::storefront_category,
        search::storefront, search::suggest, search::staff, search::list_attributes, search::create_attribute, search::update_attribute, search::delete_attribute, search::list_types, search::create_type, search::list_collections, search::create_collection, search::update_collection, search::storefront_collection,
        pricing::groups, pricing::create_group, pricing::members, pricing::add_member, pricing::remove_member,
        pricing::lists, pricing::create_list, pricing::get_list, pricing::update_list, pricing::delete_list, pricing::quote,
        jobs::import, jobs::export, jobs::list, jobs::get, jobs::file,
        orders::create_cart, orders::get_cart, orders::set_line, orders::set_contact, orders::checkout, orders::claim_cart, orders::set_shipping, orders::add_coupon, orders::remove_coupon, orders::list, orders::get, orders::change_status, orders::add_note, orders::edit_order, orders::create_draft, orders::list_drafts, orders::pick_list, orders::ship, orders::delivered, orders::fulfil,
        orders::request_return, orders::order_returns, orders::list_returns, orders::get_return, orders::decide_return, orders::receive_return,
        inventory::locations, inventory::create_location, inventory::update_location, inventory::location_stock, inventory::variant, inventory::update_settings, inventory::adjust, inventory::transfer, inventory::movements,
        checkout_rules::tax, checkout_rules::tax_settings, checkout_rules::put_tax_rate, checkout_rules::delete_tax_rate,
        checkout_rules::zones, checkout_rules::create_zone, checkout_rules::update_zone, checkout_rules::delete_zone,
        checkout_rules::create_method, checkout_rules::update_method, checkout_rules::delete_method,
        checkout_rules::list_promotions, checkout_rules::create_promotion, checkout_rules::get_promotion, checkout_rules::update_promotion, checkout_rules::add_coupon,
        digital::add_file, digital::files, digital::remove_file, digital::key_stock, digital::add_keys, digital::payment_received, digital::renew_links,
        media::upload, media::list, media::reorder, media::update, media::delete,
        payments::pay, payments::order_payments, payments::challenge, payments::list, payments::get, payments::capture, payments::refund, payments::void,
        accounts::issue, accounts::list, accounts::balance, accounts::grant_credit, accounts::customer_credit, accounts::my_credit, accounts::my_credit_statement, accounts::my_payments, accounts::top_up,
        payments::accounts, payments::statement, payments::trial_balance, payments::entries, payments::journal_csv, payments::provider_webhook, payments::import_statement, payments::bank_lines, payments::match_line,
        payments::issue_invoice, payments::order_invoices, payments::list_invoices, payments::get_invoice,
        books::ageing, books::payments_by_day, books::payout, books::write_off, books::invoice_settings, books::put_invoice_settings,
        risk::settings, risk::put_settings, risk::recommended, risk::reviews, risk::order_risk, risk::approve, risk::reject, risk::blocks, risk::add_block, risk::remove_block,
        webhooks::list, webhooks::create, webhooks::get, webhooks::delete, webhooks::deliveries, webhooks::ping, webhooks::events,
    ),
    components(schemas(super::error::Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "store", description = "The store (tenant) and its brand"),
        (name = "auth", description = "Sessions"),
        (name = "access", description = "Staff, roles, API tokens and the audit log"),
        (name = "customers", description = "Customer accounts"),
        (name = "catalog", description = "Channels, products, variants and prices"),
        (name = "search", description = "Catalog search with facets, for the storefront and staff"),
        (name = "orders", description = "Carts, checkout and orders"),
        (name = "digital goods", description = "Files and licence keys of digital products, delivered once paid"),
        (name = "fulfilment", description = "Pick lists, shipments with tracking, delivery, fulfilling orders that ship nothing"),
        (name = "returns", description = "Return requests (RMA), inspection, restocking and the refund owed"),
        (name = "checkout rules", description = "Tax rates, shipping zones and methods, promotions and coupons"),
        (name = "inventory", description = "Stock locations, levels, adjustments, transfers and the stock journal"),
        (name = "payments", description = "Paying orders (cards, transfers, cash on delivery, invoices); capture, void and refund"),
        (name = "invoices", description = "Invoices and credit notes: gap-free numbers, immutable, HTML and UBL 2.1"),
        (name = "risk", description = "Fraud checks before payment: rules, scores, the review queue, blocked lists"),
        (name = "ledger", description = "The double-entry journal: balances, statements, trial balance, export"),
        (name = "webhooks", description = "Outgoing webhooks and the event log"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/docs", get(docs::page))
        .route("/api/v1/store", get(stores::get_store))
        .route("/api/v1/store/branding", put(stores::update_branding))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/logout-everywhere", post(auth::logout_everywhere))
        .route("/api/v1/auth/login/second-factor", post(auth::second_factor))
        .route("/api/v1/me/totp", post(auth::totp_setup))
        .route("/api/v1/me/totp/enable", post(auth::totp_enable))
        .route("/api/v1/store/security", put(auth::security_settings))
        .route("/api/v1/auth/verify-email", post(auth::verify_email))
        .route("/api/v1/auth/password-reset", post(auth::request_reset))
        .route("/api/v1/auth/password-reset/confirm", post(auth::confirm_reset))
        .route("/api/v1/staff", get(staff::list).post(staff::create))
        .route("/api/v1/staff/{id}/role", put(staff::change_role))
        .route("/api/v1/roles", get(staff::roles).post(staff::create_role))
        .route("/api/v1/roles/{id}", put(staff::update_role))
        .route("/api/v1/permissions", get(staff::permissions))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/api/v1/audit", get(audit::search))
        .route("/api/v1/customers", post(customers::sign_up))
        .route("/api/v1/me", get(customers::me).patch(customers::update_me))
        .route("/api/v1/me/addresses", get(account::list).post(account::create))
        .route("/api/v1/me/addresses/{id}", get(account::get).put(account::update).delete(account::delete))
        .route("/api/v1/me/export", get(account::export))
        .route("/api/v1/me/erasure", post(account::erase))
        .route("/api/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/v1/webhooks/{id}", get(webhooks::get).delete(webhooks::delete))
        .route("/api/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/api/v1/webhooks/{id}/ping", post(webhooks::ping))
        .route("/api/v1/events", get(webhooks::events))
        .route("/api/v1/channels", get(catalog::channels).post(catalog::create_channel))
        .route("/api/v1/products", get(search::staff).post(catalog::create))
        .route("/api/v1/storefront/search", get(search::storefront))
        .route("/api/v1/storefront/search/suggest", get(search::suggest))
        .route("/api/v1/attributes", get(search::list_attributes).post(search::create_attribute))
        .route("/api/v1/attributes/{id}", put(search::update_attribute).delete(search::delete_attribute))
        .route("/api/v1/product-types", get(search::list_types).post(search::create_type))
        .route("/api/v1/collections", get(search::list_collections).post(search::create_collection))
        .route("/api/v1/collections/{id}", put(search::update_collection))
        .route("/api/v1/storefront/collections/{slug}", get(search::storefront_collection))
        .route("/api/v1/products/{id}", get(catalog::get).put(catalog::update))
        .route("/api/v1/storefront/products/{slug}", get(catalog::storefront_product))
        .route("/api/v1/categories", get(catalog::categories).post(catalog::create_category))
        .route("/api/v1/categories/{id}", put(catalog::update_category).delete(catalog::delete_category))
        .route("/api/v1/storefront/categories/{slug}", get(catalog::storefront_category))
        .route("/api/v1/products/{id}/media", get(media::list).post(media::upload))
        .route("/api/v1/products/{id}/media/order", put(media::reorder))
        .route("/api/v1/products/{id}/media/{media_id}", put(media::update).delete(media::delete))
        .route("/media/{media_id}/{file}", get(media::file))
        .route("/api/v1/customer-groups", get(pricing::groups).post(pricing::create_group))
        .route("/api/v1/customer-groups/{id}/members", get(pricing::members).post(pricing::add_member))
        .route("/api/v1/customer-groups/{id}/members/{customer_id}", axum::routing::delete(pricing::remove_member))
        .route("/api/v1/price-lists", get(pricing::lists).post(pricing::create_list))
        .route(
            "/api/v1/price-lists/{id}",
            get(pricing::get_list).put(pricing::update_list).delete(pricing::delete_list),
        )
        .route("/api/v1/prices/quote", get(pricing::quote))
        .route("/api/v1/carts", post(orders::create_cart))
        .route("/api/v1/carts/{id}", get(orders::get_cart))
        .route("/api/v1/carts/{id}/lines/{sku}", put(orders::set_line))
        .route("/api/v1/carts/{id}/contact", put(orders::set_contact))
        .route("/api/v1/carts/{id}/checkout", post(orders::checkout))
        .route("/api/v1/carts/{id}/claim", post(orders::claim_cart))
        .route("/api/v1/carts/{id}/shipping", put(orders::set_shipping))
        .route("/api/v1/carts/{id}/coupons", post(orders::add_coupon))
        .route("/api/v1/carts/{id}/coupons/{code}", axum::routing::delete(orders::remove_coupon))
        .route("/api/v1/tax", get(checkout_rules::tax))
        .route("/api/v1/tax/settings", put(checkout_rules::tax_settings))
        .route("/api/v1/tax/rates", put(checkout_rules::put_tax_rate))
        .route("/api/v1/tax/rates/{id}", axum::routing::delete(checkout_rules::delete_tax_rate))
        .route("/api/v1/shipping-zones", get(checkout_rules::zones).post(checkout_rules::create_zone))
        .route("/api/v1/shipping-zones/{id}", put(checkout_rules::update_zone).delete(checkout_rules::delete_zone))
        .route("/api/v1/shipping-zones/{id}/methods", post(checkout_rules::create_method))
        .route(
            "/api/v1/shipping-zones/{id}/methods/{method}",
            put(checkout_rules::update_method).delete(checkout_rules::delete_method),
        )
        .route("/api/v1/promotions", get(checkout_rules::list_promotions).post(checkout_rules::create_promotion))
        .route("/api/v1/promotions/{id}", get(checkout_rules::get_promotion).put(checkout_rules::update_promotion))
        .route("/api/v1/promotions/{id}/coupons", post(checkout_rules::add_coupon))
        .route("/api/v1/orders", get(orders::list))
        .route("/api/v1/orders/{id}", get(orders::get))
        .route("/api/v1/orders/{id}/status", post(orders::change_status))
        .route("/api/v1/orders/{id}/notes", post(orders::add_note))
        .route("/api/v1/orders/{id}/edit", post(orders::edit_order))
        .route("/api/v1/draft-orders", get(orders::list_drafts).post(orders::create_draft))
        .route("/api/v1/orders/{id}/pick-list", get(orders::pick_list))
        .route("/api/v1/orders/{id}/shipments", post(orders::ship))
        .route("/api/v1/orders/{id}/shipments/{shipment}/delivered", post(orders::delivered))
        .route("/api/v1/orders/{id}/fulfil", post(orders::fulfil))
        .route("/api/v1/orders/{id}/payment-received", post(digital::payment_received))
        .route("/api/v1/orders/{id}/payments", get(payments::order_payments).post(payments::pay))
        .route("/api/v1/payments", get(payments::list))
        .route("/api/v1/reports/receivables-ageing", get(books::ageing))
        .route("/api/v1/reports/payments-by-day", get(books::payments_by_day))
        .route("/api/v1/ledger/payouts", post(books::payout))
        .route("/api/v1/invoice-settings", get(books::invoice_settings).put(books::put_invoice_settings))
        .route("/api/v1/orders/{id}/write-off", post(books::write_off))
        .route("/api/v1/risk/settings", get(risk::settings).put(risk::put_settings))
        .route("/api/v1/risk/settings/recommended", get(risk::recommended))
        .route("/api/v1/risk/reviews", get(risk::reviews))
        .route("/api/v1/risk/blocks", get(risk::blocks).post(risk::add_block))
        .route("/api/v1/risk/blocks/{id}", axum::routing::delete(risk::remove_block))
        .route("/api/v1/orders/{id}/risk", get(risk::order_risk))
        .route("/api/v1/orders/{id}/risk/approve", post(risk::approve))
        .route("/api/v1/orders/{id}/risk/reject", post(risk::reject))
        .route("/api/v1/payments/{id}", get(payments::get))
        .route("/api/v1/payments/{id}/challenge", post(payments::challenge))
        .route("/api/v1/payments/{id}/capture", post(payments::capture))
        .route("/api/v1/payments/{id}/refunds", post(payments::refund))
        .route("/api/v1/payments/{id}/void", post(payments::void))
        .route("/api/v1/gift-cards", get(accounts::list).post(accounts::issue))
        .route("/api/v1/gift-cards/balance", post(accounts::balance))
        .route("/api/v1/customers/{id}/store-credit", get(accounts::customer_credit).post(accounts::grant_credit))
        .route("/api/v1/me/store-credit", get(accounts::my_credit))
        .route("/api/v1/me/store-credit/statement", get(accounts::my_credit_statement))
        .route("/api/v1/me/payments", get(accounts::my_payments))
        .route("/api/v1/me/store-credit/top-up", post(accounts::top_up))
        .route("/api/v1/providers/{provider}/webhooks", post(payments::provider_webhook))
        .route("/api/v1/bank-statements", post(payments::import_statement))
        .route("/api/v1/orders/{id}/invoice", post(payments::issue_invoice))
        .route("/api/v1/orders/{id}/invoices", get(payments::order_invoices))
        .route("/api/v1/invoices", get(payments::list_invoices))
        .route("/api/v1/invoices/{id}", get(payments::get_invoice))
        .route("/api/v1/bank-lines", get(payments::bank_lines))
        .route("/api/v1/bank-lines/{id}/match", post(payments::match_line))
        .route("/api/v1/ledger/accounts", get(payments::accounts))
        .route("/api/v1/ledger/accounts/{account}/statement", get(payments::statement))
        .route("/api/v1/ledger/trial-balance", get(payments::trial_balance))
        .route("/api/v1/ledger/entries", get(payments::entries))
        .route("/api/v1/ledger/journal.csv", get(payments::journal_csv))
        .route("/api/v1/products/{id}/files", get(digital::files).post(digital::add_file))
        .route("/api/v1/products/{id}/files/{file_id}", axum::routing::delete(digital::remove_file))
        .route("/api/v1/products/{id}/licence-keys", get(digital::key_stock).post(digital::add_keys))
        .route("/api/v1/orders/{id}/downloads/renew", post(digital::renew_links))
        .route("/downloads/{grant}", get(digital::download))
        .route("/api/v1/orders/{id}/returns", get(orders::order_returns).post(orders::request_return))
        .route("/api/v1/returns", get(orders::list_returns))
        .route("/api/v1/returns/{id}", get(orders::get_return))
        .route("/api/v1/returns/{id}/decision", post(orders::decide_return))
        .route("/api/v1/returns/{id}/receive", post(orders::receive_return))
        .route("/api/v1/stock-locations", get(inventory::locations).post(inventory::create_location))
        .route("/api/v1/stock-locations/{location}", put(inventory::update_location))
        .route("/api/v1/stock-locations/{location}/stock", get(inventory::location_stock))
        .route("/api/v1/inventory/{sku}", get(inventory::variant))
        .route("/api/v1/inventory/{sku}/settings", put(inventory::update_settings))
        .route("/api/v1/stock-adjustments", post(inventory::adjust))
        .route("/api/v1/stock-transfers", post(inventory::transfer))
        .route("/api/v1/stock-movements", get(inventory::movements))
        .route("/api/v1/catalog/imports", post(jobs::import).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/api/v1/catalog/exports", post(jobs::export))
        .route("/api/v1/jobs", get(jobs::list))
        .route("/api/v1/jobs/{id}", get(jobs::get))
        .route("/api/v1/jobs/{id}/file", get(jobs::file))
}

async fn openapi_json() -> Response {
    let body = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Answers with a fresh result, or with the stored first answer and
/// `Idempotency-Replayed: true`.
pub fn respond<T: Serialize>(status: StatusCode, outcome: Outcome<T>) -> Response {
    match outcome {
        Outcome::Fresh(value) => (status, axum::Json(value)).into_response(),
        Outcome::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut res = (status, body).into_response();
            let headers = res.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert("idempotency-replayed", HeaderValue::from_static("true"));
            res
        }
    }
}
