//! Catalog search: languages (stemming, Chinese segmentation, typo
//! tolerance, fallback), ranking, facets and filters, visibility, cursor
//! pagination, typed attributes, and the index following the event log
//! on another node and after a CLI rebuild.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    search_finds_products_in_each_language,
    name_matches_rank_first_and_typos_are_forgiven,
    facets_count_and_filter,
    pagination_walks_every_result_once,
    customers_see_only_visible_products_staff_see_all,
    attributes_are_typed_and_translated,
    attributes_are_edited_and_deleted_only_when_unused,
    bad_search_requests_are_refused,
    other_nodes_and_rebuilds_catch_up,
    search_and_category_pages_filter_through_links,
);

fn product(sku: &str, texts: Value, price: i64) -> Value {
    json!({
        "kind": "physical", "status": "published", "texts": texts,
        "variants": [{"sku": sku, "prices": [{"channel": "web", "amount": price}]}]
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post_json("/api/v1/products", Some(token), body).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v
}

async fn search(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/storefront/search?{query}"), None).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{query}: {v}");
    v
}

fn skus_of(app_result: &Value) -> Vec<String> {
    app_result["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
}

async fn seed_languages(app: &TestApp, owner: &str) {
    create(
        app,
        owner,
        &product(
            "SHOE-1",
            json!({"en": {"name": "Trail running shoes", "description": "Grippy soles for wet rock."},
                   "de": {"name": "Trailschuhe", "description": "Griffige Sohlen für nassen Fels."},
                   "es": {"name": "Zapatillas de trail", "description": "Suelas con agarre."},
                   "pt": {"name": "Sapatilhas de trilho", "description": "Solas aderentes."},
                   "zh": {"name": "越野跑鞋", "description": "湿滑岩石上抓地力强的鞋底。"}}),
            8999,
        ),
    )
    .await;
    create(
        app,
        owner,
        &product(
            "CASE-1",
            json!({"en": {"name": "Smartphone case", "description": "Rugged case."},
                   "zh": {"name": "智能手机壳", "description": "坚固耐用的保护壳。"}}),
            1999,
        ),
    )
    .await;
    create(
        app,
        owner,
        &product("BOTTLE-1", json!({"en": {"name": "Steel bottle", "description": "Keeps drinks cold."}}), 2499),
    )
    .await;
}

async fn search_finds_products_in_each_language(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    seed_languages(&app, &owner).await;

    // Stemming: plural and singular meet.
    assert_eq!(skus_of(&search(&app, "q=shoe&lang=en").await), ["Trail running shoes"]);
    assert_eq!(skus_of(&search(&app, "q=Trailschuh&lang=de").await), ["Trailschuhe"]);
    assert_eq!(skus_of(&search(&app, "q=Fels&lang=de").await), ["Trailschuhe"], "descriptions are searched");
    assert_eq!(skus_of(&search(&app, "q=zapatilla&lang=es").await), ["Zapatillas de trail"]);
    assert_eq!(skus_of(&search(&app, "q=sapatilha&lang=pt").await), ["Sapatilhas de trilho"]);
    // Chinese: a word inside a compound is found.
    let zh = search(&app, "q=%E6%89%8B%E6%9C%BA&lang=zh").await; // 手机
    assert_eq!(skus_of(&zh), ["智能手机壳"]);
    assert_eq!(zh["items"][0]["language"], "zh");
    assert_eq!(skus_of(&search(&app, "q=%E8%B7%91%E9%9E%8B&lang=zh").await), ["越野跑鞋"]); // 跑鞋
    // No German text: found through the store's default language, shown in it.
    let de = search(&app, "q=bottle&lang=de").await;
    assert_eq!(skus_of(&de), ["Steel bottle"]);
    assert_eq!(de["items"][0]["language"], "en");
    assert_eq!(de["items"][0]["price"], json!({"amount": 2499, "currency": "EUR"}));
    // Nothing matches: an empty page, not an error.
    let none = search(&app, "q=submarine").await;
    assert_eq!(none["total"], 0);
    assert!(none["next_cursor"].is_null());
}

async fn name_matches_rank_first_and_typos_are_forgiven(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    create(
        &app,
        &owner,
        &product("SOCK-1", json!({"en": {"name": "Hiking socks", "description": "Merino wool blend."}}), 1500),
    )
    .await;
    create(
        &app,
        &owner,
        &product("JUMP-1", json!({"en": {"name": "Wool jumper", "description": "Warm and soft."}}), 6900),
    )
    .await;
    let r = search(&app, "q=wool").await;
    assert_eq!(skus_of(&r), ["Wool jumper", "Hiking socks"], "the name match ranks first");
    assert_eq!(skus_of(&search(&app, "q=jumpr").await), ["Wool jumper"], "one letter missing");
    assert_eq!(skus_of(&search(&app, "q=sokcs").await), ["Hiking socks"], "two letters swapped");
    assert_eq!(search(&app, "q=wol").await["total"], 0, "three-letter words must be exact");
    // Staff find a product by its SKU.
    let staff: Value = app.get("/api/v1/products?q=JUMP-1", Some(&owner)).await.json().await.unwrap();
    assert_eq!(skus_of(&staff), ["Wool jumper"]);
    // Suggestions complete the word being typed.
    let s: Value = app.get("/api/v1/storefront/search/suggest?q=hik", None).await.json().await.unwrap();
    assert_eq!(s[0]["name"], "Hiking socks");
    let s: Value = app.get("/api/v1/storefront/search/suggest?q=wool%20ju", None).await.json().await.unwrap();
    assert_eq!(s.as_array().unwrap().len(), 1);
    assert_eq!(s[0]["slug"], "wool-jumper");
}

async fn define_colour(app: &TestApp, owner: &str) {
    let res = app
        .post_json(
            "/api/v1/attributes",
            Some(owner),
            &json!({"code": "colour", "kind": "choice", "filterable": true,
                    "names": {"en": "Colour", "de": "Farbe"},
                    "choices": [{"code": "red", "labels": {"en": "Red", "de": "Rot"}},
                                {"code": "blue", "labels": {"en": "Blue", "de": "Blau"}}]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json(
            "/api/v1/attributes",
            Some(owner),
            &json!({"code": "material", "kind": "text", "names": {"en": "Material", "de": "Material"}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json(
            "/api/v1/product-types",
            Some(owner),
            &json!({"code": "apparel", "name": "Apparel", "attributes": ["colour", "material"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

async fn category(app: &TestApp, owner: &str, name: &str, parent: Option<&str>) -> String {
    let res = app
        .post_json("/api/v1/categories", Some(owner), &json!({"texts": {"en": {"name": name}}, "parent_id": parent}))
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn facets_count_and_filter(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    define_colour(&app, &owner).await;
    let clothing = category(&app, &owner, "Clothing", None).await;
    let shirts = category(&app, &owner, "Shirts", Some(&clothing)).await;
    let gear = category(&app, &owner, "Gear", None).await;
    let items = [
        ("Red shirt", "red", 1500, &shirts),
        ("Blue shirt", "blue", 3000, &shirts),
        ("Red jacket", "red", 12000, &clothing),
        ("Blue tent", "blue", 30000, &gear),
    ];
    for (i, (name, colour, price, cat)) in items.iter().enumerate() {
        let mut p = product(&format!("F-{i}"), json!({"en": {"name": name}}), *price);
        p["product_type"] = json!("apparel");
        p["attributes"] = json!({"colour": colour, "material": {"en": "Cotton"}});
        p["categories"] = json!([cat]);
        p["variants"][0]["options"] = json!({"size": if i % 2 == 0 { "M" } else { "L" }});
        create(&app, &owner, &p).await;
    }
    let all = search(&app, "lang=de").await;
    assert_eq!(all["total"], 4);
    let colour = all["facets"].as_array().unwrap().iter().find(|f| f["code"] == "colour").unwrap();
    assert_eq!(colour["name"], "Farbe");
    assert_eq!(
        colour["values"],
        json!([{"value": "blue", "label": "Blau", "count": 2, "selected": false},
               {"value": "red", "label": "Rot", "count": 2, "selected": false}])
    );
    let size = all["facets"].as_array().unwrap().iter().find(|f| f["code"] == "option.size").unwrap();
    assert_eq!(size["values"].as_array().unwrap().len(), 2);
    // Root categories with counts that include their subcategories.
    let cats: Vec<(String, u64)> = all["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(cats, [("Clothing".to_string(), 3), ("Gear".to_string(), 1)]);
    // Price buckets in minor units: <10, [10,25), [25,50), [50,100), [100,250), [250,500), ≥500 euros.
    assert_eq!(
        all["prices"],
        json!([{"min": 1000, "max": 2500, "count": 1}, {"min": 2500, "max": 5000, "count": 1},
               {"min": 10000, "max": 25000, "count": 1}, {"min": 25000, "max": 50000, "count": 1}])
    );

    let red = search(&app, "f=colour:red").await;
    assert_eq!(red["total"], 2);
    let both = search(&app, "f=colour:red&f=colour:blue&f=option.size:M").await;
    assert_eq!(skus_of(&both).len(), 2, "OR within a facet, AND across facets");
    let in_clothing = search(&app, &format!("category={clothing}&sort=price_asc")).await;
    assert_eq!(
        skus_of(&in_clothing),
        ["Red shirt", "Blue shirt", "Red jacket"],
        "subcategories included, cheapest first"
    );
    let sub: Vec<String> =
        in_clothing["categories"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(sub, ["Shirts"], "inside a category, its children are offered");
    let by_slug = search(&app, "category=shirts&sort=price_desc").await;
    assert_eq!(skus_of(&by_slug), ["Blue shirt", "Red shirt"]);
    let range = search(&app, "price_min=2500&price_max=25000&sort=price_asc").await;
    assert_eq!(skus_of(&range), ["Blue shirt", "Red jacket"], "min inclusive, max exclusive");
    let text_and_facet = search(&app, "q=shirt&f=colour:blue").await;
    assert_eq!(skus_of(&text_and_facet), ["Blue shirt"]);
    let missing = app.get("/api/v1/storefront/search?category=no-such-category", None).await;
    assert_problem(missing, 404, "not_found").await;
}

async fn pagination_walks_every_result_once(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    for i in 0..7 {
        create(&app, &owner, &product(&format!("P-{i}"), json!({"en": {"name": format!("Lantern {i}")}}), 1000 + i))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let q = match &cursor {
            Some(c) => format!("q=lantern&limit=3&sort=price_desc&cursor={c}"),
            None => "q=lantern&limit=3&sort=price_desc".to_string(),
        };
        let page = search(&app, &q).await;
        assert_eq!(page["total"], 7);
        seen.extend(skus_of(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("Lantern {i}")).collect();
    assert_eq!(seen, expected);
    // Newest first with no words.
    let newest = search(&app, "limit=2").await;
    assert_eq!(skus_of(&newest), ["Lantern 6", "Lantern 5"]);
}

async fn customers_see_only_visible_products_staff_see_all(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let mut draft = product("V-1", json!({"en": {"name": "Draft kayak"}}), 50000);
    draft["status"] = json!("draft");
    create(&app, &owner, &draft).await;
    let mut later = product("V-2", json!({"en": {"name": "Future kayak"}}), 50000);
    later["publish_at"] = json!(4102444800000i64);
    create(&app, &owner, &later).await;
    let mut ended = product("V-3", json!({"en": {"name": "Old kayak"}}), 50000);
    ended["unpublish_at"] = json!(1000);
    ended["publish_at"] = json!(1);
    create(&app, &owner, &ended).await;
    let live = create(&app, &owner, &product("V-4", json!({"en": {"name": "Live kayak"}}), 50000)).await;
    assert_eq!(skus_of(&search(&app, "q=kayak").await), ["Live kayak"]);

    let staff: Value = app.get("/api/v1/products?q=kayak", Some(&owner)).await.json().await.unwrap();
    assert_eq!(staff["total"], 4);
    let drafts: Value = app.get("/api/v1/products?status=draft", Some(&owner)).await.json().await.unwrap();
    assert_eq!(skus_of(&drafts), ["Draft kayak"]);
    assert_problem(app.get("/api/v1/products", None).await, 401, "unauthenticated").await;
    assert_problem(app.get("/api/v1/storefront/search?status=draft", None).await, 422, "validation_failed").await;

    // Archiving takes a product out of the storefront at once.
    let id = live["id"].as_str().unwrap();
    let mut archived = product("V-4", json!({"en": {"name": "Live kayak"}}), 50000);
    archived["status"] = json!("archived");
    assert_eq!(app.put_json(&format!("/api/v1/products/{id}"), Some(&owner), &archived).await.status(), 200);
    assert_eq!(search(&app, "q=kayak").await["total"], 0);
    // Another store's search never sees these.
    let food = app.get("/s/foodbank/api/v1/storefront/search?q=kayak", None).await;
    assert_eq!(food.json::<Value>().await.unwrap()["total"], 0);
}

async fn attributes_are_typed_and_translated(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    define_colour(&app, &owner).await;
    let mut p = product("A-1", json!({"en": {"name": "Rain jacket"}, "de": {"name": "Regenjacke"}}), 9900);
    p["product_type"] = json!("apparel");
    p["attributes"] = json!({"colour": "red", "material": {"en": "Recycled nylon", "de": "Recyceltes Nylon"}});
    let created = create(&app, &owner, &p).await;
    assert_eq!(created["product_type"], "apparel");
    assert_eq!(created["attributes"]["colour"], "red");
    // Attribute texts are searchable in their language.
    assert_eq!(skus_of(&search(&app, "q=nylon&lang=de").await), ["Regenjacke"]);
    assert_eq!(skus_of(&search(&app, "q=rot&lang=de").await), ["Regenjacke"], "choice labels are searchable");
    // The product page shows them in the visitor's language.
    let page = app.client.get(app.url("/p/regenjacke")).header("accept-language", "de").send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Farbe") && page.contains("Rot") && page.contains("Recyceltes Nylon"), "{page}");

    let before = app.count_rows("product_attributes").await;
    for (attrs, field) in [
        (json!({"colour": "green"}), "attributes.colour"),
        (json!({"colour": ["red"]}), "attributes.colour"),
        (json!({"material": "plain string"}), "attributes.material"),
        (json!({"weight": "2"}), "attributes.weight"),
    ] {
        let mut bad = product("A-2", json!({"en": {"name": "Bad jacket"}}), 100);
        bad["product_type"] = json!("apparel");
        bad["attributes"] = attrs;
        let body =
            assert_problem(app.post_json("/api/v1/products", Some(&owner), &bad).await, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    let mut untyped = product("A-3", json!({"en": {"name": "Untyped"}}), 100);
    untyped["attributes"] = json!({"colour": "red"});
    assert_problem(app.post_json("/api/v1/products", Some(&owner), &untyped).await, 422, "validation_failed").await;
    let mut unknown = product("A-4", json!({"en": {"name": "Unknown type"}}), 100);
    unknown["product_type"] = json!("spaceship");
    assert_problem(app.post_json("/api/v1/products", Some(&owner), &unknown).await, 422, "validation_failed").await;
    assert_eq!(app.count_rows("product_attributes").await, before, "nothing written");

    // Definitions are validated and unique per store.
    let dup = app
        .post_json("/api/v1/attributes", Some(&owner), &json!({"code": "colour", "kind": "text", "names": {"en": "x"}}))
        .await;
    assert_problem(dup, 409, "attribute_code_taken").await;
    let no_choices = app
        .post_json(
            "/api/v1/attributes",
            Some(&owner),
            &json!({"code": "fit", "kind": "choice", "names": {"en": "Fit"}}),
        )
        .await;
    assert_problem(no_choices, 422, "validation_failed").await;
    let attrs: Value = app.get("/api/v1/attributes", Some(&owner)).await.json().await.unwrap();
    assert_eq!(attrs.as_array().unwrap().len(), 2);
    let food_owner = app.foodbank_owner().await;
    let theirs: Value = app.get("/s/foodbank/api/v1/attributes", Some(&food_owner)).await.json().await.unwrap();
    assert_eq!(theirs, json!([]), "attributes belong to one store");
}

async fn bad_search_requests_are_refused(b: Backend) {
    let app = spawn(b).await;
    for (query, field) in [
        ("sort=cheapest", "sort"),
        ("cursor=not-a-cursor", "cursor"),
        ("price_min=ten", "price_min"),
        ("f=colour", "f"),
        ("colour=red", "colour"),
        ("price_min=-5", "price_min"),
    ] {
        let body = assert_problem(
            app.get(&format!("/api/v1/storefront/search?{query}"), None).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    let long = "a".repeat(201);
    assert_problem(app.get(&format!("/api/v1/storefront/search?q={long}"), None).await, 422, "validation_failed").await;
    assert_problem(app.get("/api/v1/storefront/search?channel=nope", None).await, 404, "not_found").await;
}

async fn wait_for_total(base: &str, query: &str, want: u64) -> Value {
    let client = reqwest::Client::new();
    let mut last = Value::Null;
    for _ in 0..100 {
        last =
            client.get(format!("{base}/api/v1/storefront/search?{query}")).send().await.unwrap().json().await.unwrap();
        if last["total"] == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{query}: wanted {want} results, last answer {last}");
}

async fn other_nodes_and_rebuilds_catch_up(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let node2 = app.second_node().await;
    let base2 = format!("http://{}", node2.addr);
    // Saved on node 1: node 2 learns of it from the event log.
    create(&app, &owner, &product("N-1", json!({"en": {"name": "Camp stove"}}), 4500)).await;
    wait_for_total(&base2, "q=stove", 1).await;
    // Written behind both servers' backs, then the CLI rebuilds node 1's index.
    app.raw_sql("UPDATE product_texts SET name = 'Camp kettle' WHERE name = 'Camp stove'").await.unwrap();
    let out = app.oxcart_cli(&["search", "reindex"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("indexed 1 products"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Node 1 indexed its own save at once (the event is marked done), so
    // it learns the new name only by switching to the CLI's generation.
    wait_for_total(&app.base, "q=kettle", 1).await;
    node2.stop().await;
}

/// The href of the first link whose text contains `label`, unescaped.
fn link_to(html: &str, label: &str) -> String {
    let at = html.find(label).unwrap_or_else(|| panic!("no {label:?} in {html}"));
    let start = html[..at].rfind("href=\"").unwrap() + 6;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

async fn search_and_category_pages_filter_through_links(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    define_colour(&app, &owner).await;
    let clothing = category(&app, &owner, "Clothing", None).await;
    let shirts = category(&app, &owner, "Shirts", Some(&clothing)).await;
    for (i, (name, colour, cat)) in
        [("Red shirt", "red", &shirts), ("Blue shirt", "blue", &shirts), ("Red coat", "red", &clothing)]
            .iter()
            .enumerate()
    {
        let mut p = product(
            &format!("W-{i}"),
            json!({"en": {"name": name}, "de": {"name": format!("{name} DE")}}),
            2000 + i as i64,
        );
        p["product_type"] = json!("apparel");
        p["attributes"] = json!({"colour": colour});
        p["categories"] = json!([cat]);
        create(&app, &owner, &p).await;
    }
    let html = app.get("/search?q=shirt", None).await.text().await.unwrap();
    assert!(html.contains("Red shirt") && html.contains("Blue shirt") && !html.contains("Red coat"), "{html}");
    assert!(html.contains("2 results"));
    // Following the facet link narrows the results.
    let blue = link_to(&html, ">Blue<");
    assert!(blue.starts_with("/search?") && blue.contains("f=colour%3Ablue"), "{blue}");
    let filtered = app.get(&blue, None).await.text().await.unwrap();
    assert!(filtered.contains("Blue shirt") && !filtered.contains("Red shirt"), "{filtered}");
    assert!(filtered.contains("✓ Blue"), "the chosen value is marked");
    // Nothing found: suggestions from names starting alike.
    let miss = app.get("/search?q=shi", None).await.text().await.unwrap();
    assert!(miss.contains("id=\"no-results\""), "{miss}");
    let suggested = &miss[miss.find("id=\"suggestions\"").expect("suggestions shown")..];
    assert!(suggested.contains("href=\"/p/red-shirt\""), "{miss}");
    // Category page: facets over the category and its subcategories, subcategory links.
    let cat = app.get("/c/clothing", None).await.text().await.unwrap();
    assert!(cat.contains("Red shirt") && cat.contains("Red coat") && cat.contains("3 results"), "{cat}");
    assert_eq!(link_to(&cat, ">Shirts<"), "/c/shirts");
    let red = app.get(&link_to(&cat, ">Red<"), None).await.text().await.unwrap();
    assert!(red.contains("Red coat") && !red.contains("Blue shirt"), "{red}");
    // German visitors get German names and facet labels.
    let de = app.client.get(app.url("/c/clothing")).header("accept-language", "de").send().await.unwrap();
    let de = de.text().await.unwrap();
    assert!(de.contains("Red shirt DE") && de.contains("Farbe") && de.contains("Rot"), "{de}");
    // A bad sort shows the listing rather than an error; unknown categories are 404.
    assert_eq!(app.get("/search?q=shirt&sort=bogus", None).await.status(), 200);
    assert_eq!(app.get("/c/nothing-here", None).await.status(), 404);
    // The other store's pages do not show these products.
    let food = app.get("/s/foodbank/search?q=shirt", None).await.text().await.unwrap();
    assert!(!food.contains("Red shirt"));
}

async fn attributes_are_edited_and_deleted_only_when_unused(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    define_colour(&app, &owner).await;
    let mut p = product("ED-1", json!({"en": {"name": "Red cap"}}), 1500);
    p["product_type"] = json!("apparel");
    p["attributes"] = json!({"colour": "red"});
    create(&app, &owner, &p).await;
    let attrs: Value = app.get("/api/v1/attributes", Some(&owner)).await.json().await.unwrap();
    let id_of = |code: &str| {
        attrs.as_array().unwrap().iter().find(|a| a["code"] == code).unwrap()["id"].as_str().unwrap().to_string()
    };
    let colour = format!("/api/v1/attributes/{}", id_of("colour"));
    let choice = |code: &str, en: &str| json!({"code": code, "labels": {"en": en}});
    let edit = |choices: Value| {
        json!({"code": "colour", "kind": "choice", "filterable": true,
               "names": {"en": "Color", "de": "Farbe"}, "choices": choices})
    };

    // Renamed, relabelled and a choice added.
    let all = json!([choice("red", "Scarlet"), choice("blue", "Blue"), choice("green", "Green")]);
    let res = app.put_json(&colour, Some(&owner), &edit(all)).await;
    assert_eq!(res.status(), 200);
    let attrs_now: Value = app.get("/api/v1/attributes", Some(&owner)).await.json().await.unwrap();
    let c = attrs_now.as_array().unwrap().iter().find(|a| a["code"] == "colour").unwrap().clone();
    assert_eq!(c["names"]["en"], "Color");
    assert_eq!(c["choices"].as_array().unwrap().len(), 3);
    assert_eq!(c["choices"][0]["labels"]["en"], "Scarlet");

    // A choice a product uses stays; an unused one can go.
    let without_red = json!([choice("blue", "Blue"), choice("green", "Green")]);
    assert_problem(app.put_json(&colour, Some(&owner), &edit(without_red)).await, 409, "choice_in_use").await;
    let without_blue = json!([choice("red", "Scarlet"), choice("green", "Green")]);
    assert_eq!(app.put_json(&colour, Some(&owner), &edit(without_blue)).await.status(), 200);

    // Code and kind cannot change; bad input and unknown ids are refused.
    let mut renamed = edit(json!([choice("red", "Red"), choice("green", "Green")]));
    renamed["code"] = json!("hue");
    assert_problem(app.put_json(&colour, Some(&owner), &renamed).await, 422, "validation_failed").await;
    let retyped = json!({"code": "colour", "kind": "text", "names": {"en": "Color"}});
    assert_problem(app.put_json(&colour, Some(&owner), &retyped).await, 422, "validation_failed").await;
    let res = app
        .put_json("/api/v1/attributes/att_01hzzzzzzzzzzzzzzzzzzzzzzz", Some(&owner), &edit(json!([choice("red", "R")])))
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(app.put_json(&colour, None, &edit(json!([choice("red", "R")]))).await.status(), 401);
    let after: Value = app.get("/api/v1/attributes", Some(&owner)).await.json().await.unwrap();
    let c = after.as_array().unwrap().iter().find(|a| a["code"] == "colour").unwrap().clone();
    let codes: Vec<&str> = c["choices"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["red", "green"], "refused edits changed nothing");

    // A product type lists colour: it is not deleted. An unused attribute is.
    let delete = |path: String| app.client.delete(app.url(&path)).bearer_auth(&owner).send();
    assert_problem(delete(colour.clone()).await.unwrap(), 409, "attribute_in_use").await;
    let res = app
        .post_json(
            "/api/v1/attributes",
            Some(&owner),
            &json!({"code": "season", "kind": "text", "names": {"en": "Season"}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let season = format!("/api/v1/attributes/{}", res.json::<Value>().await.unwrap()["id"].as_str().unwrap());
    let before = app.count_rows("attributes").await;
    assert_eq!(delete(season.clone()).await.unwrap().status(), 204);
    assert_eq!(app.count_rows("attributes").await, before - 1);
    assert_problem(delete(season).await.unwrap(), 404, "not_found").await;
    app.stop().await;
}
