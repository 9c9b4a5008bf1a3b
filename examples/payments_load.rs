//! Load generator for card payments (see `bench/payments.sh`). Against a
//! running demo server it:
//! 1. adds a product (€10.00) with plenty of stock and has every client
//!    check out ORDERS guest orders of it (not timed);
//! 2. has every client pay its orders, one after the other, each in full
//!    with the test card processor: authorise + capture on order + journal
//!    posting + the order paid and confirmed (history, events, the
//!    confirmation e-mail queued), each payment answered only once durable
//!    and sent with its own `Idempotency-Key`.
//!
//! A payment counts when it answers 201 with status `captured`; the rate is
//! payments over the wall time of step 2.
//! Usage: cargo run --release --example payments_load -- BASE_URL [ORDERS] [CLIENTS]

use std::time::Instant;

use serde_json::{Value, json};

async fn post(c: &reqwest::Client, url: String, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = c.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(res) => (res.status().as_u16(), res.json().await.unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    }
}

/// A guest order of one BENCH-PAY: (id, order token).
async fn order(c: &reqwest::Client, base: &str) -> (String, String) {
    let (s, cart) = post(c, format!("{base}/api/v1/carts"), None, &json!({})).await;
    assert_eq!(s, 201, "cart");
    let id = cart["cart"]["id"].as_str().unwrap().to_string();
    let token = cart["token"].as_str().unwrap().to_string();
    let put = |path: String, body: Value| {
        let req = c.put(format!("{base}{path}")).header("cart-token", &token).json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(format!("/api/v1/carts/{id}/lines/BENCH-PAY"), json!({"quantity": 1})).await, 200);
    let contact = json!({"email": "payer@example.com", "shipping_address": {
        "name": "Pay Load", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}});
    assert_eq!(put(format!("/api/v1/carts/{id}/contact"), contact).await, 200);
    let res = c.post(format!("{base}/api/v1/carts/{id}/checkout")).header("cart-token", &token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 201, "checkout");
    let o: Value = res.json().await.unwrap();
    (o["id"].as_str().unwrap().to_string(), o["access_token"].as_str().unwrap().to_string())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:18083".into());
    let per_client: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(32);
    let c = reqwest::Client::builder().pool_max_idle_per_host(clients * 2).build().unwrap();

    let login = json!({"email": "admin@outfitters.example", "password": "oxcart-demo-2026", "audience": "staff"});
    let (_, body) = post(&c, format!("{base}/api/v1/auth/login"), None, &login).await;
    let owner = body["token"].as_str().expect("owner login").to_string();
    let product = json!({"kind": "physical", "status": "published", "texts": {"en": {"name": "Bench payment"}},
        "variants": [{"sku": "BENCH-PAY", "prices": [{"channel": "web", "amount": 1000}]}]});
    let (s, _) = post(&c, format!("{base}/api/v1/products"), Some(&owner), &product).await;
    assert!(s == 201 || s == 409, "product: {s}");
    let loc = json!({"code": "bench", "name": "Bench", "country": "DE"});
    post(&c, format!("{base}/api/v1/stock-locations"), Some(&owner), &loc).await;
    let units = i64::try_from(clients * per_client).unwrap() + 1000;
    let stock = json!({"lines": [{"sku": "BENCH-PAY", "location": "bench", "delta": units, "reason": "received"}]});
    let (s, _) = post(&c, format!("{base}/api/v1/stock-adjustments"), Some(&owner), &stock).await;
    assert_eq!(s, 201, "stock");
    let prepared = std::time::Instant::now();
    let mut makers = Vec::new();
    for _ in 0..clients {
        let (c, base) = (c.clone(), base.clone());
        makers.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                mine.push(order(&c, &base).await);
            }
            mine
        }));
    }
    let mut orders = Vec::new();
    for m in makers {
        orders.push(m.await.unwrap());
    }
    println!("prepared {} orders in {:.1} s", clients * per_client, prepared.elapsed().as_secs_f64());

    let before = writer(&c, &base).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, mine) in orders.into_iter().enumerate() {
        let (c, base) = (c.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            let body = json!({"method": "test_card", "card":
                {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}});
            for (i, (order, token)) in mine.into_iter().enumerate() {
                let t = Instant::now();
                let res = c
                    .post(format!("{base}/api/v1/orders/{order}/payments"))
                    .header("order-token", &token)
                    .header("idempotency-key", format!("bench-{n}-{i}"))
                    .json(&body)
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        r.json::<Value>().await.is_ok_and(|p| p["status"] == "captured")
                    }
                    _ => false,
                };
                if ok { lat.push(t.elapsed()) } else { failed += 1 }
            }
            (lat, failed)
        }));
    }
    let (mut lat, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        lat.extend(l);
        failed += f;
    }
    let wall = started.elapsed();
    let after = writer(&c, &base).await;
    lat.sort();
    let n = lat.len();
    let pct = |p: f64| lat.get(((n as f64 * p) as usize).min(n.saturating_sub(1))).copied().unwrap_or_default();
    println!(
        "captured card payments: {n} ok, {failed} failed in {:.1} s = {:.0}/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    if let (Some(b), Some(a)) = (before, after) {
        let d = |i: usize| a[i] - b[i];
        println!(
            "SQLite writer while paying: {:.0} transactions ({:.2} a payment) in {:.0} batches; held {:.2} s of {:.2} s \
             ({:.2} ms a payment), of which COMMIT {:.2} s",
            d(0),
            d(0) / n.max(1) as f64,
            d(1),
            d(2),
            wall.as_secs_f64(),
            d(2) * 1e3 / n.max(1) as f64,
            d(3),
        );
    }
}

/// The SQLite writer's counters from `/metrics` (transactions, batches,
/// busy seconds, commit seconds); None on PostgreSQL.
async fn writer(c: &reqwest::Client, base: &str) -> Option<[f64; 4]> {
    let text = c.get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
    let names = ["transactions", "batches", "busy_seconds", "commit_seconds"];
    let mut out = [0.0; 4];
    for (i, name) in names.iter().enumerate() {
        let line = text.lines().find(|l| l.starts_with(&format!("db_writer_{name}_total ")))?;
        out[i] = line.split_whitespace().nth(1)?.parse().ok()?;
    }
    Some(out)
}
