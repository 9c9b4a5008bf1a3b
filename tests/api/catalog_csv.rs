//! `oxcart catalog export` / `import`: lossless round trip, create or
//! update by SKU, every bad row reported with its line, nothing applied
//! from a bad file unless asked.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn};

crate::on_both_databases!(
    export_import_export_is_lossless,
    bad_rows_are_reported_by_line_and_nothing_is_applied,
    api_import_and_export_run_as_jobs_with_progress,
);

fn products() -> Vec<Value> {
    vec![
        json!({"kind": "physical", "status": "published", "tags": ["summer", "shoes"], "publish_at": 1700000000000i64,
            "texts": {"en": {"name": "Trail Runner", "description": "Line one,\nline \"two\".", "seo_title": "Trail"},
                      "de": {"name": "Trailläufer"}, "zh": {"name": "越野跑鞋"}},
            "variants": [
                {"sku": "TR-42", "gtin": "4006381333931", "options": {"size": "42", "colour": "blue"}, "weight_grams": 640,
                 "prices": [{"channel": "web", "amount": 1999}, {"channel": "web", "min_qty": 10, "amount": 1799}]},
                {"sku": "TR-43", "options": {"size": "43", "colour": "blue"},
                 "prices": [{"channel": "web", "amount": 2099, "sale_amount": 1599, "sale_starts_at": 5, "sale_ends_at": 4102444800000i64}]}]}),
        json!({"kind": "digital", "status": "draft", "tags": [],
            "texts": {"en": {"name": "Trail Guide"}, "de": {"name": "Wanderführer", "slug": "wanderfuehrer"}},
            "variants": [{"sku": "GUIDE", "prices": [{"channel": "web", "amount": 999}]}]}),
    ]
}

fn export(app: &TestApp, store: &str, path: &std::path::Path) -> String {
    let out = app.oxcart_cli(&["catalog", "export", path.to_str().unwrap(), "--store", store]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(path).unwrap()
}

/// The records without the product-id column (ids differ between stores).
fn without_ids(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().skip(1).map(str::to_string).collect())
        .collect()
}

async fn export_import_export_is_lossless(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    for p in products() {
        assert_eq!(app.post_json("/api/v1/products", Some(&owner), &p).await.status(), 201);
    }
    let dir = tempfile::tempdir().unwrap();
    let first = export(&app, "outfitters", &dir.path().join("a.csv"));
    assert_eq!(without_ids(&first).len(), 3, "one record per variant");
    assert!(first.contains("\"Line one,\nline \"\"two\"\".\""), "quoting keeps commas, quotes and newlines");

    // Into another store: everything is created.
    let out = app.oxcart_cli(&["catalog", "import", dir.path().join("a.csv").to_str().unwrap(), "--store", "foodbank"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("created 2, updated 0"), "{text}");
    let second = export(&app, "foodbank", &dir.path().join("b.csv"));
    assert_eq!(without_ids(&first), without_ids(&second), "lossless apart from ids");

    // Into the same store: matched by id and SKU, updated, unchanged.
    let out =
        app.oxcart_cli(&["catalog", "import", dir.path().join("a.csv").to_str().unwrap(), "--store", "outfitters"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("created 0, updated 2"));
    assert_eq!(export(&app, "outfitters", &dir.path().join("c.csv")), first);
    assert_eq!(app.count_rows("products").await, 4);
    app.stop().await;
}

/// A file with two good products and three bad rows (lines 3, 4 and 5).
fn mixed_file() -> String {
    let header = oxcart::services::catalog_csv::header().join(",");
    let row = |key: &str, kind: &str, sku: &str, gtin: &str, prices: &str| {
        let mut cells = vec![
            key.to_string(),
            kind.to_string(),
            "published".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            // tax_class: empty takes the kind's default.
            String::new(),
        ];
        for lang in ["en", "de", "es", "pt", "zh"] {
            let name = if lang == "en" { format!("Product {key}") } else { String::new() };
            cells.extend([name, String::new(), String::new(), String::new(), String::new()]);
        }
        cells.extend([sku.to_string(), gtin.to_string(), String::new(), String::new(), prices.to_string()]);
        cells.join(",")
    };
    [
        header,
        row("good", "physical", "G-1", "", "web:1:100"),
        row("bad-gtin", "physical", "B-1", "4006381333932", "web:1:100"),
        row("bad-kind", "weapon", "B-2", "", "web:1:100"),
        row("bad-price", "physical", "B-3", "", "web:1:ten"),
        row("also-good", "service", "G-2", "", "web:1:250|web:5:200"),
    ]
    .join("\n")
}

async fn bad_rows_are_reported_by_line_and_nothing_is_applied(b: Backend) {
    let app = spawn(b).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, mixed_file()).unwrap();
    let out = app.oxcart_cli(&["catalog", "import", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    for expected in ["line 3: variants[0].gtin", "line 4: kind", "line 5: prices"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert!(text.contains("nothing applied"));
    assert_eq!(app.count_rows("products").await, 0);

    let out = app.oxcart_cli(&["catalog", "import", path.to_str().unwrap(), "--skip-bad-rows"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("created 2, updated 0, skipped 3"), "{text}");
    assert_eq!(app.count_rows("products").await, 2);
    app.stop().await;
}

/// Posts a CSV body to the import endpoint.
async fn post_csv(app: &TestApp, token: &str, query: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/catalog/imports{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Polls a job until it has finished.
async fn finished(app: &TestApp, token: &str, job: &Value) -> Value {
    let path = format!("/api/v1/jobs/{}", job["id"].as_str().unwrap());
    for _ in 0..200 {
        let j: Value = app.get(&path, Some(token)).await.json().await.unwrap();
        if j["status"] == "succeeded" || j["status"] == "failed" {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {path} did not finish");
}

async fn api_import_and_export_run_as_jobs_with_progress(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;

    // A bad file: the job reports every bad row and applies nothing.
    let res = post_csv(&app, &owner, "", mixed_file()).await;
    assert_eq!(res.status(), 202);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/api/v1/jobs/job_"));
    let job: Value = res.json().await.unwrap();
    assert_eq!((job["kind"].as_str(), job["status"].as_str()), (Some("catalog_import"), Some("queued")));
    let done = finished(&app, &owner, &job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let report = &done["report"];
    assert_eq!(report["rejected"], true);
    let lines: Vec<i64> = report["errors"].as_array().unwrap().iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(app.count_rows("products").await, 0);

    // Asked to skip bad rows: the good products land, progress reaches the end.
    let job: Value = post_csv(&app, &owner, "?skip_bad_rows=true", mixed_file()).await.json().await.unwrap();
    let done = finished(&app, &owner, &job).await;
    assert_eq!((done["report"]["created"].as_i64(), done["report"]["skipped_products"].as_i64()), (Some(2), Some(3)));
    assert_eq!(
        (done["done"].as_i64(), done["total"].as_i64(), done["percent"].as_i64()),
        (Some(5), Some(5), Some(100))
    );
    assert_eq!(app.count_rows("products").await, 2);
    let found: Value = app.get("/api/v1/storefront/search?q=product", None).await.json().await.unwrap();
    assert_eq!(found["total"], 2, "imported products are searchable");

    // Export: a job whose file is the catalog, which imports back unchanged.
    let res = app.client.post(app.url("/api/v1/catalog/exports")).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let done = finished(&app, &owner, &res.json::<Value>().await.unwrap()).await;
    assert_eq!(done["report"]["rows"], 2);
    let file = app.get(done["download"].as_str().unwrap(), Some(&owner)).await;
    assert_eq!(file.headers()["content-type"], "text/csv; charset=utf-8");
    let csv_text = file.text().await.unwrap();
    assert!(csv_text.starts_with("product,kind,status") && csv_text.contains("G-2"), "{csv_text}");
    let job: Value = post_csv(&app, &owner, "", csv_text).await.json().await.unwrap();
    let done = finished(&app, &owner, &job).await;
    assert_eq!((done["report"]["created"].as_i64(), done["report"]["updated"].as_i64()), (Some(0), Some(2)));
    let jobs: Value = app.get("/api/v1/jobs", Some(&owner)).await.json().await.unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 4);

    // Refusals: empty file, no permission, no token, another store's job.
    let res = post_csv(&app, &owner, "", "  \n".into()).await;
    crate::helpers::assert_problem(res, 422, "validation_failed").await;
    let body = json!({"email": "buyer@example.com", "password": "a long password", "display_name": "B"});
    assert_eq!(app.post_json("/api/v1/customers", None, &body).await.status(), 201);
    let login = json!({"email": "buyer@example.com", "password": "a long password", "audience": "customer"});
    let customer = app.post_json("/api/v1/auth/login", None, &login).await.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(post_csv(&app, &customer, "", mixed_file()).await.status(), 403);
    assert_eq!(app.get(&format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()), Some(&customer)).await.status(), 403);
    let foodbank = app.foodbank_owner().await;
    let other = app.get(&format!("/s/foodbank/api/v1/jobs/{}", job["id"].as_str().unwrap()), Some(&foodbank)).await;
    assert_eq!(other.status(), 404);
    assert_eq!(app.count_rows("jobs").await, 4, "refused requests queue nothing");
    app.stop().await;
}
