//! Price lists: group lists lower prices for members only, everyone-lists
//! apply inside their window, the lowest applicable price wins per
//! quantity, and bad lists are refused without changing anything.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    group_price_lists_lower_prices_for_members_only,
    everyone_lists_apply_inside_their_window,
    bad_price_lists_are_refused_and_change_nothing,
    staff_manage_channels_groups_and_price_lists_through_pages,
);

async fn rope(app: &TestApp, token: &str) {
    let body = json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": "Climbing rope"}},
        "variants": [{"sku": "ROPE-1", "prices": [
            {"channel": "web", "amount": 1000},
            {"channel": "web", "min_qty": 10, "amount": 900}
        ]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(token), &body).await.status(), 201);
}

/// Signs a customer up and in: (bearer token, customer id).
async fn customer(app: &TestApp, email: &str) -> (String, String) {
    let body = json!({"email": email, "password": "a long password", "display_name": "Buyer"});
    assert_eq!(app.post_json("/api/v1/customers", None, &body).await.status(), 201);
    let login = json!({"email": email, "password": "a long password", "audience": "customer"});
    let token = app.post_json("/api/v1/auth/login", None, &login).await.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me: Value = app.get("/api/v1/me", Some(&token)).await.json().await.unwrap();
    (token, me["id"].as_str().unwrap().to_string())
}

async fn variant(app: &TestApp, token: Option<&str>) -> Value {
    let p: Value = app.get("/api/v1/storefront/products/climbing-rope", token).await.json().await.unwrap();
    p["variants"][0].clone()
}

async fn quote(app: &TestApp, staff: &str, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/prices/quote?{query}"), Some(staff)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn group_price_lists_lower_prices_for_members_only(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    rope(&app, &owner).await;
    let (member, member_id) = customer(&app, "trade@example.com").await;
    let (other, _) = customer(&app, "retail@example.com").await;
    let res = app.post_json("/api/v1/customer-groups", Some(&owner), &json!({"code": "trade", "name": "Trade"})).await;
    assert_eq!(res.status(), 201);
    let group = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            &format!("/api/v1/customer-groups/{group}/members"),
            Some(&owner),
            &json!({"customer_id": member_id}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .post_json(
            "/api/v1/price-lists",
            Some(&owner),
            &json!({"code": "trade-eur", "name": "Trade prices", "channel": "web", "customer_group": "trade",
                    "prices": [{"sku": "ROPE-1", "amount": 800}, {"sku": "ROPE-1", "min_qty": 50, "amount": 600}]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let list: Value = res.json().await.unwrap();
    assert_eq!((list["customer_group"].as_str(), list["currency"].as_str()), (Some("trade"), Some("EUR")));

    // Visitors and other customers see the channel's prices.
    for token in [None, Some(other.as_str())] {
        let v = variant(&app, token).await;
        assert_eq!(v["price"]["amount"], 1000);
        assert_eq!(v["tiers"], json!([[10, {"amount": 900, "currency": "EUR"}]]));
        assert!(v["price_list"].is_null());
    }
    // The member pays the lowest price that applies at each quantity: 800
    // from one (the channel's 900 from ten is no better), 600 from fifty.
    let v = variant(&app, Some(&member)).await;
    assert_eq!((v["price"]["amount"].as_i64(), v["compare_at"]["amount"].as_i64()), (Some(800), Some(1000)));
    assert_eq!(v["price_list"], "trade-eur");
    assert_eq!(v["tiers"], json!([[50, {"amount": 600, "currency": "EUR"}]]));

    let q = quote(&app, &owner, &format!("sku=ROPE-1&qty=60&customer={member_id}")).await;
    assert_eq!((q["unit"]["amount"].as_i64(), q["total"]["amount"].as_i64()), (Some(600), Some(36_000)));
    assert_eq!(q["source"], json!({"kind": "price_list", "code": "trade-eur"}));
    let q = quote(&app, &owner, "sku=ROPE-1&qty=10").await;
    assert_eq!((q["unit"]["amount"].as_i64(), q["regular"]["amount"].as_i64()), (Some(900), Some(900)));
    assert_eq!(q["source"], json!({"kind": "regular"}));

    // Listings show the member's price too; search filters keep the channel's.
    let found: Value = app.get("/api/v1/storefront/search?q=rope", Some(&member)).await.json().await.unwrap();
    assert_eq!(found["items"][0]["price"]["amount"], 800);
    let found: Value = app.get("/api/v1/storefront/search?q=rope", None).await.json().await.unwrap();
    assert_eq!(found["items"][0]["price"]["amount"], 1000);
    // The product page, signed in by cookie.
    let html = app
        .client
        .get(app.url("/p/climbing-rope"))
        .header("cookie", format!("oxcart_account={member}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("8.00") && html.contains("10.00"), "member price and the regular one: {html}");

    // Leaving the group ends the list's prices at once.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/customer-groups/{group}/members/{member_id}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(variant(&app, Some(&member)).await["price"]["amount"], 1000);
    let groups: Value = app.get("/api/v1/customer-groups", Some(&owner)).await.json().await.unwrap();
    assert_eq!(groups[0]["members"], 0);
    app.stop().await;
}

async fn everyone_lists_apply_inside_their_window(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    rope(&app, &owner).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let body = |starts: i64| {
        json!({"code": "black-friday", "name": "Black Friday", "channel": "web", "starts_at": starts,
               "ends_at": starts + 86_400_000, "prices": [{"sku": "ROPE-1", "amount": 500}]})
    };
    let res = app.post_json("/api/v1/price-lists", Some(&owner), &body(now + 3_600_000)).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(variant(&app, None).await["price"]["amount"], 1000, "not started yet");
    // Moved to have started an hour ago: everyone gets it, no sign-in needed.
    let res = app.put_json(&format!("/api/v1/price-lists/{id}"), Some(&owner), &body(now - 3_600_000)).await;
    assert_eq!(res.status(), 200);
    let v = variant(&app, None).await;
    assert_eq!((v["price"]["amount"].as_i64(), v["price_list"].as_str()), (Some(500), Some("black-friday")));
    // Over already.
    let res = app.put_json(&format!("/api/v1/price-lists/{id}"), Some(&owner), &body(now - 90_000_000)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(variant(&app, None).await["price"]["amount"], 1000);
    let got: Value = app.get(&format!("/api/v1/price-lists/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(got["prices"], json!([{"sku": "ROPE-1", "min_qty": 1, "amount": 500}]));
    let res =
        app.client.delete(app.url(&format!("/api/v1/price-lists/{id}"))).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.count_rows("price_list_prices").await, 0);
    app.stop().await;
}

async fn bad_price_lists_are_refused_and_change_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    rope(&app, &owner).await;
    let res = app
        .post_json(
            "/api/v1/price-lists",
            Some(&owner),
            &json!({"code": "Bad Code", "name": "", "channel": "nope", "customer_group": "ghosts",
                    "starts_at": 10, "ends_at": 5,
                    "prices": [{"sku": "ROPE-1", "amount": -1}, {"sku": "ROPE-1", "amount": 5},
                               {"sku": "NOPE", "min_qty": 0, "amount": 5}]}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in [
        "code",
        "name",
        "channel",
        "customer_group",
        "ends_at",
        "prices[0].amount",
        "prices[1]",
        "prices[2].sku",
        "prices[2].min_qty",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert_eq!(app.count_rows("price_lists").await, 0);
    assert_eq!(app.count_rows("price_list_prices").await, 0);

    let ok = json!({"code": "vip", "name": "VIP", "channel": "web", "prices": [{"sku": "ROPE-1", "amount": 900}]});
    assert_eq!(app.post_json("/api/v1/price-lists", Some(&owner), &ok).await.status(), 201);
    assert_problem(app.post_json("/api/v1/price-lists", Some(&owner), &ok).await, 409, "price_list_code_taken").await;
    let (shopper, _) = customer(&app, "shopper@example.com").await;
    assert_eq!(app.post_json("/api/v1/price-lists", Some(&shopper), &ok).await.status(), 403);
    assert_eq!(app.get("/api/v1/price-lists", None).await.status(), 401);
    assert_eq!(app.put_json("/api/v1/price-lists/prl_nothing", Some(&owner), &ok).await.status(), 404);

    let res = app.post_json("/api/v1/customer-groups", Some(&owner), &json!({"code": "trade", "name": "Trade"})).await;
    let group = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            &format!("/api/v1/customer-groups/{group}/members"),
            Some(&owner),
            &json!({"customer_id": "cus_nobody"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(app.count_rows("customer_group_members").await, 0);
    let res = app.post_json("/api/v1/customer-groups", Some(&owner), &json!({"code": "trade", "name": "Again"})).await;
    assert_problem(res, 409, "group_code_taken").await;

    assert_problem(app.get("/api/v1/prices/quote?sku=ROPE-1&qty=0", Some(&owner)).await, 422, "validation_failed")
        .await;
    assert_eq!(app.get("/api/v1/prices/quote?sku=NOPE", Some(&owner)).await.status(), 404);
    assert_problem(app.get("/api/v1/prices/quote?sku=ROPE-1&colour=red", Some(&owner)).await, 400, "invalid_query")
        .await;
    // Another store's staff cannot see or price this store's lists.
    let other = app.foodbank_owner().await;
    let lists: Value = app.get("/s/foodbank/api/v1/price-lists", Some(&other)).await.json().await.unwrap();
    assert_eq!(lists, json!([]));
    app.stop().await;
}

async fn staff_manage_channels_groups_and_price_lists_through_pages(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    rope(&app, &owner).await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/pricing").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let (status, _) =
        post(&app, &cookie, "/admin/customer-groups", &[("_csrf", &csrf), ("code", "trade"), ("name", "Trade")]).await;
    assert_eq!(status, 303);
    let (status, _) = post(
        &app,
        &cookie,
        "/admin/channels",
        &[("_csrf", &csrf), ("code", "b2b"), ("name", "Trade portal"), ("currency", "usd")],
    )
    .await;
    assert_eq!(status, 303);
    let channels: Value = app.get("/api/v1/channels", Some(&owner)).await.json().await.unwrap();
    let b2b = channels.as_array().unwrap().iter().find(|c| c["code"] == "b2b").unwrap();
    assert_eq!((b2b["currency"].as_str(), b2b["prices_include_tax"].as_bool()), (Some("USD"), Some(false)));

    // A bad line and a bad date: shown on the page, nothing saved.
    let form = |prices: &str, starts: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("code", "trade-eur".to_string()),
            ("name", "Trade prices".to_string()),
            ("channel", "web".to_string()),
            ("customer_group", "trade".to_string()),
            ("starts_at", starts.to_string()),
            ("ends_at", String::new()),
            ("prices", prices.to_string()),
        ]
    };
    let bad = form("ROPE-1, 1, 7.999\nROPE-1", "tomorrow");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html) = post(&app, &cookie, "/admin/price-lists", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("line 1") && html.contains("line 2") && html.contains("starts_at"), "{html}");
    assert_eq!(app.count_rows("price_lists").await, 0);

    let good = form("ROPE-1, 1, 8.00\nROPE-1, 50, 6.00", "2026-01-01T00:00");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res =
        app.client.post(app.url("/admin/price-lists")).header("cookie", &cookie).form(&good).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let id = to.trim_start_matches("/admin/price-lists/").to_string();
    let list: Value = app.get(&format!("/api/v1/price-lists/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(list["customer_group"], "trade");
    assert_eq!(list["starts_at"], 1_767_225_600_000i64, "UTC midnight, 1 January 2026");
    assert_eq!(
        list["prices"],
        json!([{"sku": "ROPE-1", "min_qty": 1, "amount": 800}, {"sku": "ROPE-1", "min_qty": 50, "amount": 600}])
    );
    // The editor shows the list as typed, and saving it again changes nothing.
    let (_, edit) = page(&app, &cookie, &to).await;
    assert!(edit.contains("ROPE-1, 50, 6.00") && edit.contains("2026-01-01T00:00"), "{edit}");
    let (status, _) = post(&app, &cookie, &to, &good).await;
    assert_eq!(status, 303);
    assert_eq!(app.count_rows("price_list_prices").await, 2);
    // Forged tokens change nothing.
    let (status, _) =
        post(&app, &cookie, "/admin/customer-groups", &[("_csrf", "forged"), ("code", "x"), ("name", "X")]).await;
    assert_eq!(status, 403);
    app.stop().await;
}
