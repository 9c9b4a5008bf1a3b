//! Carts, checkout and orders: server-side prices, a confirmation with an
//! immutable snapshot, stock held for unpaid orders (never oversold, also
//! across two nodes), idempotent placement, the status machine with
//! history, expiry of unpaid orders, and who may see which order.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    a_guest_orders_and_gets_a_confirmation,
    checkout_refuses_what_it_cannot_honour_and_changes_nothing,
    a_retried_checkout_places_one_order,
    concurrent_checkouts_never_sell_more_than_stock,
    staff_move_orders_and_cancelling_releases_stock,
    unpaid_orders_expire_and_release_their_stock,
    customers_see_only_their_own_orders,
    a_guest_cart_joins_the_customers_after_sign_in,
    staff_find_orders_by_number_email_sku_and_payment,
    carts_price_from_the_catalog_as_it_is_now,
);

/// A tent in two sizes (TENT-S 120.00, TENT-L 150.00, volume price 110.00
/// from 3) and a repair service (30.00).
pub(crate) async fn catalog(app: &TestApp, token: &str) {
    assert_eq!(app.post_json("/api/v1/products", Some(token), &tent()).await.status(), 201);
    let repair = json!({
        "kind": "service", "status": "published", "texts": {"en": {"name": "Tent repair"}},
        "variants": [{"sku": "REPAIR-1", "prices": [{"channel": "web", "amount": 3000}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(token), &repair).await.status(), 201);
}

/// The tent of [`catalog`], as the product API takes it.
pub(crate) fn tent() -> Value {
    json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": "Trail tent"}, "de": {"name": "Wanderzelt"}},
        "variants": [
            {"sku": "TENT-S", "options": {"size": "S"}, "prices": [
                {"channel": "web", "amount": 12000}, {"channel": "web", "min_qty": 3, "amount": 11000}]},
            {"sku": "TENT-L", "options": {"size": "L"}, "prices": [{"channel": "web", "amount": 15000}]}
        ]
    })
}

/// A warehouse with `units` of TENT-S and TENT-L.
pub(crate) async fn stock(app: &TestApp, token: &str, units: i64) {
    let loc = json!({"code": "berlin", "name": "Berlin", "country": "DE"});
    assert_eq!(app.post_json("/api/v1/stock-locations", Some(token), &loc).await.status(), 201);
    let lines = json!({"lines": [
        {"sku": "TENT-S", "location": "berlin", "delta": units, "reason": "received"},
        {"sku": "TENT-L", "location": "berlin", "delta": units, "reason": "received"}
    ]});
    assert_eq!(app.post_json("/api/v1/stock-adjustments", Some(token), &lines).await.status(), 201);
}

/// A guest's cart: (id, token).
pub(crate) async fn new_cart(app: &TestApp, base: &str) -> (String, String) {
    let res = app.client.post(format!("{base}/api/v1/carts")).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    (body["cart"]["id"].as_str().unwrap().to_string(), body["token"].as_str().unwrap().to_string())
}

pub(crate) async fn put(app: &TestApp, path: &str, cart_token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app.client.put(app.url(path)).json(body);
    if let Some(t) = cart_token {
        req = req.header("cart-token", t);
    }
    req.send().await.unwrap()
}

/// The cart as its holder sees it (asserting it opens).
pub(crate) async fn cart_view(app: &TestApp, cart: &(String, String)) -> Value {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/carts/{}", cart.0)))
        .header("cart-token", &cart.1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub(crate) async fn add(app: &TestApp, cart: &(String, String), sku: &str, quantity: i64) -> reqwest::Response {
    put(app, &format!("/api/v1/carts/{}/lines/{sku}", cart.0), Some(&cart.1), &json!({ "quantity": quantity })).await
}

fn address() -> Value {
    json!({"name": "Ana Lima", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"})
}

pub(crate) async fn contact(app: &TestApp, cart: &(String, String)) {
    let body = json!({"email": "ana@example.com", "shipping_address": address()});
    let res = put(app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &body).await;
    assert_eq!(res.status(), 200);
}

pub(crate) async fn checkout(base: &str, cart: &(String, String), key: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::new();
    let mut req = client.post(format!("{base}/api/v1/carts/{}/checkout", cart.0)).header("cart-token", &cart.1);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

pub(crate) async fn inventory(app: &TestApp, token: &str, sku: &str) -> (i64, i64) {
    let v: Value = app.get(&format!("/api/v1/inventory/{sku}"), Some(token)).await.json().await.unwrap();
    let on_hand = v["levels"].as_array().unwrap().iter().map(|l| l["on_hand"].as_i64().unwrap()).sum();
    let reserved = v["levels"].as_array().unwrap().iter().map(|l| l["reserved"].as_i64().unwrap()).sum();
    (on_hand, reserved)
}

pub(crate) fn base(app: &TestApp) -> String {
    app.url("").trim_end_matches('/').to_string()
}

async fn a_guest_orders_and_gets_a_confirmation(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT-S", 3).await.status(), 200);
    let res = add(&app, &cart, "REPAIR-1", 1).await;
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["subtotal"]["amount"], 3 * 11000 + 3000, "volume price from 3");
    assert_eq!(view["ready"], false, "no contact yet");
    // A client cannot name its price.
    let res = put(
        &app,
        &format!("/api/v1/carts/{}/lines/TENT-S", cart.0),
        Some(&cart.1),
        &json!({"quantity": 1, "unit_price": 1}),
    )
    .await;
    assert_eq!(res.status().as_u16(), 422);
    let bad = json!({"email": "not-an-email", "shipping_address": {"name": "A", "line1": "x", "city": "Berlin", "postal_code": "1", "country": "DE"}});
    let problem = assert_problem(
        put(&app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &bad).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "shipping_address.postal_code"]);
    contact(&app, &cart).await;
    let view = cart_view(&app, &cart).await;
    assert_eq!(view["ready"], true);
    assert_eq!(view["contact"]["shipping_address"]["city"], "Berlin");

    let res = checkout(&base(&app), &cart, None).await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    assert_eq!(
        (order["number"].as_i64(), order["status"].as_str(), order["payment_status"].as_str()),
        (Some(1), Some("placed"), Some("unpaid"))
    );
    let lines: Vec<(String, i64, i64, i64)> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
                l["unit_price"]["amount"].as_i64().unwrap(),
                l["line_total"]["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [("TENT-S".to_string(), 3, 11000, 33000), ("REPAIR-1".to_string(), 1, 3000, 3000)]);
    assert_eq!(order["lines"][0]["name"], "Trail tent");
    assert_eq!(order["totals"]["subtotal"]["amount"], 36000);
    assert_eq!(order["totals"]["total"]["amount"], 36000);
    assert_eq!(order["contact"]["email"], "ana@example.com");
    assert!(order["reserved_until"].as_i64().is_some(), "an unpaid order holds stock until a deadline");
    let token = order["access_token"].as_str().unwrap().to_string();
    let id = order["id"].as_str().unwrap().to_string();
    // Stock is held, not gone; the service holds nothing.
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 3));
    // The guest sees the order with its token; nobody else without one.
    let mine =
        app.client.get(app.url(&format!("/api/v1/orders/{id}"))).header("order-token", &token).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    let mine: Value = mine.json().await.unwrap();
    assert!(mine["access_token"].is_null(), "the token is shown once");
    assert_eq!(mine["history"][0]["to"], "placed");
    assert_problem(app.get(&format!("/api/v1/orders/{id}"), None).await, 404, "not_found").await;
    let wrong =
        app.client.get(app.url(&format!("/api/v1/orders/{id}"))).header("order-token", "guess").send().await.unwrap();
    assert_eq!(wrong.status(), 404);
    // The cart is gone; the order lives on unchanged when prices change.
    assert_eq!(
        app.client
            .get(app.url(&format!("/api/v1/carts/{}", cart.0)))
            .header("cart-token", &cart.1)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let staff: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(staff["totals"], order["totals"]);
    let list: Value = app.get("/api/v1/orders", Some(&owner)).await.json().await.unwrap();
    assert_eq!(list["items"][0]["number"], 1);
    // Confirmation e-mail and the order.placed event.
    let mail = app.mailbox("outfitters", 1).await;
    assert!(mail[0].contains("ana@example.com") && mail[0].contains("TENT-S"), "{}", mail[0]);
    let events: Value = app.get("/api/v1/events?limit=50", Some(&owner)).await.json().await.unwrap();
    let placed = events.as_array().unwrap().iter().find(|e| e["type"] == "order.placed").expect("order.placed");
    assert_eq!(placed["data"]["order_id"], id);
    // Personal data is sealed at rest.
    let raw = String::from_utf8_lossy(&app.raw_database().await).to_string();
    assert!(!raw.contains("ana@example.com") && !raw.contains("Hauptstr"), "contact stored in clear");
    app.stop().await;
}

async fn checkout_refuses_what_it_cannot_honour_and_changes_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 2).await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_problem(checkout(&base(&app), &cart, None).await, 409, "cart_empty").await;
    assert_problem(add(&app, &cart, "NOPE", 1).await, 422, "validation_failed").await;
    assert_problem(add(&app, &cart, "TENT-S", 1000).await, 422, "validation_failed").await;
    assert_eq!(add(&app, &cart, "TENT-S", 3).await.status(), 200);
    assert_problem(checkout(&base(&app), &cart, None).await, 409, "cart_not_orderable").await;
    contact(&app, &cart).await;
    let problem = assert_problem(checkout(&base(&app), &cart, None).await, 409, "out_of_stock").await;
    assert!(problem["detail"].as_str().unwrap().contains("TENT-S: only 2"), "{problem}");
    // Someone else's token, or none, opens nothing.
    let stranger = (cart.0.clone(), "not-the-token".to_string());
    assert_problem(checkout(&base(&app), &stranger, None).await, 404, "not_found").await;
    assert_problem(add(&app, &stranger, "TENT-S", 1).await, 404, "not_found").await;
    // Unpublished after it was added: refused at checkout.
    let view: Value = add(&app, &cart, "TENT-S", 1).await.json().await.unwrap();
    let mut tent = tent();
    tent["status"] = json!("draft");
    let path = format!("/api/v1/products/{}", view["lines"][0]["product_id"].as_str().unwrap());
    assert_eq!(app.put_json(&path, Some(&owner), &tent).await.status(), 200);
    let problem = assert_problem(checkout(&base(&app), &cart, None).await, 409, "cart_not_orderable").await;
    assert!(problem["detail"].as_str().unwrap().contains("unavailable"), "{problem}");
    // Nothing was written: no order, no number used, stock untouched, the cart kept.
    assert_eq!(app.count_rows("orders").await, 0);
    assert_eq!(app.count_rows("order_numbers").await, 0);
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (2, 0));
    assert_eq!(app.count_rows("cart_lines").await, 1);
    app.stop().await;
}

async fn a_retried_checkout_places_one_order(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 10).await;
    let cart = new_cart(&app, &base(&app)).await;
    add(&app, &cart, "TENT-L", 2).await;
    contact(&app, &cart).await;
    let first = checkout(&base(&app), &cart, Some("place-1")).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // The retry comes after the cart is gone: the same order, byte for byte.
    let again = checkout(&base(&app), &cart, Some("place-1")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.count_rows("orders").await, 1);
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (10, 2));
    // Knowing the cart id and the key without the cart's token replays nothing.
    let stranger = (cart.0.clone(), "someone-else".to_string());
    let res = checkout(&base(&app), &stranger, Some("place-1")).await;
    let problem = assert_problem(res, 422, "idempotency_key_reused").await;
    assert!(!problem.to_string().contains("ana@example.com"), "{problem}");
    // Concurrent duplicates of a new cart's checkout: one order.
    let cart = new_cart(&app, &base(&app)).await;
    add(&app, &cart, "TENT-L", 1).await;
    contact(&app, &cart).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (b, c) = (base(&app), cart.clone());
        tasks.push(tokio::spawn(async move { checkout(&b, &c, Some("place-2")).await.status().as_u16() }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&201));
    assert_eq!(app.count_rows("orders").await, 2);
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (10, 3));
    app.stop().await;
}

async fn concurrent_checkouts_never_sell_more_than_stock(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let node2 = app.second_node().await;
    let bases = [base(&app), format!("http://{}", node2.addr)];
    // 24 guests each want the last units: 1 or 2 each, through two servers.
    let mut carts = Vec::new();
    for i in 0..24 {
        let cart = new_cart(&app, &bases[i % 2]).await;
        add(&app, &cart, "TENT-S", 1 + (i as i64 % 2)).await;
        contact(&app, &cart).await;
        carts.push((bases[i % 2].clone(), cart));
    }
    let mut tasks = Vec::new();
    for (b, cart) in carts {
        tasks.push(tokio::spawn(async move {
            let res = checkout(&b, &cart, None).await;
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }));
    }
    let mut sold = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => sold += body["lines"][0]["quantity"].as_i64().unwrap(),
            409 => assert_eq!(body["code"], "out_of_stock", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let (on_hand, reserved) = inventory(&app, &owner, "TENT-S").await;
    assert_eq!(on_hand, 5);
    assert_eq!(reserved, sold, "held exactly what was sold");
    assert!((4..=5).contains(&sold), "sold {sold}: stock runs out, never over");
    let ordered = app.scalar("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM order_lines").await;
    assert_eq!(ordered, sold);
    // Order numbers have no gaps.
    let orders = app.count_rows("orders").await;
    assert_eq!(app.scalar("SELECT CAST(MAX(number) AS BIGINT) FROM orders").await, orders);
    node2.stop().await;
    app.stop().await;
}

async fn place(app: &TestApp, sku: &str, quantity: i64) -> Value {
    let cart = new_cart(app, &base(app)).await;
    assert_eq!(add(app, &cart, sku, quantity).await.status(), 200);
    contact(app, &cart).await;
    let res = checkout(&base(app), &cart, None).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn set_status(app: &TestApp, token: &str, id: &str, status: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/orders/{id}/status"),
        Some(token),
        &json!({"status": status, "note": format!("to {status}")}),
    )
    .await
}

async fn staff_move_orders_and_cancelling_releases_stock(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 4).await;
    let order = place(&app, "TENT-S", 2).await;
    let id = order["id"].as_str().unwrap();
    let problem = assert_problem(set_status(&app, &owner, id, "fulfilled").await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("shipments"), "{problem}");
    let res = set_status(&app, &owner, id, "confirmed").await;
    assert_eq!(res.status(), 200);
    assert!(res.json::<Value>().await.unwrap()["reserved_until"].is_null(), "a confirmed order no longer expires");
    assert_eq!(set_status(&app, &owner, id, "on_hold").await.status(), 200);
    let problem = assert_problem(set_status(&app, &owner, id, "placed").await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("confirmed"), "{problem}");
    assert_eq!(set_status(&app, &owner, id, "confirmed").await.status(), 200);
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (4, 2));
    let res = set_status(&app, &owner, id, "cancelled").await;
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (4, 0), "stock released");
    let steps: Vec<(Option<&str>, &str, &str)> = cancelled["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from"].as_str(), h["to"].as_str().unwrap(), h["note"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "placed", ""),
            (Some("placed"), "confirmed", "to confirmed"),
            (Some("confirmed"), "on_hold", "to on_hold"),
            (Some("on_hold"), "confirmed", "to confirmed"),
            (Some("confirmed"), "cancelled", "to cancelled"),
        ]
    );
    assert!(cancelled["history"][1]["actor"].as_str().unwrap().starts_with("stf_"));
    let problem = assert_problem(set_status(&app, &owner, id, "confirmed").await, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("does not change"), "{problem}");
    // The stock journal shows the hold and its release, referencing the order.
    let journal: Value = app.get("/api/v1/stock-movements?sku=TENT-S", Some(&owner)).await.json().await.unwrap();
    let kinds: Vec<(&str, i64, &str)> = journal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["reserved_delta"].as_i64().unwrap(), m["reference"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds[0], ("release", -2, id));
    assert_eq!(kinds[1], ("reserve", 2, id));
    // Notes join the history without moving the order.
    let res =
        app.post_json(&format!("/api/v1/orders/{id}/notes"), Some(&owner), &json!({"note": "customer called"})).await;
    assert_eq!(res.status(), 201);
    let noted: Value = res.json().await.unwrap();
    let last = noted["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["note"].as_str()), (Some("note"), Some("customer called")));
    assert_eq!(noted["status"], "cancelled");
    let res = app.post_json(&format!("/api/v1/orders/{id}/notes"), Some(&owner), &json!({"note": "  "})).await;
    assert_problem(res, 422, "validation_failed").await;
    // Rights: a customer or an analyst cannot move orders; a bad status is 422.
    let analyst_body = json!({"email": "numbers@outfitters.example", "display_name": "A", "password": "staff password 2026", "role": "analyst"});
    assert_eq!(app.post_json("/api/v1/staff", Some(&owner), &analyst_body).await.status(), 201);
    let login = json!({"email": "numbers@outfitters.example", "password": "staff password 2026", "audience": "staff"});
    let analyst = app.post_json("/api/v1/auth/login", None, &login).await.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let other = place(&app, "TENT-S", 1).await;
    let other_id = other["id"].as_str().unwrap();
    assert_problem(set_status(&app, &analyst, other_id, "confirmed").await, 403, "forbidden").await;
    assert_eq!(app.get(&format!("/api/v1/orders/{other_id}"), Some(&analyst)).await.status(), 200);
    let res =
        app.post_json(&format!("/api/v1/orders/{other_id}/status"), Some(&owner), &json!({"status": "shipped"})).await;
    assert_eq!(res.status().as_u16(), 422);
    let list: Value = app.get("/api/v1/orders?status=cancelled", Some(&owner)).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_problem(app.get("/api/v1/orders?status=lost", Some(&owner)).await, 422, "validation_failed").await;
    app.stop().await;
}

async fn unpaid_orders_expire_and_release_their_stock(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 3).await;
    let stale = place(&app, "TENT-L", 2).await;
    let fresh = place(&app, "TENT-L", 1).await;
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (3, 3));
    let stale_id = stale["id"].as_str().unwrap();
    app.raw_sql(&format!("UPDATE orders SET reserved_until = 1 WHERE id = '{stale_id}'")).await.unwrap();
    let mut status = Value::Null;
    for _ in 0..100 {
        let o: Value = app.get(&format!("/api/v1/orders/{stale_id}"), Some(&owner)).await.json().await.unwrap();
        status = o["status"].clone();
        if status == "cancelled" {
            assert_eq!(o["history"].as_array().unwrap().last().unwrap()["actor"], "system");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "cancelled");
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (3, 1), "only the expired order's units came back");
    let fresh_id = fresh["id"].as_str().unwrap();
    let o: Value = app.get(&format!("/api/v1/orders/{fresh_id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(o["status"], "placed");
    app.stop().await;
}

async fn customer(app: &TestApp, email: &str) -> String {
    let body = json!({"email": email, "password": "a long password", "display_name": "Buyer"});
    assert_eq!(app.post_json("/api/v1/customers", None, &body).await.status(), 201);
    let login = json!({"email": email, "password": "a long password", "audience": "customer"});
    app.post_json("/api/v1/auth/login", None, &login).await.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn customers_see_only_their_own_orders(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let ana = customer(&app, "ana@example.com").await;
    let bob = customer(&app, "bob@example.com").await;
    // Ana's cart is hers by sign-in: no cart token needed.
    let res = app.post_json("/api/v1/carts", Some(&ana), &json!({"lang": "de"})).await;
    assert_eq!(res.status(), 201);
    let cart_id = res.json::<Value>().await.unwrap()["cart"]["id"].as_str().unwrap().to_string();
    let auth = |req: reqwest::RequestBuilder, t: &str| req.bearer_auth(t.to_string());
    let res = auth(app.client.put(app.url(&format!("/api/v1/carts/{cart_id}/lines/TENT-S"))), &ana)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = auth(app.client.put(app.url(&format!("/api/v1/carts/{cart_id}/lines/TENT-S"))), &bob)
        .json(&json!({"quantity": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "Bob cannot touch Ana's cart");
    let body = json!({"email": "ana@example.com", "shipping_address": address()});
    assert_eq!(
        auth(app.client.put(app.url(&format!("/api/v1/carts/{cart_id}/contact"))), &ana)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = auth(app.client.post(app.url(&format!("/api/v1/carts/{cart_id}/checkout"))), &ana).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["lines"][0]["name"], "Wanderzelt", "names in the cart's language");
    let id = order["id"].as_str().unwrap();
    let mine: Value = app.get("/api/v1/orders", Some(&ana)).await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs: Value = app.get("/api/v1/orders", Some(&bob)).await.json().await.unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());
    assert_eq!(app.get(&format!("/api/v1/orders/{id}"), Some(&ana)).await.status(), 200);
    assert_problem(app.get(&format!("/api/v1/orders/{id}"), Some(&bob)).await, 404, "not_found").await;
    assert_problem(set_status(&app, &ana, id, "cancelled").await, 403, "forbidden").await;
    assert_problem(app.get("/api/v1/orders", None).await, 401, "unauthenticated").await;
    let mail = app.mailbox("outfitters", 3).await;
    assert!(mail.iter().any(|m| m.contains("Bestellung")), "the confirmation speaks the cart's language");
    app.stop().await;
}

async fn a_guest_cart_joins_the_customers_after_sign_in(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let ana = customer(&app, "ana@example.com").await;
    let bob = customer(&app, "bob@example.com").await;
    // Ana left a cart on another device.
    let res = app.post_json("/api/v1/carts", Some(&ana), &json!({})).await;
    let old_cart = res.json::<Value>().await.unwrap()["cart"]["id"].as_str().unwrap().to_string();
    let res = app
        .client
        .put(app.url(&format!("/api/v1/carts/{old_cart}/lines/TENT-S")))
        .bearer_auth(&ana)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // As a guest she fills another, then signs in and claims it.
    let guest = new_cart(&app, &base(&app)).await;
    add(&app, &guest, "TENT-S", 2).await;
    add(&app, &guest, "REPAIR-1", 1).await;
    let claim = |token: Option<String>, cart_token: &str| {
        let mut req =
            app.client.post(app.url(&format!("/api/v1/carts/{}/claim", guest.0))).header("cart-token", cart_token);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_problem(claim(None, &guest.1).await.unwrap(), 401, "unauthenticated").await;
    assert_eq!(claim(Some(ana.clone()), "wrong").await.unwrap().status(), 404);
    let res = claim(Some(ana.clone()), &guest.1).await.unwrap();
    assert_eq!(res.status(), 200);
    let cart: Value = res.json().await.unwrap();
    let lines: Vec<(String, i64)> = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap().to_string(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [("TENT-S".to_string(), 3), ("REPAIR-1".to_string(), 1)], "the old cart's lines joined");
    let gone = app.client.get(app.url(&format!("/api/v1/carts/{old_cart}"))).bearer_auth(&ana).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    // Now hers: Bob cannot take it even with the token; she needs no token.
    assert_eq!(claim(Some(bob), &guest.1).await.unwrap().status(), 404);
    let mine = app.client.get(app.url(&format!("/api/v1/carts/{}", guest.0))).bearer_auth(&ana).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(app.count_rows("carts").await, 1);
    app.stop().await;
}

/// Places a guest order for one SKU with an e-mail: (id, number).
async fn order_for(app: &TestApp, sku: &str, email: &str) -> (String, i64) {
    let cart = new_cart(app, &base(app)).await;
    assert_eq!(add(app, &cart, sku, 1).await.status(), 200);
    let body = json!({"email": email, "shipping_address": address()});
    assert_eq!(put(app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &body).await.status(), 200);
    let placed: Value = checkout(&base(app), &cart, None).await.json().await.unwrap();
    (placed["id"].as_str().unwrap().to_string(), placed["number"].as_i64().unwrap())
}

async fn staff_find_orders_by_number_email_sku_and_payment(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let (tent, tent_no) = order_for(&app, "TENT-S", "ana@example.com").await;
    let (repair, repair_no) = order_for(&app, "REPAIR-1", "bo@example.com").await;
    let found = |query: String| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let res = app.get(&format!("/api/v1/orders?{query}"), Some(&owner)).await;
            assert_eq!(res.status(), 200, "{query}");
            let page: Value = res.json().await.unwrap();
            page["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(found(format!("q=%23{tent_no}")).await, vec![tent.clone()]);
    assert_eq!(found(format!("q={repair_no}")).await, vec![repair.clone()]);
    assert_eq!(found("q=%20ANA%40Example.com%20".into()).await, vec![tent.clone()], "e-mail matched as normalised");
    assert_eq!(found("q=REPAIR-1".into()).await, vec![repair.clone()]);
    assert_eq!(found("q=nobody%40example.com".into()).await, Vec::<String>::new());
    // Orders placed before the e-mail index existed are indexed when a server starts.
    app.raw_sql("UPDATE orders SET email_index = ''").await.unwrap();
    assert_eq!(found("q=ana%40example.com".into()).await, Vec::<String>::new());
    let node = app.second_node().await;
    let mut tries = 0;
    while found("q=ana%40example.com".into()).await.is_empty() {
        tries += 1;
        assert!(tries < 100, "older orders were not indexed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found("q=ana%40example.com".into()).await, vec![tent.clone()]);
    node.stop().await;

    // Digits that are no order's number are a SKU (EANs and the like).
    let numeric = json!({"kind": "service", "status": "published", "texts": {"en": {"name": "Fitting"}},
        "variants": [{"sku": "77001", "prices": [{"channel": "web", "amount": 1000}]}]});
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &numeric).await.status(), 201);
    let (fitting, _) = order_for(&app, "77001", "cy@example.com").await;
    assert_eq!(found("q=77001".into()).await, vec![fitting.clone()]);
    assert_eq!(found("q=%2377001".into()).await, Vec::<String>::new(), "with # it is only a number");
    assert_eq!(found("payment_status=paid".into()).await, Vec::<String>::new());
    let res = app.post_json(&format!("/api/v1/orders/{repair}/payment-received"), Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(found("payment_status=paid".into()).await, vec![repair.clone()]);
    assert_eq!(found("payment_status=unpaid&q=TENT-S".into()).await, vec![tent.clone()]);
    for bad in ["payment_status=maybe", "status=lost", &format!("q={}", "x".repeat(201))] {
        let res = app.get(&format!("/api/v1/orders?{bad}"), Some(&owner)).await;
        assert_problem(res, 422, "validation_failed").await;
    }

    // The admin list searches the same way.
    let cookie = crate::admin_pages::sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = crate::admin_pages::page(&app, &cookie, "/admin/orders?q=REPAIR-1").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("id=\"order-{repair_no}\"")), "{html}");
    assert!(!html.contains(&format!("id=\"order-{tent_no}\"")));
}

/// Carts keep what they read of the catalog between requests; a change
/// to a product (its price, name, SKUs, publishing) shows in the next
/// cart request and checkout.
async fn carts_price_from_the_catalog_as_it_is_now(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let cart = new_cart(&app, &base(&app)).await;
    let view: Value = add(&app, &cart, "TENT-S", 1).await.json().await.unwrap();
    assert_eq!(
        (view["lines"][0]["name"].as_str(), view["subtotal"]["amount"].as_i64()),
        (Some("Trail tent"), Some(12000))
    );
    let id = view["lines"][0]["product_id"].as_str().unwrap().to_string();

    // A new price and name, and TENT-L renamed TENT-XL.
    let mut input = json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": "Trail tent II"}, "de": {"name": "Wanderzelt"}},
        "variants": [
            {"sku": "TENT-S", "options": {"size": "S"}, "prices": [{"channel": "web", "amount": 12500}]},
            {"sku": "TENT-XL", "options": {"size": "XL"}, "prices": [{"channel": "web", "amount": 16000}]}
        ]
    });
    assert_eq!(app.put_json(&format!("/api/v1/products/{id}"), Some(&owner), &input).await.status(), 200);
    let view = cart_view(&app, &cart).await;
    assert_eq!(
        (view["lines"][0]["name"].as_str(), view["subtotal"]["amount"].as_i64()),
        (Some("Trail tent II"), Some(12500))
    );
    assert_problem(add(&app, &cart, "TENT-L", 1).await, 422, "validation_failed").await;
    let view: Value = add(&app, &cart, "TENT-XL", 1).await.json().await.unwrap();
    assert_eq!(view["subtotal"]["amount"], 12500 + 16000);

    // Taken off sale: the cart says so at once and checkout refuses it.
    input["status"] = json!("draft");
    assert_eq!(app.put_json(&format!("/api/v1/products/{id}"), Some(&owner), &input).await.status(), 200);
    contact(&app, &cart).await;
    let res = checkout(&base(&app), &cart, None).await;
    let problem = assert_problem(res, 409, "cart_not_orderable").await;
    assert!(problem["detail"].as_str().unwrap().contains("unavailable"), "{problem}");
    assert_eq!(app.count_rows("orders").await, 0);
}
