//! Staff edit an order before it ships: quantities, new lines, a new
//! delivery address; the order is priced again (volume prices, shipping
//! to the new address), its stock hold follows, the change is on its
//! timeline, and an edit that cannot be honoured changes nothing.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};
use crate::orders::{add, base, catalog, checkout, contact, inventory, new_cart, stock};

crate::on_both_databases!(
    staff_edit_an_unshipped_order_and_it_is_priced_again,
    staff_edit_an_order_on_the_admin_page,
    staff_take_a_phone_order_as_a_draft,
    an_edit_drops_a_coupon_that_no_longer_applies,
    staff_take_a_phone_order_as_a_draft_in_the_admin,
);

async fn edit(app: &TestApp, owner: &str, id: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req = app.client.post(app.url(&format!("/api/v1/orders/{id}/edit"))).bearer_auth(owner).json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn staff_edit_an_unshipped_order_and_it_is_priced_again(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    for (name, region, amount) in [("DE", "DE", 490), ("AT", "AT", 990)] {
        let zone: Value = app
            .post_json("/api/v1/shipping-zones", Some(&owner), &json!({"name": name, "regions": [region]}))
            .await
            .json()
            .await
            .unwrap();
        let method = json!({"code": format!("std-{region}"), "name": "Parcel", "currency": "EUR",
            "rates": {"type": "flat", "amount": amount}});
        let path = format!("/api/v1/shipping-zones/{}/methods", zone["id"].as_str().unwrap());
        assert_eq!(app.post_json(&path, Some(&owner), &method).await.status(), 201);
    }
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT-S", 1).await.status(), 200);
    contact(&app, &cart).await;
    let order: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_string();
    assert_eq!(order["totals"]["total"]["amount"], 12000 + 490);

    // Three small tents (the volume price from 3: 110.00) and a large one.
    let more = json!({"lines": [{"sku": "TENT-S", "quantity": 3}, {"sku": "TENT-L", "quantity": 1}], "note": "phoned"});
    let res = edit(&app, &owner, &id, &more, Some("edit-1")).await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["totals"]["subtotal"]["amount"], 3 * 11000 + 15000);
    assert_eq!(edited["totals"]["total"]["amount"], 3 * 11000 + 15000 + 490);
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 3));
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (5, 1));
    let note =
        edited["history"].as_array().unwrap().iter().rev().find(|h| h["kind"] == "note").unwrap()["note"].clone();
    assert_eq!(note, "edited: TENT-L 0 → 1, TENT-S 1 → 3, total 12490 → 48490 (phoned)");
    let retry = edit(&app, &owner, &id, &more, Some("edit-1")).await;
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 3), "a retried edit holds nothing twice");

    // A new address in Austria: shipping follows the zone there.
    let to_vienna = json!({"shipping_address": {"name": "Ana Lima", "line1": "Ring 1", "city": "Wien", "postal_code": "1010", "country": "AT"}});
    let moved: Value = edit(&app, &owner, &id, &to_vienna, None).await.json().await.unwrap();
    assert_eq!(moved["contact"]["shipping_address"]["country"], "AT");
    assert_eq!(moved["pricing"]["shipping"]["code"], "std-AT");
    assert_eq!(moved["totals"]["shipping"]["amount"], 990);

    // Edits that cannot be honoured change nothing.
    let too_many = json!({"lines": [{"sku": "TENT-L", "quantity": 9}]});
    assert_problem(edit(&app, &owner, &id, &too_many, None).await, 409, "out_of_stock").await;
    let nowhere = json!({"shipping_address": {"name": "A", "line1": "x", "city": "NYC", "postal_code": "10001", "country": "US"}});
    assert_problem(edit(&app, &owner, &id, &nowhere, None).await, 409, "order_not_editable").await;
    let empty = json!({"lines": [{"sku": "TENT-S", "quantity": 0}, {"sku": "TENT-L", "quantity": 0}]});
    assert_problem(edit(&app, &owner, &id, &empty, None).await, 422, "validation_failed").await;
    let unknown = json!({"lines": [{"sku": "NOPE", "quantity": 1}]});
    assert_problem(edit(&app, &owner, &id, &unknown, None).await, 422, "validation_failed").await;
    let now: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(now["totals"], moved["totals"]);
    assert_eq!(inventory(&app, &owner, "TENT-L").await, (5, 1));
    let customer = app.login("", "customer", "ana@customers.example").await;
    assert_eq!(edit(&app, &customer, &id, &more, None).await.status(), 403);

    // Once something shipped, the order is no longer edited.
    let confirm = json!({"status": "confirmed"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/status"), Some(&owner), &confirm).await.status(), 200);
    let one = json!({"location": "berlin", "lines": [{"sku": "TENT-L", "quantity": 1}]});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/shipments"), Some(&owner), &one).await.status(), 201);
    assert_problem(edit(&app, &owner, &id, &more, None).await, 409, "order_not_editable").await;
    app.stop().await;
}

async fn staff_edit_an_order_on_the_admin_page(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT-S", 2).await.status(), 200);
    contact(&app, &cart).await;
    let order: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (_, html) = page(&app, &cookie, &format!("/admin/orders/{id}")).await;
    assert!(html.contains("id=\"edit-form\""), "{html}");
    let csrf = field(&html, "_csrf");
    let form = [
        ("_csrf", csrf.as_str()),
        ("qty:TENT-S", "1"),
        ("add_sku", "REPAIR-1"),
        ("add_quantity", "1"),
        ("note", "asked by phone"),
    ];
    assert_eq!(post(&app, &cookie, &format!("/admin/orders/{id}/edit"), &form).await.0, 303);
    let (_, html) = page(&app, &cookie, &format!("/admin/orders/{id}")).await;
    assert!(
        html.contains("TENT-S 2 → 1") && html.contains("REPAIR-1 0 → 1") && html.contains("asked by phone"),
        "{html}"
    );
    assert!(html.contains("€150.00"), "120.00 + 30.00: {html}");
    let bad = [("_csrf", csrf.as_str()), ("qty:TENT-S", "9")];
    let (status, html) = post(&app, &cookie, &format!("/admin/orders/{id}/edit"), &bad).await;
    assert_eq!(status, 409);
    assert!(html.contains("TENT-S"), "{html}");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 1));
    app.stop().await;
}

async fn staff_take_a_phone_order_as_a_draft(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let ana = app.login("", "customer", "ana@customers.example").await;
    let me: Value = app.get("/api/v1/me", Some(&ana)).await.json().await.unwrap();
    let ana_id = me["id"].as_str().unwrap().to_string();
    assert_eq!(app.post_json("/api/v1/draft-orders", Some(&ana), &json!({})).await.status(), 403);
    let bad = json!({"customer_id": "cus_nope"});
    assert_problem(app.post_json("/api/v1/draft-orders", Some(&owner), &bad).await, 422, "validation_failed").await;

    let res = app.post_json("/api/v1/draft-orders", Some(&owner), &json!({"customer_id": ana_id})).await;
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.unwrap();
    let id = draft["id"].as_str().unwrap().to_string();
    let by = draft["draft_by"].as_str().unwrap().to_string();
    assert!(!by.is_empty(), "{draft}");
    // Staff fill it without a cart token; the customer cannot open it.
    let line = app.put_json(&format!("/api/v1/carts/{id}/lines/TENT-S"), Some(&owner), &json!({"quantity": 2})).await;
    assert_eq!(line.status(), 200);
    let address = json!({"email": "ana@customers.example", "shipping_address": {"name": "Ana Lima", "line1": "Hauptstr. 1",
        "city": "Berlin", "postal_code": "10115", "country": "DE"}, "company": "Lima GmbH"});
    assert_eq!(app.put_json(&format!("/api/v1/carts/{id}/contact"), Some(&owner), &address).await.status(), 200);
    assert_eq!(app.get(&format!("/api/v1/carts/{id}"), Some(&ana)).await.status(), 404);
    let drafts: Value = app.get("/api/v1/draft-orders", Some(&owner)).await.json().await.unwrap();
    assert_eq!(drafts.as_array().unwrap().len(), 1);

    let res = app.post_json(&format!("/api/v1/carts/{id}/checkout"), Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["customer_id"], ana_id.as_str());
    assert_eq!(order["reserved_until"], Value::Null, "sold on terms: no unpaid deadline");
    assert_eq!(order["history"][0]["actor"], by.as_str(), "placed by the staff member");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 2));
    let mine: Value = app.get("/api/v1/orders", Some(&ana)).await.json().await.unwrap();
    assert_eq!(mine["items"][0]["id"], order["id"], "the order is in the customer's account");
    let drafts: Value = app.get("/api/v1/draft-orders", Some(&owner)).await.json().await.unwrap();
    assert_eq!(drafts, json!([]), "a placed draft is gone");
    app.stop().await;
}

async fn an_edit_drops_a_coupon_that_no_longer_applies(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let promo: Value = app
        .post_json(
            "/api/v1/promotions",
            Some(&owner),
            &json!({"name": "20 € off 200 €", "needs_coupon": true, "effect": {"type": "order_amount", "amount": 2000},
                    "conditions": {"currency": "EUR", "min_subtotal": 20000}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/promotions/{}/coupons", promo["id"].as_str().unwrap());
    assert_eq!(app.post_json(&path, Some(&owner), &json!({"code": "BIG20", "usage_limit": 1})).await.status(), 201);
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT-S", 2).await.status(), 200);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/carts/{}/coupons", cart.0)))
        .header("cart-token", &cart.1)
        .json(&json!({"code": "BIG20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    contact(&app, &cart).await;
    let order: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["totals"]["discount"]["amount"], 2000);
    assert_eq!(app.scalar("SELECT used FROM coupons").await, 1);
    // Down to one tent (120.00): below the coupon's 200.00, so it goes and its use comes back.
    let res = edit(&app, &owner, id, &json!({"lines": [{"sku": "TENT-S", "quantity": 1}]}), None).await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["totals"]["discount"]["amount"], 0);
    assert_eq!(edited["pricing"]["coupons"], json!([]));
    assert!(edited["history"].to_string().contains("coupon BIG20 no longer applies"), "{edited}");
    assert_eq!(app.scalar("SELECT used FROM coupons").await, 0, "the use is given back");
    assert_eq!(app.count_rows("order_coupons").await, 0);
    app.stop().await;
}

async fn staff_take_a_phone_order_as_a_draft_in_the_admin(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 5).await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/drafts").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");

    // An unknown customer is refused and starts nothing.
    let carts = app.count_rows("carts").await;
    let form = [("_csrf", csrf.as_str()), ("customer_email", "nobody@example.com"), ("channel", "web")];
    let (status, html) = post(&app, &cookie, "/admin/drafts", &form).await;
    assert_eq!(status, 422);
    assert!(html.contains("No customer account has this e-mail"), "{html}");
    assert_eq!(app.count_rows("carts").await, carts);

    // A draft for a known customer: lines, a bad SKU refused, contact, place.
    let form = [("_csrf", csrf.as_str()), ("customer_email", "Ana@Customers.example"), ("channel", "web")];
    let res = app.client.post(app.url("/admin/drafts")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let at = res.headers()["location"].to_str().unwrap().to_string();
    assert!(at.starts_with("/admin/drafts/crt_"), "{at}");
    let (status, html) = page(&app, &cookie, &at).await;
    assert_eq!(status, 200);
    assert!(html.contains("<button type=\"submit\" disabled>"), "an empty draft cannot be placed: {html}");
    let lines = format!("{at}/lines");
    let form = [("_csrf", csrf.as_str()), ("add_sku", "TENT-S"), ("add_quantity", "2")];
    assert_eq!(post(&app, &cookie, &lines, &form).await.0, 303);
    let form = [("_csrf", csrf.as_str()), ("add_sku", "NO-SUCH-SKU"), ("add_quantity", "1")];
    assert_eq!(post(&app, &cookie, &lines, &form).await.0, 422);
    let contact = [
        ("_csrf", csrf.as_str()),
        ("email", "ana@customers.example"),
        ("name", "Ana Lima"),
        ("line1", "Hauptstr. 1"),
        ("city", "Berlin"),
        ("postal_code", "10115"),
        ("country", "DE"),
    ];
    assert_eq!(post(&app, &cookie, &format!("{at}/contact"), &contact).await.0, 303);
    let (_, html) = page(&app, &cookie, &at).await;
    assert!(html.contains("data-sku=\"TENT-S\"") && html.contains("Ana Lima"), "{html}");
    let key = field(&html, "_key");
    let place = format!("{at}/place");
    let form = [("_csrf", csrf.as_str()), ("_key", key.as_str())];
    let res = app.client.post(app.url(&place)).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let order_at = res.headers()["location"].to_str().unwrap().to_string();
    assert!(order_at.starts_with("/admin/orders/ord_"), "{order_at}");
    let again = app.client.post(app.url(&place)).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(again.headers()["location"].to_str().unwrap(), order_at, "a double submit places one order");
    assert_eq!(app.count_rows("orders").await, 1);
    let ana = app.login("", "customer", "ana@customers.example").await;
    let mine: Value = app.get("/api/v1/orders", Some(&ana)).await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "the order is the customer's");
    assert_eq!(inventory(&app, &owner, "TENT-S").await, (5, 2));
}
