//! Webhooks end to end: an event committed through the outbox reaches a
//! receiver with a valid signature, is retried after failures, parked after
//! the last attempt, and every attempt shows in the delivery log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn, spawn_with};

crate::on_both_databases!(
    signed_event_is_retried_until_the_receiver_accepts,
    failing_endpoint_is_parked_after_max_attempts,
    private_targets_are_refused_by_default,
    deleted_endpoint_receives_nothing_more,
    invalid_endpoints_are_rejected,
    two_nodes_deliver_each_event_exactly_once,
);

#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    fail_first: usize,
}

/// Starts an HTTP receiver that answers 500 to the first `fail_first` calls.
async fn start_receiver(fail_first: usize) -> (String, Receiver) {
    let receiver = Receiver { calls: Arc::default(), fail_first };
    let r = receiver.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let r = r.clone();
            async move {
                let mut calls = r.calls.lock().unwrap();
                calls.push((headers, body));
                if calls.len() <= r.fail_first { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/hook"), receiver)
}

async fn register(app: &TestApp, token: &str, url: &str, types: Value) -> Value {
    let res = app.post_json("/api/v1/webhooks", Some(token), &json!({"url": url, "event_types": types})).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn wait_for(mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached in time");
}

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let id = headers["webhook-id"].to_str().unwrap();
    let ts: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    let expected = oxcart::domain::webhooks::sign(secret, id, ts, body).unwrap();
    (now - ts).abs() < 300 && headers["webhook-signature"].to_str().unwrap().split(' ').any(|s| s == expected)
}

async fn signed_event_is_retried_until_the_receiver_accepts(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let (url, receiver) = start_receiver(2).await;
    let endpoint = register(&app, &token, &url, json!(["store.*"])).await;
    let secret = endpoint["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    let res = app
        .put_json(
            "/api/v1/store/branding",
            Some(&token),
            &json!({"name": "Hooked", "primary_color": "#101010", "default_language": "en"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    wait_for(async || receiver.calls.lock().unwrap().len() >= 3).await;
    let calls = receiver.calls.lock().unwrap().clone();
    for (headers, body) in &calls {
        assert!(verify(secret, headers, body), "each attempt is signed");
        assert!(!verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", headers, body), "a wrong secret does not verify");
    }
    let ids: Vec<&str> = calls.iter().map(|(h, _)| h["webhook-id"].to_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "retries keep the event id for dedupe");
    let event: Value = serde_json::from_slice(&calls[0].1).unwrap();
    assert_eq!(event["type"], "store.updated");
    assert_eq!(event["data"]["after"]["name"], "Hooked");

    let id = endpoint["id"].as_str().unwrap();
    let mut log = Value::Null;
    wait_for(async || {
        log = app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&token)).await.json().await.unwrap();
        log[0]["status"] == "delivered"
    })
    .await;
    let d = &log[0];
    assert_eq!(d["attempts"], 3);
    let statuses: Vec<i64> =
        d["attempt_log"].as_array().unwrap().iter().map(|a| a["response_status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 204]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.calls.lock().unwrap().len(), 3, "nothing is sent after success");
    app.stop().await;
}

async fn failing_endpoint_is_parked_after_max_attempts(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let (url, receiver) = start_receiver(usize::MAX).await;
    let endpoint = register(&app, &token, &url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let res =
        app.client.post(app.url(&format!("/api/v1/webhooks/{id}/ping"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let mut log = Value::Null;
    wait_for(async || {
        log = app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&token)).await.json().await.unwrap();
        log[0]["status"] == "parked"
    })
    .await;
    assert_eq!(log[0]["attempts"], 4, "max_attempts in the test config");
    assert_eq!(log[0]["event_type"], "webhook.ping");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.calls.lock().unwrap().len(), 4, "no attempt after parking");
    app.stop().await;
}

async fn private_targets_are_refused_by_default(b: Backend) {
    let app = spawn_with(b, |c| c.webhooks.allow_private_targets = false).await;
    let token = app.outfitters_owner().await;
    let (url, receiver) = start_receiver(0).await;
    let endpoint = register(&app, &token, &url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    app.client.post(app.url(&format!("/api/v1/webhooks/{id}/ping"))).bearer_auth(&token).send().await.unwrap();
    let mut log = Value::Null;
    wait_for(async || {
        log = app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&token)).await.json().await.unwrap();
        log[0]["attempts"].as_i64().unwrap_or(0) >= 1
    })
    .await;
    assert!(log[0]["last_error"].as_str().unwrap().contains("private"), "{log}");
    assert!(receiver.calls.lock().unwrap().is_empty(), "the loopback receiver was never contacted");
    app.stop().await;
}

async fn deleted_endpoint_receives_nothing_more(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let (url, receiver) = start_receiver(0).await;
    let endpoint = register(&app, &token, &url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let res = app.client.delete(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get(&format!("/api/v1/webhooks/{id}"), Some(&token)).await, 404, "not_found").await;
    let res = app
        .put_json(
            "/api/v1/store/branding",
            Some(&token),
            &json!({"name": "After delete", "primary_color": "#101010", "default_language": "en"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.calls.lock().unwrap().is_empty());
    assert_eq!(app.count_rows("webhook_deliveries").await, 0);
    app.stop().await;
}

async fn invalid_endpoints_are_rejected(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    for body in [
        json!({"url": "file:///etc/passwd", "event_types": ["*"]}),
        json!({"url": "https://user:pw@example.com/", "event_types": ["*"]}),
        json!({"url": "https://example.com/", "event_types": []}),
        json!({"url": "https://example.com/", "event_types": ["Robert'); DROP"]}),
    ] {
        let res = app.post_json("/api/v1/webhooks", Some(&token), &body).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    assert_eq!(app.count_rows("webhook_endpoints").await, 0);
    app.stop().await;
}

async fn two_nodes_deliver_each_event_exactly_once(b: Backend) {
    let app = spawn(b).await;
    let node2 = app.second_node().await;
    let token = app.outfitters_owner().await;
    let (url, receiver) = start_receiver(0).await;
    let endpoint = register(&app, &token, &url, json!(["webhook.ping"])).await;
    let id = endpoint["id"].as_str().unwrap().to_string();
    const EVENTS: usize = 60;
    // Emit through both nodes so both workers are woken and compete.
    let base2 = format!("http://{}", node2.addr);
    for i in 0..EVENTS {
        let base = if i % 2 == 0 { app.base.clone() } else { base2.clone() };
        let res =
            app.client.post(format!("{base}/api/v1/webhooks/{id}/ping")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 202);
    }
    wait_for(async || receiver.calls.lock().unwrap().len() >= EVENTS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = receiver.calls.lock().unwrap().clone();
    let unique: std::collections::HashSet<String> =
        calls.iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_string()).collect();
    assert_eq!(unique.len(), EVENTS, "every event arrived");
    assert_eq!(calls.len(), EVENTS, "and none twice");
    node2.stop().await;
    app.stop().await;
}
