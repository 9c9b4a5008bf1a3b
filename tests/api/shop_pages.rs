//! Buying through the storefront pages as a browser without JavaScript
//! would (forms, cookies, CSRF tokens), and staff handling the order in
//! the admin.

use serde_json::{Value, json};

use crate::account_pages::{Jar, field, get, post};
use crate::helpers::{Backend, TestApp, spawn};

crate::on_both_databases!(
    a_guest_buys_through_the_pages_and_staff_handle_the_order,
    signing_up_keeps_the_cart_and_the_order_lands_in_the_account,
    a_guest_picks_a_pickup_point_and_uses_a_coupon_through_the_pages,
    visitors_choose_the_channel_and_so_the_currency,
);

async fn setup(app: &TestApp, owner: &str) {
    let tent = json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": "Trail tent"}, "de": {"name": "Wanderzelt"}},
        "variants": [
            {"sku": "TENT-S", "options": {"size": "S"}, "prices": [{"channel": "web", "amount": 12000}]},
            {"sku": "TENT-L", "options": {"size": "L"}, "prices": [{"channel": "web", "amount": 15000}]}
        ]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(owner), &tent).await.status(), 201);
    let loc = json!({"code": "berlin", "name": "Berlin", "country": "DE"});
    assert_eq!(app.post_json("/api/v1/stock-locations", Some(owner), &loc).await.status(), 201);
    let lines = json!({"lines": [{"sku": "TENT-S", "location": "berlin", "delta": 4, "reason": "received"}]});
    assert_eq!(app.post_json("/api/v1/stock-adjustments", Some(owner), &lines).await.status(), 201);
}

async fn a_guest_buys_through_the_pages_and_staff_handle_the_order(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    setup(&app, &owner).await;
    let mut jar = Jar::default();
    let (status, html) = get(&app, &mut jar, "/p/trail-tent").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"add-to-cart\""), "a sellable variant can be added");
    let csrf = field(&html, "_csrf");
    // TENT-L has no stock: no form to add it.
    let (_, html_l) = get(&app, &mut jar, "/p/trail-tent?variant=TENT-L").await;
    assert!(!html_l.contains("id=\"add-to-cart\"") && html_l.contains("Out of stock"));

    let (status, _, to) =
        post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "TENT-S"), ("quantity", "2")]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/cart")));
    let (status, _, _) =
        post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "TENT-S"), ("quantity", "1")]).await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    assert!(html.contains("value=\"3\"") && html.contains("€360.00") && html.contains("id=\"not-ready\""), "{html}");
    // A forged form adds nothing.
    let (status, _, _) =
        post(&app, &mut jar, "/cart/add", &[("_csrf", "forged"), ("sku", "TENT-S"), ("quantity", "9")]).await;
    assert_eq!(status, 403);

    let address = |postal: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("email", "guest@example.com".to_string()),
            ("name", "Gina Guest".to_string()),
            ("line1", "Hauptstr. 1".to_string()),
            ("city", "Berlin".to_string()),
            ("postal_code", postal.to_string()),
            ("country", "DE".to_string()),
        ]
    };
    let bad = address("1");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html, _) = post(&app, &mut jar, "/cart/contact", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("postal_code") && html.contains("Gina Guest"), "the form keeps what was typed");
    let good = address("10115");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post(&app, &mut jar, "/cart/contact", &good).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    let key = field(&html, "_key");
    let (status, _, to) = post(&app, &mut jar, "/cart/checkout", &[("_csrf", &csrf), ("_key", &key)]).await;
    assert_eq!(status, 303);
    let to = to.unwrap();
    assert!(to.starts_with("/orders/ord_"), "{to}");
    let (status, html) = get(&app, &mut jar, &to).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"order-number\">1<") && html.contains("€360.00") && html.contains("Gina Guest"),
        "{html}"
    );
    // The cart is empty now; another browser cannot open the order.
    let (_, html) = get(&app, &mut jar, "/cart").await;
    assert!(html.contains("id=\"cart-empty\""));
    let (status, _) = get(&app, &mut Jar::default(), &to).await;
    assert_eq!(status, 404);
    assert_eq!(app.count_rows("orders").await, 1);

    // Staff find it, confirm it, and cannot ship it by hand.
    use crate::admin_pages::{page, post as admin_post, sign_in};
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/orders").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"order-1\"") && html.contains("€360.00"), "{html}");
    let (status, html) = page(&app, &cookie, &format!("/admin{to}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("guest@example.com") && html.contains("value=\"confirmed\""), "{html}");
    let admin_csrf = crate::admin_pages::field(&html, "_csrf");
    let path = format!("/admin{to}/status");
    let (status, _) = admin_post(&app, &cookie, &path, &[("_csrf", &admin_csrf), ("status", "fulfilled")]).await;
    assert_eq!(status, 409);
    let (status, _) =
        admin_post(&app, &cookie, &path, &[("_csrf", &admin_csrf), ("status", "confirmed"), ("note", "phoned")]).await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &cookie, &format!("/admin{to}")).await;
    assert!(html.contains("placed → confirmed") && html.contains("phoned"), "{html}");
    let (status, _) = admin_post(&app, &cookie, &path, &[("_csrf", &admin_csrf), ("status", "cancelled")]).await;
    assert_eq!(status, 303);
    let stock: Value = app.get("/api/v1/inventory/TENT-S", Some(&owner)).await.json().await.unwrap();
    assert_eq!(stock["available"], 4, "cancelling released the stock");
    let (_, html) = get(&app, &mut jar, &to).await;
    assert!(html.contains("Cancelled"), "the customer sees the new status");
    let (status, _) = admin_post(&app, &cookie, &path, &[("_csrf", "forged"), ("status", "confirmed")]).await;
    assert_eq!(status, 403);
    let notes = format!("/admin{to}/notes");
    let (status, _) = admin_post(&app, &cookie, &notes, &[("_csrf", &admin_csrf), ("note", "refund by bank")]).await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &cookie, &format!("/admin{to}")).await;
    assert!(html.contains("refund by bank"), "{html}");
    app.stop().await;
}

async fn signing_up_keeps_the_cart_and_the_order_lands_in_the_account(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    setup(&app, &owner).await;
    let mut jar = Jar::default();
    let (_, html) = get(&app, &mut jar, "/p/trail-tent").await;
    let csrf = field(&html, "_csrf");
    assert_eq!(post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "TENT-S")]).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/account/signup").await;
    let signup_csrf = field(&html, "_csrf");
    let form = [
        ("email", "new.buyer@example.com"),
        ("display_name", "New Buyer"),
        ("password", "new buyer password"),
        ("_csrf", signup_csrf.as_str()),
    ];
    assert_eq!(post(&app, &mut jar, "/account/signup", &form).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    assert!(html.contains("data-sku=\"TENT-S\""), "the guest cart survived sign-up: {html}");
    let (_, html) = get(&app, &mut jar, "/p/trail-tent").await;
    let csrf = field(&html, "_csrf");
    let contact = [
        ("_csrf", csrf.as_str()),
        ("email", "new.buyer@example.com"),
        ("name", "New Buyer"),
        ("line1", "Hauptstr. 1"),
        ("city", "Berlin"),
        ("postal_code", "10115"),
        ("country", "DE"),
    ];
    assert_eq!(post(&app, &mut jar, "/cart/contact", &contact).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    let key = field(&html, "_key");
    let (status, _, to) = post(&app, &mut jar, "/cart/checkout", &[("_csrf", &csrf), ("_key", &key)]).await;
    assert_eq!(status, 303);
    let to = to.unwrap();
    let (_, html) = get(&app, &mut jar, "/account").await;
    assert!(html.contains("id=\"my-orders\"") && html.contains(&to), "the order is in the account: {html}");
    let orders: Value = app.get("/api/v1/orders", Some(&owner)).await.json().await.unwrap();
    let id = orders["items"][0]["id"].as_str().unwrap();
    let order: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert!(order["customer_id"].as_str().is_some_and(|c| c.starts_with("cus_")), "{order}");
    app.stop().await;
}

async fn a_guest_picks_a_pickup_point_and_uses_a_coupon_through_the_pages(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    setup(&app, &owner).await;
    let settings = json!({"origin_country": "DE", "rounding": "line", "reverse_charge": true});
    assert_eq!(app.put_json("/api/v1/tax/settings", Some(&owner), &settings).await.status(), 200);
    let rate = json!({"country": "DE", "tax_class": "standard", "rate": "19", "label": "VAT 19%"});
    assert_eq!(app.put_json("/api/v1/tax/rates", Some(&owner), &rate).await.status(), 200);
    let zone: Value = app
        .post_json("/api/v1/shipping-zones", Some(&owner), &json!({"name": "DE", "regions": ["DE"]}))
        .await
        .json()
        .await
        .unwrap();
    let methods = format!("/api/v1/shipping-zones/{}/methods", zone["id"].as_str().unwrap());
    let standard =
        json!({"code": "standard", "name": "Parcel", "currency": "EUR", "rates": {"type": "flat", "amount": 490}});
    assert_eq!(app.post_json(&methods, Some(&owner), &standard).await.status(), 201);
    let pickup = json!({"code": "pickup", "name": "Pickup", "currency": "EUR", "rates": {"type": "flat", "amount": 0},
        "pickup_points": [{"id": "berlin", "name": "Berlin shop", "address": "Torstraße 1, 10119 Berlin"}]});
    assert_eq!(app.post_json(&methods, Some(&owner), &pickup).await.status(), 201);
    let promo: Value = app
        .post_json(
            "/api/v1/promotions",
            Some(&owner),
            &json!({"name": "Welcome", "needs_coupon": true, "effect": {"type": "order_percent", "percent": "10"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let coupons = format!("/api/v1/promotions/{}/coupons", promo["id"].as_str().unwrap());
    assert_eq!(app.post_json(&coupons, Some(&owner), &json!({"code": "WELCOME10"})).await.status(), 201);

    let mut jar = Jar::default();
    let (_, html) = get(&app, &mut jar, "/p/trail-tent").await;
    let csrf = field(&html, "_csrf");
    assert_eq!(post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "TENT-S")]).await.0, 303);
    let contact = [
        ("_csrf", csrf.as_str()),
        ("email", "guest@example.com"),
        ("name", "Gina Guest"),
        ("line1", "Hauptstr. 1"),
        ("city", "Berlin"),
        ("postal_code", "10115"),
        ("country", "DE"),
        ("company", ""),
        ("vat_id", ""),
    ];
    assert_eq!(post(&app, &mut jar, "/cart/contact", &contact).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    assert!(html.contains("id=\"shipping\">€4.90") && html.contains("id=\"total\">€124.90"), "{html}");
    assert!(html.contains("Included tax VAT 19%"), "{html}");

    let (status, _, _) = post(&app, &mut jar, "/cart/shipping", &[("_csrf", &csrf), ("choice", "pickup:berlin")]).await;
    assert_eq!(status, 303);
    let (status, html, _) = post(&app, &mut jar, "/cart/coupons", &[("_csrf", &csrf), ("code", "NOPE")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("unknown"), "{html}");
    let (status, _, _) = post(&app, &mut jar, "/cart/coupons", &[("_csrf", &csrf), ("code", "welcome10")]).await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    assert!(html.contains("value=\"pickup:berlin\" checked"), "{html}");
    assert!(html.contains("Welcome (WELCOME10)") && html.contains("−€12.00"), "{html}");
    assert!(html.contains("id=\"total-due\">€108.00"), "{html}");

    let key = field(&html, "_key");
    let (status, _, to) = post(&app, &mut jar, "/cart/checkout", &[("_csrf", &csrf), ("_key", &key)]).await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &mut jar, &to.unwrap()).await;
    assert!(html.contains("id=\"order-discount\">−€12.00") && html.contains("Berlin shop"), "{html}");
    assert!(html.contains("id=\"order-total\">€108.00") && html.contains("id=\"order-tax\">€17.24"), "{html}");
    app.stop().await;
}

async fn visitors_choose_the_channel_and_so_the_currency(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let us = json!({"code": "us", "name": "US store", "currency": "USD", "prices_include_tax": false});
    assert_eq!(app.post_json("/api/v1/channels", Some(&owner), &us).await.status(), 201);
    let lamp = json!({
        "kind": "physical", "status": "published", "texts": {"en": {"name": "Camp lamp"}},
        "variants": [{"sku": "LAMP", "prices": [{"channel": "web", "amount": 2500}, {"channel": "us", "amount": 2000}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &lamp).await.status(), 201);
    let mut jar = Jar::default();
    let (_, html) = get(&app, &mut jar, "/").await;
    assert!(html.contains("id=\"currency-switcher\"") && html.contains("data-channel=\"us\""), "{html}");
    let (_, html) = get(&app, &mut jar, "/p/camp-lamp").await;
    assert!(html.contains("€25.00"), "{html}");
    let csrf = field(&html, "_csrf");
    assert_eq!(post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "LAMP")]).await.0, 303);

    let (status, _) = get(&app, &mut jar, "/channel/mars").await;
    assert_eq!(status, 404);
    let (status, _) = get(&app, &mut jar, "/channel/us?next=/p/camp-lamp").await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &mut jar, "/p/camp-lamp").await;
    assert!(html.contains("$20.00") && !html.contains("€25.00"), "{html}");
    let (_, html) = get(&app, &mut jar, "/search?q=lamp").await;
    assert!(html.contains("$20.00"), "search prices in the chosen currency: {html}");
    // Adding in dollars starts a dollar cart rather than mixing currencies.
    assert_eq!(post(&app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "LAMP")]).await.0, 303);
    let (_, html) = get(&app, &mut jar, "/cart").await;
    assert!(html.contains("id=\"subtotal\">US$20.00"), "{html}");
    app.stop().await;
}
