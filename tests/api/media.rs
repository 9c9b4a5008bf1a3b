//! Product media: images uploaded by staff are checked by content,
//! re-encoded without metadata, resized, served with long cache lifetimes
//! from their store only, ordered and described per language on the
//! product page.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn_with};

crate::on_both_databases!(
    uploads_are_re_encoded_resized_and_served_for_ever,
    exif_metadata_never_reaches_the_stored_image,
    bad_uploads_are_refused_and_leave_nothing_behind,
    media_permissions_and_store_isolation,
    gallery_order_and_alt_text_per_language_on_the_product_page,
    deleting_an_image_removes_its_rows_and_files,
    the_sweep_removes_old_media_files_no_row_names,
);

/// A server whose media files go to a directory the test can inspect.
async fn spawn_media(b: Backend, max_upload_bytes: usize) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let app = spawn_with(b, move |c| {
        c.media.dir = Some(path);
        c.media.max_upload_bytes = max_upload_bytes;
    })
    .await;
    (app, dir)
}

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(files_in(&p)) } else { out.push(p) }
        }
    }
    out
}

fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A noisy photo (so it does not compress to nothing).
fn photo_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        Rgb([(x % 256) as u8, (y % 256) as u8, (seed & 0xff) as u8])
    });
    encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

/// A PNG with a transparent half (a cut-out product shot).
fn cutout_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| Rgba([200, 30, 30, if x < w / 2 { 0 } else { 255 }]));
    encode(DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

/// The JPEG with an EXIF block right after SOI: orientation 6 (turn 90°
/// clockwise) and a camera serial standing in for private metadata.
fn with_exif(jpeg: &[u8]) -> Vec<u8> {
    let secret = b"SECRET-CAMERA-SERIAL\0";
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    tiff.extend_from_slice(&[0x01, 0x0f, 0, 2]);
    tiff.extend_from_slice(&(secret.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&38u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(secret);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn product(app: &TestApp, token: &str, prefix: &str, name: &str) -> String {
    let body = json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": name}, "de": {"name": format!("{name} DE")}},
        "variants": [{"sku": format!("SKU-{}", name.replace(' ', "-")), "prices": [{"channel": "web", "amount": 1000}]}]
    });
    let res = app.post_json(&format!("{prefix}/api/v1/products"), Some(token), &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn upload(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    // A body over the limit is refused from its Content-Length before it is
    // read; the server may close while the client still writes, which the
    // client sees as a reset. Such a transport race is retried.
    for attempt in 0.. {
        let mut req = app.client.post(app.url(path)).header("content-type", content_type).body(bytes.clone());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(res) => return res,
            Err(e) if attempt < 4 => eprintln!("upload attempt {attempt} failed in transport: {e}"),
            Err(e) => panic!("upload failed: {e}"),
        }
    }
    unreachable!()
}

/// Sends the body in chunks without a Content-Length and returns the status.
async fn chunked_upload_status(app: &TestApp, token: &str, path: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and close before the whole body is sent.
        if conn.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

async fn fetch_image(app: &TestApp, url: &str) -> (String, Vec<u8>) {
    let res = app.get(url, None).await;
    assert_eq!(res.status(), 200, "{url}");
    let h = res.headers();
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let ct = h["content-type"].to_str().unwrap().to_string();
    (ct, res.bytes().await.unwrap().to_vec())
}

async fn uploads_are_re_encoded_resized_and_served_for_ever(b: Backend) {
    let (app, dir) = spawn_media(b, 10 * 1024 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Canvas Tote").await;
    let path = format!("/api/v1/products/{id}/media");

    let jpeg = photo_jpeg(1200, 800);
    assert!(jpeg.len() > 64 * 1024, "larger than the JSON body limit, which uploads do not share");
    // The declared type is ignored: the bytes decide.
    let res = upload(&app, Some(&owner), &format!("{path}?alt_en=Front"), "application/octet-stream", jpeg).await;
    assert_eq!(res.status(), 201);
    let photo: Value = res.json().await.unwrap();
    assert_eq!(photo["content_type"], "image/jpeg");
    assert_eq!((photo["width"].as_i64(), photo["height"].as_i64()), (Some(1200), Some(800)));
    assert_eq!(photo["position"], 0);
    assert_eq!(photo["alt"], json!({"en": "Front"}));
    let widths: Vec<i64> =
        photo["thumbnails"].as_array().unwrap().iter().map(|t| t["width"].as_i64().unwrap()).collect();
    assert_eq!(widths, vec![160, 480, 1024]);

    let res = upload(&app, Some(&owner), &path, "image/jpeg", cutout_png(600, 300)).await;
    assert_eq!(res.status(), 201);
    let cutout: Value = res.json().await.unwrap();
    assert_eq!(cutout["content_type"], "image/png", "transparency keeps PNG");
    assert_eq!(cutout["position"], 1);
    let widths: Vec<i64> =
        cutout["thumbnails"].as_array().unwrap().iter().map(|t| t["width"].as_i64().unwrap()).collect();
    assert_eq!(widths, vec![160, 480], "never upscaled");

    for (view, format) in [(&photo, ImageFormat::Jpeg), (&cutout, ImageFormat::Png)] {
        let mut renditions =
            vec![(view["url"].as_str().unwrap(), view["width"].as_i64().unwrap(), view["height"].as_i64().unwrap())];
        for t in view["thumbnails"].as_array().unwrap() {
            renditions.push((t["url"].as_str().unwrap(), t["width"].as_i64().unwrap(), t["height"].as_i64().unwrap()));
        }
        for (url, w, h) in renditions {
            assert!(url.starts_with("/media/med_"), "{url}");
            let (ct, bytes) = fetch_image(&app, url).await;
            assert_eq!(ct, view["content_type"].as_str().unwrap());
            let decoded = image::load_from_memory_with_format(&bytes, format).unwrap();
            assert_eq!((i64::from(decoded.width()), i64::from(decoded.height())), (w, h), "{url}");
        }
    }
    let thumb = &cutout["thumbnails"][0];
    assert_eq!((thumb["width"].as_i64(), thumb["height"].as_i64()), (Some(160), Some(80)), "aspect ratio kept");

    let listed: Value = app.get(&path, Some(&owner)).await.json().await.unwrap();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![photo["id"].as_str().unwrap(), cutout["id"].as_str().unwrap()]);
    assert_eq!(files_in(dir.path()).len(), 4 + 3, "full size and thumbnails of both");
    let events: Value = app.get("/api/v1/events", Some(&owner)).await.json().await.unwrap();
    assert_eq!(events[0]["type"], "product.media_changed");
    assert_eq!(events[0]["data"]["change"], "added");
    let audit: Value = app.get("/api/v1/audit?action=catalog.media_added", Some(&owner)).await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn exif_metadata_never_reaches_the_stored_image(b: Backend) {
    let (app, _dir) = spawn_media(b, 10 * 1024 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Camera Bag").await;
    let input = with_exif(&photo_jpeg(400, 200));
    assert!(contains(&input, b"Exif\0\0") && contains(&input, b"SECRET-CAMERA-SERIAL"));
    let res = upload(&app, Some(&owner), &format!("/api/v1/products/{id}/media"), "image/jpeg", input).await;
    assert_eq!(res.status(), 201);
    let view: Value = res.json().await.unwrap();
    assert_eq!((view["width"].as_i64(), view["height"].as_i64()), (Some(200), Some(400)), "turned upright");
    let mut urls = vec![view["url"].as_str().unwrap().to_string()];
    urls.extend(view["thumbnails"].as_array().unwrap().iter().map(|t| t["url"].as_str().unwrap().to_string()));
    for url in urls {
        let (_, bytes) = fetch_image(&app, &url).await;
        assert!(!contains(&bytes, b"Exif\0\0"), "no EXIF in {url}");
        assert!(!contains(&bytes, b"SECRET-CAMERA-SERIAL"));
    }
    app.stop().await;
}

async fn bad_uploads_are_refused_and_leave_nothing_behind(b: Backend) {
    let (app, dir) = spawn_media(b, 200 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Rain Jacket").await;
    let path = format!("/api/v1/products/{id}/media");

    let text = b"name,price\nshirt,10\n".to_vec();
    let res = upload(&app, Some(&owner), &path, "image/jpeg", text).await;
    assert_problem(res, 415, "unsupported_image_format").await;

    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    assert_problem(upload(&app, Some(&owner), &path, "image/svg+xml", svg).await, 415, "unsupported_image_format")
        .await;

    let mut garbage = b"\x89PNG\r\n\x1a\n".to_vec();
    garbage.extend(std::iter::repeat_n(0x5a, 4000));
    let body =
        assert_problem(upload(&app, Some(&owner), &path, "image/png", garbage).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "image");
    assert_eq!(body["errors"][0]["code"], "corrupt_image");

    let whole = photo_jpeg(300, 300);
    let truncated = whole[..whole.len() / 2].to_vec();
    let body =
        assert_problem(upload(&app, Some(&owner), &path, "image/jpeg", truncated).await, 422, "validation_failed")
            .await;
    assert_eq!(body["errors"][0]["code"], "corrupt_image");

    let body =
        assert_problem(upload(&app, Some(&owner), &path, "image/jpeg", Vec::new()).await, 422, "validation_failed")
            .await;
    assert_eq!(body["errors"][0]["code"], "required");

    let big = photo_jpeg(1600, 1600);
    assert!(big.len() > 200 * 1024);
    assert_problem(upload(&app, Some(&owner), &path, "image/jpeg", big.clone()).await, 413, "payload_too_large").await;
    // Without a Content-Length the limit holds while reading.
    assert_eq!(chunked_upload_status(&app, &owner, &path, &big).await, 413);

    let long_alt = "x".repeat(301);
    let res = upload(&app, Some(&owner), &format!("{path}?alt_en={long_alt}"), "image/jpeg", photo_jpeg(50, 50)).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "alt.en");
    let res = upload(&app, Some(&owner), &format!("{path}?alt_xx=hi"), "image/jpeg", photo_jpeg(50, 50)).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = upload(&app, Some(&owner), "/api/v1/products/prd_nope/media", "image/jpeg", photo_jpeg(50, 50)).await;
    assert_problem(res, 404, "not_found").await;

    for table in ["product_media", "product_media_thumbs", "product_media_texts"] {
        assert_eq!(app.count_rows(table).await, 0, "{table}");
    }
    assert!(files_in(dir.path()).is_empty(), "no file left behind: {:?}", files_in(dir.path()));
    let events: Value = app.get("/api/v1/events", Some(&owner)).await.json().await.unwrap();
    assert!(events.as_array().unwrap().iter().all(|e| e["type"] != "product.media_changed"));
    app.stop().await;
}

async fn media_permissions_and_store_isolation(b: Backend) {
    let (app, _dir) = spawn_media(b, 10 * 1024 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Wool Hat").await;
    let path = format!("/api/v1/products/{id}/media");
    let res = upload(&app, Some(&owner), &path, "image/jpeg", photo_jpeg(300, 200)).await;
    let view: Value = res.json().await.unwrap();
    let media_id = view["id"].as_str().unwrap();
    let url = view["url"].as_str().unwrap();

    assert_problem(upload(&app, None, &path, "image/jpeg", photo_jpeg(30, 30)).await, 401, "unauthenticated").await;
    let customer = app.login("", "customer", "ana@customers.example").await;
    assert_problem(upload(&app, Some(&customer), &path, "image/jpeg", photo_jpeg(30, 30)).await, 403, "forbidden")
        .await;
    assert_problem(app.get(&path, Some(&customer)).await, 403, "forbidden").await;
    assert_problem(app.get(&path, None).await, 401, "unauthenticated").await;
    let body = json!({"email": "wh@staff.example", "display_name": "wh", "password": "staff password 2026", "role": "warehouse"});
    assert_eq!(app.post_json("/api/v1/staff", Some(&owner), &body).await.status(), 201);
    let res = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "wh@staff.example", "password": "staff password 2026", "audience": "staff"}),
        )
        .await;
    let wh = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    assert_eq!(app.get(&path, Some(&wh)).await.status(), 200, "catalog readers see media");
    assert_problem(upload(&app, Some(&wh), &path, "image/jpeg", photo_jpeg(30, 30)).await, 403, "forbidden").await;
    let alt = json!({"alt": {"en": "x"}});
    assert_problem(app.put_json(&format!("{path}/{media_id}"), Some(&wh), &alt).await, 403, "forbidden").await;
    let del = app.client.delete(app.url(&format!("{path}/{media_id}"))).bearer_auth(&wh).send().await.unwrap();
    assert_problem(del, 403, "forbidden").await;

    // Another store sees nothing of it, by API or by file address.
    let foodbank = app.foodbank_owner().await;
    assert_problem(app.get(&format!("/s/foodbank{path}"), Some(&foodbank)).await, 404, "not_found").await;
    let res = upload(&app, Some(&foodbank), &format!("/s/foodbank{path}"), "image/jpeg", photo_jpeg(30, 30)).await;
    assert_problem(res, 404, "not_found").await;
    let res = app.put_json(&format!("/s/foodbank{path}/{media_id}"), Some(&foodbank), &alt).await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(app.get(&format!("/s/foodbank{url}"), None).await.status(), 404);
    // A known image id with a guessed name, and paths that try to escape.
    assert_eq!(
        app.get(&format!("/media/{media_id}/full-00000000000000000000000000000000.jpg"), None).await.status(),
        404
    );
    for probe in [
        format!("/media/{media_id}/..%2F..%2Foxcart.db"),
        format!("/media/{media_id}/%2e%2e"),
        "/media/med_x/full.jpg".to_string(),
    ] {
        assert_eq!(app.get(&probe, None).await.status(), 404, "{probe}");
    }
    // Another product's id in the path cannot reach this image.
    let other = product(&app, &owner, "", "Other Product").await;
    let res = app.put_json(&format!("/api/v1/products/{other}/media/{media_id}"), Some(&owner), &alt).await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(app.get(url, None).await.status(), 200, "still served in its own store");
    app.stop().await;
}

async fn gallery_order_and_alt_text_per_language_on_the_product_page(b: Backend) {
    let (app, _dir) = spawn_media(b, 10 * 1024 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Trail Boot").await;
    let path = format!("/api/v1/products/{id}/media");
    let first: Value = upload(
        &app,
        Some(&owner),
        &format!("{path}?alt_en=Side%20view&alt_de=Seitenansicht"),
        "image/jpeg",
        photo_jpeg(800, 600),
    )
    .await
    .json()
    .await
    .unwrap();
    let second: Value = upload(
        &app,
        Some(&owner),
        &format!("{path}?alt_en=Sole%20%3Cclose%20up%3E"),
        "image/png",
        cutout_png(200, 100),
    )
    .await
    .json()
    .await
    .unwrap();
    let (a, b2) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());

    let bad = app.put_json(&format!("{path}/order"), Some(&owner), &json!({"media": [b2]})).await;
    assert_eq!(assert_problem(bad, 422, "validation_failed").await["errors"][0]["code"], "not_a_permutation");
    let res = app.put_json(&format!("{path}/order"), Some(&owner), &json!({"media": [b2, a]})).await;
    assert_eq!(res.status(), 200);
    let ordered: Value = res.json().await.unwrap();
    assert_eq!(ordered[0]["id"], b2);
    assert_eq!(ordered[0]["position"], 0);

    let de = app
        .client
        .get(app.url("/p/trail-boot"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sole =
        de.find("alt=\"Sole &#60;close up&#62;\"").expect("no German alt: the store's default (English), escaped");
    let side = de.find("alt=\"Seitenansicht\"").expect("German alt text");
    assert!(sole < side, "gallery in the new order");
    let thumbs = first["thumbnails"].as_array().unwrap();
    let srcset = format!(
        "srcset=\"{} 160w, {} 480w, {} 800w\"",
        thumbs[0]["url"].as_str().unwrap(),
        thumbs[1]["url"].as_str().unwrap(),
        first["url"].as_str().unwrap()
    );
    assert!(de.contains(&srcset), "srcset from the thumbnails: {de}");
    assert!(de.contains(&format!("src=\"{}\"", thumbs[1]["url"].as_str().unwrap())), "a 480-wide default");
    assert!(de.contains("\"image\":[\"http://"), "JSON-LD lists the images");

    let res = app.put_json(&format!("{path}/{a}"), Some(&owner), &json!({"alt": {"zh": "侧视图"}})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["alt"], json!({"zh": "侧视图"}));
    let en = app.get("/p/trail-boot", None).await.text().await.unwrap();
    assert!(en.contains("alt=\"Trail Boot\""), "no alt in English or the default: the product name");
    let zh = app.client.get(app.url("/p/trail-boot")).header("accept-language", "zh").send().await.unwrap();
    assert!(zh.text().await.unwrap().contains("alt=\"侧视图\""));

    let api: Value = app.get("/api/v1/storefront/products/trail-boot?lang=de", None).await.json().await.unwrap();
    assert_eq!(api["name"], "Trail Boot DE");
    assert_eq!(api["images"][0]["alt"], "Sole <close up>");
    assert_eq!(api["images"][1]["url"], first["url"]);
    assert_eq!(api["images"][1]["thumbnails"].as_array().unwrap().len(), 2);

    // A store addressed by path serves its images under its prefix.
    let foodbank = app.foodbank_owner().await;
    let fb = product(&app, &foodbank, "/s/foodbank", "Soup Tin").await;
    let res = upload(
        &app,
        Some(&foodbank),
        &format!("/s/foodbank/api/v1/products/{fb}/media"),
        "image/jpeg",
        photo_jpeg(200, 200),
    )
    .await;
    let view: Value = res.json().await.unwrap();
    let url = view["url"].as_str().unwrap();
    assert!(url.starts_with("/s/foodbank/media/med_"), "{url}");
    fetch_image(&app, url).await;
    assert_eq!(app.get(url.trim_start_matches("/s/foodbank"), None).await.status(), 404, "not from the default store");
    let page = app.get("/s/foodbank/p/soup-tin", None).await.text().await.unwrap();
    assert!(page.contains(&format!("href=\"{url}\"")));
    app.stop().await;
}

async fn deleting_an_image_removes_its_rows_and_files(b: Backend) {
    let (app, dir) = spawn_media(b, 10 * 1024 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Fleece").await;
    let path = format!("/api/v1/products/{id}/media");
    let kept: Value = upload(&app, Some(&owner), &path, "image/jpeg", photo_jpeg(500, 500)).await.json().await.unwrap();
    let gone: Value = upload(&app, Some(&owner), &format!("{path}?alt_en=Back"), "image/jpeg", photo_jpeg(300, 300))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(files_in(dir.path()).len(), 3 + 2);
    let url = gone["url"].as_str().unwrap();
    fetch_image(&app, url).await;

    let del_url = app.url(&format!("{path}/{}", gone["id"].as_str().unwrap()));
    let res = app.client.delete(&del_url).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get(url, None).await.status(), 404);
    assert_eq!(files_in(dir.path()).len(), 3, "only the kept image's files remain");
    assert_eq!(app.count_rows("product_media").await, 1);
    assert_eq!(app.count_rows("product_media_thumbs").await, 2);
    assert_eq!(app.count_rows("product_media_texts").await, 0);
    let res = app.client.delete(&del_url).bearer_auth(&owner).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;

    let listed: Value = app.get(&path, Some(&owner)).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], kept["id"]);
    let events: Value = app.get("/api/v1/events", Some(&owner)).await.json().await.unwrap();
    assert_eq!(events[0]["type"], "product.media_changed");
    assert_eq!(events[0]["data"]["change"], "removed");
    let audit: Value = app.get("/api/v1/audit?action=catalog.media_removed", Some(&owner)).await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn the_sweep_removes_old_media_files_no_row_names(b: Backend) {
    use std::time::{Duration, SystemTime};
    let (app, dir) = spawn_media(b, 10 * 1024 * 1024).await;
    let owner = app.outfitters_owner().await;
    let id = product(&app, &owner, "", "Poncho").await;
    let kept: Value =
        upload(&app, Some(&owner), &format!("/api/v1/products/{id}/media"), "image/jpeg", photo_jpeg(500, 500))
            .await
            .json()
            .await
            .unwrap();
    let live = files_in(dir.path());
    assert_eq!(live.len(), 3);
    let media_dir = live[0].parent().unwrap().to_path_buf();
    let store_dir = media_dir.parent().unwrap().to_path_buf();
    let write = |path: &Path, old: bool| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if !path.exists() {
            std::fs::write(path, b"bytes").unwrap();
        }
        if old {
            let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 60 * 60);
            std::fs::File::options().write(true).open(path).unwrap().set_modified(two_hours_ago).unwrap();
        }
    };
    // Named files are kept however old they are.
    for f in &live {
        write(f, true);
    }
    // A crash mid-upload left files of an image with no row: the old one
    // goes, the one just written may be about to be recorded and stays.
    let crashed = store_dir.join("med_01JZ00000000000000000000AB");
    let (stale, fresh) = (crashed.join("full-0123abcd.jpg"), crashed.join("w160-0123abcd.jpg"));
    write(&stale, true);
    write(&fresh, false);
    // A rendition a live image's rows no longer name.
    let leftover = media_dir.join("w2048-feedface.jpg");
    write(&leftover, true);
    // Not media keys: left alone whatever their age.
    let digital = store_dir.join("digital").join("file.bin");
    write(&digital, true);

    let out = app.oxcart_cli_env(&["purge"], &[("OXCART_MEDIA__DIR", dir.path().to_str().unwrap())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let purged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(purged["unreferenced_media_files"], 2);
    assert!(!stale.exists() && !leftover.exists(), "old unreferenced files removed");
    assert!(fresh.exists(), "a young file is kept");
    assert!(digital.exists(), "files outside the media layout are kept");
    for f in &live {
        assert!(f.exists(), "{} is named by a row", f.display());
    }
    fetch_image(&app, kept["url"].as_str().unwrap()).await;
    let out = app.oxcart_cli_env(&["purge"], &[("OXCART_MEDIA__DIR", dir.path().to_str().unwrap())]);
    let purged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(purged["unreferenced_media_files"], 0, "a second sweep finds nothing");
    app.stop().await;
}
