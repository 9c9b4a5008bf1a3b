//! Checkout pricing with the store's rules, through the HTTP server:
//! EU VAT inside prices and US sales tax on top (with known totals),
//! reverse charge for an EU business, shipping zones with flat, weight and
//! free-threshold rates and pickup points, promotions with a per-line
//! explanation, coupon limits (also under concurrent checkouts), and
//! refusal of bad rules without any change.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};
use crate::orders::{add, cart_view, checkout, new_cart, put};

crate::on_both_databases!(
    eu_vat_is_inside_the_price_and_shown_per_rate,
    us_sales_tax_is_added_where_the_goods_go,
    an_eu_business_is_reverse_charged,
    shipping_follows_zones_weights_thresholds_and_pickup_points,
    promotions_explain_each_line_and_coupons_keep_their_limits,
    a_coupon_with_one_use_is_used_once_under_concurrent_checkouts,
    bad_rules_are_refused_and_change_nothing,
    staff_manage_the_rules_through_the_admin_page,
    two_codes_of_one_promotion_apply_it_once,
);

fn base(app: &TestApp) -> String {
    app.url("").trim_end_matches('/').to_string()
}

/// A shirt (19.99, standard rate, 300 g), a book (12.00, reduced rate,
/// 500 g) and a tent (119.00, 2.5 kg), priced in `web` (EUR, tax
/// included) and the shirt also in `us` when that channel exists.
async fn catalog(app: &TestApp, token: &str) {
    for (sku, class, grams, amount, name) in [
        ("SHIRT", "standard", 300, 1999, "Shirt"),
        ("BOOK", "reduced", 500, 1200, "Trail guide"),
        ("TENT", "standard", 2500, 11900, "Tent"),
    ] {
        let product = json!({
            "kind": "physical", "status": "published", "tax_class": class,
            "texts": {"en": {"name": name}},
            "variants": [{"sku": sku, "weight_grams": grams, "prices": [{"channel": "web", "amount": amount}]}]
        });
        let res = app.post_json("/api/v1/products", Some(token), &product).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
}

async fn german_vat(app: &TestApp, token: &str) {
    let settings = json!({"origin_country": "DE", "rounding": "line", "reverse_charge": true});
    assert_eq!(app.put_json("/api/v1/tax/settings", Some(token), &settings).await.status(), 200);
    for (country, class, rate) in [("DE", "standard", "19"), ("DE", "reduced", "7"), ("FR", "standard", "20")] {
        let body = json!({"country": country, "tax_class": class, "rate": rate, "label": format!("VAT {rate}%")});
        let res = app.put_json("/api/v1/tax/rates", Some(token), &body).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
}

/// A zone for `regions` with one method; returns the zone id.
async fn zone_with(app: &TestApp, token: &str, regions: &[&str], method: Value) -> String {
    let zone: Value = app
        .post_json("/api/v1/shipping-zones", Some(token), &json!({"name": regions.join(", "), "regions": regions}))
        .await
        .json()
        .await
        .unwrap();
    let id = zone["id"].as_str().unwrap().to_string();
    let res = app.post_json(&format!("/api/v1/shipping-zones/{id}/methods"), Some(token), &method).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    id
}

fn flat(code: &str, amount: i64, free_over: Option<i64>) -> Value {
    json!({"code": code, "name": code, "currency": "EUR", "rates": {"type": "flat", "amount": amount}, "free_over": free_over})
}

fn address(country: &str, region: &str, postal_code: &str) -> Value {
    json!({"name": "Ana Lima", "line1": "Main St 1", "city": "Town", "region": region, "postal_code": postal_code, "country": country})
}

async fn contact(app: &TestApp, cart: &(String, String), email: &str, address: Value, vat_id: Option<&str>) -> Value {
    let mut body = json!({"email": email, "shipping_address": address});
    if let Some(v) = vat_id {
        body["vat_id"] = json!(v);
        body["company"] = json!("Lima SARL");
    }
    let res = put(app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or_else(|| panic!("no amount in {v}"))
}

async fn eu_vat_is_inside_the_price_and_shown_per_rate(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    german_vat(&app, &owner).await;
    zone_with(&app, &owner, &["DE"], flat("standard", 490, None)).await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "SHIRT", 2).await.status(), 200);
    assert_eq!(add(&app, &cart, "BOOK", 1).await.status(), 200);
    let view = contact(&app, &cart, "ana@example.com", address("DE", "", "10115"), None).await;
    // 2 × 19.99 + 12.00 = 51.98, shipping 4.90: 56.88 with the VAT inside.
    assert_eq!(amount(&view["subtotal"]), 5198);
    assert_eq!(amount(&view["shipping"]), 490);
    assert_eq!(amount(&view["total"]), 5688);
    // 39.98 × 19/119 = 6.38; 12.00 × 7/107 = 0.79; 4.90 × 19/119 = 0.78.
    assert_eq!(amount(&view["tax"]), 638 + 79 + 78);
    assert_eq!(view["prices_include_tax"], true);
    let taxes = view["pricing"]["taxes"].as_array().unwrap();
    assert_eq!(taxes.len(), 2, "{taxes:?}");
    assert_eq!(taxes[0], json!({"label": "VAT 19%", "rate": "19", "net": 3998 + 490 - 638 - 78, "tax": 638 + 78}));
    assert_eq!(taxes[1], json!({"label": "VAT 7%", "rate": "7", "net": 1200 - 79, "tax": 79}));
    assert_eq!(view["shipping_choice"]["method"], "standard", "the only method is taken");
    assert_eq!(view["ready"], true);

    let res = checkout(&base(&app), &cart, None).await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["totals"]["total"]["amount"], 5688);
    assert_eq!(order["totals"]["tax"]["amount"], 795);
    assert_eq!(order["totals"]["shipping"]["amount"], 490);
    assert_eq!(order["lines"][0]["tax"]["amount"], 638);
    assert_eq!(order["lines"][0]["tax_rate"], "19");
    assert_eq!(order["lines"][1]["tax_label"], "VAT 7%");
    assert_eq!(order["pricing"]["shipping"]["code"], "standard");
    assert_eq!(order["pricing"]["shipping"]["tax"], 78);
    assert_eq!(order["pricing"]["taxes"], view["pricing"]["taxes"]);

    // The order is a snapshot: changing a rate later changes nothing on it.
    let body = json!({"country": "DE", "tax_class": "standard", "rate": "16"});
    assert_eq!(app.put_json("/api/v1/tax/rates", Some(&owner), &body).await.status(), 200);
    let id = order["id"].as_str().unwrap();
    let again: Value = app.get(&format!("/api/v1/orders/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(again["totals"], order["totals"]);
    app.stop().await;
}

async fn us_sales_tax_is_added_where_the_goods_go(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let channel = json!({"code": "us", "name": "US store", "currency": "USD", "prices_include_tax": false});
    assert_eq!(app.post_json("/api/v1/channels", Some(&owner), &channel).await.status(), 201);
    let product = json!({
        "kind": "physical", "status": "published", "texts": {"en": {"name": "Lamp"}},
        "variants": [
            {"sku": "LAMP", "prices": [{"channel": "us", "amount": 1000}]},
            {"sku": "BULB", "options": {"kind": "bulb"}, "prices": [{"channel": "us", "amount": 550}]}
        ]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &product).await.status(), 201);
    let rate =
        json!({"country": "US", "region": "CA", "tax_class": "standard", "rate": "8.875", "label": "CA sales tax"});
    assert_eq!(app.put_json("/api/v1/tax/rates", Some(&owner), &rate).await.status(), 200);

    let res = app.client.post(app.url("/api/v1/carts")).json(&json!({"channel": "us"})).send().await.unwrap();
    let created: Value = res.json().await.unwrap();
    let cart = (created["cart"]["id"].as_str().unwrap().to_string(), created["token"].as_str().unwrap().to_string());
    assert_eq!(add(&app, &cart, "LAMP", 1).await.status(), 200);
    assert_eq!(add(&app, &cart, "BULB", 1).await.status(), 200);
    let view = contact(&app, &cart, "sam@example.com", address("US", "CA", "94103"), None).await;
    // Per line: 0.8875 → 0.89 and 0.4881 → 0.49, added on top.
    assert_eq!(view["currency"], "USD");
    assert_eq!(view["prices_include_tax"], false);
    assert_eq!(amount(&view["tax"]), 138);
    assert_eq!(amount(&view["total"]), 1688);
    assert_eq!(view["lines"][0]["tax"]["amount"], 89);

    // Per document: 15.50 × 8.875 % = 1.3756 → 1.38 as well; with three
    // bulbs the methods differ (3 × 0.4881 = 1.46 per line, 1.4644 → 1.46).
    let doc = json!({"origin_country": "US", "rounding": "document", "reverse_charge": false});
    assert_eq!(app.put_json("/api/v1/tax/settings", Some(&owner), &doc).await.status(), 200);
    assert_eq!(amount(&cart_view(&app, &cart).await["tax"]), 138);

    // New York has no rate here: nothing is added.
    let ny = contact(&app, &cart, "sam@example.com", address("US", "NY", "10001"), None).await;
    assert_eq!(amount(&ny["tax"]), 0);
    assert_eq!(amount(&ny["total"]), 1550);
    assert_eq!(ny["pricing"]["taxes"], json!([{"label": "No tax", "rate": "0", "net": 1550, "tax": 0}]));
    let order: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["totals"]["total"]["amount"], 1550);
    app.stop().await;
}

async fn an_eu_business_is_reverse_charged(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    german_vat(&app, &owner).await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT", 1).await.status(), 200);
    // A consumer in France pays French VAT inside the same price.
    let consumer = contact(&app, &cart, "marie@example.fr", address("FR", "", "75001"), None).await;
    assert_eq!(amount(&consumer["total"]), 11900);
    assert_eq!(amount(&consumer["tax"]), 1983, "119.00 × 20/120");
    // A business with a French VAT id pays the price without German VAT, and no VAT.
    let business = contact(&app, &cart, "marie@example.fr", address("FR", "", "75001"), Some("FR XX 123456789")).await;
    assert_eq!(business["pricing"]["reverse_charge"], true);
    assert_eq!(amount(&business["total"]), 10000, "119.00 / 1.19");
    assert_eq!(amount(&business["tax"]), 0);
    assert_eq!(business["contact"]["vat_id"], "FRXX123456789");
    let order: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    assert_eq!(order["pricing"]["reverse_charge"], true);
    assert_eq!(order["lines"][0]["unit_price"]["amount"], 10000);
    assert_eq!(order["lines"][0]["tax_label"], "Reverse charge");
    assert_eq!(order["contact"]["company"], "Lima SARL");
    // Its invoice says so in the words German law asks for, and in UBL.
    let res = app
        .post_json(&format!("/api/v1/orders/{}/invoice", order["id"].as_str().unwrap()), Some(&owner), &json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let invoice: Value = res.json().await.unwrap();
    let notes = invoice["document"]["notes"].to_string();
    assert!(
        notes.contains("Steuerschuldnerschaft des Leistungsempfängers") && notes.contains("Article 196"),
        "{notes}"
    );
    let ubl = app
        .get(&format!("/api/v1/invoices/{}.xml", invoice["id"].as_str().unwrap()), Some(&owner))
        .await
        .text()
        .await
        .unwrap();
    assert!(ubl.contains("<cbc:Note>Steuerschuldnerschaft") && ubl.contains("<cbc:ID>AE</cbc:ID>"), "{ubl}");

    // A German business is charged German VAT; a malformed id is refused.
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT", 1).await.status(), 200);
    let domestic = contact(&app, &cart, "k@example.de", address("DE", "", "10115"), Some("DE123456789")).await;
    assert_eq!(amount(&domestic["tax"]), 1900);
    let bad = json!({"email": "k@example.de", "shipping_address": address("FR", "", "75001"), "vat_id": "FR123"});
    let res = put(&app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &bad).await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(cart_view(&app, &cart).await["contact"]["vat_id"], "DE123456789", "unchanged");
    app.stop().await;
}

async fn shipping_follows_zones_weights_thresholds_and_pickup_points(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let service = json!({
        "kind": "service", "status": "published", "texts": {"en": {"name": "Fitting"}},
        "variants": [{"sku": "FITTING", "prices": [{"channel": "web", "amount": 2500}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &service).await.status(), 201);
    let de = zone_with(&app, &owner, &["DE"], flat("standard", 490, Some(20000))).await;
    let express = flat("express", 990, None);
    assert_eq!(
        app.post_json(&format!("/api/v1/shipping-zones/{de}/methods"), Some(&owner), &express).await.status(),
        201
    );
    let mut pickup = flat("pickup", 0, None);
    pickup["pickup_points"] = json!([{"id": "berlin", "name": "Berlin shop", "address": "Torstraße 1, 10119 Berlin"}]);
    assert_eq!(
        app.post_json(&format!("/api/v1/shipping-zones/{de}/methods"), Some(&owner), &pickup).await.status(),
        201
    );
    let by_weight = json!({"code": "eu", "name": "EU", "currency": "EUR", "rates": {"type": "by_weight", "brackets": [
        {"up_to": 1000, "amount": 890}, {"up_to": 5000, "amount": 1490}]}});
    zone_with(&app, &owner, &["AT", "FR"], by_weight).await;

    // A service alone ships nothing and needs no address.
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "FITTING", 1).await.status(), 200);
    let body = json!({"email": "ana@example.com"});
    let view: Value =
        put(&app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &body).await.json().await.unwrap();
    assert_eq!(view["ready"], true, "{view}");
    assert_eq!(amount(&view["shipping"]), 0);

    // Goods to Germany: every method offered, the cheapest delivery taken.
    assert_eq!(add(&app, &cart, "TENT", 1).await.status(), 200);
    let view = contact(&app, &cart, "ana@example.com", address("DE", "", "10115"), None).await;
    let codes: Vec<&str> =
        view["shipping_options"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 3);
    assert_eq!(view["shipping_choice"]["method"], "standard");
    assert_eq!(amount(&view["shipping"]), 490);
    let path = format!("/api/v1/carts/{}/shipping", cart.0);
    let res = put(&app, &path, Some(&cart.1), &json!({"method": "pickup"})).await;
    assert_problem(res, 422, "validation_failed").await;
    let res = put(&app, &path, Some(&cart.1), &json!({"method": "drone"})).await;
    assert_problem(res, 422, "validation_failed").await;
    let view: Value =
        put(&app, &path, Some(&cart.1), &json!({"method": "pickup", "point": "berlin"})).await.json().await.unwrap();
    assert_eq!(view["pricing"]["shipping"]["point"]["name"], "Berlin shop");
    assert_eq!(amount(&view["shipping"]), 0);
    let view: Value = put(&app, &path, Some(&cart.1), &json!({"method": "express"})).await.json().await.unwrap();
    assert_eq!(amount(&view["shipping"]), 990);

    // Free from 200.00 of goods.
    assert_eq!(add(&app, &cart, "TENT", 2).await.status(), 200);
    let view: Value = put(&app, &path, Some(&cart.1), &json!({"method": "standard"})).await.json().await.unwrap();
    assert_eq!(amount(&view["shipping"]), 0, "238.00 of tents ship free");

    // To France by weight: 2 tents weigh 5 kg (14.90); 3 are too heavy for any method.
    let view = contact(&app, &cart, "ana@example.com", address("FR", "", "75001"), None).await;
    assert_eq!(view["shipping_options"].as_array().unwrap().len(), 1);
    assert_eq!(view["ready"], true);
    assert_eq!(amount(&view["shipping"]), 1490);
    assert_eq!(add(&app, &cart, "TENT", 3).await.status(), 200);
    let view = cart_view(&app, &cart).await;
    assert_eq!(view["ready"], false);
    let res = checkout(&base(&app), &cart, None).await;
    let problem = assert_problem(res, 409, "cart_not_orderable").await;
    assert!(problem["detail"].as_str().unwrap().contains("FR"), "{problem}");

    // Nowhere to deliver in the United States.
    let view = contact(&app, &cart, "ana@example.com", address("US", "NY", "10001"), None).await;
    assert_eq!(view["shipping_options"], json!([]));
    assert_eq!(view["ready"], false);
    assert_problem(checkout(&base(&app), &cart, None).await, 409, "cart_not_orderable").await;
    assert_eq!(app.count_rows("orders").await, 0);

    // Back in Germany the order records its shipping.
    assert_eq!(add(&app, &cart, "TENT", 1).await.status(), 200);
    contact(&app, &cart, "ana@example.com", address("DE", "", "10115"), None).await;
    let order: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    assert_eq!(order["pricing"]["shipping"]["code"], "standard");
    assert_eq!(order["totals"]["shipping"]["amount"], 490);
    assert_eq!(order["totals"]["total"]["amount"], 2500 + 11900 + 490);
    app.stop().await;
}

async fn create_promotion(app: &TestApp, token: &str, body: Value) -> String {
    let res = app.post_json("/api/v1/promotions", Some(token), &body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn coupon(app: &TestApp, token: &str, promotion: &str, body: Value) {
    let res = app.post_json(&format!("/api/v1/promotions/{promotion}/coupons"), Some(token), &body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

async fn enter(app: &TestApp, cart: &(String, String), code: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/carts/{}/coupons", cart.0)))
        .header("cart-token", &cart.1)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn promotions_explain_each_line_and_coupons_keep_their_limits(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    create_promotion(
        &app,
        &owner,
        json!({"name": "Tents 20 % off", "priority": 10,
               "effect": {"type": "line_percent", "percent": "20", "filter": {"skus": ["TENT"]}}}),
    )
    .await;
    let save5 = create_promotion(
        &app,
        &owner,
        json!({"name": "5 € off", "needs_coupon": true,
               "effect": {"type": "order_amount", "amount": 500}, "conditions": {"currency": "EUR", "min_subtotal": 5000}}),
    )
    .await;
    coupon(&app, &owner, &save5, json!({"code": "save5", "per_customer_limit": 1})).await;

    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "TENT", 1).await.status(), 200);
    assert_eq!(add(&app, &cart, "SHIRT", 1).await.status(), 200);
    assert_problem(enter(&app, &cart, "NOPE").await, 422, "validation_failed").await;
    assert_eq!(cart_view(&app, &cart).await["coupons"], json!([]), "a refused code is not kept");
    let res = enter(&app, &cart, "Save5").await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["coupons"], json!([{"code": "SAVE5", "status": "applied"}]));
    // Tent: 20 % of 119.00 = 23.80 first; then 5.00 shared over what is left
    // (95.20 and 19.99): 4.13 and 0.87.
    let tent = &view["lines"][0];
    assert_eq!(
        tent["adjustments"][0],
        json!({"promotion_id": tent["adjustments"][0]["promotion_id"], "name": "Tents 20 % off", "amount": 2380})
    );
    assert_eq!(tent["adjustments"][1]["amount"], 413);
    assert_eq!(amount(&tent["discount"]), 2380 + 413);
    assert_eq!(amount(&view["lines"][1]["discount"]), 87);
    assert_eq!(amount(&view["discount"]), 2380 + 500);
    assert_eq!(amount(&view["total"]), 11900 + 1999 - 2880);
    let applied: Vec<&str> =
        view["pricing"]["promotions"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(applied, vec!["Tents 20 % off", "5 € off"]);

    // Below the minimum the code stays but does not apply.
    assert_eq!(add(&app, &cart, "TENT", 0).await.status(), 200);
    let view = cart_view(&app, &cart).await;
    assert_eq!(view["coupons"], json!([{"code": "SAVE5", "status": "not_applicable"}]));
    assert_eq!(amount(&view["discount"]), 0);
    assert_eq!(add(&app, &cart, "TENT", 1).await.status(), 200);

    contact(&app, &cart, "ana@example.com", address("DE", "", "10115"), None).await;
    let first: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    assert_eq!(first["totals"]["discount"]["amount"], 2880);
    assert_eq!(first["pricing"]["coupons"], json!(["SAVE5"]));
    let tent = first["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "TENT").unwrap();
    assert_eq!(tent["adjustments"].as_array().unwrap().len(), 2, "{tent}");

    // Once per customer: the same e-mail cannot use it again…
    let again = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &again, "TENT", 1).await.status(), 200);
    assert_eq!(enter(&app, &again, "SAVE5").await.status(), 200, "no e-mail yet: accepted for now");
    contact(&app, &again, "ANA@example.com", address("DE", "", "10115"), None).await;
    let view = cart_view(&app, &again).await;
    assert_eq!(view["coupons"][0]["status"], "used_up");
    assert_eq!(view["ready"], false);
    // …and checkout refuses rather than charge more than the cart once showed.
    assert_problem(checkout(&base(&app), &again, None).await, 409, "coupon_used_up").await;
    assert_eq!(app.count_rows("orders").await, 1);
    assert_eq!(app.scalar("SELECT used FROM coupons").await, 1);
    // Cancelling the first order gives the use back.
    let id = first["id"].as_str().unwrap();
    let cancel = json!({"status": "cancelled", "note": "changed mind"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/status"), Some(&owner), &cancel).await.status(), 200);
    assert_eq!(app.scalar("SELECT used FROM coupons").await, 0);
    assert_eq!(cart_view(&app, &again).await["coupons"][0]["status"], "applied");
    let second: Value = checkout(&base(&app), &again, None).await.json().await.unwrap();
    assert_eq!(second["totals"]["discount"]["amount"], 2880);
    app.stop().await;
}

async fn a_coupon_with_one_use_is_used_once_under_concurrent_checkouts(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let service = json!({
        "kind": "service", "status": "published", "texts": {"en": {"name": "Fitting"}},
        "variants": [{"sku": "FITTING", "prices": [{"channel": "web", "amount": 2500}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &service).await.status(), 201);
    let promo = create_promotion(
        &app,
        &owner,
        json!({"name": "Half price", "needs_coupon": true, "effect": {"type": "order_percent", "percent": "50"}}),
    )
    .await;
    coupon(&app, &owner, &promo, json!({"code": "ONLYONE", "usage_limit": 1})).await;
    let mut carts = Vec::new();
    for i in 0..8 {
        let cart = new_cart(&app, &base(&app)).await;
        assert_eq!(add(&app, &cart, "FITTING", 1).await.status(), 200);
        assert_eq!(enter(&app, &cart, "onlyone").await.status(), 200);
        let body = json!({"email": format!("buyer{i}@example.com")});
        assert_eq!(put(&app, &format!("/api/v1/carts/{}/contact", cart.0), Some(&cart.1), &body).await.status(), 200);
        carts.push(cart);
    }
    let base = base(&app);
    let results = futures::future::join_all(carts.iter().map(|c| checkout(&base, c, None))).await;
    let mut placed = 0;
    for res in results {
        match res.status().as_u16() {
            201 => placed += 1,
            409 => {
                assert_problem(res, 409, "coupon_used_up").await;
            }
            other => panic!("unexpected {other}"),
        };
    }
    assert_eq!(placed, 1, "exactly one checkout gets the coupon");
    assert_eq!(app.scalar("SELECT used FROM coupons").await, 1);
    assert_eq!(app.count_rows("orders").await, 1, "the refused checkouts placed nothing");
    assert_eq!(app.count_rows("order_coupons").await, 1);
    app.stop().await;
}

async fn bad_rules_are_refused_and_change_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let customer = app.login("", "customer", "ana@customers.example").await;
    assert_eq!(app.get("/api/v1/tax", None).await.status(), 401);
    assert_eq!(app.get("/api/v1/tax", Some(&customer)).await.status(), 403);
    let rate = json!({"country": "DE", "tax_class": "standard", "rate": "19"});
    assert_eq!(app.put_json("/api/v1/tax/rates", Some(&customer), &rate).await.status(), 403);
    for bad in [
        json!({"country": "DE", "tax_class": "standard", "rate": "19.5.1"}),
        json!({"country": "DE", "tax_class": "standard", "rate": "101"}),
        json!({"country": "Germany", "tax_class": "standard", "rate": "19"}),
        json!({"country": "DE", "tax_class": "Standard Rate!", "rate": "19"}),
        json!({"country": "DE", "tax_class": "standard", "rate": 19}),
    ] {
        let res = app.put_json("/api/v1/tax/rates", Some(&owner), &bad).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    assert_eq!(app.count_rows("tax_rates").await, 0);
    let settings = json!({"origin_country": "Deutschland", "rounding": "line", "reverse_charge": true});
    assert_eq!(app.put_json("/api/v1/tax/settings", Some(&owner), &settings).await.status(), 422);
    let rounding = json!({"origin_country": "DE", "rounding": "sometimes", "reverse_charge": true});
    assert_eq!(app.put_json("/api/v1/tax/settings", Some(&owner), &rounding).await.status(), 422);
    assert_eq!(app.count_rows("tax_settings").await, 0);

    for bad in [json!({"name": "Nowhere", "regions": []}), json!({"name": "Bad", "regions": ["Germany"]})] {
        assert_eq!(app.post_json("/api/v1/shipping-zones", Some(&owner), &bad).await.status(), 422, "{bad}");
    }
    assert_eq!(app.count_rows("shipping_zones").await, 0);
    let zone = zone_with(&app, &owner, &["DE"], flat("standard", 490, None)).await;
    let falling = json!({"code": "w", "name": "W", "currency": "EUR", "rates": {"type": "by_weight", "brackets": [
        {"up_to": 5000, "amount": 100}, {"up_to": 1000, "amount": 200}]}});
    for bad in [
        falling,
        flat("neg", -1, None),
        json!({"code": "x", "name": "X", "currency": "XXX", "rates": {"type": "flat", "amount": 1}}),
        json!({"code": "y", "name": "Y", "currency": "EUR", "carrier": "pigeon", "rates": {"type": "flat", "amount": 1}}),
    ] {
        let res = app.post_json(&format!("/api/v1/shipping-zones/{zone}/methods"), Some(&owner), &bad).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    let dup = app
        .post_json(&format!("/api/v1/shipping-zones/{zone}/methods"), Some(&owner), &flat("standard", 1, None))
        .await;
    assert_problem(dup, 409, "code_taken").await;
    assert_eq!(app.count_rows("shipping_methods").await, 1);

    for bad in [
        json!({"name": "No currency", "effect": {"type": "order_amount", "amount": 500}}),
        json!({"name": "Zero", "effect": {"type": "order_amount", "amount": 0}, "conditions": {"currency": "EUR"}}),
        json!({"name": "Odd", "effect": {"type": "buy_x_get_y", "buy": 0, "get": 1, "percent": "100"}}),
        json!({"name": "Where", "effect": {"type": "free_shipping"}, "conditions": {"channels": ["mars"]}}),
        json!({"name": "Time", "effect": {"type": "free_shipping"}, "conditions": {"starts_at": 10, "ends_at": 5}}),
        json!({"name": "Huh", "effect": {"type": "teleport"}}),
    ] {
        assert_eq!(app.post_json("/api/v1/promotions", Some(&owner), &bad).await.status(), 422, "{bad}");
    }
    assert_eq!(app.count_rows("promotions").await, 0);
    let promo = create_promotion(&app, &owner, json!({"name": "Ship free", "effect": {"type": "free_shipping"}})).await;
    coupon(&app, &owner, &promo, json!({"code": "SHIPFREE"})).await;
    let dup =
        app.post_json(&format!("/api/v1/promotions/{promo}/coupons"), Some(&owner), &json!({"code": "shipfree"})).await;
    assert_problem(dup, 409, "code_taken").await;
    let bad =
        app.post_json(&format!("/api/v1/promotions/{promo}/coupons"), Some(&owner), &json!({"code": "A B"})).await;
    assert_eq!(bad.status(), 422);
    let limit = json!({"code": "LIMIT0", "usage_limit": 0});
    assert_eq!(app.post_json(&format!("/api/v1/promotions/{promo}/coupons"), Some(&owner), &limit).await.status(), 422);
    assert_eq!(app.count_rows("coupons").await, 1);
    // Every accepted change is in the audit log.
    let log: Value = app.get("/api/v1/audit?action=promotion.saved", Some(&owner)).await.json().await.unwrap();
    assert!(log.to_string().contains("Ship free"), "{log}");
    app.stop().await;
}

async fn staff_manage_the_rules_through_the_admin_page(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/checkout").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let (status, _) = post(
        &app,
        &cookie,
        "/admin/checkout/tax-settings",
        &[("_csrf", &csrf), ("origin_country", "DE"), ("rounding", "document"), ("reverse_charge", "1")],
    )
    .await;
    assert_eq!(status, 303);
    let rate = [
        ("_csrf", csrf.as_str()),
        ("country", "DE"),
        ("tax_class", "standard"),
        ("rate", "19"),
        ("label", "MwSt. 19 %"),
    ];
    assert_eq!(post(&app, &cookie, "/admin/checkout/tax-rates", &rate).await.0, 303);
    let bad = [("_csrf", csrf.as_str()), ("country", "DE"), ("tax_class", "reduced"), ("rate", "seven")];
    let (status, html) = post(&app, &cookie, "/admin/checkout/tax-rates", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("rate:"), "{html}");
    let zone = [("_csrf", csrf.as_str()), ("name", "Inland"), ("regions", "DE, AT")];
    assert_eq!(post(&app, &cookie, "/admin/checkout/zones", &zone).await.0, 303);
    let zones: Value = app.get("/api/v1/shipping-zones", Some(&owner)).await.json().await.unwrap();
    let zone_id = zones[0]["id"].as_str().unwrap().to_string();
    assert_eq!(zones[0]["regions"], json!(["DE", "AT"]));
    let method = [
        ("_csrf", csrf.as_str()),
        ("code", "dhl"),
        ("name", "DHL"),
        ("currency", "EUR"),
        ("amount", "4.90"),
        ("free_over", "50"),
    ];
    assert_eq!(post(&app, &cookie, &format!("/admin/checkout/zones/{zone_id}/methods"), &method).await.0, 303);
    let too_precise =
        [("_csrf", csrf.as_str()), ("code", "x"), ("name", "X"), ("currency", "EUR"), ("amount", "4.905")];
    assert_eq!(post(&app, &cookie, &format!("/admin/checkout/zones/{zone_id}/methods"), &too_precise).await.0, 422);
    let promo = [
        ("_csrf", csrf.as_str()),
        ("name", "Autumn"),
        ("type", "order_percent"),
        ("value", "15"),
        ("coupon", "autumn15"),
        ("usage_limit", "100"),
    ];
    assert_eq!(post(&app, &cookie, "/admin/checkout/promotions", &promo).await.0, 303);
    let taken = [("_csrf", csrf.as_str()), ("name", "Again"), ("type", "free_shipping"), ("coupon", "AUTUMN15")];
    assert_eq!(post(&app, &cookie, "/admin/checkout/promotions", &taken).await.0, 422);
    assert_eq!(app.count_rows("promotions").await, 1, "a taken code leaves no promotion behind");

    let (_, html) = page(&app, &cookie, "/admin/checkout").await;
    assert!(html.contains("MwSt. 19 %") && html.contains("DHL") && html.contains("€4.90"), "{html}");
    assert!(html.contains("data-code=\"AUTUMN15\"") && html.contains("0 / 100"), "{html}");
    let tax: Value = app.get("/api/v1/tax", Some(&owner)).await.json().await.unwrap();
    assert_eq!(tax["settings"]["rounding"], "document");
    assert_eq!(tax["rates"][0]["rate"], "19");
    let forged = [("_csrf", "forged"), ("country", "FR"), ("tax_class", "standard"), ("rate", "20")];
    assert_eq!(post(&app, &cookie, "/admin/checkout/tax-rates", &forged).await.0, 403);
    assert_eq!(app.count_rows("tax_rates").await, 1);
    app.stop().await;
}

async fn two_codes_of_one_promotion_apply_it_once(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let promo = create_promotion(
        &app,
        &owner,
        json!({"name": "10 %", "needs_coupon": true, "effect": {"type": "order_percent", "percent": "10"}}),
    )
    .await;
    coupon(&app, &owner, &promo, json!({"code": "ANNA10"})).await;
    coupon(&app, &owner, &promo, json!({"code": "BEN10"})).await;
    create_promotion(
        &app,
        &owner,
        json!({"name": "Ship free", "effect": {"type": "free_shipping"}, "exclusive": true, "priority": 9}),
    )
    .await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "BOOK", 1).await.status(), 200);
    assert_eq!(enter(&app, &cart, "ANNA10").await.status(), 200);
    let res = enter(&app, &cart, "BEN10").await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    // 10 % of 12.00 once, not compounded; the exclusive free-shipping
    // promotion has no shipping to free here, so it does not block it.
    assert_eq!(amount(&view["discount"]), 120, "{view}");
    assert_eq!(
        view["coupons"],
        json!([{"code": "ANNA10", "status": "applied"}, {"code": "BEN10", "status": "not_applicable"}])
    );
    app.stop().await;
}
