//! The catalog: products with translations, variants, tiered and sale
//! prices per channel, publishing rules, and the product page.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    product_round_trips_and_shows_in_each_language,
    invalid_products_are_rejected_whole,
    skus_and_slugs_are_unique_per_store,
    publishing_status_and_schedule_decide_visibility,
    updates_keep_variant_ids_and_are_recorded,
    catalog_permissions_and_store_isolation,
    product_page_is_escaped_priced_and_structured,
    home_page_features_visible_products_from_their_lowest_price,
    sitemap_lists_visible_product_pages,
);

fn shoe() -> Value {
    json!({
        "kind": "physical",
        "status": "published",
        "tags": ["summer"],
        "texts": {
            "en": {"name": "Trail Runner", "description": "Light shoe.\n\nGrippy sole.", "seo_title": "Trail Runner shoes"},
            "de": {"name": "Trailläufer", "description": "Leichter Schuh."},
            "zh": {"name": "越野跑鞋", "description": "轻便的鞋。"}
        },
        "variants": [
            {"sku": "TR-42", "gtin": "4006381333931", "options": {"size": "42"}, "weight_grams": 640,
             "prices": [{"channel": "web", "amount": 1999}, {"channel": "web", "min_qty": 10, "amount": 1799}]},
            {"sku": "TR-43", "options": {"size": "43"},
             "prices": [{"channel": "web", "amount": 2099, "sale_amount": 1599, "sale_starts_at": 0, "sale_ends_at": 4102444800000u64}]}
        ]
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post_json("/api/v1/products", Some(token), body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn product_round_trips_and_shows_in_each_language(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let created = create(&app, &owner, &shoe()).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["texts"]["de"]["slug"], "trailläufer", "slug derived from the name");
    assert_eq!(created["variants"][0]["prices"][1]["min_qty"], 10);
    let fetched: Value = app.get(&format!("/api/v1/products/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(fetched, created);

    let de: Value = app.get("/api/v1/storefront/products/trail-runner?lang=de", None).await.json().await.unwrap();
    assert_eq!(de["name"], "Trailläufer");
    assert_eq!(de["language"], "de");
    assert_eq!(de["variants"][0]["price"], json!({"amount": 1999, "currency": "EUR"}));
    assert_eq!(de["variants"][0]["tiers"], json!([[10, {"amount": 1799, "currency": "EUR"}]]));
    assert_eq!(de["variants"][1]["price"]["amount"], 1599, "sale running");
    assert_eq!(de["variants"][1]["compare_at"]["amount"], 2099);
    let es: Value = app.get("/api/v1/storefront/products/越野跑鞋?lang=es", None).await.json().await.unwrap();
    assert_eq!(es["language"], "en", "no Spanish text: the store default");
    assert_eq!(es["name"], "Trail Runner");
    let zh: Value = app.get("/api/v1/storefront/products/trail-runner?lang=zh", None).await.json().await.unwrap();
    assert_eq!(zh["name"], "越野跑鞋");
    app.stop().await;
}

async fn invalid_products_are_rejected_whole(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let mut bad = shoe();
    bad["texts"].as_object_mut().unwrap().remove("en");
    bad["variants"][0]["gtin"] = json!("4006381333932");
    bad["variants"][1]["sku"] = json!("TR-42");
    bad["variants"][1]["prices"][0]["channel"] = json!("nowhere");
    bad["variants"][0]["prices"][0]["sale_amount"] = json!(5000);
    let res = app.post_json("/api/v1/products", Some(&owner), &bad).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in [
        "texts",
        "variants[0].gtin",
        "variants[1].sku",
        "variants[1].prices[0].channel",
        "variants[0].prices[0].amount",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mut wrong_kind = shoe();
    wrong_kind["kind"] = json!("weapon");
    assert_problem(app.post_json("/api/v1/products", Some(&owner), &wrong_kind).await, 422, "validation_failed").await;
    assert_eq!(app.count_rows("products").await, 0);
    assert_eq!(app.count_rows("variants").await, 0);
    app.stop().await;
}

async fn skus_and_slugs_are_unique_per_store(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    create(&app, &owner, &shoe()).await;
    let mut same_sku = shoe();
    for (lang, name) in [("en", "Other"), ("de", "Andere"), ("zh", "其他")] {
        same_sku["texts"][lang]["name"] = json!(name);
    }
    assert_problem(app.post_json("/api/v1/products", Some(&owner), &same_sku).await, 409, "sku_taken").await;
    let mut same_slug = shoe();
    same_slug["variants"][0]["sku"] = json!("X-1");
    same_slug["variants"][1]["sku"] = json!("X-2");
    assert_problem(app.post_json("/api/v1/products", Some(&owner), &same_slug).await, 409, "slug_taken").await;
    // Another store may use the same SKU and slug.
    let foodbank = app.foodbank_owner().await;
    let mut theirs = shoe();
    theirs["texts"]["de"] = theirs["texts"]["en"].clone();
    let res = app.post_json("/s/foodbank/api/v1/products", Some(&foodbank), &theirs).await;
    assert_eq!(res.status(), 201);
    app.stop().await;
}

async fn publishing_status_and_schedule_decide_visibility(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let now = chrono::Utc::now().timestamp_millis();
    let cases = [
        ("draft", None, None, false),
        ("archived", None, None, false),
        ("published", Some(now + 3_600_000), None, false),
        ("draft", Some(now - 1000), None, true),
        ("published", None, Some(now - 1000), false),
        ("published", Some(now - 2000), Some(now + 3_600_000), true),
    ];
    for (i, (status, publish_at, unpublish_at, visible)) in cases.into_iter().enumerate() {
        let mut p = shoe();
        p["status"] = json!(status);
        p["publish_at"] = json!(publish_at);
        p["unpublish_at"] = json!(unpublish_at);
        p["texts"] = json!({"en": {"name": format!("Case {i}")}});
        p["variants"] = json!([{"sku": format!("CASE-{i}"), "prices": [{"channel": "web", "amount": 100}]}]);
        create(&app, &owner, &p).await;
        let status_code = app.get(&format!("/api/v1/storefront/products/case-{i}"), None).await.status().as_u16();
        assert_eq!(status_code == 200, visible, "case {i}: {status} {publish_at:?} {unpublish_at:?}");
        let page = app.get(&format!("/p/case-{i}"), None).await.status().as_u16();
        assert_eq!(page == 200, visible, "page for case {i}");
    }
    app.stop().await;
}

async fn updates_keep_variant_ids_and_are_recorded(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let created = create(&app, &owner, &shoe()).await;
    let id = created["id"].as_str().unwrap();
    let mut changed = shoe();
    changed["variants"][0]["prices"] = json!([{"channel": "web", "amount": 2199}]);
    changed["variants"]
        .as_array_mut()
        .unwrap()
        .push(json!({"sku": "TR-44", "options": {"size": "44"}, "prices": [{"channel": "web", "amount": 2199}]}));
    let res = app.put_json(&format!("/api/v1/products/{id}"), Some(&owner), &changed).await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["variants"][0]["id"], created["variants"][0]["id"], "same SKU, same variant id");
    assert_eq!(updated["variants"].as_array().unwrap().len(), 3);
    assert_eq!(
        updated["variants"][0]["prices"],
        json!([{"channel": "web", "min_qty": 1, "amount": 2199, "sale_amount": null, "sale_starts_at": null, "sale_ends_at": null}])
    );
    let events: Value = app.get("/api/v1/events", Some(&owner)).await.json().await.unwrap();
    assert_eq!(events[0]["type"], "product.updated");
    assert_eq!(events[1]["type"], "product.created");
    let audit: Value = app.get("/api/v1/audit?action=catalog.*", Some(&owner)).await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn catalog_permissions_and_store_isolation(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    for (email, role) in [("cat@staff.example", "catalog_manager"), ("wh@staff.example", "warehouse")] {
        let body = json!({"email": email, "display_name": role, "password": "staff password 2026", "role": role});
        assert_eq!(app.post_json("/api/v1/staff", Some(&owner), &body).await.status(), 201);
    }
    let login = |email: &'static str| {
        let app = &app;
        async move {
            let res = app
                .post_json(
                    "/api/v1/auth/login",
                    None,
                    &json!({"email": email, "password": "staff password 2026", "audience": "staff"}),
                )
                .await;
            res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
        }
    };
    let cat = login("cat@staff.example").await;
    let wh = login("wh@staff.example").await;
    let created = create(&app, &cat, &shoe()).await;
    let id = created["id"].as_str().unwrap();
    assert_problem(app.post_json("/api/v1/products", Some(&wh), &shoe()).await, 403, "forbidden").await;
    assert_eq!(
        app.get(&format!("/api/v1/products/{id}"), Some(&wh)).await.status(),
        200,
        "warehouse reads the catalog"
    );
    let customer = app.login("", "customer", "ana@customers.example").await;
    assert_problem(app.get(&format!("/api/v1/products/{id}"), Some(&customer)).await, 403, "forbidden").await;
    let foodbank = app.foodbank_owner().await;
    assert_problem(app.get(&format!("/s/foodbank/api/v1/products/{id}"), Some(&foodbank)).await, 404, "not_found")
        .await;
    assert_problem(app.get("/s/foodbank/api/v1/storefront/products/trail-runner", None).await, 404, "not_found").await;
    app.stop().await;
}

async fn product_page_is_escaped_priced_and_structured(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let mut p = shoe();
    p["texts"]["en"]["description"] = json!(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> </script><script>\n\n**Grippy** [care](javascript:alert(3))"
    );
    create(&app, &owner, &p).await;
    let html = app.get("/p/trail-runner", None).await.text().await.unwrap();
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "description escaped");
    assert!(html.contains("&lt;script&gt;alert(1)"), "shown as text");
    assert!(html.contains("<strong>Grippy</strong>"), "Markdown is rendered");
    assert!(!html.contains("href=\"javascript") && html.contains("care"), "unsafe link target dropped");
    assert!(
        html.contains("application/ld+json")
            && html.contains("\"priceCurrency\":\"EUR\"")
            && html.contains("\"price\":\"19.99\"")
    );
    assert!(!html.contains("</script><script>\""), "JSON-LD cannot break out of its element");
    assert!(html.contains("rel=\"canonical\" href=\"/p/trail-runner\""));
    assert!(html.contains("hreflang=\"zh\" href=\"/p/越野跑鞋\""));
    assert!(html.contains("€19.99"));
    let picked = app.get("/p/trail-runner?variant=TR-43", None).await.text().await.unwrap();
    assert!(picked.contains("€15.99") && picked.contains("€20.99"), "sale price with the regular one");
    let de = app
        .client
        .get(app.url("/p/trail-runner"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(de.contains("Trailläufer") && de.contains("19,99 €"));
    assert_eq!(app.get("/p/no-such-product", None).await.status(), 404);
    app.stop().await;
}

async fn home_page_features_visible_products_from_their_lowest_price(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    create(&app, &owner, &shoe()).await;
    let mut hidden = shoe();
    hidden["status"] = json!("draft");
    hidden["texts"] = json!({"en": {"name": "Secret Prototype"}});
    hidden["variants"] = json!([{"sku": "PROTO-1", "prices": [{"channel": "web", "amount": 100}]}]);
    create(&app, &owner, &hidden).await;
    let html = app.client.get(app.url("/")).header("accept-language", "de").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Trailläufer"), "the German name");
    assert!(html.contains("15,99 €"), "from the lowest current price (the running sale)");
    assert!(html.contains("href=\"/p/trailläufer\""));
    assert!(!html.contains("Secret Prototype"), "drafts stay hidden");
    app.stop().await;
}

async fn sitemap_lists_visible_product_pages(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    create(&app, &owner, &shoe()).await;
    let mut draft = shoe();
    draft["status"] = json!("draft");
    draft["texts"] = json!({"en": {"name": "Hidden Draft"}});
    draft["variants"] = json!([{"sku": "HID-1", "prices": [{"channel": "web", "amount": 1}]}]);
    create(&app, &owner, &draft).await;
    let res = app.get("/sitemap.xml", None).await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let xml = res.text().await.unwrap();
    assert!(xml.contains("/p/trail-runner</loc>"));
    assert!(xml.contains("/p/traill%C3%A4ufer</loc>"), "every language, URL-encoded: {xml}");
    assert!(!xml.contains("hidden-draft"));
    let theirs = app.get("/s/foodbank/sitemap.xml", None).await.text().await.unwrap();
    assert!(!theirs.contains("trail-runner") && theirs.contains("/s/foodbank/</loc>"));
    app.stop().await;
}
