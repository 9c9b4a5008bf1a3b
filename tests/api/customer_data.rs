//! A customer's own data: addresses (validated, sealed, private to their
//! owner), the data export, and erasure.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    addresses_are_validated_and_private_to_their_owner,
    export_contains_everything_about_me,
    erasure_anonymises_and_keeps_the_account_row,
);

async fn sign_up(app: &TestApp, email: &str) -> String {
    let body = json!({"email": email, "password": "a long password", "display_name": "Test Person"});
    assert_eq!(app.post_json("/api/v1/customers", None, &body).await.status(), 201);
    let login = json!({"email": email, "password": "a long password", "audience": "customer"});
    app.post_json("/api/v1/auth/login", None, &login).await.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn berlin() -> Value {
    json!({"name": "Ana Müller", "line1": "Hauptstraße 12", "city": "Berlin", "postal_code": "10115", "country": "de", "phone": "+49 30 1234567"})
}

async fn addresses_are_validated_and_private_to_their_owner(b: Backend) {
    let app = spawn(b).await;
    let ana = sign_up(&app, "ana.m@example.com").await;
    let bob = sign_up(&app, "bob.k@example.com").await;

    let res = app.post_json("/api/v1/me/addresses", Some(&ana), &berlin()).await;
    assert_eq!(res.status(), 201);
    let saved: Value = res.json().await.unwrap();
    let id = saved["id"].as_str().unwrap().to_string();
    assert_eq!(saved["country"], "DE", "normalised");

    let mut bad = berlin();
    bad["postal_code"] = json!("1011");
    let body =
        assert_problem(app.post_json("/api/v1/me/addresses", Some(&ana), &bad).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "postal_code");

    // Edit.
    let mut moved = berlin();
    moved["line1"] = json!("Torstraße 5");
    let res = app.put_json(&format!("/api/v1/me/addresses/{id}"), Some(&ana), &moved).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["line1"], "Torstraße 5");

    // Another customer guessing the id gets nothing, and changes nothing.
    let path = format!("/api/v1/me/addresses/{id}");
    assert_problem(app.get(&path, Some(&bob)).await, 404, "not_found").await;
    assert_problem(app.put_json(&path, Some(&bob), &berlin()).await, 404, "not_found").await;
    let res = app.client.delete(app.url(&path)).bearer_auth(&bob).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let bobs: Value = app.get("/api/v1/me/addresses", Some(&bob)).await.json().await.unwrap();
    assert_eq!(bobs.as_array().unwrap().len(), 0);
    // Nor does a customer of another store, nor an anonymous caller.
    assert_problem(app.get(&format!("/s/foodbank{path}"), Some(&ana)).await, 401, "invalid_token").await;
    assert_problem(app.get(&path, None).await, 401, "unauthenticated").await;
    let mine: Value = app.get(&path, Some(&ana)).await.json().await.unwrap();
    assert_eq!(mine["line1"], "Torstraße 5");

    let raw = String::from_utf8_lossy(&app.raw_database().await).to_lowercase();
    for needle in ["torstraße", "hauptstraße", "müller", "1234567"] {
        assert!(!raw.contains(needle), "{needle} stored in plaintext");
    }

    let res = app.client.delete(app.url(&path)).bearer_auth(&ana).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get(&path, Some(&ana)).await, 404, "not_found").await;
    app.stop().await;
}

async fn export_contains_everything_about_me(b: Backend) {
    let app = spawn(b).await;
    let ana = sign_up(&app, "export.me@example.com").await;
    app.post_json("/api/v1/me/addresses", Some(&ana), &berlin()).await;
    let export: Value = app.get("/api/v1/me/export", Some(&ana)).await.json().await.unwrap();
    assert_eq!(export["profile"]["email"], "export.me@example.com");
    assert_eq!(export["addresses"][0]["line1"], "Hauptstraße 12");
    assert_eq!(export["store"], "outfitters");
    let owner = app.outfitters_owner().await;
    let log: Value = app.get("/api/v1/audit?action=privacy.exported", Some(&owner)).await.json().await.unwrap();
    assert_eq!(log[0]["target"], export["profile"]["id"]);
    app.stop().await;
}

async fn erasure_anonymises_and_keeps_the_account_row(b: Backend) {
    let app = spawn(b).await;
    let ana = sign_up(&app, "forget.me@example.com").await;
    app.post_json("/api/v1/me/addresses", Some(&ana), &berlin()).await;
    let id = app.get("/api/v1/me", Some(&ana)).await.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let customers_before = app.count_rows("customers").await;

    let res = app.post_json("/api/v1/me/erasure", Some(&ana), &json!({"password": "not my password"})).await;
    assert_problem(res, 401, "invalid_credentials").await;
    assert_eq!(app.get("/api/v1/me", Some(&ana)).await.status(), 200, "a wrong password erases nothing");

    let res = app.post_json("/api/v1/me/erasure", Some(&ana), &json!({"password": "a long password"})).await;
    assert_eq!(res.status(), 204);
    assert_problem(app.get("/api/v1/me", Some(&ana)).await, 401, "invalid_token").await;
    let login = json!({"email": "forget.me@example.com", "password": "a long password", "audience": "customer"});
    assert_problem(app.post_json("/api/v1/auth/login", None, &login).await, 401, "invalid_credentials").await;
    assert_eq!(app.count_rows("customers").await, customers_before, "the row stays for the records");
    assert_eq!(app.count_rows("customer_addresses").await, 0);

    let owner = app.outfitters_owner().await;
    let log: Value = app.get("/api/v1/audit?action=privacy.erased", Some(&owner)).await.json().await.unwrap();
    assert_eq!(log[0]["target"], id);
    let events: Value = app.get("/api/v1/events", Some(&owner)).await.json().await.unwrap();
    assert_eq!(events[0]["type"], "customer.erased");
    // The address can be signed up again: the old e-mail is free.
    assert_eq!(
        app.post_json(
            "/api/v1/customers",
            None,
            &json!({"email": "forget.me@example.com", "password": "a long password", "display_name": "New"})
        )
        .await
        .status(),
        201
    );
    app.stop().await;
}
