//! Cookie helpers. Cookies are HttpOnly and SameSite=Lax, scoped to the
//! store's path prefix, and Secure when the request came over TLS.

use axum::http::HeaderMap;
use axum::http::header;

pub const SESSION: &str = "oxcart_session";
pub const CSRF: &str = "oxcart_csrf";
pub const LANG: &str = "oxcart_lang";
/// The sales channel (and so the currency) a visitor shops in.
pub const CHANNEL: &str = "oxcart_channel";

/// Every value of the named cookie (several stores on one host may each
/// have set one, on different paths).
pub fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .collect()
}

fn is_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

/// A `Set-Cookie` value. `max_age` of 0 deletes the cookie.
pub fn set(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    base_path: &str,
    max_age_secs: i64,
    http_only: bool,
) -> String {
    let path = if base_path.is_empty() { "/" } else { base_path };
    let mut c = format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if is_tls(headers) {
        c.push_str("; Secure");
    }
    c
}
