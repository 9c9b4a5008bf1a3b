//! Inventory: stock locations, adjustments and transfers with a journal,
//! all-or-nothing changes that never take stock below what is reserved or
//! below zero (also under concurrent requests), idempotent retries, roles,
//! and availability as customers see it on pages, in search and in events.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    staff_adjust_and_transfer_stock_with_a_journal,
    bad_stock_changes_are_refused_and_change_nothing,
    concurrent_removals_never_take_more_than_there_is,
    retried_adjustments_apply_once,
    inventory_rights_follow_the_role,
    availability_reaches_pages_search_and_events,
    staff_manage_stock_through_pages,
);

/// A published tent in two sizes (TENT-S, TENT-L).
async fn tent(app: &TestApp, token: &str) {
    let body = json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": "Trail tent"}, "de": {"name": "Wanderzelt"}},
        "variants": [
            {"sku": "TENT-S", "options": {"size": "S"}, "prices": [{"channel": "web", "amount": 12000}]},
            {"sku": "TENT-L", "options": {"size": "L"}, "prices": [{"channel": "web", "amount": 15000}]}
        ]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(token), &body).await.status(), 201);
}

async fn location(app: &TestApp, token: &str, code: &str, country: &str, priority: i64) -> Value {
    let body = json!({"code": code, "name": format!("Warehouse {code}"), "country": country, "priority": priority});
    let res = app.post_json("/api/v1/stock-locations", Some(token), &body).await;
    assert_eq!(res.status(), 201, "creating location {code}");
    res.json().await.unwrap()
}

async fn adjust(app: &TestApp, token: &str, lines: Value) -> reqwest::Response {
    app.post_json("/api/v1/stock-adjustments", Some(token), &json!({ "lines": lines })).await
}

async fn stock(app: &TestApp, token: &str, sku: &str) -> Value {
    let res = app.get(&format!("/api/v1/inventory/{sku}"), Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// (location code, on hand, reserved) of each level.
fn levels(v: &Value) -> Vec<(String, i64, i64)> {
    v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().to_string(),
                l["on_hand"].as_i64().unwrap(),
                l["reserved"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn staff_adjust_and_transfer_stock_with_a_journal(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    // Before the store keeps stock anywhere, nothing is counted.
    assert_eq!(stock(&app, &owner, "TENT-S").await["policy"], "untracked");
    location(&app, &owner, "berlin", "de", 0).await;
    location(&app, &owner, "lisbon", "PT", 1).await;
    let listed: Value = app.get("/api/v1/stock-locations", Some(&owner)).await.json().await.unwrap();
    let codes: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["code"].as_str().unwrap(), l["country"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, [("berlin", "DE"), ("lisbon", "PT")], "by priority, country upper-cased");
    let s = stock(&app, &owner, "TENT-S").await;
    assert_eq!((s["policy"].as_str(), s["configured"].as_bool()), (Some("track"), Some(false)));
    assert_eq!(s["availability"]["status"], "out_of_stock");

    let res = adjust(
        &app,
        &owner,
        json!([
            {"sku": "TENT-S", "location": "berlin", "delta": 5, "reason": "received", "note": "PO 1001"},
            {"sku": "TENT-S", "location": "lisbon", "delta": 2, "reason": "received"}
        ]),
    )
    .await;
    assert_eq!(res.status(), 201);
    let change: Value = res.json().await.unwrap();
    assert_eq!(change["movements"][0]["on_hand_after"], 5);
    assert_eq!(change["movements"][0]["kind"], "adjustment");
    let s = stock(&app, &owner, "TENT-S").await;
    assert_eq!(s["available"], 7);
    assert_eq!(levels(&s), [("berlin".into(), 5, 0), ("lisbon".into(), 2, 0)]);

    let res = app
        .post_json(
            "/api/v1/stock-transfers",
            Some(&owner),
            &json!({"from": "berlin", "to": "lisbon", "lines": [{"sku": "TENT-S", "quantity": 3}], "note": "rebalance"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let transfer: Value = res.json().await.unwrap();
    let transfer_id = transfer["transfer_id"].as_str().unwrap().to_string();
    assert!(transfer_id.starts_with("trf_"));
    assert_eq!(levels(&stock(&app, &owner, "TENT-S").await), [("berlin".into(), 2, 0), ("lisbon".into(), 5, 0)]);

    // A count sets the level; the journal records the difference.
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "lisbon", "counted": 4, "reason": "counted"}])).await;
    assert_eq!(res.status(), 201);
    let counted: Value = res.json().await.unwrap();
    assert_eq!(
        (counted["movements"][0]["on_hand_delta"].as_i64(), counted["movements"][0]["on_hand_after"].as_i64()),
        (Some(-1), Some(4))
    );
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": -1, "reason": "damaged"}])).await;
    assert_eq!(res.status(), 201);
    assert_eq!(stock(&app, &owner, "TENT-S").await["available"], 5);

    let journal: Value = app.get("/api/v1/stock-movements?sku=TENT-S", Some(&owner)).await.json().await.unwrap();
    let rows: Vec<(String, String, i64, i64)> = journal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["location"].as_str().unwrap().to_string(),
                m["reason"].as_str().unwrap().to_string(),
                m["on_hand_delta"].as_i64().unwrap(),
                m["on_hand_after"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, i64, i64)> = [
        ("berlin", "damaged", -1, 1),
        ("lisbon", "counted", -1, 4),
        ("lisbon", "transfer", 3, 5),
        ("berlin", "transfer", -3, 2),
        ("lisbon", "received", 2, 2),
        ("berlin", "received", 5, 5),
    ]
    .iter()
    .map(|(l, r, d, a)| (l.to_string(), r.to_string(), *d, *a))
    .collect();
    assert_eq!(rows, expected, "newest first");
    let items = journal["items"].as_array().unwrap();
    assert_eq!(items[2]["reference"], transfer_id);
    assert_eq!(items[5]["note"], "PO 1001");
    assert!(items.iter().all(|m| m["actor"].as_str().is_some_and(|a| a.starts_with("stf_"))));
    // Paging and the per-location view.
    let first: Value = app.get("/api/v1/stock-movements?limit=4", Some(&owner)).await.json().await.unwrap();
    let next = first["next"].as_str().unwrap();
    let rest: Value =
        app.get(&format!("/api/v1/stock-movements?limit=4&before={next}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(first["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(), 6);
    assert!(rest["next"].is_null());
    let at: Value = app.get("/api/v1/stock-locations/lisbon/stock", Some(&owner)).await.json().await.unwrap();
    assert_eq!(at["items"], json!([{"sku": "TENT-S", "on_hand": 4, "reserved": 0, "available": 4}]));
    // Deactivating a location keeps its stock but stops selling it.
    let res = app
        .put_json(
            "/api/v1/stock-locations/lisbon",
            Some(&owner),
            &json!({"code": "lisbon", "name": "Lisbon", "country": "PT", "priority": 1, "active": false}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let s = stock(&app, &owner, "TENT-S").await;
    assert_eq!(s["available"], 1);
    assert_eq!(levels(&s), [("berlin".into(), 1, 0), ("lisbon".into(), 4, 0)]);
    app.stop().await;
}

async fn bad_stock_changes_are_refused_and_change_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    location(&app, &owner, "berlin", "DE", 0).await;
    location(&app, &owner, "porto", "PT", 1).await;
    assert_eq!(
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": 3, "reason": "received"}]))
            .await
            .status(),
        201
    );
    let movements = app.count_rows("stock_movements").await;

    for (lines, field) in [
        (json!([{"sku": "NOPE", "location": "berlin", "delta": 1, "reason": "received"}]), "lines[0].sku"),
        (json!([{"sku": "TENT-S", "location": "paris", "delta": 1, "reason": "received"}]), "lines[0].location"),
        (json!([{"sku": "TENT-S", "location": "berlin", "delta": 2, "reason": "damaged"}]), "lines[0].delta"),
        (json!([{"sku": "TENT-S", "location": "berlin", "delta": -2, "reason": "received"}]), "lines[0].delta"),
        (json!([{"sku": "TENT-S", "location": "berlin", "delta": 0, "reason": "correction"}]), "lines[0].delta"),
        (json!([{"sku": "TENT-S", "location": "berlin", "delta": 1, "counted": 1, "reason": "counted"}]), "lines[0]"),
        (json!([{"sku": "TENT-S", "location": "berlin", "counted": 5, "reason": "found"}]), "lines[0].reason"),
        (json!([{"sku": "TENT-S", "location": "berlin", "counted": -1, "reason": "counted"}]), "lines[0].counted"),
        (json!([]), "lines"),
    ] {
        let body = assert_problem(adjust(&app, &owner, lines.clone()).await, 422, "validation_failed").await;
        assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{lines}: {body}");
    }
    let res = app.post_json("/api/v1/stock-adjustments", Some(&owner), &json!({"lines": [], "extra": 1})).await;
    assert_eq!(res.status().as_u16(), 422, "unknown fields are refused");

    // The second line cannot be applied: neither is.
    let res = adjust(
        &app,
        &owner,
        json!([
            {"sku": "TENT-S", "location": "berlin", "delta": 10, "reason": "found"},
            {"sku": "TENT-L", "location": "berlin", "delta": -1, "reason": "lost"}
        ]),
    )
    .await;
    let body = assert_problem(res, 409, "insufficient_stock").await;
    assert!(body["detail"].as_str().unwrap().contains("lines[1]"), "{body}");
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": -4, "reason": "lost"}])).await;
    assert_problem(res, 409, "insufficient_stock").await;

    let transfer =
        |from: &str, to: &str, qty: i64| json!({"from": from, "to": to, "lines": [{"sku": "TENT-S", "quantity": qty}]});
    for (body, field) in [
        (transfer("berlin", "berlin", 1), "to"),
        (transfer("berlin", "rome", 1), "to"),
        (transfer("berlin", "porto", 0), "lines[0].quantity"),
        (
            json!({"from": "berlin", "to": "porto", "lines": [{"sku": "TENT-S", "quantity": 1}, {"sku": "TENT-S", "quantity": 1}]}),
            "lines[1].sku",
        ),
    ] {
        let res = app.post_json("/api/v1/stock-transfers", Some(&owner), &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body}: {problem}");
    }
    let res = app.post_json("/api/v1/stock-transfers", Some(&owner), &transfer("berlin", "porto", 4)).await;
    assert_problem(res, 409, "insufficient_stock").await;
    let bad_location = json!({"code": "Bad Code", "name": "", "country": "Germany", "priority": 5000});
    let problem = assert_problem(
        app.post_json("/api/v1/stock-locations", Some(&owner), &bad_location).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4, "{problem}");
    let dup = json!({"code": "berlin", "name": "Again", "country": "DE"});
    assert_problem(app.post_json("/api/v1/stock-locations", Some(&owner), &dup).await, 409, "location_code_taken")
        .await;
    assert_problem(app.get("/api/v1/inventory/NOPE", Some(&owner)).await, 404, "not_found").await;

    // Nothing moved.
    assert_eq!(app.count_rows("stock_movements").await, movements);
    let s = stock(&app, &owner, "TENT-S").await;
    assert_eq!(levels(&s), [("berlin".into(), 3, 0)]);
    assert_eq!(app.count_rows("stock_locations").await, 2);
    // The database refuses what the services never attempt.
    assert!(app.raw_sql("UPDATE stock_levels SET on_hand = -1").await.is_err(), "on hand never below zero");
    assert!(
        app.raw_sql("UPDATE stock_levels SET reserved = on_hand + 1").await.is_err(),
        "reserved never above on hand"
    );
    app.stop().await;
}

async fn concurrent_removals_never_take_more_than_there_is(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    location(&app, &owner, "berlin", "DE", 0).await;
    location(&app, &owner, "porto", "PT", 1).await;
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": 10, "reason": "received"}])).await;
    assert_eq!(res.status(), 201);
    // 24 clients each take 1 unit (half by loss, half by transfer): 10 win.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (client, token) = (app.client.clone(), owner.clone());
        let (url, body) = if i % 2 == 0 {
            (
                app.url("/api/v1/stock-adjustments"),
                json!({"lines": [{"sku": "TENT-S", "location": "berlin", "delta": -1, "reason": "lost"}]}),
            )
        } else {
            (
                app.url("/api/v1/stock-transfers"),
                json!({"from": "berlin", "to": "porto", "lines": [{"sku": "TENT-S", "quantity": 1}]}),
            )
        };
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let won = statuses.iter().filter(|s| **s == 201).count() as i64;
    assert_eq!(won, 10, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let s = stock(&app, &owner, "TENT-S").await;
    let berlin = levels(&s).into_iter().find(|l| l.0 == "berlin").unwrap();
    assert_eq!(berlin.1, 0, "every unit taken once");
    // The journal adds up to the levels.
    let moved = app.scalar("SELECT CAST(COALESCE(SUM(on_hand_delta), 0) AS BIGINT) FROM stock_movements").await;
    let held = app.scalar("SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM stock_levels").await;
    let lost = app.scalar("SELECT COUNT(*) FROM stock_movements WHERE reason = 'lost'").await;
    assert_eq!(moved, held);
    assert_eq!(held, 10 - lost);
    app.stop().await;
}

async fn post_keyed(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/stock-adjustments"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn retried_adjustments_apply_once(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    location(&app, &owner, "berlin", "DE", 0).await;
    let body = json!({"lines": [{"sku": "TENT-L", "location": "berlin", "delta": 5, "reason": "received"}]});
    let first = post_keyed(&app, &owner, "arrival-1", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post_keyed(&app, &owner, "arrival-1", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = json!({"lines": [{"sku": "TENT-L", "location": "berlin", "delta": 6, "reason": "received"}]});
    assert_problem(post_keyed(&app, &owner, "arrival-1", &other).await, 422, "idempotency_key_reused").await;
    // Concurrent duplicates of a new key: applied once.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, token, body) =
            (app.client.clone(), app.url("/api/v1/stock-adjustments"), owner.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", "arrival-2")
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        let status = t.await.unwrap();
        assert!(status == 201 || status == 409, "{status}");
    }
    assert_eq!(stock(&app, &owner, "TENT-L").await["available"], 10, "two keys, two arrivals of 5");
    assert_eq!(app.count_rows("stock_movements").await, 2);
    app.stop().await;
}

/// Creates a staff member with `role` and signs them in.
async fn member(app: &TestApp, owner: &str, email: &str, role: &str) -> String {
    let body = json!({"email": email, "display_name": role, "password": "staff password 2026", "role": role});
    assert_eq!(app.post_json("/api/v1/staff", Some(owner), &body).await.status(), 201);
    let login = json!({"email": email, "password": "staff password 2026", "audience": "staff"});
    app.post_json("/api/v1/auth/login", None, &login).await.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn inventory_rights_follow_the_role(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    let warehouse = member(&app, &owner, "stock@outfitters.example", "warehouse").await;
    let analyst = member(&app, &owner, "numbers@outfitters.example", "analyst").await;
    let support = member(&app, &owner, "help@outfitters.example", "support_agent").await;
    let arrival = json!([{"sku": "TENT-S", "location": "hub", "delta": 2, "reason": "received"}]);
    // The warehouse runs stock; the analyst reads it; support does neither.
    location(&app, &warehouse, "hub", "DE", 0).await;
    assert_eq!(adjust(&app, &warehouse, arrival.clone()).await.status(), 201);
    assert_eq!(stock(&app, &analyst, "TENT-S").await["available"], 2);
    assert_problem(adjust(&app, &analyst, arrival.clone()).await, 403, "forbidden").await;
    let loc = json!({"code": "x", "name": "X", "country": "DE"});
    assert_problem(app.post_json("/api/v1/stock-locations", Some(&analyst), &loc).await, 403, "forbidden").await;
    assert_problem(app.get("/api/v1/inventory/TENT-S", Some(&support)).await, 403, "forbidden").await;
    assert_problem(app.get("/api/v1/stock-movements", Some(&support)).await, 403, "forbidden").await;
    assert_problem(app.get("/api/v1/stock-movements", None).await, 401, "unauthenticated").await;
    // Another store's staff see none of it.
    let foodbank = app.foodbank_owner().await;
    assert_problem(app.get("/s/foodbank/api/v1/inventory/TENT-S", Some(&foodbank)).await, 404, "not_found").await;
    let res =
        app.post_json("/s/foodbank/api/v1/stock-adjustments", Some(&foodbank), &json!({ "lines": arrival })).await;
    assert_problem(res, 422, "validation_failed").await;
    assert_problem(app.get("/api/v1/inventory/TENT-S", Some(&foodbank)).await, 401, "invalid_token").await;
    assert_eq!(stock(&app, &owner, "TENT-S").await["available"], 2);
    app.stop().await;
}

async fn wait_for_search(app: &TestApp, query: &str, want: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = app.get(&format!("/api/v1/storefront/search?{query}"), None).await.json().await.unwrap();
        if last["total"] == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{query}: wanted {want}, last answer {last}");
}

async fn event_types(app: &TestApp, token: &str) -> Vec<(String, Value)> {
    let events: Value = app.get("/api/v1/events?limit=200", Some(token)).await.json().await.unwrap();
    events
        .as_array()
        .or(events["items"].as_array())
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap_or_default().to_string(), e["data"].clone()))
        .collect()
}

async fn availability_reaches_pages_search_and_events(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    let body = json!({
        "kind": "service", "status": "published", "texts": {"en": {"name": "Tent repair"}},
        "variants": [{"sku": "REPAIR-1", "prices": [{"channel": "web", "amount": 3000}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &body).await.status(), 201);
    let page = || async { app.get("/p/trail-tent", None).await.text().await.unwrap() };
    let api = || async {
        let v: Value = app.get("/api/v1/storefront/products/trail-tent", None).await.json().await.unwrap();
        v["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["availability"]["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // A store that keeps no stock sells everything, and search has no availability facet.
    assert_eq!(api().await, ["available", "available"]);
    let all = wait_for_search(&app, "q=tent", 2).await;
    assert!(all["facets"].as_array().unwrap().iter().all(|f| f["code"] != "availability"), "{all}");

    location(&app, &owner, "berlin", "DE", 0).await;
    assert_eq!(api().await, ["out_of_stock", "out_of_stock"]);
    let html = page().await;
    assert!(html.contains("Out of stock") && html.contains("https://schema.org/OutOfStock"), "{html}");
    // Once the index follows the new location: the service is in stock, the tent is not.
    let only = wait_for_search(&app, "q=tent&f=availability:in_stock", 1).await;
    assert_eq!(only["items"][0]["slug"], "tent-repair");

    let res = app
        .put_json("/api/v1/inventory/TENT-S/settings", Some(&owner), &json!({"policy": "track", "low_stock_at": 2}))
        .await;
    assert_eq!(res.status(), 200);
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": 3, "reason": "received"}])).await;
    assert_eq!(res.status(), 201);
    assert_eq!(api().await, ["in_stock", "out_of_stock"], "this node's change shows at once");
    let html = page().await;
    assert!(html.contains("In stock") && html.contains("https://schema.org/InStock"), "{html}");
    let v: Value = app.get("/api/v1/storefront/products/trail-tent", None).await.json().await.unwrap();
    assert_eq!(v["variants"][0]["availability"], json!({"status": "in_stock"}), "customers are not told how many");
    let found = wait_for_search(&app, "q=tent&f=availability:in_stock", 2).await;
    let facet = found["facets"].as_array().unwrap().iter().find(|f| f["code"] == "availability").unwrap().clone();
    assert_eq!(facet["values"], json!([{"value": "in_stock", "label": "In stock", "count": 2, "selected": true}]));
    let de: Value = app.get("/api/v1/storefront/search?q=wanderzelt&lang=de", None).await.json().await.unwrap();
    let facet = de["facets"].as_array().unwrap().iter().find(|f| f["code"] == "availability").unwrap().clone();
    assert_eq!(facet["name"], "Verfügbarkeit");
    assert_eq!(facet["values"][0]["label"], "Auf Lager");

    // Selling down to the threshold: "only 2 left", and stock.low once.
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": -1, "reason": "damaged"}])).await;
    assert_eq!(res.status(), 201);
    let v: Value = app.get("/api/v1/storefront/products/trail-tent", None).await.json().await.unwrap();
    assert_eq!(v["variants"][0]["availability"], json!({"status": "low_stock", "quantity": 2}));
    assert!(page().await.contains("Only 2 left"));
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "delta": -1, "reason": "damaged"}])).await;
    assert_eq!(res.status(), 201);
    let events = event_types(&app, &owner).await;
    let low: Vec<&Value> = events.iter().filter(|(t, _)| t == "stock.low").map(|(_, d)| d).collect();
    assert_eq!(low.len(), 1, "announced once on the way down: {events:?}");
    assert_eq!(low[0]["available"], 2);
    let flips: Vec<&Value> = events.iter().filter(|(t, _)| t == "stock.status_changed").map(|(_, d)| d).collect();
    assert_eq!(flips.len(), 1, "{events:?}");
    assert_eq!(flips[0]["in_stock"].as_array().unwrap().len(), 1);

    // Sold out: pre-orders and back-orders keep it sellable.
    let res =
        adjust(&app, &owner, json!([{"sku": "TENT-S", "location": "berlin", "counted": 0, "reason": "counted"}])).await;
    assert_eq!(res.status(), 201);
    wait_for_search(&app, "q=tent&f=availability:in_stock", 1).await;
    let res = app
        .put_json(
            "/api/v1/inventory/TENT-L/settings",
            Some(&owner),
            &json!({"policy": "preorder", "restock_at": 1_798_761_600_000i64}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.put_json("/api/v1/inventory/TENT-S/settings", Some(&owner), &json!({"policy": "backorder"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(api().await, ["backorder", "preorder"]);
    let html = app.get("/p/trail-tent?variant=TENT-L", None).await.text().await.unwrap();
    assert!(
        html.contains("Pre-order · ships from 2027-01-01") && html.contains("https://schema.org/PreOrder"),
        "{html}"
    );
    wait_for_search(&app, "q=tent&f=availability:in_stock", 2).await;
    let bad = json!({"policy": "sometimes"});
    assert_eq!(app.put_json("/api/v1/inventory/TENT-S/settings", Some(&owner), &bad).await.status().as_u16(), 422);
    let bad = json!({"policy": "track", "low_stock_at": -1});
    assert_problem(
        app.put_json("/api/v1/inventory/TENT-S/settings", Some(&owner), &bad).await,
        422,
        "validation_failed",
    )
    .await;
    app.stop().await;
}

async fn staff_manage_stock_through_pages(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    tent(&app, &owner).await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/inventory").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    for (code, country) in [("berlin", "DE"), ("porto", "pt")] {
        let form = [
            ("_csrf", csrf.as_str()),
            ("code", code),
            ("name", code),
            ("country", country),
            ("priority", "0"),
            ("active", "1"),
        ];
        assert_eq!(post(&app, &cookie, "/admin/inventory/locations", &form).await.0, 303);
    }
    let form = [("_csrf", csrf.as_str()), ("code", "bad code"), ("name", "x"), ("country", "x"), ("active", "1")];
    let (status, html) = post(&app, &cookie, "/admin/inventory/locations", &form).await;
    assert_eq!(status, 422);
    assert!(html.contains("country"), "{html}");
    assert_eq!(app.count_rows("stock_locations").await, 2);

    let (status, html) = page(&app, &cookie, "/admin/inventory/sku/TENT-S").await;
    assert_eq!(status, 200);
    let key = field(&html, "_key");
    let arrival = [
        ("_csrf", csrf.as_str()),
        ("_key", key.as_str()),
        ("location", "berlin"),
        ("reason", "received"),
        ("quantity", "6"),
        ("note", "first delivery"),
    ];
    // A double submit of the same form moves stock once.
    assert_eq!(post(&app, &cookie, "/admin/inventory/sku/TENT-S/adjust", &arrival).await.0, 303);
    assert_eq!(post(&app, &cookie, "/admin/inventory/sku/TENT-S/adjust", &arrival).await.0, 303);
    assert_eq!(stock(&app, &owner, "TENT-S").await["available"], 6);
    let (_, html) = page(&app, &cookie, "/admin/inventory/sku/TENT-S").await;
    let key = field(&html, "_key");
    let too_many = [
        ("_csrf", csrf.as_str()),
        ("_key", key.as_str()),
        ("location", "berlin"),
        ("reason", "lost"),
        ("quantity", "-7"),
    ];
    let (status, html) = post(&app, &cookie, "/admin/inventory/sku/TENT-S/adjust", &too_many).await;
    assert_eq!(status, 422);
    assert!(html.contains("not that many units"), "{html}");
    let moving = [
        ("_csrf", csrf.as_str()),
        ("_key", key.as_str()),
        ("from", "berlin"),
        ("to", "porto"),
        ("quantity", "2"),
        ("note", ""),
    ];
    assert_eq!(post(&app, &cookie, "/admin/inventory/sku/TENT-S/transfer", &moving).await.0, 303);
    let settings =
        [("_csrf", csrf.as_str()), ("policy", "backorder"), ("low_stock_at", "1"), ("restock_at", "2027-01-01")];
    assert_eq!(post(&app, &cookie, "/admin/inventory/sku/TENT-S/settings", &settings).await.0, 303);
    let s = stock(&app, &owner, "TENT-S").await;
    assert_eq!(levels(&s), [("berlin".into(), 4, 0), ("porto".into(), 2, 0)]);
    assert_eq!(
        (s["policy"].as_str(), s["low_stock_at"].as_i64(), s["restock_at"].as_i64()),
        (Some("backorder"), Some(1), Some(1_798_761_600_000))
    );
    let (_, html) = page(&app, &cookie, "/admin/inventory/sku/TENT-S").await;
    assert!(
        html.contains("first delivery") && html.contains("transfer") && html.contains("id=\"level-porto\""),
        "{html}"
    );
    let (_, html) = page(&app, &cookie, "/admin/inventory").await;
    assert!(html.contains("id=\"location-porto\"") && html.contains("first delivery"), "{html}");
    // Looking a SKU up leads to its page; forged forms change nothing.
    let res = app.client.get(app.url("/admin/inventory?sku=TENT-L")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/inventory/sku/TENT-L");
    let forged = [("_csrf", "forged"), ("location", "berlin"), ("reason", "received"), ("quantity", "100")];
    assert_eq!(post(&app, &cookie, "/admin/inventory/sku/TENT-S/adjust", &forged).await.0, 403);
    assert_eq!(stock(&app, &owner, "TENT-S").await["available"], 6);
    app.stop().await;
}
