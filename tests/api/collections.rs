//! Collections: manual lists in their order, rule-based saved searches
//! that stay current, featured on the home page, validated, per store.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    rule_collections_match_tags_and_prices,
    manual_collections_keep_their_order_and_hide_unpublished,
    bad_collections_are_refused_and_change_nothing,
);

async fn product(app: &TestApp, token: &str, sku: &str, name: &str, tags: &[&str], price: i64) -> String {
    let body = json!({
        "kind": "physical", "status": "published", "tags": tags,
        "texts": {"en": {"name": name}, "de": {"name": format!("{name} (de)")}},
        "variants": [{"sku": sku, "prices": [{"channel": "web", "amount": price}]}]
    });
    let res = app.post_json("/api/v1/products", Some(token), &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

fn names(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
}

async fn rule_collections_match_tags_and_prices(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    product(&app, &owner, "S-1", "Sun hat", &["summer"], 2500).await;
    product(&app, &owner, "S-2", "Beach tent", &["summer"], 12000).await;
    product(&app, &owner, "W-1", "Wool hat", &["winter"], 2000).await;
    let res = app
        .post_json(
            "/api/v1/collections",
            Some(&owner),
            &json!({"kind": "rule", "featured": true,
                    "texts": {"en": {"name": "Summer under 50", "description": "**Light** things."},
                              "de": {"name": "Sommer unter 50"}},
                    "rules": {"facets": {"tag": ["summer"]}, "price_max": 5000}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let page: Value = app.get("/api/v1/storefront/collections/summer-under-50", None).await.json().await.unwrap();
    assert_eq!(page["collection"]["name"], "Summer under 50");
    assert_eq!(names(&page["products"]), ["Sun hat"]);
    // A new product matching the rules joins without touching the collection.
    product(&app, &owner, "S-3", "Sunglasses", &["Summer"], 4000).await;
    let page: Value = app.get("/api/v1/storefront/collections/summer-under-50", None).await.json().await.unwrap();
    assert_eq!(page["products"]["total"], 2, "tags match case-insensitively");
    // Visitors narrow further; the rules still hold.
    let cheaper: Value =
        app.get("/api/v1/storefront/collections/summer-under-50?price_max=3000", None).await.json().await.unwrap();
    assert_eq!(names(&cheaper["products"]), ["Sun hat"]);
    // The home page features it, in the visitor's language; its page renders the Markdown.
    let home = app.client.get(app.url("/")).header("accept-language", "de").send().await.unwrap();
    let home = home.text().await.unwrap();
    assert!(home.contains("Sommer unter 50") && home.contains("Sun hat (de)"), "{home}");
    let html = app.get("/collections/summer-under-50", None).await.text().await.unwrap();
    assert!(html.contains("<strong>Light</strong>") && html.contains("Sunglasses") && !html.contains("Wool hat"));
    assert_eq!(app.get("/collections/nothing", None).await.status(), 404);
}

async fn manual_collections_keep_their_order_and_hide_unpublished(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let a = product(&app, &owner, "M-1", "Alpha", &[], 100).await;
    let bb = product(&app, &owner, "M-2", "Bravo", &[], 200).await;
    let c = product(&app, &owner, "M-3", "Charlie", &[], 300).await;
    let res = app
        .post_json(
            "/api/v1/collections",
            Some(&owner),
            &json!({"kind": "manual", "texts": {"en": {"name": "Staff picks"}}, "products": [c, a, bb]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let col: Value = res.json().await.unwrap();
    let page: Value = app.get("/api/v1/storefront/collections/staff-picks", None).await.json().await.unwrap();
    assert_eq!(names(&page["products"]), ["Charlie", "Alpha", "Bravo"], "the order given");
    // Archive one: it leaves the collection page.
    let archived = json!({"kind": "physical", "status": "archived", "texts": {"en": {"name": "Alpha"}},
                          "variants": [{"sku": "M-1", "prices": [{"channel": "web", "amount": 100}]}]});
    assert_eq!(app.put_json(&format!("/api/v1/products/{a}"), Some(&owner), &archived).await.status(), 200);
    let page: Value = app.get("/api/v1/storefront/collections/staff-picks", None).await.json().await.unwrap();
    assert_eq!(names(&page["products"]), ["Charlie", "Bravo"]);
    // Reordered whole by PUT.
    let id = col["id"].as_str().unwrap();
    let res = app
        .put_json(
            &format!("/api/v1/collections/{id}"),
            Some(&owner),
            &json!({"kind": "manual", "texts": {"en": {"name": "Staff picks"}}, "products": [bb, c]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = app.get("/api/v1/storefront/collections/staff-picks", None).await.json().await.unwrap();
    assert_eq!(names(&page["products"]), ["Bravo", "Charlie"]);
    let listed: Value = app.get("/api/v1/collections", Some(&owner)).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Another store has none of it.
    let food = app.get("/s/foodbank/api/v1/storefront/collections/staff-picks", None).await;
    assert_problem(food, 404, "not_found").await;
}

async fn bad_collections_are_refused_and_change_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let cases = [
        (json!({"kind": "manual", "texts": {"de": {"name": "Nur Deutsch"}}}), "texts"),
        (
            json!({"kind": "manual", "texts": {"en": {"name": "X"}}, "products": ["prd_01J00000000000000000000000"]}),
            "products[0]",
        ),
        (
            json!({"kind": "rule", "texts": {"en": {"name": "X"}}, "products": []  , "rules": {"price_min": -1}}),
            "rules.price_min",
        ),
        (json!({"kind": "manual", "texts": {"en": {"name": "X"}}, "rules": {"kinds": ["physical"]}}), "rules"),
        (json!({"kind": "rule", "texts": {"en": {"name": "X", "slug": "Not A Slug"}}}), "texts.en.slug"),
    ];
    for (body, field) in cases {
        let res = app.post_json("/api/v1/collections", Some(&owner), &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let unknown = app.post_json("/api/v1/collections", Some(&owner), &json!({"kind": "mixed", "texts": {}})).await;
    assert_eq!(unknown.status(), 422);
    assert_eq!(app.count_rows("collections").await, 0);
    let first = json!({"kind": "rule", "texts": {"en": {"name": "Sale"}}});
    assert_eq!(app.post_json("/api/v1/collections", Some(&owner), &first).await.status(), 201);
    assert_problem(app.post_json("/api/v1/collections", Some(&owner), &first).await, 409, "slug_taken").await;
    assert_problem(app.post_json("/api/v1/collections", None, &first).await, 401, "unauthenticated").await;
    let missing = app.put_json("/api/v1/collections/col_01J00000000000000000000000", Some(&owner), &first).await;
    assert_problem(missing, 404, "not_found").await;
    assert_eq!(app.count_rows("collections").await, 1);
}
