//! Admin catalog pages: the product list (staff search with bulk status
//! changes) and the product editor, through forms as a browser would.

use serde_json::Value;

use crate::admin_pages::{field, page, post, sign_in};
use crate::helpers::{Backend, DEMO_PASSWORD, spawn};

crate::on_both_databases!(
    staff_create_edit_and_bulk_publish_products_through_pages,
    editor_refusals_keep_the_draft,
    staff_import_and_export_through_pages_with_progress,
    staff_build_the_category_tree_through_pages,
    staff_define_attributes_and_product_types_through_pages,
    staff_curate_collections_through_pages,
);

async fn staff_create_edit_and_bulk_publish_products_through_pages(b: Backend) {
    let app = spawn(b).await;
    let cookie = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/products/new").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let form = [
        ("_csrf", csrf.as_str()),
        ("kind", "physical"),
        ("status", "draft"),
        ("tags", "summer, sale"),
        ("name.en", "Canvas tote"),
        ("description.en", "A **sturdy** bag."),
        ("name.de", "Stofftasche"),
        ("sku", "TOTE-1"),
        ("gtin", ""),
        ("options", "colour=natural"),
        ("price", "12.50"),
        ("sku", ""),
        ("gtin", ""),
        ("options", ""),
        ("price", ""),
    ];
    let res =
        app.client.post(app.url("/admin/products/new")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/admin/products/prd_") && to.ends_with("?saved=1"), "{to}");
    let id = to.trim_start_matches("/admin/products/").trim_end_matches("?saved=1").to_string();
    let owner = app.outfitters_owner().await;
    let saved: Value = app.get(&format!("/api/v1/products/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(saved["variants"][0]["prices"][0]["amount"], 1250, "12.50 read exactly into cents");
    assert_eq!(saved["texts"]["de"]["name"], "Stofftasche");
    assert_eq!(saved["tags"], serde_json::json!(["summer", "sale"]));
    let (_, edit) = page(&app, &cookie, &to).await;
    assert!(edit.contains("id=\"notice\"") && edit.contains("value=\"12.50\"") && edit.contains("Canvas tote"));
    // A draft: not in the store, in the staff list.
    assert_eq!(app.get("/api/v1/storefront/search?q=tote", None).await.json::<Value>().await.unwrap()["total"], 0);
    let (_, list) = page(&app, &cookie, "/admin/products?status=draft").await;
    assert!(list.contains("Canvas tote"), "{list}");
    // Bulk publish from the list.
    let csrf = field(&list, "_csrf");
    let (status, _) =
        post(&app, &cookie, "/admin/products/bulk", &[("_csrf", &csrf), ("ids", &id), ("action", "published")]).await;
    assert_eq!(status, 303);
    let found: Value = app.get("/api/v1/storefront/search?q=tote", None).await.json().await.unwrap();
    assert_eq!(found["total"], 1);
    let shown = app.get("/p/canvas-tote", None).await.text().await.unwrap();
    assert!(shown.contains("<strong>sturdy</strong>") && shown.contains("€12.50"), "{shown}");
    // Forged or signed-out posts change nothing.
    let (status, _) =
        post(&app, &cookie, "/admin/products/bulk", &[("_csrf", "forged"), ("ids", &id), ("action", "archived")]).await;
    assert_eq!(status, 403);
    let res = app
        .client
        .post(app.url("/admin/products/bulk"))
        .form(&[("ids", id.as_str()), ("action", "archived")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "to sign-in");
    let still: Value = app.get(&format!("/api/v1/products/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(still["status"], "published");
}

async fn editor_refusals_keep_the_draft(b: Backend) {
    let app = spawn(b).await;
    let cookie = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (_, html) = page(&app, &cookie, "/admin/products/new").await;
    let csrf = field(&html, "_csrf");
    let before = app.count_rows("products").await;
    let (status, html) = post(
        &app,
        &cookie,
        "/admin/products/new",
        &[
            ("_csrf", &csrf),
            ("kind", "physical"),
            ("status", "published"),
            ("name.en", "Kept name"),
            ("sku", "K-1"),
            ("options", ""),
            ("gtin", ""),
            ("price", "12.345"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"errors\"") && html.contains("variants[0].price"), "{html}");
    assert!(html.contains("value=\"Kept name\""), "what was typed is kept");
    let (status, html) = post(
        &app,
        &cookie,
        "/admin/products/new",
        &[
            ("_csrf", &csrf),
            ("kind", "physical"),
            ("status", "published"),
            ("name.de", "Nur Deutsch"),
            ("sku", "K-2"),
            ("options", ""),
            ("gtin", ""),
            ("price", "1"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("default_language") || html.contains("texts"), "{html}");
    assert_eq!(app.count_rows("products").await, before);
}

/// A multipart/form-data body as a browser sends it: text fields, then a file.
pub(crate) fn multipart(fields: &[(&str, &str)], file: &str) -> (String, Vec<u8>) {
    let boundary = "----oxcart-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

async fn staff_import_and_export_through_pages_with_progress(b: Backend) {
    let app = spawn(b).await;
    let cookie = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/catalog/transfer").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let header = oxcart::services::catalog_csv::header();
    let mut row = vec![String::new(); header.len()];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (name, value) in [
        ("product", "p1"),
        ("kind", "physical"),
        ("status", "published"),
        ("name.en", "Paged lantern"),
        ("sku", "LAN-1"),
        ("prices", "web:1:1500"),
    ] {
        row[col(name)] = value.to_string();
    }
    let file = format!("{}\n{}\n", header.join(","), row.join(","));
    // A forged token queues nothing.
    let (ct, body) = multipart(&[("_csrf", "forged")], &file);
    let res = app
        .client
        .post(app.url("/admin/catalog/import"))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.count_rows("jobs").await, 0);

    let (ct, body) = multipart(&[("_csrf", &csrf)], &file);
    let res = app
        .client
        .post(app.url("/admin/catalog/import"))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The page shows the job and refreshes itself until it is done.
    let mut html = String::new();
    for _ in 0..200 {
        html = page(&app, &cookie, "/admin/catalog/transfer").await.1;
        if html.contains("data-status=\"succeeded\"") {
            break;
        }
        assert!(html.contains("http-equiv=\"refresh\""), "a page with a job in hand reloads: {html}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(html.contains("data-status=\"succeeded\"") && html.contains("1 created"), "{html}");
    assert!(!html.contains("http-equiv=\"refresh\""), "nothing running, no reload");
    let found: Value = app.get("/api/v1/storefront/search?q=lantern", None).await.json().await.unwrap();
    assert_eq!(found["total"], 1);

    let (status, _) = post(&app, &cookie, "/admin/catalog/export", &[("_csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let mut link = None;
    for _ in 0..200 {
        let html = page(&app, &cookie, "/admin/catalog/transfer").await.1;
        if let Some(at) = html.find("class=\"download\" href=\"") {
            let rest = &html[at + "class=\"download\" href=\"".len()..];
            link = Some(rest[..rest.find('"').unwrap()].to_string());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let link = link.expect("the finished export links its file");
    let (status, csv_text) = page(&app, &cookie, &link).await;
    assert_eq!(status, 200);
    assert!(csv_text.contains("LAN-1") && csv_text.contains("Paged lantern"), "{csv_text}");
    assert_eq!(page(&app, "", &link).await.0, 303, "downloads need a session");
}

async fn staff_build_the_category_tree_through_pages(b: Backend) {
    let app = spawn(b).await;
    let cookie = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/categories").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let before = app.count_rows("categories").await;
    let (status, _) =
        post(&app, &cookie, "/admin/categories", &[("_csrf", &csrf), ("name.en", "Climbing"), ("name.de", "Klettern")])
            .await;
    assert_eq!(status, 303);
    let owner = app.outfitters_owner().await;
    let all: Value = app.get("/api/v1/categories", Some(&owner)).await.json().await.unwrap();
    let climbing = all.as_array().unwrap().iter().find(|c| c["texts"]["en"]["name"] == "Climbing").unwrap();
    let id = climbing["id"].as_str().unwrap();
    assert_eq!(climbing["texts"]["de"]["slug"], "klettern");
    let (status, _) =
        post(&app, &cookie, "/admin/categories", &[("_csrf", &csrf), ("parent_id", id), ("name.en", "Ropes")]).await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &cookie, "/admin/categories").await;
    assert!(html.contains(">Climbing</a>") && html.contains("— <a href=\"/c/ropes\">Ropes</a>"), "{html}");
    // No name in the store's language: refused on the page, nothing added.
    let (status, html) =
        post(&app, &cookie, "/admin/categories", &[("_csrf", &csrf), ("name.de", "Nur Deutsch")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"errors\""), "{html}");
    let (status, _) = post(&app, &cookie, "/admin/categories", &[("_csrf", "forged"), ("name.en", "Forged")]).await;
    assert_eq!(status, 403);
    assert_eq!(app.count_rows("categories").await, before + 2);

    // Edited on its own page: renamed; it cannot go below its own branch.
    let edit = format!("/admin/categories/{id}");
    let (status, html) = page(&app, &cookie, &edit).await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"Climbing\"") && html.contains("value=\"klettern\""), "{html}");
    assert!(!html.contains(">— Ropes</option>"), "its own subcategory is no place for it: {html}");
    let (status, _) = post(
        &app,
        &cookie,
        &edit,
        &[("_csrf", &csrf), ("name.en", "Climbing gear"), ("name.de", "Kletterausrüstung"), ("position", "3")],
    )
    .await;
    assert_eq!(status, 303);
    let all: Value = app.get("/api/v1/categories", Some(&owner)).await.json().await.unwrap();
    let climbing = all.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(climbing["texts"]["en"]["slug"], "climbing-gear");
    assert_eq!(climbing["position"], 3);
    let ropes = all.as_array().unwrap().iter().find(|c| c["texts"]["en"]["name"] == "Ropes").unwrap();
    let ropes_id = ropes["id"].as_str().unwrap().to_string();
    // Deleting it while Ropes sits below is refused on the page; Ropes can go.
    let (status, html) = post(&app, &cookie, &format!("{edit}/delete"), &[("_csrf", &csrf)]).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"errors\"") && html.contains("subcategories"), "{html}");
    let (status, _) =
        post(&app, &cookie, &format!("/admin/categories/{ropes_id}/delete"), &[("_csrf", "forged")]).await;
    assert_eq!(status, 403);
    assert_eq!(app.count_rows("categories").await, before + 2);
    let (status, _) = post(&app, &cookie, &format!("/admin/categories/{ropes_id}/delete"), &[("_csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(app.count_rows("categories").await, before + 1);
}

async fn staff_define_attributes_and_product_types_through_pages(b: Backend) {
    let app = spawn(b).await;
    let cookie = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/attributes").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let form = [
        ("_csrf", csrf.as_str()),
        ("code", "colour"),
        ("kind", "choice"),
        ("filterable", "1"),
        ("name.en", "Colour"),
        ("name.de", "Farbe"),
        ("choices", "red = Red\nblue = Blue"),
    ];
    assert_eq!(post(&app, &cookie, "/admin/attributes", &form).await.0, 303);
    let (status, _) = post(
        &app,
        &cookie,
        "/admin/product-types",
        &[("_csrf", &csrf), ("code", "apparel"), ("name", "Apparel"), ("attributes", "colour")],
    )
    .await;
    assert_eq!(status, 303);
    let owner = app.outfitters_owner().await;
    let attrs: Value = app.get("/api/v1/attributes", Some(&owner)).await.json().await.unwrap();
    let colour = attrs.as_array().unwrap().iter().find(|a| a["code"] == "colour").unwrap();
    assert_eq!((colour["filterable"].as_bool(), colour["names"]["de"].as_str()), (Some(true), Some("Farbe")));
    assert_eq!(colour["choices"][1]["labels"]["en"], "Blue");
    let types: Value = app.get("/api/v1/product-types", Some(&owner)).await.json().await.unwrap();
    assert_eq!(types[0]["attributes"], serde_json::json!(["colour"]));
    // A product of the type takes a choice; the page lists both definitions.
    let (_, html) = page(&app, &cookie, "/admin/attributes").await;
    assert!(html.contains("id=\"attribute-colour\"") && html.contains("id=\"type-apparel\""), "{html}");
    // Refusals: a taken code, a name missing in the store's language.
    let (status, html) = post(&app, &cookie, "/admin/attributes", &form).await;
    assert_eq!(status, 422, "{html}");
    let (status, _) = post(
        &app,
        &cookie,
        "/admin/attributes",
        &[("_csrf", &csrf), ("code", "size"), ("kind", "text"), ("name.de", "Größe")],
    )
    .await;
    assert_eq!(status, 422);
    let attrs: Value = app.get("/api/v1/attributes", Some(&owner)).await.json().await.unwrap();
    assert_eq!(attrs.as_array().unwrap().len(), 1);
}

async fn staff_curate_collections_through_pages(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    for (sku, name, tags, price) in [("HAT-1", "Sun hat", "summer", 2500), ("TENT-9", "Beach tent", "summer", 12000)] {
        let body = serde_json::json!({"kind": "physical", "status": "published", "tags": [tags],
            "texts": {"en": {"name": name}}, "variants": [{"sku": sku, "prices": [{"channel": "web", "amount": price}]}]});
        assert_eq!(app.post_json("/api/v1/products", Some(&owner), &body).await.status(), 201);
    }
    let cookie = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/collections").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let rule = [
        ("_csrf", csrf.as_str()),
        ("kind", "rule"),
        ("name.en", "Summer under 50"),
        ("tags", "summer"),
        ("price_max", "50.00"),
        ("featured", "1"),
    ];
    assert_eq!(post(&app, &cookie, "/admin/collections", &rule).await.0, 303);
    let found: Value = app.get("/api/v1/storefront/collections/summer-under-50", None).await.json().await.unwrap();
    assert_eq!(found["products"]["total"], 1, "{found}");
    assert_eq!(found["products"]["items"][0]["name"], "Sun hat");
    let manual = [("_csrf", csrf.as_str()), ("kind", "manual"), ("name.en", "Staff picks"), ("skus", "TENT-9\nHAT-1")];
    assert_eq!(post(&app, &cookie, "/admin/collections", &manual).await.0, 303);
    let picks: Value = app.get("/api/v1/storefront/collections/staff-picks", None).await.json().await.unwrap();
    let names: Vec<&str> =
        picks["products"]["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beach tent", "Sun hat"], "hand-picked order");
    // Unknown SKUs and bad prices are refused on the page; nothing is added.
    let bad = [
        ("_csrf", csrf.as_str()),
        ("kind", "manual"),
        ("name.en", "Broken"),
        ("skus", "NOPE-1"),
        ("price_max", "cheap"),
    ];
    let (status, html) = post(&app, &cookie, "/admin/collections", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("NOPE-1") && html.contains("price_max"), "{html}");
    let all: Value = app.get("/api/v1/collections", Some(&owner)).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);

    // Edited on its own page, which shows what is stored.
    let id_of = |name: &str| {
        all.as_array().unwrap().iter().find(|c| c["texts"]["en"]["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let picks_page = format!("/admin/collections/{}", id_of("Staff picks"));
    let (status, html) = page(&app, &cookie, &picks_page).await;
    assert_eq!(status, 200);
    assert!(html.contains("TENT-9\nHAT-1") && html.contains("value=\"Staff picks\""), "{html}");
    // Renamed and reordered: the link keeps its slug, the order follows the form.
    let edit = [("_csrf", csrf.as_str()), ("kind", "manual"), ("name.en", "Our picks"), ("skus", "HAT-1\nTENT-9")];
    assert_eq!(post(&app, &cookie, &picks_page, &edit).await.0, 303);
    let picks: Value = app.get("/api/v1/storefront/collections/staff-picks", None).await.json().await.unwrap();
    assert_eq!(picks["collection"]["name"], "Our picks", "{picks}");
    let names: Vec<&str> =
        picks["products"]["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sun hat", "Beach tent"]);
    // The rule's price ceiling raised: the tent now fits; the form shows the stored ceiling.
    let rule_page = format!("/admin/collections/{}", id_of("Summer under 50"));
    let (_, html) = page(&app, &cookie, &rule_page).await;
    assert!(html.contains("value=\"50.00\"") && html.contains("value=\"summer\""), "{html}");
    let raised = [
        ("_csrf", csrf.as_str()),
        ("kind", "rule"),
        ("name.en", "Summer under 150"),
        ("tags", "summer"),
        ("price_max", "150.00"),
        ("featured", "1"),
    ];
    assert_eq!(post(&app, &cookie, &rule_page, &raised).await.0, 303);
    let found: Value = app.get("/api/v1/storefront/collections/summer-under-50", None).await.json().await.unwrap();
    assert_eq!(found["products"]["total"], 2, "{found}");
    // A bad edit is refused on the page and changes nothing.
    let bad = [("_csrf", csrf.as_str()), ("kind", "manual"), ("name.en", "Broken"), ("skus", "NOPE-1")];
    let (status, html) = post(&app, &cookie, &picks_page, &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("NOPE-1"), "{html}");
    let picks: Value = app.get("/api/v1/storefront/collections/staff-picks", None).await.json().await.unwrap();
    assert_eq!(picks["collection"]["name"], "Our picks");
    assert_eq!(page(&app, &cookie, "/admin/collections/col_01hzzzzzzzzzzzzzzzzzzzzzzz").await.0, 404);
}
