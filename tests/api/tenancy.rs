//! Stores are isolated: staff and customers of one store cannot read or
//! change another store's data through any endpoint.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, spawn};

crate::on_both_databases!(
    stores_resolve_by_path_prefix_and_host,
    tokens_of_one_store_are_unknown_in_another,
    ids_of_another_store_are_not_found,
    events_and_brand_stay_within_their_store,
    accounts_with_the_same_email_are_separate_per_store,
    admin_session_cookie_does_not_cross_stores,
    staff_roles_and_tokens_of_another_store_are_not_found,
);

async fn stores_resolve_by_path_prefix_and_host(b: Backend) {
    let app = spawn(b).await;
    let default: Value = app.get("/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(default["slug"], "outfitters");
    let by_path: Value = app.get("/s/foodbank/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(by_path["slug"], "foodbank");
    let by_host: Value = app
        .client
        .get(app.url("/api/v1/store"))
        .header("host", "foodbank.localhost:8080")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_host["slug"], "foodbank");
    let unknown_host: Value = app
        .client
        .get(app.url("/api/v1/store"))
        .header("host", "elsewhere.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown_host["slug"], "outfitters", "unclaimed hosts get the default store");
    let page = app.get("/s/foodbank/", None).await.text().await.unwrap();
    assert!(page.contains("Harbor Food Bank") && page.contains("href=\"/s/foodbank/admin\""), "links keep the prefix");
    app.stop().await;
}

async fn tokens_of_one_store_are_unknown_in_another(b: Backend) {
    let app = spawn(b).await;
    let outfitters_staff = app.outfitters_owner().await;
    let outfitters_customer = app.login("", "customer", "ana@customers.example").await;
    let fb = "/s/foodbank";
    for (method, path) in [
        ("GET", "/api/v1/webhooks"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/me"),
        ("PUT", "/api/v1/store/branding"),
        ("POST", "/api/v1/webhooks"),
        ("PATCH", "/api/v1/me"),
    ] {
        for token in [&outfitters_staff, &outfitters_customer] {
            let req = app.client.request(method.parse().unwrap(), app.url(&format!("{fb}{path}"))).bearer_auth(token);
            let req = if method == "GET" { req } else { req.json(&json!({})) };
            let res = req.send().await.unwrap();
            assert_problem(res, 401, "invalid_token").await;
        }
    }
    // A customer token never grants staff rights in its own store either.
    let res = app.get("/api/v1/webhooks", Some(&outfitters_customer)).await;
    assert_problem(res, 403, "forbidden").await;
    app.stop().await;
}

async fn ids_of_another_store_are_not_found(b: Backend) {
    let app = spawn(b).await;
    let foodbank = app.foodbank_owner().await;
    let outfitters = app.outfitters_owner().await;
    let res = app
        .post_json(
            "/s/foodbank/api/v1/webhooks",
            Some(&foodbank),
            &json!({"url": "https://hooks.example.org/fb", "event_types": ["*"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    assert_problem(app.get(&format!("/api/v1/webhooks/{id}"), Some(&outfitters)).await, 404, "not_found").await;
    assert_problem(app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&outfitters)).await, 404, "not_found")
        .await;
    let res =
        app.client.post(app.url(&format!("/api/v1/webhooks/{id}/ping"))).bearer_auth(&outfitters).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let res =
        app.client.delete(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&outfitters).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let list: Value = app.get("/api/v1/webhooks", Some(&outfitters)).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);

    // Still there, untouched, for its owner.
    let own = app.get(&format!("/s/foodbank/api/v1/webhooks/{id}"), Some(&foodbank)).await;
    assert_eq!(own.status(), 200);
    app.stop().await;
}

async fn events_and_brand_stay_within_their_store(b: Backend) {
    let app = spawn(b).await;
    let foodbank = app.foodbank_owner().await;
    let outfitters = app.outfitters_owner().await;
    let res = app
        .put_json(
            "/s/foodbank/api/v1/store/branding",
            Some(&foodbank),
            &json!({"name": "Harbor Food Bank e.V.", "primary_color": "#225533", "default_language": "de"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let theirs: Value = app.get("/s/foodbank/api/v1/events", Some(&foodbank)).await.json().await.unwrap();
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    let ours: Value = app.get("/api/v1/events", Some(&outfitters)).await.json().await.unwrap();
    assert_eq!(ours.as_array().unwrap().len(), 0, "no events of another store");
    let store: Value = app.get("/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(store["name"], "Oxcart Outfitters");
    app.stop().await;
}

async fn accounts_with_the_same_email_are_separate_per_store(b: Backend) {
    let app = spawn(b).await;
    let body = json!({"email": "ana@customers.example", "password": "another long pw", "display_name": "Ana at the food bank"});
    let res = app.post_json("/s/foodbank/api/v1/customers", None, &body).await;
    assert_eq!(res.status(), 201, "same e-mail, other store: a separate account");
    let res = app.post_json("/api/v1/customers", None, &body).await;
    assert_problem(res, 409, "email_taken").await;
    // The food bank password does not open the outfitters account.
    let res = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "ana@customers.example", "password": "another long pw", "audience": "customer"}),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    app.stop().await;
}

async fn admin_session_cookie_does_not_cross_stores(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let cookie = format!("oxcart_session={token}");
    let own = app.client.get(app.url("/admin")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let other = app.client.get(app.url("/s/foodbank/admin")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(other.status(), 303);
    assert_eq!(other.headers()["location"], "/s/foodbank/admin/login");
    app.stop().await;
}

async fn staff_roles_and_tokens_of_another_store_are_not_found(b: Backend) {
    let app = spawn(b).await;
    let foodbank = app.foodbank_owner().await;
    let outfitters = app.outfitters_owner().await;
    let fb = "/s/foodbank/api/v1";
    let role: Value = app
        .post_json(
            &format!("{fb}/roles"),
            Some(&foodbank),
            &json!({"name": "Volunteers", "permissions": ["orders.read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token: Value = app
        .post_json(&format!("{fb}/tokens"), Some(&foodbank), &json!({"name": "sync", "permissions": ["events.read"]}))
        .await
        .json()
        .await
        .unwrap();
    let staff: Value = app.get(&format!("{fb}/staff"), Some(&foodbank)).await.json().await.unwrap();
    let staff_id = staff[0]["id"].as_str().unwrap();

    let res = app
        .put_json(
            &format!("/api/v1/roles/{}", role["id"].as_str().unwrap()),
            Some(&outfitters),
            &json!({"name": "x", "permissions": ["orders.read"]}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{}", token["id"].as_str().unwrap())))
        .bearer_auth(&outfitters)
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
    let res =
        app.put_json(&format!("/api/v1/staff/{staff_id}/role"), Some(&outfitters), &json!({"role": "analyst"})).await;
    assert_problem(res, 404, "not_found").await;
    // A role id of another store cannot be assigned here either.
    let res = app
        .post_json("/api/v1/staff", Some(&outfitters), &json!({"email": "x@staff.example", "display_name": "X", "password": "staff password 2026", "role": role["id"]}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let roles: Value = app.get("/api/v1/roles", Some(&outfitters)).await.json().await.unwrap();
    assert!(roles.as_array().unwrap().iter().all(|r| r["name"] != "Volunteers"));
    let tokens: Value = app.get("/api/v1/tokens", Some(&outfitters)).await.json().await.unwrap();
    assert_eq!(tokens.as_array().unwrap().len(), 0);
    // Untouched in their own store.
    let still: Value = app.get(&format!("{fb}/staff"), Some(&foodbank)).await.json().await.unwrap();
    assert_eq!(still[0]["role"], "owner");
    app.stop().await;
}
