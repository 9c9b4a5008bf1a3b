//! `Idempotency-Key`: a retry replays the first answer, a reused key with a
//! different body is refused, concurrent duplicates execute once.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, spawn};

crate::on_both_databases!(
    retry_replays_the_first_response,
    same_key_with_other_body_is_422,
    concurrent_duplicates_execute_once,
    keys_are_scoped_per_caller
);

async fn create(app: &crate::helpers::TestApp, token: &str, key: &str, url: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&json!({"url": url, "event_types": ["*"]}))
        .send()
        .await
        .unwrap()
}

async fn retry_replays_the_first_response(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let first = create(&app, &token, "key-1", "https://hooks.example.com/a").await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotency-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = create(&app, &token, "key-1", "https://hooks.example.com/a").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "byte-for-byte the same resource, secret included");
    assert_eq!(app.count_rows("webhook_endpoints").await, 1);
    app.stop().await;
}

async fn same_key_with_other_body_is_422(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    assert_eq!(create(&app, &token, "key-2", "https://hooks.example.com/a").await.status(), 201);
    let res = create(&app, &token, "key-2", "https://hooks.example.com/b").await;
    assert_problem(res, 422, "idempotency_key_reused").await;
    assert_eq!(app.count_rows("webhook_endpoints").await, 1);
    let res = create(&app, &token, &"k".repeat(300), "https://hooks.example.com/b").await;
    assert_problem(res, 400, "invalid_idempotency_key").await;
    app.stop().await;
}

async fn concurrent_duplicates_execute_once(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api/v1/webhooks");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", "same-key")
                .json(&json!({"url": "https://hooks.example.com/c", "event_types": ["*"]}))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert!(status == 201 || status == 409, "status {status}: {body}");
        if status == 201 {
            ids.insert(body["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids.len(), 1, "every success names the same endpoint");
    assert_eq!(app.count_rows("webhook_endpoints").await, 1, "executed once");
    app.stop().await;
}

async fn keys_are_scoped_per_caller(b: Backend) {
    let app = spawn(b).await;
    let a = app.outfitters_owner().await;
    let res = app
        .client
        .post(app.url("/api/v1/customers"))
        .header("idempotency-key", "shared")
        .json(&json!({"email": "c1@example.com", "password": "a long password", "display_name": "C1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // The same key from a different principal is a different key.
    assert_eq!(create(&app, &a, "shared", "https://hooks.example.com/d").await.status(), 201);
    app.stop().await;
}
