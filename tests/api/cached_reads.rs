//! Storefront reads served from the read cache stay correct: a change shows
//! on the node that made it at once and on another node soon after, and
//! rules that depend on the clock (publishing windows, sales) apply to
//! cached pages and listings without any write. And the planner
//! statistics that keep uncached reads on their indexes are gathered.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn};

crate::on_both_databases!(
    product_pages_follow_changes_here_and_on_other_nodes,
    clock_rules_apply_to_cached_pages,
    cached_listings_show_saves_at_once,
    planner_statistics_are_gathered,
);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn product(sku: &str, name: &str, price: Value) -> Value {
    json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": name, "slug": sku.to_lowercase()}},
        "variants": [{"sku": sku, "prices": [price]}]
    })
}

async fn create(app: &TestApp, owner: &str, body: &Value) -> String {
    let res = app.post_json("/api/v1/products", Some(owner), body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn page(base: &str, path: &str) -> (u16, String) {
    let res = reqwest::get(format!("{base}{path}")).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Polls until the page shows `text` (another node follows the event log
/// about once a second).
async fn wait_for_page(base: &str, path: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, html) = page(base, path).await;
        if status == 200 && html.contains(text) {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never showed {text:?}; last: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn product_pages_follow_changes_here_and_on_other_nodes(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let body = product("CACHE-1", "Trail lantern", json!({"channel": "web", "amount": 2500}));
    let id = create(&app, &owner, &body).await;
    let node2 = app.second_node().await;
    let base2 = format!("http://{}", node2.addr);
    // Both nodes read the page (and keep it).
    for base in [&app.base, &base2] {
        let (status, html) = page(base, "/p/cache-1").await;
        assert_eq!(status, 200);
        assert!(html.contains("Trail lantern") && html.contains("25.00"), "{html}");
    }
    // Renamed and repriced on node 1: node 1 shows it on the next request.
    let changed = product("CACHE-1", "Storm lantern", json!({"channel": "web", "amount": 3100}));
    let res = app.put_json(&format!("/api/v1/products/{id}"), Some(&owner), &changed).await;
    assert_eq!(res.status(), 200);
    let (_, html) = page(&app.base, "/p/cache-1").await;
    assert!(html.contains("Storm lantern") && html.contains("31.00") && !html.contains("Trail lantern"), "{html}");
    let api: Value = app.get("/api/v1/storefront/products/cache-1", None).await.json().await.unwrap();
    assert_eq!(api["name"], "Storm lantern");
    // Node 2 learns of it from the event log.
    wait_for_page(&base2, "/p/cache-1", "Storm lantern").await;
    // Archived on node 2: gone on node 2 at once, and on node 1 soon.
    let mut archived = changed.clone();
    archived["status"] = json!("archived");
    let res = reqwest::Client::new()
        .put(format!("{base2}/api/v1/products/{id}"))
        .bearer_auth(&owner)
        .json(&archived)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(page(&base2, "/p/cache-1").await.0, 404);
    let deadline = Instant::now() + Duration::from_secs(15);
    while page(&app.base, "/p/cache-1").await.0 != 404 {
        assert!(Instant::now() < deadline, "node 1 still shows an archived product");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A slug that was unknown (and remembered as such) appears once created.
    assert_eq!(page(&app.base, "/p/cache-2").await.0, 404);
    create(&app, &owner, &product("CACHE-2", "Camp mug", json!({"channel": "web", "amount": 900}))).await;
    let (status, html) = page(&app.base, "/p/cache-2").await;
    assert_eq!(status, 200);
    assert!(html.contains("Camp mug"));
    node2.stop().await;
}

async fn clock_rules_apply_to_cached_pages(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let now = now_ms();
    // On sale from 1.5 s from now; taken off the shelf 3 s from now.
    let sale = json!({"channel": "web", "amount": 5000, "sale_amount": 4000, "sale_starts_at": now + 1_500});
    let mut body = product("CLOCK-1", "Hourglass", sale);
    body["unpublish_at"] = json!(now + 3_000);
    create(&app, &owner, &body).await;
    let (status, html) = page(&app.base, "/p/clock-1").await;
    assert_eq!(status, 200);
    assert!(html.contains("50.00") && !html.contains("40.00"), "before the sale: {html}");
    let listed: Value = app.get("/api/v1/storefront/search?q=hourglass", None).await.json().await.unwrap();
    assert_eq!(listed["total"], 1);
    // No write happens from here on: the cached page must follow the clock.
    tokio::time::sleep(Duration::from_millis(1_700)).await;
    let (status, html) = page(&app.base, "/p/clock-1").await;
    assert_eq!(status, 200);
    assert!(html.contains("40.00"), "the sale has started: {html}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(page(&app.base, "/p/clock-1").await.0, 404, "unpublished on schedule");
    let res: Value = app.get("/api/v1/storefront/search?q=hourglass", None).await.json().await.unwrap();
    assert_eq!(res["total"], 0, "listings follow the schedule too: {res}");
}

async fn cached_listings_show_saves_at_once(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    create(&app, &owner, &product("LIST-1", "Granite kettle", json!({"channel": "web", "amount": 1500}))).await;
    let first: Value = app.get("/api/v1/storefront/search?q=kettle", None).await.json().await.unwrap();
    assert_eq!(first["total"], 1);
    // Asked again (a cache hit): the same answer.
    let again: Value = app.get("/api/v1/storefront/search?q=kettle", None).await.json().await.unwrap();
    assert_eq!(first, again);
    // A save on this node is indexed before it answers, and a cached
    // listing never hides it.
    create(&app, &owner, &product("LIST-2", "Copper kettle", json!({"channel": "web", "amount": 1700}))).await;
    let after: Value = app.get("/api/v1/storefront/search?q=kettle", None).await.json().await.unwrap();
    assert_eq!(after["total"], 2, "{after}");
    let html = app.get("/search?q=kettle", None).await.text().await.unwrap();
    assert!(html.contains("Copper kettle") && html.contains("Granite kettle"), "{html}");
}

async fn planner_statistics_are_gathered(b: Backend) {
    let app = spawn(b).await;
    // A bulk load ends by gathering them.
    let out = app.oxcart_cli(&["demo", "--products", "30"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sql = match b {
        Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'prices'",
        Backend::Postgres => "SELECT COUNT(*) FROM pg_stats WHERE tablename = 'prices'",
    };
    assert!(app.scalar(sql).await > 0, "no planner statistics for prices");
}
