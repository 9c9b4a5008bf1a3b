//! The store's brand: read publicly, changed by staff with permission,
//! applied to every page.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, spawn};

crate::on_both_databases!(
    branding_change_shows_on_pages_and_emits_event,
    branding_needs_staff_permission,
    invalid_branding_is_rejected_whole
);

fn brand(name: &str, color: &str) -> Value {
    json!({"name": name, "slogan": "Fresh every day", "logo_url": "/static/logos/outfitters.svg", "primary_color": color, "default_language": "es"})
}

async fn branding_change_shows_on_pages_and_emits_event(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let res = app.put_json("/api/v1/store/branding", Some(&token), &brand("Trail Co", "#AA0011")).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["primary_color"], "#aa0011");

    let html = app.get("/", None).await.text().await.unwrap();
    assert!(html.contains("Trail Co") && html.contains("Fresh every day"));
    assert!(html.contains("<html lang=\"es\">"), "the new default language applies without a cookie");
    let css = app.get("/brand.css", None).await.text().await.unwrap();
    assert!(css.contains("--brand: #aa0011"));

    let events: Value = app.get("/api/v1/events", Some(&token)).await.json().await.unwrap();
    let e = &events[0];
    assert_eq!(e["type"], "store.updated");
    assert_eq!(e["data"]["before"]["name"], "Oxcart Outfitters");
    assert_eq!(e["data"]["after"]["name"], "Trail Co");
    app.stop().await;
}

async fn branding_needs_staff_permission(b: Backend) {
    let app = spawn(b).await;
    let customer = app.login("", "customer", "ana@customers.example").await;
    let res = app.client.put(app.url("/api/v1/store/branding")).json(&brand("X", "#000000")).send().await.unwrap();
    assert_problem(res, 401, "unauthenticated").await;
    let res = app.put_json("/api/v1/store/branding", Some(&customer), &brand("X", "#000000")).await;
    assert_problem(res, 403, "forbidden").await;
    let store: Value = app.get("/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(store["name"], "Oxcart Outfitters");
    app.stop().await;
}

async fn invalid_branding_is_rejected_whole(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let res = app.put_json("/api/v1/store/branding", Some(&token), &json!({"name": "Fine", "logo_url": "javascript:alert(1)", "primary_color": "red;}", "default_language": "en"})).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["logo_url", "primary_color"]);
    let res = app
        .put_json(
            "/api/v1/store/branding",
            Some(&token),
            &json!({"name": "Fine", "primary_color": "#000000", "default_language": "fr"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let store: Value = app.get("/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(store["name"], "Oxcart Outfitters", "nothing changed");
    assert_eq!(app.count_rows("outbox_events").await, 0, "no event for a rejected change");
    app.stop().await;
}
