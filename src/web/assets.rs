//! Static assets compiled into the binary, and the per-store brand
//! stylesheet (so pages need no inline styles under the CSP).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::extract::CurrentStore;

const APP_CSS: &str = include_str!("../../static/app.css");
const INVOICE_CSS: &str = include_str!("../../static/invoice.css");
const LOGO_OUTFITTERS: &str = include_str!("../../static/logos/outfitters.svg");
const LOGO_FOODBANK: &str = include_str!("../../static/logos/foodbank.svg");

pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "invoice.css" => (INVOICE_CSS, "text/css; charset=utf-8"),
        "logos/outfitters.svg" => (LOGO_OUTFITTERS, "image/svg+xml"),
        "logos/foodbank.svg" => (LOGO_FOODBANK, "image/svg+xml"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// `:root { --brand: … }` for the current store. The colour was validated
/// as `#rrggbb` on write, so it cannot break out of the declaration.
pub async fn brand_css(current: CurrentStore) -> Response {
    let c = &current.store.brand.primary_color;
    let css = format!(":root {{ --brand: {c}; }}\n");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], css).into_response()
}
