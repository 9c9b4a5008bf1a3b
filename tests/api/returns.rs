//! Returns through the HTTP server: a guest asks to return shipped goods,
//! staff approve and receive them, resellable units go back on the shelf,
//! damaged ones are written off, and the refund owed is exactly what was
//! paid (discounts and shipping shared fairly, returns in parts adding up
//! to the order total); refusals change nothing.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn, spawn_with};
use crate::orders::{add, base, catalog, checkout, contact, inventory, new_cart, stock};

crate::on_both_databases!(
    returns_in_parts_refund_exactly_what_was_paid,
    returns_follow_their_rules_and_refusals_change_nothing,
    a_guest_returns_through_the_pages_and_staff_receive_it,
    an_exchange_sends_another_size_of_the_same_product,
);

/// A guest's order for `lines`, confirmed, shipped whole and delivered:
/// (order id, order token, order).
async fn delivered_order(app: &TestApp, owner: &str, lines: &[(&str, i64)]) -> (String, String, Value) {
    let cart = new_cart(app, &base(app)).await;
    for (sku, n) in lines {
        assert_eq!(add(app, &cart, sku, *n).await.status(), 200);
    }
    contact(app, &cart).await;
    let order: Value = checkout(&base(app), &cart, None).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_string();
    let token = order["access_token"].as_str().unwrap().to_string();
    let confirm = json!({"status": "confirmed"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/status"), Some(owner), &confirm).await.status(), 200);
    let res =
        app.post_json(&format!("/api/v1/orders/{id}/shipments"), Some(owner), &json!({"location": "berlin"})).await;
    assert_eq!(res.status(), 201);
    let shipped: Value = res.json().await.unwrap();
    let s = shipped["shipments"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/orders/{id}/shipments/{s}/delivered");
    assert_eq!(app.post_json(&path, Some(owner), &json!({})).await.status(), 200);
    (id, token, order)
}

async fn ask(app: &TestApp, id: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app.client.post(app.url(&format!("/api/v1/orders/{id}/returns"))).json(body);
    if let Some(t) = token {
        req = req.header("order-token", t);
    }
    req.send().await.unwrap()
}

async fn decide(app: &TestApp, owner: &str, rma: &str, status: &str) -> reqwest::Response {
    app.post_json(&format!("/api/v1/returns/{rma}/decision"), Some(owner), &json!({ "status": status })).await
}

async fn returns_in_parts_refund_exactly_what_was_paid(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let zone: Value = app
        .post_json("/api/v1/shipping-zones", Some(&owner), &json!({"name": "DE", "regions": ["DE"]}))
        .await
        .json()
        .await
        .unwrap();
    let method = json!({"code": "std", "name": "Parcel", "currency": "EUR", "rates": {"type": "flat", "amount": 490}});
    let path = format!("/api/v1/shipping-zones/{}/methods", zone["id"].as_str().unwrap());
    assert_eq!(app.post_json(&path, Some(&owner), &method).await.status(), 201);
    let promo = json!({"name": "10 % off", "effect": {"type": "order_percent", "percent": "10"}});
    assert_eq!(app.post_json("/api/v1/promotions", Some(&owner), &promo).await.status(), 201);

    // 2 × 120.00 + 150.00 = 390.00, 10 % off (shared: 24.00 and 15.00), shipping 4.90: 355.90.
    let (id, token, order) = delivered_order(&app, &owner, &[("TENT-S", 2), ("TENT-L", 1)]).await;
    assert_eq!(order["totals"]["total"]["amount"], 35590);
    assert_eq!(order["lines"][0]["discount"]["amount"], 2400);

    // A stranger learns nothing; the guest with the token may ask.
    let one_damaged = json!({"lines": [{"sku": "TENT-S", "quantity": 1, "reason": "damaged"}], "comment": "torn seam"});
    assert_eq!(ask(&app, &id, None, &one_damaged).await.status(), 404);
    let res = ask(&app, &id, Some(&token), &one_damaged).await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["status"], "requested");
    let first_id = first["id"].as_str().unwrap().to_string();
    // Only one more TENT-S may come back while this one is open.
    let too_many = json!({"lines": [{"sku": "TENT-S", "quantity": 2, "reason": "no_longer_needed"}]});
    assert_problem(ask(&app, &id, Some(&token), &too_many).await, 422, "validation_failed").await;

    let receive = json!({"location": "berlin", "conditions": [{"sku": "TENT-S", "condition": "damaged"}]});
    let early = app.post_json(&format!("/api/v1/returns/{first_id}/receive"), Some(&owner), &receive).await;
    assert_problem(early, 409, "invalid_transition").await;
    assert_eq!(decide(&app, &owner, &first_id, "approved").await.status(), 200);
    let res = app.post_json(&format!("/api/v1/returns/{first_id}/receive"), Some(&owner), &receive).await;
    assert_eq!(res.status(), 200);
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["status"], "received");
    assert_eq!(got["lines"][0]["condition"], "damaged");
    // Half of what the two tents cost after their discount (216.00), and
    // the shipping's share by value (4.90 × 108.00 / 351.00 = 1.50).
    assert_eq!(got["refund"]["goods"]["amount"], 10800);
    assert_eq!(got["refund"]["shipping"]["amount"], 150, "{got} {order}");
    assert_eq!(got["refund"]["total"]["amount"], 10950);
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (3, 0), "a damaged unit is written off");
    let again = app.post_json(&format!("/api/v1/returns/{first_id}/receive"), Some(&owner), &receive).await;
    assert_problem(again, 409, "invalid_transition").await;

    // The rest comes back resellable: the refunds add up to the order total.
    let rest = json!({"lines": [
        {"sku": "TENT-S", "quantity": 1, "reason": "no_longer_needed"},
        {"sku": "TENT-L", "quantity": 1, "reason": "not_as_described"}]});
    let second: Value = ask(&app, &id, Some(&token), &rest).await.json().await.unwrap();
    let second_id = second["id"].as_str().unwrap().to_string();
    assert_eq!(decide(&app, &owner, &second_id, "approved").await.status(), 200);
    let res = app
        .post_json(&format!("/api/v1/returns/{second_id}/receive"), Some(&owner), &json!({"location": "berlin"}))
        .await;
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["refund"]["goods"]["amount"], 10800 + 13500);
    assert_eq!(got["refund"]["shipping"]["amount"], 340);
    assert_eq!(10950 + got["refund"]["total"]["amount"].as_i64().unwrap(), 35590, "never more or less than paid");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (4, 0), "resellable units are back");
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (5, 0));
    assert_problem(ask(&app, &id, Some(&token), &one_damaged).await, 422, "validation_failed").await;

    // The order's timeline and the store's list show it.
    let seen: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert!(seen["history"].to_string().contains(&format!("return {first_id} received")), "{seen}");
    let all: Value = app.get("/api/v1/returns?status=received", Some(&owner)).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    // Each listed return carries its own lines, as its own page shows them.
    for listed in all.as_array().unwrap() {
        let one: Value = app
            .get(&format!("/api/v1/returns/{}", listed["id"].as_str().unwrap()), Some(&owner))
            .await
            .json()
            .await
            .unwrap();
        assert!(!listed["lines"].as_array().unwrap().is_empty(), "{listed}");
        assert_eq!(listed["lines"], one["lines"]);
    }
    let events = app.scalar("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'return.received'").await;
    assert_eq!(events, 2);
    app.stop().await;
}

async fn returns_follow_their_rules_and_refusals_change_nothing(b: Backend) {
    let app = spawn_with(b, |c| c.orders.return_days = 0).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;

    // Nothing shipped yet: nothing to return.
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT-S", 1).await.status(), 200);
    contact(&app, &cart).await;
    let unshipped: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    let body = json!({"lines": [{"sku": "TENT-S", "quantity": 1, "reason": "other"}]});
    let res = ask(&app, unshipped["id"].as_str().unwrap(), unshipped["access_token"].as_str(), &body).await;
    assert_problem(res, 409, "nothing_shipped").await;

    // With a window of 0 days the customer is too late; staff may still open one.
    let (id, token, _) = delivered_order(&app, &owner, &[("TENT-S", 2), ("REPAIR-1", 1)]).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_problem(ask(&app, &id, Some(&token), &body).await, 409, "return_window_closed").await;
    for bad in [
        json!({"lines": []}),
        json!({"lines": [{"sku": "TENT-S", "quantity": 0, "reason": "other"}]}),
        json!({"lines": [{"sku": "NOPE", "quantity": 1, "reason": "other"}]}),
        json!({"lines": [{"sku": "REPAIR-1", "quantity": 1, "reason": "other"}]}),
        json!({"lines": [{"sku": "TENT-S", "quantity": 1, "reason": "bored"}]}),
    ] {
        let res = app.post_json(&format!("/api/v1/orders/{id}/returns"), Some(&owner), &bad).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    assert_eq!(app.count_rows("returns").await, 0);
    let exchange =
        json!({"lines": [{"sku": "TENT-S", "quantity": 2, "reason": "wrong_item"}], "resolution": "exchange"});
    let res = app.post_json(&format!("/api/v1/orders/{id}/returns"), Some(&owner), &exchange).await;
    assert_eq!(res.status(), 201);
    let rma = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    // Rejecting gives the units back to what may be returned.
    assert_eq!(decide(&app, &owner, &rma, "rejected").await.status(), 200);
    assert_problem(decide(&app, &owner, &rma, "approved").await, 409, "invalid_transition").await;
    assert_problem(decide(&app, &owner, &rma, "received").await, 422, "validation_failed").await;
    let res = app.post_json(&format!("/api/v1/orders/{id}/returns"), Some(&owner), &exchange).await;
    assert_eq!(res.status(), 201, "the rejected units may be asked for again");
    let rma = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(decide(&app, &owner, &rma, "approved").await.status(), 200);
    let bad_place = json!({"location": "nowhere"});
    let res = app.post_json(&format!("/api/v1/returns/{rma}/receive"), Some(&owner), &bad_place).await;
    assert_problem(res, 422, "validation_failed").await;
    let res =
        app.post_json(&format!("/api/v1/returns/{rma}/receive"), Some(&owner), &json!({"location": "berlin"})).await;
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["resolution"], "exchange");
    assert_eq!(got["refund"], Value::Null, "an exchange owes no refund");
    // The replacement: its own order, paid and confirmed at no charge,
    // holding the units the returned ones freed, and shipped like any other.
    let replacement = got["replacement_order_id"].as_str().expect("a replacement order").to_string();
    let r: Value = app.get(&format!("/api/v1/orders/{replacement}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((r["status"].as_str(), r["payment_status"].as_str()), (Some("confirmed"), Some("paid")), "{r}");
    assert_eq!(r["totals"]["total"]["amount"], 0);
    assert_eq!((r["lines"][0]["sku"].as_str(), r["lines"][0]["quantity"].as_i64()), (Some("TENT-S"), Some(2)));
    assert_eq!(r["lines"][0]["unit_price"]["amount"], 0);
    assert_eq!(r["contact"]["email"], "ana@example.com");
    assert!(r["history"].to_string().contains("replacement for order"), "{r}");
    // (The unshipped order above holds one more.)
    assert_eq!(
        inventory(&app, &owner, "TENT-S").await,
        (5, 3),
        "returned units back on the shelf, held for the replacement"
    );
    let res = app
        .post_json(&format!("/api/v1/orders/{replacement}/shipments"), Some(&owner), &json!({"location": "berlin"}))
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "fulfilled");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (3, 1));
    let original: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert!(original["history"].to_string().contains("replacement order"), "{original}");
    // Customers cannot decide returns.
    let customer = app.login("", "customer", "ana@customers.example").await;
    assert_eq!(decide(&app, &customer, &rma, "cancelled").await.status(), 403);
    assert_eq!(app.get("/api/v1/returns", Some(&customer)).await.status(), 403);
    app.stop().await;
}

async fn a_guest_returns_through_the_pages_and_staff_receive_it(b: Backend) {
    use crate::account_pages::{Jar, field, get, post};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    add_medium_tent(&app, &owner).await;
    let mut jar = Jar::default();
    let (_, html) = get(&app, &mut jar, "/p/trail-tent").await;
    let csrf = field(&html, "_csrf");
    assert_eq!(
        post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "TENT-S"), ("quantity", "2")]).await.0,
        303
    );
    let contact = [
        ("_csrf", csrf.as_str()),
        ("email", "guest@example.com"),
        ("name", "Gina Guest"),
        ("line1", "Hauptstr. 1"),
        ("city", "Berlin"),
        ("postal_code", "10115"),
        ("country", "DE"),
    ];
    assert_eq!(post(&app, &mut jar, "/cart/contact", &contact).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    let key = field(&html, "_key");
    let (_, _, to) = post(&app, &mut jar, "/cart/checkout", &[("_csrf", &csrf), ("_key", &key)]).await;
    let to = to.unwrap();
    let id = to.trim_start_matches("/orders/").to_string();
    let (_, html) = get(&app, &mut jar, &to).await;
    assert!(!html.contains("id=\"return-form\""), "nothing shipped yet: nothing to return");

    let confirm = json!({"status": "confirmed"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/status"), Some(&owner), &confirm).await.status(), 200);
    let res = app
        .post_json(
            &format!("/api/v1/orders/{id}/shipments"),
            Some(&owner),
            &json!({"location": "berlin", "tracking_number": "T-9"}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let (_, html) = get(&app, &mut jar, &to).await;
    assert!(html.contains("id=\"return-form\"") && html.contains("T-9"), "{html}");
    // An exchange may ask for another size priced the same, not for the dearer one.
    assert!(html.contains("name=\"swap:TENT-S\"") && html.contains("<option value=\"TENT-M\">size: M"), "{html}");
    assert!(!html.contains("<option value=\"TENT-L\">"), "{html}");
    let ask = [("_csrf", csrf.as_str()), ("qty:TENT-S", "1"), ("reason", "damaged"), ("comment", "torn")];
    assert_eq!(post(&app, &mut jar, &format!("{to}/return"), &ask).await.0, 303);
    let too_many = [("_csrf", csrf.as_str()), ("qty:TENT-S", "5"), ("reason", "damaged")];
    let (status, html, _) = post(&app, &mut jar, &format!("{to}/return"), &too_many).await;
    assert_eq!(status, 422);
    assert!(html.contains("can be returned"), "{html}");
    let (_, html) = get(&app, &mut jar, &to).await;
    assert!(html.contains("data-status=\"requested\""), "{html}");

    use crate::admin_pages::{page, post as admin_post, sign_in};
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (_, html) = page(&app, &cookie, &format!("/admin{to}")).await;
    let admin_csrf = crate::admin_pages::field(&html, "_csrf");
    let rma = html.split("id=\"return-").nth(1).unwrap().split('"').next().unwrap().to_string();
    let decision = [("_csrf", admin_csrf.as_str()), ("status", "approved")];
    assert_eq!(admin_post(&app, &cookie, &format!("/admin{to}/returns/{rma}/decision"), &decision).await.0, 303);
    let receive = [("_csrf", admin_csrf.as_str()), ("location", "berlin"), ("damaged:TENT-S", "1")];
    assert_eq!(admin_post(&app, &cookie, &format!("/admin{to}/returns/{rma}/receive"), &receive).await.0, 303);
    let (_, html) = page(&app, &cookie, &format!("/admin{to}")).await;
    assert!(html.contains("data-status=\"received\"") && html.contains("€120.00"), "{html}");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (3, 0), "the damaged unit is written off");
    let (_, html) = get(&app, &mut jar, &to).await;
    assert!(html.contains("class=\"refund\">€120.00"), "the guest sees the refund: {html}");
    app.stop().await;
}

/// Adds TENT-M to the tent, priced as TENT-S (TENT-L costs more), with 5 in stock.
async fn add_medium_tent(app: &TestApp, owner: &str) {
    let cart = new_cart(app, &base(app)).await;
    let view: Value = add(app, &cart, "TENT-S", 1).await.json().await.unwrap();
    let path = format!("/api/v1/products/{}", view["lines"][0]["product_id"].as_str().unwrap());
    let mut tent = crate::orders::tent();
    tent["variants"].as_array_mut().unwrap().push(json!({"sku": "TENT-M", "options": {"size": "M"}, "prices": [
        {"channel": "web", "amount": 12000}, {"channel": "web", "min_qty": 3, "amount": 11000}]}));
    assert_eq!(app.put_json(&path, Some(owner), &tent).await.status(), 200);
    let lines = json!({"lines": [{"sku": "TENT-M", "location": "berlin", "delta": 5, "reason": "received"}]});
    assert_eq!(app.post_json("/api/v1/stock-adjustments", Some(owner), &lines).await.status(), 201);
}

async fn an_exchange_sends_another_size_of_the_same_product(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    add_medium_tent(&app, &owner).await;
    let (id, token, _) = delivered_order(&app, &owner, &[("TENT-S", 2), ("REPAIR-1", 1)]).await;
    let swap = |to: &str, resolution: &str| {
        json!({"lines": [{"sku": "TENT-S", "quantity": 1, "reason": "wrong_item", "exchange_for": to}],
               "resolution": resolution})
    };
    for (bad, code) in [
        (swap("REPAIR-1", "exchange"), "not_same_product"),
        (swap("NOPE", "exchange"), "unknown_sku"),
        (swap("TENT-M", "refund"), "only_for_exchange"),
        // The large tent costs more: sent at no charge, the difference would be given away.
        (swap("TENT-L", "exchange"), "price_differs"),
    ] {
        let res = ask(&app, &id, Some(&token), &bad).await;
        assert_eq!(res.status(), 422, "{bad}");
        let body = res.text().await.unwrap();
        assert!(body.contains(code) && body.contains("lines[0].exchange_for"), "{body}");
    }
    assert_eq!(app.count_rows("returns").await, 0, "refusals store nothing");

    let res = ask(&app, &id, Some(&token), &swap("TENT-M", "exchange")).await;
    assert_eq!(res.status(), 201);
    let asked: Value = res.json().await.unwrap();
    assert_eq!(asked["lines"][0]["exchange_for"], "TENT-M", "{asked}");
    let rma = asked["id"].as_str().unwrap().to_string();
    assert_eq!(decide(&app, &owner, &rma, "approved").await.status(), 200);
    let res =
        app.post_json(&format!("/api/v1/returns/{rma}/receive"), Some(&owner), &json!({"location": "berlin"})).await;
    assert_eq!(res.status(), 200);
    let got: Value = res.json().await.unwrap();
    let replacement = got["replacement_order_id"].as_str().expect("a replacement order").to_string();
    let r: Value = app.get(&format!("/api/v1/orders/{replacement}"), Some(&owner)).await.json().await.unwrap();
    let line = &r["lines"][0];
    assert_eq!((line["sku"].as_str(), line["quantity"].as_i64()), (Some("TENT-M"), Some(1)), "{r}");
    assert_eq!(line["options"]["size"], "M", "{r}");
    assert_eq!((r["totals"]["total"]["amount"].as_i64(), r["payment_status"].as_str()), (Some(0), Some("paid")));
    // The guest follows the replacement with the original order's token; no other token opens it.
    let with_token = |t: &str| {
        app.client.get(app.url(&format!("/api/v1/orders/{replacement}"))).header("order-token", t.to_string()).send()
    };
    let seen: Value = with_token(&token).await.unwrap().json().await.unwrap();
    assert_eq!(seen["lines"][0]["sku"], "TENT-M", "{seen}");
    assert_eq!(with_token("not-the-token").await.unwrap().status(), 404);
    // The small tent came back on the shelf; a large one is held for the replacement.
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (4, 0));
    assert_eq!(inventory(&app, &owner, "TENT-M").await, (5, 1));
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (5, 0));
    app.stop().await;
}
