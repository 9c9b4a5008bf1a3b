//! Health, readiness, metrics and request ids.

use serde_json::json;

use crate::helpers::{Backend, spawn};

crate::on_both_databases!(
    health_and_readiness_answer,
    metrics_count_requests_by_route,
    metrics_show_how_busy_the_sqlite_writer_is,
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

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find(|l| l.split(' ').next() == Some(name)).map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

/// On SQLite every write goes through one writer; `/metrics` counts its
/// transactions, committed batches and busy time. PostgreSQL has none.
async fn metrics_show_how_busy_the_sqlite_writer_is(b: Backend) {
    let app = spawn(b).await;
    let before = app.get("/metrics", None).await.text().await.unwrap();
    for _ in 0..3 {
        assert_eq!(app.post_json("/api/v1/carts", None, &json!({})).await.status(), 201);
    }
    let after = app.get("/metrics", None).await.text().await.unwrap();
    let names = ["db_writer_transactions_total", "db_writer_batches_total", "db_writer_busy_seconds_total"];
    match b {
        Backend::Sqlite => {
            let grew = |name| metric(&after, name).unwrap() - metric(&before, name).unwrap_or(0.0);
            assert!(grew(names[0]) >= 3.0, "three carts, three write transactions:\n{after}");
            assert!(grew(names[1]) >= 1.0, "committed in at least one batch");
            assert!(grew(names[2]) > 0.0, "they held the writer for some time");
        }
        Backend::Postgres => assert!(names.iter().all(|n| metric(&after, n).is_none()), "no writer on PostgreSQL"),
    }
    app.stop().await;
}
