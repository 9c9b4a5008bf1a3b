//! HTTP adapter: the JSON API under `/api/v1`, the web pages, the
//! operations endpoints, and the middleware every request passes through.

pub mod api;
pub mod error;
pub mod extract;
pub mod ops;
pub mod state;
pub mod tenant;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::Layer;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use error::ApiError;
use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole service, ready for `axum::serve`. Store resolution wraps the
/// inner router because it may rewrite the path, which must happen before
/// routing; the outer router only adds the layers every request passes.
pub fn service(state: AppState) -> Router {
    let body_limit = state.app.config.max_body_bytes;
    let routes = Router::new()
        .merge(api::routes())
        .merge(crate::web::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route_layer(middleware::from_fn(record_metrics))
        .route_layer(middleware::from_fn(durable_answers))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state.clone());

    let routed = middleware::from_fn_with_state(state, tenant::resolve_store).layer(routes);
    let stack = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred").into_response()
        }))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ));
    Router::new().fallback_service(routed).layer(middleware::from_fn(problems_only)).layer(stack)
}

/// Counts requests and records latency by route template (not raw path,
/// so ids do not explode the label set).
async fn record_metrics(req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(elapsed.as_secs_f64());
    res
}

/// No answer goes out before the writes it may rest on are durable (see
/// [`crate::db::durable`]); if they were lost, the client is told to retry.
async fn durable_answers(req: Request, next: Next) -> Response {
    match crate::db::durable(next.run(req)).await {
        Ok(res) => res,
        Err(why) => {
            tracing::error!(%why, "an answer rested on writes that were not committed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_committed",
                "the request could not be completed; try again",
            )
            .into_response()
        }
    }
}

/// Turns the framework's own plain-text rejections (a malformed query
/// string, say) into problem+json, so every error has the same shape.
/// Pages (HTML) and our own problems pass through untouched.
async fn problems_only(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !is_plain {
        return res;
    }
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).trim().to_string();
    let code = if status.is_server_error() { "internal" } else { "bad_request" };
    let detail = if detail.is_empty() || status.is_server_error() {
        "the request could not be processed".to_string()
    } else {
        detail
    };
    ApiError::new(status, code, detail).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page or endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed here")
}

/// Buckets for the latency histogram: 0.5 ms to 10 s.
pub const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Graceful shutdown waits at most this long for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
