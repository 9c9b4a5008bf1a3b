//! Fulfilment through the HTTP server: pick lists, partial shipments with
//! carrier and tracking that take the held stock off the shelf, the order
//! moving to partially fulfilled, fulfilled and (on delivery) completed,
//! back-ordered units shipping once they arrive, orders that ship nothing,
//! and refusals that change nothing.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};
use crate::orders::{add, base, catalog, checkout, contact, inventory, new_cart, stock};

crate::on_both_databases!(
    partial_shipments_fulfil_the_order_and_take_the_held_stock,
    back_ordered_units_ship_once_they_arrive,
    orders_that_ship_nothing_are_fulfilled_without_a_shipment,
    staff_pick_ship_and_confirm_delivery_in_the_admin,
    shipping_from_another_location_lets_the_first_hold_go,
);

/// Places an order for `lines` as a guest: (order id, order token).
async fn order(app: &TestApp, lines: &[(&str, i64)]) -> (String, String) {
    let cart = new_cart(app, &base(app)).await;
    for (sku, n) in lines {
        assert_eq!(add(app, &cart, sku, *n).await.status(), 200);
    }
    contact(app, &cart).await;
    let res = checkout(&base(app), &cart, None).await;
    assert_eq!(res.status(), 201);
    let o: Value = res.json().await.unwrap();
    (o["id"].as_str().unwrap().to_string(), o["access_token"].as_str().unwrap().to_string())
}

async fn confirm(app: &TestApp, owner: &str, id: &str) {
    let res = app.post_json(&format!("/api/v1/orders/{id}/status"), Some(owner), &json!({"status": "confirmed"})).await;
    assert_eq!(res.status(), 200);
}

async fn ship(app: &TestApp, owner: &str, id: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req = app.client.post(app.url(&format!("/api/v1/orders/{id}/shipments"))).bearer_auth(owner).json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn partial_shipments_fulfil_the_order_and_take_the_held_stock(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let (id, token) = order(&app, &[("TENT-S", 2), ("TENT-L", 1), ("REPAIR-1", 1)]).await;
    let first = json!({"location": "berlin", "tracking_number": "TRK-1", "lines": [{"sku": "TENT-S", "quantity": 1}]});
    let res = ship(&app, &owner, &id, &first, None).await;
    let problem = assert_problem(res, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("confirm"), "{problem}");
    confirm(&app, &owner, &id).await;

    let pick: Value = app.get(&format!("/api/v1/orders/{id}/pick-list"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(pick["locations"][0]["location"], "berlin");
    let picked: Vec<(String, i64)> = pick["locations"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap().to_string(), l["quantity"].as_i64().unwrap()))
        .collect();
    let mut picked = picked;
    picked.sort();
    assert_eq!(picked, vec![("TENT-L".to_string(), 1), ("TENT-S".to_string(), 2)]);
    assert_eq!(pick["waiting"], json!([]), "the repair service is not picked");

    // Bad shipments change nothing.
    for (bad, status) in [
        (json!({"location": "nowhere", "lines": [{"sku": "TENT-S", "quantity": 1}]}), 422),
        (json!({"location": "berlin", "lines": [{"sku": "TENT-S", "quantity": 3}]}), 422),
        (json!({"location": "berlin", "lines": [{"sku": "REPAIR-1", "quantity": 1}]}), 422),
        (json!({"location": "berlin", "lines": [{"sku": "NOPE", "quantity": 1}]}), 422),
        (json!({"location": "berlin", "carrier": "pigeon"}), 422),
        (json!({"location": "berlin", "lines": []}), 422),
    ] {
        assert_eq!(ship(&app, &owner, &id, &bad, None).await.status(), status, "{bad}");
    }
    assert_eq!(app.count_rows("shipments").await, 0);
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 2));

    let res = ship(&app, &owner, &id, &first, Some("ship-1")).await;
    assert_eq!(res.status(), 201);
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["status"], "partially_fulfilled");
    assert_eq!(after["shipments"][0]["tracking_number"], "TRK-1");
    assert_eq!(after["shipments"][0]["lines"], json!([{"sku": "TENT-S", "quantity": 1}]));
    let retry = ship(&app, &owner, &id, &first, Some("ship-1")).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    assert_eq!(app.count_rows("shipments").await, 1, "a retried shipment is recorded once");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (4, 1), "the shipped unit left the shelf and the hold");

    // The rest: everything the order still holds at the location.
    let res = ship(&app, &owner, &id, &json!({"location": "berlin", "tracking_number": "TRK-2"}), None).await;
    assert_eq!(res.status(), 201);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "fulfilled");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (3, 0));
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (4, 0));
    let shipped: Vec<i64> = done["lines"].as_array().unwrap().iter().map(|l| l["shipped"].as_i64().unwrap()).collect();
    assert_eq!(shipped, vec![2, 1, 0]);
    let over = json!({"location": "berlin", "lines": [{"sku": "TENT-S", "quantity": 1}]});
    assert_problem(ship(&app, &owner, &id, &over, None).await, 409, "invalid_transition").await;
    let movements: Value = app.get("/api/v1/stock-movements?sku=TENT-S", Some(&owner)).await.json().await.unwrap();
    assert!(movements.to_string().contains("\"ship\""), "{movements}");

    // The customer is told, with the tracking number, and sees the parcels.
    let mail = app.mailbox("outfitters", 3).await;
    assert!(mail.iter().any(|m| m.contains("on its way") && m.contains("TRK-1")), "{mail:?}");
    let seen: Value = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}")))
        .header("order-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["shipments"].as_array().unwrap().len(), 2);

    // Delivery of every parcel completes the order; twice is refused.
    let cancel = json!({"status": "cancelled"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/status"), Some(&owner), &cancel).await.status(), 409);
    for s in done["shipments"].as_array().unwrap() {
        let path = format!("/api/v1/orders/{id}/shipments/{}/delivered", s["id"].as_str().unwrap());
        assert_eq!(app.post_json(&path, Some(&owner), &json!({})).await.status(), 200);
    }
    let path = format!("/api/v1/orders/{id}/shipments/{}/delivered", done["shipments"][0]["id"].as_str().unwrap());
    assert_problem(app.post_json(&path, Some(&owner), &json!({})).await, 409, "already_delivered").await;
    let last: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(last["status"], "completed");
    let moves: Vec<&str> = last["history"].as_array().unwrap().iter().filter_map(|h| h["to"].as_str()).collect();
    assert_eq!(moves, vec!["placed", "confirmed", "partially_fulfilled", "fulfilled", "completed"]);
    app.stop().await;
}

async fn back_ordered_units_ship_once_they_arrive(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let loc = json!({"code": "berlin", "name": "Berlin", "country": "DE"});
    assert_eq!(app.post_json("/api/v1/stock-locations", Some(&owner), &loc).await.status(), 201);
    let policy = json!({"policy": "backorder"});
    assert_eq!(app.put_json("/api/v1/inventory/TENT-S/settings", Some(&owner), &policy).await.status(), 200);
    let (id, _) = order(&app, &[("TENT-S", 2)]).await;
    confirm(&app, &owner, &id).await;
    let pick: Value = app.get(&format!("/api/v1/orders/{id}/pick-list"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(pick["locations"], json!([]));
    assert_eq!(pick["waiting"][0]["quantity"], 2);
    assert_problem(ship(&app, &owner, &id, &json!({"location": "berlin"}), None).await, 409, "nothing_to_ship").await;
    let both = json!({"location": "berlin", "lines": [{"sku": "TENT-S", "quantity": 2}]});
    assert_problem(ship(&app, &owner, &id, &both, None).await, 409, "out_of_stock").await;
    assert_eq!(app.count_rows("shipments").await, 0, "a refused shipment leaves nothing");
    let arrived = json!({"lines": [{"sku": "TENT-S", "location": "berlin", "delta": 2, "reason": "received"}]});
    assert_eq!(app.post_json("/api/v1/stock-adjustments", Some(&owner), &arrived).await.status(), 201);
    let res = ship(&app, &owner, &id, &both, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "fulfilled");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (0, 0), "stock never below zero");
    app.stop().await;
}

async fn orders_that_ship_nothing_are_fulfilled_without_a_shipment(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 3).await;
    let (service, _) = order(&app, &[("REPAIR-1", 1)]).await;
    let path = format!("/api/v1/orders/{service}/fulfil");
    assert_problem(app.post_json(&path, Some(&owner), &json!({})).await, 409, "invalid_transition").await;
    confirm(&app, &owner, &service).await;
    let by_hand = json!({"status": "fulfilled"});
    let res = app.post_json(&format!("/api/v1/orders/{service}/status"), Some(&owner), &by_hand).await;
    assert_problem(res, 409, "invalid_transition").await;
    let res = app.post_json(&path, Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "fulfilled");
    assert_eq!(done["lines"][0]["shipped"], 1);

    let (goods, _) = order(&app, &[("TENT-S", 1)]).await;
    confirm(&app, &owner, &goods).await;
    let res = app.post_json(&format!("/api/v1/orders/{goods}/fulfil"), Some(&owner), &json!({})).await;
    assert_problem(res, 409, "goods_to_ship").await;
    // Customers cannot ship or fulfil.
    let customer = app.login("", "customer", "ana@customers.example").await;
    let body = json!({"location": "berlin"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{goods}/shipments"), Some(&customer), &body).await.status(), 403);
    assert_eq!(app.get(&format!("/api/v1/orders/{goods}/pick-list"), Some(&customer)).await.status(), 403);
    app.stop().await;
}

async fn staff_pick_ship_and_confirm_delivery_in_the_admin(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let (id, token) = order(&app, &[("TENT-S", 2)]).await;
    confirm(&app, &owner, &id).await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, &format!("/admin/orders/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-location=\"berlin\"") && html.contains("2 × TENT-S"), "{html}");
    let csrf = field(&html, "_csrf");
    let key = field(&html, "_key");
    let form = [
        ("_csrf", csrf.as_str()),
        ("_key", key.as_str()),
        ("location", "berlin"),
        ("tracking_number", "DHL-77"),
        ("qty:TENT-S", "1"),
    ];
    assert_eq!(post(&app, &cookie, &format!("/admin/orders/{id}/ship"), &form).await.0, 303);
    assert_eq!(post(&app, &cookie, &format!("/admin/orders/{id}/ship"), &form).await.0, 303, "a double submit");
    assert_eq!(app.count_rows("shipments").await, 1, "ships once");
    let too_many = [("_csrf", csrf.as_str()), ("location", "berlin"), ("qty:TENT-S", "5")];
    let (status, html) = post(&app, &cookie, &format!("/admin/orders/{id}/ship"), &too_many).await;
    assert_eq!(status, 409);
    assert!(html.contains("still to ship"), "{html}");
    let (_, html) = page(&app, &cookie, &format!("/admin/orders/{id}")).await;
    assert!(html.contains("partially_fulfilled") && html.contains("DHL-77"), "{html}");
    let shipment = html.split("id=\"shipment-").nth(1).unwrap().split('"').next().unwrap().to_string();
    let path = format!("/admin/orders/{id}/shipments/{shipment}/delivered");
    assert_eq!(post(&app, &cookie, &path, &[("_csrf", &csrf)]).await.0, 303);
    // The customer's page shows the parcel and its tracking number.
    let seen = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}")))
        .header("order-token", &token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(seen["shipments"][0]["status"], "delivered");
    assert_eq!(seen["status"], "partially_fulfilled", "one tent is still to ship");
    app.stop().await;
}

async fn shipping_from_another_location_lets_the_first_hold_go(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let loc = json!({"code": "hamburg", "name": "Hamburg", "country": "DE", "priority": -1});
    assert_eq!(app.post_json("/api/v1/stock-locations", Some(&owner), &loc).await.status(), 201);
    let arrival = json!({"lines": [{"sku": "TENT-S", "location": "hamburg", "delta": 5, "reason": "received"}]});
    assert_eq!(app.post_json("/api/v1/stock-adjustments", Some(&owner), &arrival).await.status(), 201);
    let (id, _) = order(&app, &[("TENT-S", 2)]).await;
    confirm(&app, &owner, &id).await;
    let pick: Value = app.get(&format!("/api/v1/orders/{id}/pick-list"), Some(&owner)).await.json().await.unwrap();
    let held_at = pick["locations"][0]["location"].as_str().unwrap().to_string();
    let other = if held_at == "berlin" { "hamburg" } else { "berlin" };
    let body = json!({"location": other, "lines": [{"sku": "TENT-S", "quantity": 2}]});
    let res = ship(&app, &owner, &id, &body, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "fulfilled");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (8, 0), "two left the shelf; no hold stays behind");
    assert_eq!(app.count_rows("stock_reservations").await, 0);
    app.stop().await;
}
