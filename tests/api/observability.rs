//! Health, readiness, metrics and request ids.

use crate::helpers::{Backend, spawn};

crate::on_both_databases!(
    health_and_readiness_answer,
    metrics_count_requests_by_route,
    every_response_carries_a_request_id
);

async fn health_and_readiness_answer(b: Backend) {
    let app = spawn(b).await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    app.stop().await;
}

async fn metrics_count_requests_by_route(b: Backend) {
    let app = spawn(b).await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/store", None).await.status(), 200);
    }
    let text = app.get("/metrics", None).await.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains("route=\"/api/v1/store\"")
                && l.contains("status=\"200\"")
        })
        .expect("request counter for the route");
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{line}");
    assert!(text.contains("http_request_duration_seconds_bucket"), "latency histogram");
    assert!(text.contains("db_pool_connections"), "pool gauge");
    assert!(text.contains("outbox_lag_seconds"), "outbox lag gauge");
    app.stop().await;
}

async fn every_response_carries_a_request_id(b: Backend) {
    let app = spawn(b).await;
    let res = app.get("/api/v1/store", None).await;
    let id = res.headers().get("x-request-id").expect("request id header").to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID");
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "caller-chosen-id").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "caller-chosen-id", "a caller's id is kept");
    app.stop().await;
}
