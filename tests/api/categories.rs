//! Categories: a tree per store; a category page lists the visible products
//! in it and below it, newest first, page by page.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    category_tree_is_validated,
    category_pages_list_subtree_products_by_cursor,
    categories_are_renamed_moved_and_deleted
);

async fn category(app: &TestApp, token: &str, parent: Option<&str>, en: &str, de: &str) -> String {
    let body = json!({"parent_id": parent, "texts": {"en": {"name": en}, "de": {"name": de}}});
    let res = app.post_json("/api/v1/categories", Some(token), &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn category_tree_is_validated(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let shoes = category(&app, &owner, None, "Shoes", "Schuhe").await;
    category(&app, &owner, Some(&shoes), "Trail shoes", "Trailschuhe").await;
    let res = app
        .post_json(
            "/api/v1/categories",
            Some(&owner),
            &json!({"parent_id": "cat_01hzzzzzzzzzzzzzzzzzzzzzzz", "texts": {"en": {"name": "X"}}}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res =
        app.post_json("/api/v1/categories", Some(&owner), &json!({"texts": {"de": {"name": "Nur Deutsch"}}})).await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app.post_json("/api/v1/categories", Some(&owner), &json!({"texts": {"en": {"name": "Shoes"}}})).await;
    assert_problem(res, 409, "slug_taken").await;
    let list: Value = app.get("/api/v1/categories", Some(&owner)).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // Another store's categories cannot be used.
    let foodbank = app.foodbank_owner().await;
    let product = json!({"kind": "physical", "status": "published", "categories": [shoes],
        "texts": {"de": {"name": "Fremd"}}, "variants": [{"sku": "F-1", "prices": [{"channel": "web", "amount": 1}]}]});
    assert_problem(
        app.post_json("/s/foodbank/api/v1/products", Some(&foodbank), &product).await,
        422,
        "validation_failed",
    )
    .await;
    app.stop().await;
}

async fn category_pages_list_subtree_products_by_cursor(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let shoes = category(&app, &owner, None, "Shoes", "Schuhe").await;
    let trail = category(&app, &owner, Some(&shoes), "Trail shoes", "Trailschuhe").await;
    let jackets = category(&app, &owner, None, "Jackets", "Jacken").await;
    let mut made = Vec::new();
    for i in 0..5 {
        let (cat, status) = match i {
            0 => (&jackets, "published"),
            3 => (&trail, "draft"),
            1 | 2 => (&shoes, "published"),
            _ => (&trail, "published"),
        };
        let body = json!({"kind": "physical", "status": status, "categories": [cat, cat],
            "texts": {"en": {"name": format!("Item {i}")}},
            "variants": [{"sku": format!("ITEM-{i}"), "prices": [{"channel": "web", "amount": 1000 + i}]}]});
        let res = app.post_json("/api/v1/products", Some(&owner), &body).await;
        assert_eq!(res.status(), 201);
        made.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    // Shoes holds items 1, 2 and (through Trail shoes) 4; item 3 is a draft.
    let mut seen = Vec::new();
    let mut url = "/api/v1/storefront/categories/shoes?limit=2".to_string();
    loop {
        let page: Value = app.get(&url, None).await.json().await.unwrap();
        assert_eq!(page["name"], "Shoes");
        seen.extend(page["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => url = format!("/api/v1/storefront/categories/shoes?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Item 4", "Item 2", "Item 1"], "newest first, each once, drafts hidden");
    let trail_page: Value =
        app.get("/api/v1/storefront/categories/trailschuhe?lang=de", None).await.json().await.unwrap();
    assert_eq!(trail_page["name"], "Trailschuhe");
    assert_eq!(trail_page["breadcrumbs"], json!([{"name": "Schuhe", "slug": "schuhe"}]));
    let html = app.get("/c/shoes", None).await.text().await.unwrap();
    assert!(html.contains("Trail shoes") && html.contains("Item 4") && !html.contains("Item 0"));
    assert_eq!(app.get("/c/nothing-here", None).await.status(), 404);
    let product: Value = app.get(&format!("/api/v1/products/{}", made[4]), Some(&owner)).await.json().await.unwrap();
    assert_eq!(product["categories"], json!([trail]), "duplicates folded");
    app.stop().await;
}

async fn storefront_names(app: &TestApp, slug: &str) -> Option<Vec<String>> {
    let res = app.get(&format!("/api/v1/storefront/categories/{slug}"), None).await;
    if res.status() == 404 {
        return None;
    }
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    Some(page["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect())
}

async fn categories_are_renamed_moved_and_deleted(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let shoes = category(&app, &owner, None, "Shoes", "Schuhe").await;
    let trail = category(&app, &owner, Some(&shoes), "Trail shoes", "Trailschuhe").await;
    let jackets = category(&app, &owner, None, "Jackets", "Jacken").await;
    let body = json!({"kind": "physical", "status": "published", "categories": [trail],
        "texts": {"en": {"name": "Runner"}}, "variants": [{"sku": "RUN-1", "prices": [{"channel": "web", "amount": 9900}]}]});
    let res = app.post_json("/api/v1/products", Some(&owner), &body).await;
    assert_eq!(res.status(), 201);
    let product = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Renamed: the new slug serves the page, the old one is gone.
    let renamed = json!({"texts": {"en": {"name": "Footwear"}, "de": {"name": "Schuhwerk", "slug": "schuhwerk"}}});
    let res = app.put_json(&format!("/api/v1/categories/{shoes}"), Some(&owner), &renamed).await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["texts"]["en"]["slug"], "footwear");
    assert_eq!(storefront_names(&app, "footwear").await, Some(vec!["Runner".to_string()]));
    assert_eq!(storefront_names(&app, "shoes").await, None);

    // Bad edits change nothing: a cycle, itself as parent, a taken slug,
    // a missing default language, an unknown category.
    let under = |parent: &str| json!({"parent_id": parent, "texts": {"en": {"name": "Footwear"}}});
    for bad in [under(&trail), under(&shoes)] {
        let res = app.put_json(&format!("/api/v1/categories/{shoes}"), Some(&owner), &bad).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(problem.to_string().contains("cycle"), "{problem}");
    }
    let taken = json!({"texts": {"en": {"name": "Jackets"}}});
    assert_problem(app.put_json(&format!("/api/v1/categories/{shoes}"), Some(&owner), &taken).await, 409, "slug_taken")
        .await;
    let german_only = json!({"texts": {"de": {"name": "Nur Deutsch"}}});
    assert_problem(
        app.put_json(&format!("/api/v1/categories/{shoes}"), Some(&owner), &german_only).await,
        422,
        "validation_failed",
    )
    .await;
    let res = app.put_json("/api/v1/categories/cat_01hzzzzzzzzzzzzzzzzzzzzzzz", Some(&owner), &renamed).await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(storefront_names(&app, "footwear").await, Some(vec!["Runner".to_string()]));

    // Neither a customer nor an anonymous caller may edit the tree.
    let res = app.put_json(&format!("/api/v1/categories/{shoes}"), None, &renamed).await;
    assert_eq!(res.status(), 401);
    let res = app.client.delete(app.url(&format!("/api/v1/categories/{trail}"))).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // A category with a subcategory is not deleted.
    let res =
        app.client.delete(app.url(&format!("/api/v1/categories/{shoes}"))).bearer_auth(&owner).send().await.unwrap();
    assert_problem(res, 409, "category_has_children").await;
    assert_eq!(app.count_rows("categories").await, 3);

    // Moved: the product now shows under its new parent only.
    let moved = json!({"parent_id": jackets, "position": 2, "texts": {"en": {"name": "Trail shoes"}}});
    let res = app.put_json(&format!("/api/v1/categories/{trail}"), Some(&owner), &moved).await;
    assert_eq!(res.status(), 200);
    assert_eq!(storefront_names(&app, "jackets").await, Some(vec!["Runner".to_string()]));
    assert_eq!(storefront_names(&app, "footwear").await, Some(vec![]));
    let list: Value = app.get("/api/v1/categories", Some(&owner)).await.json().await.unwrap();
    let trail_row = list.as_array().unwrap().iter().find(|c| c["id"] == trail.as_str()).unwrap().clone();
    assert_eq!(trail_row["parent_id"], jackets.as_str());
    assert_eq!(trail_row["position"], 2);
    assert!(trail_row["texts"]["de"].is_null(), "texts are replaced, not merged: {trail_row}");

    // Deleted: the product stays, outside the category.
    let res =
        app.client.delete(app.url(&format!("/api/v1/categories/{trail}"))).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(storefront_names(&app, "trail-shoes").await, None);
    assert_eq!(storefront_names(&app, "jackets").await, Some(vec![]));
    let p: Value = app.get(&format!("/api/v1/products/{product}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(p["categories"], json!([]));
    let res =
        app.client.delete(app.url(&format!("/api/v1/categories/{trail}"))).bearer_auth(&owner).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    // Footwear has no subcategory left and can go now.
    let res =
        app.client.delete(app.url(&format!("/api/v1/categories/{shoes}"))).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.count_rows("categories").await, 1);
    assert_eq!(app.count_rows("category_texts").await, 2);
    app.stop().await;
}
