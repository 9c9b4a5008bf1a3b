//! Load generator for checkout (see `bench/checkout.sh`). Against a running
//! demo server with a generated catalog it:
//! 1. tops up stock of the generated SKUs (so no order fails for stock),
//! 2. prepares carts of 3 random lines with an address (not timed), then
//!    places them from `clients` concurrent clients: "checkout only";
//! 3. runs the whole customer flow over HTTP (create cart, add 3 lines,
//!    set address, place) from `clients` concurrent clients: "full flow".
//!
//! Every non-2xx answer counts as a failure. Latencies are per request
//! (checkout) or per whole flow.
//!
//! With `crash FILE` after the arguments it only runs the full flow,
//! appending the id of every order it got a 201 for to FILE (flushed at
//! once), for a crash test: kill the server meanwhile, restart it, and check
//! every listed order is there (`bench/checkout.sh` does).
//!
//! Usage: cargo run --release --example checkout_load -- BASE_URL [SECONDS] [CLIENTS] [crash FILE]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

type Client = reqwest::Client;

async fn post(c: &Client, url: String, token: Option<&str>, body: &Value, cart: Option<&str>) -> (u16, Value) {
    let mut req = c.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(t) = cart {
        req = req.header("cart-token", t);
    }
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn put(c: &Client, url: String, body: &Value, cart: &str) -> u16 {
    match c.put(url).header("cart-token", cart).json(body).send().await {
        Ok(res) => {
            let s = res.status().as_u16();
            let _ = res.bytes().await;
            s
        }
        Err(_) => 0,
    }
}

/// The generated catalog's SKUs.
async fn skus(c: &Client, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut url = format!("{base}/api/v1/storefront/search?q=&limit=100&sort=newest");
        if let Some(cur) = &cursor {
            url.push_str(&format!("&cursor={cur}"));
        }
        let page: Value = c.get(url).send().await.unwrap().json().await.unwrap();
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            let slug = item["slug"].as_str().unwrap_or_default();
            let p: Value =
                c.get(format!("{base}/api/v1/storefront/products/{slug}")).send().await.unwrap().json().await.unwrap();
            for v in p["variants"].as_array().cloned().unwrap_or_default() {
                if let Some(s) = v["sku"].as_str().filter(|s| s.starts_with("GEN-")) {
                    out.push(s.to_string());
                }
            }
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    out
}

fn address() -> Value {
    json!({"email": "load@example.com", "shipping_address": {
        "name": "Load Test", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}})
}

/// Creates a cart with 3 random lines and an address: (id, token), or None on a failure.
async fn fill_cart(c: &Client, base: &str, skus: &[String]) -> Option<(String, String)> {
    let (status, body) = post(c, format!("{base}/api/v1/carts"), None, &json!({}), None).await;
    if status != 201 {
        return None;
    }
    let id = body["cart"]["id"].as_str()?.to_string();
    let token = body["token"].as_str()?.to_string();
    let picks: Vec<String> = {
        let mut rng = rand::rng();
        (0..3).map(|_| skus[rng.random_range(0..skus.len())].clone()).collect()
    };
    for sku in picks {
        if put(c, format!("{base}/api/v1/carts/{id}/lines/{sku}"), &json!({"quantity": 1}), &token).await != 200 {
            return None;
        }
    }
    if put(c, format!("{base}/api/v1/carts/{id}/contact"), &address(), &token).await != 200 {
        return None;
    }
    Some((id, token))
}

/// Places the cart's order: its id, or None on a failure.
async fn checkout(c: &Client, base: &str, cart: &(String, String)) -> Option<String> {
    let key = format!("load-{}", cart.0);
    let res = c
        .post(format!("{base}/api/v1/carts/{}/checkout", cart.0))
        .header("cart-token", &cart.1)
        .header("idempotency-key", key)
        .send()
        .await
        .ok()?;
    if res.status().as_u16() != 201 {
        return None;
    }
    let body: Value = res.json().await.ok()?;
    body["id"].as_str().map(str::to_string)
}

/// Full flows until `deadline`, appending each acknowledged order id to `file`.
async fn crash_run(base: String, skus: Arc<Vec<String>>, clients: usize, seconds: u64, file: String) {
    use std::io::Write;
    let out = Arc::new(std::sync::Mutex::new(std::fs::File::create(&file).expect("crash file")));
    let c = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, skus, out) = (c.clone(), base.clone(), skus.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0usize, 0usize);
            while Instant::now() < deadline {
                let placed = match fill_cart(&c, &base, &skus).await {
                    Some(cart) => checkout(&c, &base, &cart).await,
                    None => None,
                };
                match placed {
                    Some(id) => {
                        let mut f = out.lock().unwrap();
                        writeln!(f, "{id}").unwrap();
                        f.flush().unwrap();
                        ok += 1;
                    }
                    None => {
                        failed += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            (ok, failed)
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        let (o, f) = t.await.unwrap();
        ok += o;
        failed += f;
    }
    println!("crash run: {ok} orders acknowledged, {failed} attempts failed (the server was killed)");
}

fn report(name: &str, mut latencies: Vec<Duration>, failures: usize, wall: Duration) {
    latencies.sort();
    let n = latencies.len();
    let pct = |p: f64| latencies.get(((n as f64 * p) as usize).min(n.saturating_sub(1))).copied().unwrap_or_default();
    println!(
        "{name}: {n} ok, {failures} failed in {:.1} s = {:.0}/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:18082".into());
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(32);
    let c = reqwest::Client::builder().pool_max_idle_per_host(clients * 2).build().unwrap();

    let login = json!({"email": "admin@outfitters.example", "password": "oxcart-demo-2026", "audience": "staff"});
    let (_, body) = post(&c, format!("{base}/api/v1/auth/login"), None, &login, None).await;
    let owner = body["token"].as_str().expect("owner login").to_string();
    let skus = Arc::new(skus(&c, &base).await);
    assert!(!skus.is_empty(), "no generated SKUs: run `oxcart demo --products N` first");
    if args.get(4).map(String::as_str) == Some("crash") {
        // Stock was topped up by the measured phases before.
        let file = args.get(5).cloned().expect("crash FILE");
        crash_run(base, skus, clients, seconds, file).await;
        return;
    }
    for chunk in skus.chunks(500) {
        let lines: Vec<Value> = chunk
            .iter()
            .map(|s| json!({"sku": s, "location": "main", "delta": 100_000, "reason": "received"}))
            .collect();
        let (status, _) =
            post(&c, format!("{base}/api/v1/stock-adjustments"), Some(&owner), &json!({"lines": lines}), None).await;
        assert_eq!(status, 201, "stock top-up");
    }
    println!("{} SKUs, stock topped up; {clients} clients, {seconds} s per phase", skus.len());

    // Checkout only: carts prepared first (enough for the phase at 3,000/s).
    let wanted = (seconds as usize * 3_000).min(60_000);
    let carts = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(wanted)));
    let made = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, skus, carts, made) = (c.clone(), base.clone(), skus.clone(), carts.clone(), made.clone());
        tasks.push(tokio::spawn(async move {
            while made.fetch_add(1, Ordering::Relaxed) < wanted {
                if let Some(cart) = fill_cart(&c, &base, &skus).await {
                    carts.lock().await.push(cart);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let carts = Arc::new(std::mem::take(&mut *carts.lock().await));
    println!("prepared {} carts", carts.len());
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, carts, next) = (c.clone(), base.clone(), carts.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(cart) = carts.get(i) else { break };
                let t = Instant::now();
                if checkout(&c, &base, cart).await.is_some() { lat.push(t.elapsed()) } else { failed += 1 }
            }
            (lat, failed)
        }));
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        all.extend(l);
        failed += f;
    }
    report("checkout only (3 lines)", all, failed, started.elapsed());

    // The whole customer flow.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, skus) = (c.clone(), base.clone(), skus.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = match fill_cart(&c, &base, &skus).await {
                    Some(cart) => checkout(&c, &base, &cart).await.is_some(),
                    None => false,
                };
                if ok { lat.push(t.elapsed()) } else { failed += 1 }
            }
            (lat, failed)
        }));
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        all.extend(l);
        failed += f;
    }
    report("full flow (cart, 3 lines, address, place)", all, failed, started.elapsed());
}
