//! Digital goods through the HTTP server: files and licence keys on a
//! digital product, delivery once staff record the payment (signed links
//! that expire and count their uses, keys from the pool, never one key
//! for two orders), orders waiting for keys until the pool is refilled,
//! mixed orders, and refusals that change nothing.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};
use crate::orders::{add, base, catalog, checkout, contact, new_cart, stock};

crate::on_both_databases!(
    paying_delivers_signed_links_and_licence_keys,
    orders_wait_for_keys_and_no_key_is_given_twice,
    links_stop_at_expiry_and_mixed_orders_fulfil_in_steps,
    staff_add_files_and_keys_on_the_product_page,
);

const PDF: &[u8] = b"%PDF-1.4\n% a field guide\n";

/// A digital e-book (EBOOK-1, 9.90): its product id.
async fn ebook(app: &TestApp, owner: &str, sku: &str) -> String {
    let body = json!({
        "kind": "digital", "status": "published", "texts": {"en": {"name": format!("Field guide {sku}")}},
        "variants": [{"sku": sku, "prices": [{"channel": "web", "amount": 990}]}]
    });
    let res = app.post_json("/api/v1/products", Some(owner), &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn upload(app: &TestApp, owner: &str, product: &str, query: &str, bytes: &[u8]) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/products/{product}/files?{query}")))
        .bearer_auth(owner)
        .header("content-type", "application/pdf")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

async fn add_keys(app: &TestApp, owner: &str, product: &str, keys: &[&str]) -> reqwest::Response {
    app.post_json(&format!("/api/v1/products/{product}/licence-keys"), Some(owner), &json!({ "keys": keys })).await
}

/// Places a guest order: (id, order token).
async fn order(app: &TestApp, lines: &[(&str, i64)]) -> (String, String) {
    let cart = new_cart(app, &base(app)).await;
    for (sku, n) in lines {
        assert_eq!(add(app, &cart, sku, *n).await.status(), 200);
    }
    contact(app, &cart).await;
    let res = checkout(&base(app), &cart, None).await;
    assert_eq!(res.status(), 201);
    let o: Value = res.json().await.unwrap();
    (o["id"].as_str().unwrap().to_string(), o["access_token"].as_str().unwrap().to_string())
}

async fn pay(app: &TestApp, owner: &str, id: &str, key: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/orders/{id}/payment-received")))
        .bearer_auth(owner)
        .json(&json!({"reference": "BANK-4711"}));
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn guest_view(app: &TestApp, id: &str, token: &str) -> Value {
    let res =
        app.client.get(app.url(&format!("/api/v1/orders/{id}"))).header("order-token", token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn paying_delivers_signed_links_and_licence_keys(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let product = ebook(&app, &owner, "EBOOK-1").await;

    // Files and keys belong to digital products, and bad ones change nothing.
    let res = upload(&app, &owner, &product, "file_name=guide.pdf&max_downloads=2&valid_days=7", PDF).await;
    assert_eq!(res.status(), 201);
    let file: Value = res.json().await.unwrap();
    assert_eq!((file["byte_size"].as_i64(), file["max_downloads"].as_i64()), (Some(PDF.len() as i64), Some(2)));
    let mug = json!({"kind": "physical", "status": "draft", "texts": {"en": {"name": "Mug"}},
        "variants": [{"sku": "MUG-1", "prices": [{"channel": "web", "amount": 500}]}]});
    let mug: Value = app.post_json("/api/v1/products", Some(&owner), &mug).await.json().await.unwrap();
    let mug = mug["id"].as_str().unwrap();
    assert_problem(upload(&app, &owner, mug, "file_name=x.pdf", PDF).await, 409, "not_digital").await;
    for bad in
        ["file_name=guide.pdf&max_downloads=0", "file_name=../x.pdf", "file_name=", "file_name=a.pdf&valid_days=0"]
    {
        assert_problem(upload(&app, &owner, &product, bad, PDF).await, 422, "validation_failed").await;
    }
    assert_problem(upload(&app, &owner, &product, "file_name=empty.pdf", b"").await, 422, "validation_failed").await;
    assert_eq!(app.count_rows("digital_files").await, 1);

    assert_eq!(add_keys(&app, &owner, &product, &["KEY-AAA", " KEY-BBB "]).await.status(), 201);
    for bad in [vec![], vec!["KEY-CCC", "KEY-CCC"], vec!["KEY-DDD", "KEY-AAA"], vec!["bad\u{7}key"]] {
        assert_problem(add_keys(&app, &owner, &product, &bad).await, 422, "validation_failed").await;
    }
    let pool: Value =
        app.get(&format!("/api/v1/products/{product}/licence-keys"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((pool["available"].as_i64(), pool["handed_out"].as_i64()), (Some(2), Some(0)), "{pool}");
    let stored = app.raw_database().await;
    assert!(!stored.windows(7).any(|w| w == b"KEY-AAA"), "licence keys are sealed at rest");

    // Unpaid: nothing delivered, and fulfilling by hand is refused.
    let (id, token) = order(&app, &[("EBOOK-1", 1)]).await;
    let seen = guest_view(&app, &id, &token).await;
    assert_eq!((seen["downloads"].clone(), seen["licence_keys"].clone()), (json!([]), json!([])));
    let page = |app: &TestApp| {
        let req =
            app.client.get(app.url(&format!("/orders/{id}"))).header("cookie", format!("oxcart_order={id}.{token}"));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(&app).await.contains("id=\"downloads-pending\""), "the order page says what comes once paid");
    let confirm_first = app.post_json(&format!("/api/v1/orders/{id}/fulfil"), Some(&owner), &json!({})).await;
    assert_eq!(confirm_first.status(), 409);
    let res = app.client.post(app.url(&format!("/api/v1/orders/{id}/payment-received"))).json(&json!({})).send().await;
    assert_eq!(res.unwrap().status(), 401, "only staff record payments");
    let res = app
        .post_json(
            &format!("/api/v1/orders/{id}/payment-received"),
            Some(&owner),
            &json!({"reference": "x".repeat(201)}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;

    // Paid: confirmed, delivered (links and a key) and fulfilled in one step.
    let res = pay(&app, &owner, &id, Some("pay-1")).await;
    assert_eq!(res.status(), 200);
    let paid: Value = res.json().await.unwrap();
    assert_eq!((paid["payment_status"].as_str(), paid["status"].as_str()), (Some("paid"), Some("fulfilled")), "{paid}");
    assert_eq!(paid["reserved_until"], Value::Null);
    assert_eq!(paid["licence_keys"], json!([{"sku": "EBOOK-1", "key": "KEY-AAA"}]));
    assert_eq!(paid["downloads"].as_array().unwrap().len(), 1);
    assert_eq!(paid["downloads"][0]["downloads_left"], 2);
    let history: Vec<&str> = paid["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert!(history.contains(&"payment"), "{history:?}");
    let retry = pay(&app, &owner, &id, Some("pay-1")).await;
    assert_eq!((retry.status().as_u16(), retry.headers()["idempotency-replayed"].to_str().unwrap()), (200, "true"));
    assert_problem(pay(&app, &owner, &id, None).await, 409, "not_unpaid").await;
    let stored = app.raw_database().await;
    assert!(!stored.windows(7).any(|w| w == b"KEY-AAA"), "the stored answer for the retry is sealed too");
    assert!(!stored.windows(15).any(|w| w == b"ana@example.com"), "so is the buyer's e-mail in it");
    let pool: Value =
        app.get(&format!("/api/v1/products/{product}/licence-keys"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(
        (pool["available"].as_i64(), pool["handed_out"].as_i64()),
        (Some(1), Some(1)),
        "a retry hands out no key"
    );

    // The buyer's order page links the file and shows the key.
    let html = page(&app).await;
    let href = paid["downloads"][0]["url"].as_str().unwrap().replace('&', "&#38;");
    assert!(html.contains(&href) && html.contains("KEY-AAA"), "{html}");

    // The link works twice, then is used up; altered links are unknown.
    let url = paid["downloads"][0]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/downloads/dlg_"), "{url}");
    let first = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers()["content-disposition"].to_str().unwrap().contains("guide.pdf"));
    assert_eq!(first.headers()["content-type"], "application/pdf");
    assert_eq!(first.bytes().await.unwrap().as_ref(), PDF);
    let tampered_sig = format!("{}0", &url[..url.len() - 1]).replace("sig=", "sig=f");
    let later = url.replace("expires=", "expires=9");
    for bad in [tampered_sig, later, url.split('?').next().unwrap().to_string()] {
        assert_eq!(app.client.get(app.url(&bad)).send().await.unwrap().status(), 404, "{bad}");
    }
    assert_eq!(app.client.get(app.url(&url)).send().await.unwrap().status(), 200);
    assert_problem(app.client.get(app.url(&url)).send().await.unwrap(), 410, "download_limit_reached").await;
    assert_eq!(guest_view(&app, &id, &token).await["downloads"][0]["downloads_left"], 0);

    // Staff renew the links: the count starts again and the old address is over.
    let renew = format!("/api/v1/orders/{id}/downloads/renew");
    let ana = app.login("", "customer", "ana@customers.example").await;
    assert_eq!(app.post_json(&renew, Some(&ana), &json!({})).await.status(), 403);
    let res = app.post_json(&renew, Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 200);
    let renewed: Value = res.json().await.unwrap();
    assert_eq!(renewed["downloads"][0]["downloads_left"], 2);
    let fresh = renewed["downloads"][0]["url"].as_str().unwrap().to_string();
    assert_ne!(fresh, url);
    assert_problem(app.client.get(app.url(&url)).send().await.unwrap(), 410, "download_expired").await;
    assert_eq!(app.client.get(app.url(&fresh)).send().await.unwrap().status(), 200);

    // The buyer got the link and key by e-mail, in full.
    let mail = app.mailbox("outfitters", 2).await;
    let delivery = mail.iter().find(|m| m.contains("Your downloads")).expect("a delivery e-mail");
    assert!(delivery.contains("KEY-AAA") && delivery.contains(&url), "{delivery}");

    // A file with live links cannot be removed.
    let path = format!("/api/v1/products/{product}/files/{}", file["id"].as_str().unwrap());
    let res = app.client.delete(app.url(&path)).bearer_auth(&owner).send().await.unwrap();
    assert_problem(res, 409, "file_in_use").await;
    assert_eq!(app.count_rows("digital_files").await, 1);
    // Once the renewed link is used up too, it may go.
    assert_eq!(app.client.get(app.url(&fresh)).send().await.unwrap().status(), 200);
    let res = app.client.delete(app.url(&path)).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.count_rows("digital_files").await, 0);
    let renewal = app.mailbox("outfitters", 3).await;
    assert!(renewal.iter().any(|m| m.contains(&fresh)), "the buyer gets the renewed link");
}

async fn orders_wait_for_keys_and_no_key_is_given_twice(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let product = ebook(&app, &owner, "EBOOK-2").await;
    assert_eq!(add_keys(&app, &owner, &product, &["K-1"]).await.status(), 201);

    // Two keys owed, one in the pool: the order waits for the second.
    let (id, token) = order(&app, &[("EBOOK-2", 2)]).await;
    let paid: Value = pay(&app, &owner, &id, None).await.json().await.unwrap();
    assert_eq!(paid["status"], "confirmed", "{paid}");
    assert_eq!(paid["licence_keys"].as_array().unwrap().len(), 1);
    assert_eq!(paid["lines"][0]["shipped"], 0);
    let events: Value = app.get("/api/v1/events?limit=200", Some(&owner)).await.json().await.unwrap();
    let exhausted = events.as_array().unwrap().iter().find(|e| e["type"] == "licence_keys.exhausted");
    assert!(exhausted.is_some_and(|e| e.to_string().contains(&id)), "{events}");

    // Refilling the pool serves the waiting order first.
    assert_eq!(add_keys(&app, &owner, &product, &["K-2", "K-3"]).await.status(), 201);
    let seen = guest_view(&app, &id, &token).await;
    let keys: Vec<&str> = seen["licence_keys"].as_array().unwrap().iter().map(|k| k["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["K-1", "K-2"]);
    assert_eq!(seen["status"], "fulfilled");

    // Two orders paid at once for the last key: exactly one gets it.
    let (a, _) = order(&app, &[("EBOOK-2", 1)]).await;
    let (c, _) = order(&app, &[("EBOOK-2", 1)]).await;
    let (ra, rc) = tokio::join!(pay(&app, &owner, &a, None), pay(&app, &owner, &c, None));
    let (va, vc): (Value, Value) = (ra.json().await.unwrap(), rc.json().await.unwrap());
    let given: Vec<&Value> = [&va, &vc].iter().flat_map(|v| v["licence_keys"].as_array().unwrap()).collect();
    assert_eq!(given.len(), 1, "{va} {vc}");
    assert_eq!(given[0]["key"], "K-3");
    let pool: Value =
        app.get(&format!("/api/v1/products/{product}/licence-keys"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((pool["available"].as_i64(), pool["handed_out"].as_i64()), (Some(0), Some(3)));
}

async fn links_stop_at_expiry_and_mixed_orders_fulfil_in_steps(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    stock(&app, &owner, 3).await;
    let product = ebook(&app, &owner, "EBOOK-3").await;
    assert_eq!(upload(&app, &owner, &product, "file_name=guide.pdf", PDF).await.status(), 201);

    // Staff confirm first; payment then delivers the e-book, the tent waits.
    let (id, _) = order(&app, &[("TENT-S", 1), ("EBOOK-3", 1)]).await;
    let res =
        app.post_json(&format!("/api/v1/orders/{id}/status"), Some(&owner), &json!({"status": "confirmed"})).await;
    assert_eq!(res.status(), 200);
    let paid: Value = pay(&app, &owner, &id, None).await.json().await.unwrap();
    assert_eq!(paid["status"], "partially_fulfilled", "{paid}");
    let shipped: Vec<i64> = paid["lines"].as_array().unwrap().iter().map(|l| l["shipped"].as_i64().unwrap()).collect();
    assert_eq!(shipped, vec![0, 1]);
    let shipment = json!({"location": "berlin", "tracking_number": "TRK-9"});
    let res = app.post_json(&format!("/api/v1/orders/{id}/shipments"), Some(&owner), &shipment).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "fulfilled");

    // A link past its expiry is gone; the live one still works.
    let url = paid["downloads"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(app.client.get(app.url(&url)).send().await.unwrap().status(), 200);
    app.raw_sql(&format!("UPDATE download_grants SET expires_at = 1 WHERE order_id = '{id}'")).await.unwrap();
    assert_problem(app.client.get(app.url(&url)).send().await.unwrap(), 410, "download_expired").await;

    // Paid while on hold: delivered when it resumes, not before.
    let (held, _) = order(&app, &[("EBOOK-3", 1)]).await;
    for status in ["confirmed", "on_hold"] {
        let res =
            app.post_json(&format!("/api/v1/orders/{held}/status"), Some(&owner), &json!({ "status": status })).await;
        assert_eq!(res.status(), 200, "{status}");
    }
    let paid: Value = pay(&app, &owner, &held, None).await.json().await.unwrap();
    assert_eq!((paid["status"].as_str(), paid["downloads"].as_array().map(Vec::len)), (Some("on_hold"), Some(0)));
    let res =
        app.post_json(&format!("/api/v1/orders/{held}/status"), Some(&owner), &json!({"status": "confirmed"})).await;
    let resumed: Value = res.json().await.unwrap();
    assert_eq!(
        (resumed["status"].as_str(), resumed["downloads"].as_array().map(Vec::len)),
        (Some("fulfilled"), Some(1))
    );

    // Paid before the product had anything to deliver: it waits for the first file.
    let empty = ebook(&app, &owner, "EBOOK-5").await;
    let (early, early_token) = order(&app, &[("EBOOK-5", 1)]).await;
    let paid: Value = pay(&app, &owner, &early, None).await.json().await.unwrap();
    assert_eq!((paid["status"].as_str(), paid["lines"][0]["shipped"].as_i64()), (Some("confirmed"), Some(0)));
    assert_eq!(upload(&app, &owner, &empty, "file_name=late.pdf", PDF).await.status(), 201);
    let seen = guest_view(&app, &early, &early_token).await;
    assert_eq!(
        (seen["status"].as_str(), seen["downloads"][0]["file_name"].as_str()),
        (Some("fulfilled"), Some("late.pdf"))
    );

    // Cancelled unpaid orders take no payment.
    let (other, _) = order(&app, &[("EBOOK-3", 1)]).await;
    let res =
        app.post_json(&format!("/api/v1/orders/{other}/status"), Some(&owner), &json!({"status": "cancelled"})).await;
    assert_eq!(res.status(), 200);
    assert_problem(pay(&app, &owner, &other, None).await, 409, "order_cancelled").await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM download_grants").await, 3);
}

async fn staff_add_files_and_keys_on_the_product_page(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let product = ebook(&app, &owner, "EBOOK-4").await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let editor = format!("/admin/products/{product}");
    let (status, html) = page(&app, &cookie, &editor).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"key-pool\">0 keys available"), "{html}");
    let csrf = field(&html, "_csrf");

    let send = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let cookie = cookie.clone();
        let path = format!("{editor}/files");
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (ct, body) = crate::admin_catalog::multipart(&pairs, "route notes");
            let res = app.client.post(app.url(&path)).header("cookie", cookie).header("content-type", ct).body(body);
            res.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(send(vec![("_csrf", "forged".into())]).await, 403);
    assert_eq!(send(vec![("_csrf", csrf.clone()), ("max_downloads", "0".into())]).await, 422);
    assert_eq!(app.count_rows("digital_files").await, 0);
    assert_eq!(send(vec![("_csrf", csrf.clone()), ("max_downloads", "3".into())]).await, 303);
    let files: Value = app.get(&format!("/api/v1/products/{product}/files"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((files[0]["file_name"].as_str(), files[0]["max_downloads"].as_i64()), (Some("in.csv"), Some(3)));

    let keys = format!("{editor}/licence-keys");
    assert_eq!(post(&app, &cookie, &keys, &[("_csrf", &csrf), ("keys", "A-1\n\n A-2 \n")]).await.0, 303);
    let (status, html) = post(&app, &cookie, &keys, &[("_csrf", &csrf), ("keys", "A-3\nA-1")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("the pool already has this key"), "{html}");
    let (_, html) = page(&app, &cookie, &editor).await;
    assert!(html.contains("id=\"key-pool\">2 keys available"), "all or nothing: {html}");
}
