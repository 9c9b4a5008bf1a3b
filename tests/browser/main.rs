//! Browser tests: headless Chromium (Debian's `chromium`, driven through
//! `chromedriver`) walks the real pages of a real server. Skipped with a
//! loud message where Chromium is missing; required when `CI` is set.
//! Screenshots go to `target/screenshots/`.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use helpers::{Backend, DEMO_PASSWORD, spawn};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process and a browser session, closed on drop.
struct Browser {
    client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn browser_available() -> bool {
    let present = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("CI").is_ok() {
            panic!(
                "CI is set but Chromium/chromedriver are missing: install the chromium and chromium-driver packages"
            );
        }
        eprintln!(
            "\n*** SKIPPED browser test: {CHROMIUM} or {CHROMEDRIVER} not found (apt-get install chromium chromium-driver) ***\n"
        );
    }
    present
}

async fn open_browser() -> Browser {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap().keep();
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1280,900", format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let mut last_err = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Browser { client, driver },
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not start a browser session: {last_err:?}");
}

async fn screenshot(c: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Clicks and waits until the browser has loaded the next document (a
/// WebDriver click returns before the navigation it starts completes).
async fn click_and_wait(c: &Client, css: &str) {
    c.execute("window.__oxcartOldPage = true", vec![]).await.unwrap();
    c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} to click")).click().await.unwrap();
    for _ in 0..200 {
        let state = c.execute("return window.__oxcartOldPage === true ? 'old' : document.readyState", vec![]).await;
        if matches!(state, Ok(ref v) if v == "complete") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new page after clicking {css}");
}

async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => {
            screenshot(c, "failure").await;
            let source = c.source().await.unwrap_or_default();
            panic!("{css} not on page {:?}:\n{source}", c.current_url().await.ok());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storefront_and_admin_in_every_language_with_the_brand() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let browser = open_browser().await;
    let c = &browser.client;

    // Storefront home in the store's brand.
    c.goto(&app.url("/")).await.unwrap();
    assert_eq!(text_of(c, "#brand-name").await, "Oxcart Outfitters");
    assert_eq!(text_of(c, "#slogan").await, "Gear for every road");
    screenshot(c, "storefront-en").await;

    // Switch language by clicking the switcher, through every language.
    for (code, home) in [("de", "Startseite"), ("es", "Inicio"), ("pt", "Início"), ("zh", "首页")] {
        click_and_wait(c, &format!("#language-switcher a[data-lang='{code}']")).await;
        let nav = text_of(c, ".mainnav a").await;
        assert_eq!(nav, home, "{code}");
        let lang = c.find(Locator::Css("html")).await.unwrap().attr("lang").await.unwrap();
        assert_eq!(lang.as_deref(), Some(code));
        screenshot(c, &format!("storefront-{code}")).await;
    }
    click_and_wait(c, "#language-switcher a[data-lang='en']").await;

    // Admin: sign in through the form.
    c.goto(&app.url("/admin")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/admin/login"));
    c.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("admin@outfitters.example").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(DEMO_PASSWORD).await.unwrap();
    click_and_wait(c, "main form button[type=submit]").await;
    assert!(text_of(c, "h1").await.contains("Oxcart Outfitters"));
    screenshot(c, "admin-home").await;

    // Change the brand in settings and see it applied to the storefront.
    c.goto(&app.url("/admin/settings")).await.unwrap();
    let name = c.find(Locator::Css("input[name=name]")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Oxcart Trail Supply").await.unwrap();
    let slogan = c.find(Locator::Css("input[name=slogan]")).await.unwrap();
    slogan.clear().await.unwrap();
    slogan.send_keys("Built for the long haul").await.unwrap();
    // Colour inputs take their value through script in WebDriver.
    c.execute("document.querySelector('input[name=primary_color]').value = '#7a1fa2'", vec![]).await.unwrap();
    click_and_wait(c, "form.form button[type=submit]").await;
    assert!(text_of(c, "#saved").await.contains("Settings saved"));
    screenshot(c, "admin-settings-saved").await;

    c.goto(&app.url("/")).await.unwrap();
    assert_eq!(text_of(c, "#brand-name").await, "Oxcart Trail Supply");
    assert_eq!(text_of(c, "#slogan").await, "Built for the long haul");
    let border = c
        .execute("return getComputedStyle(document.querySelector('.topbar')).borderBottomColor", vec![])
        .await
        .unwrap();
    assert_eq!(border, json!("rgb(122, 31, 162)"), "the new primary colour is applied");
    screenshot(c, "storefront-rebranded").await;

    // The second store keeps its own brand and default language.
    c.goto(&app.url("/s/foodbank/")).await.unwrap();
    assert_eq!(text_of(c, "#brand-name").await, "Harbor Food Bank");
    screenshot(c, "foodbank-home").await;

    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} on page"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Fills the cart's contact form with an address in Berlin and sends it.
async fn send_berlin_contact(c: &Client, email: &str, name: &str) {
    for (field, value) in [
        ("email", email),
        ("name", name),
        ("line1", "Hauptstr. 1"),
        ("city", "Berlin"),
        ("postal_code", "10115"),
        ("country", "DE"),
    ] {
        fill(c, &format!("#contact-form input[name={field}]"), value).await;
    }
    click_and_wait(c, "#contact-form button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_signs_up_edits_an_address_and_exports_data() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let browser = open_browser().await;
    let c = &browser.client;

    c.goto(&app.url("/account/signup")).await.unwrap();
    fill(c, "input[name=email]", "browser.buyer@example.com").await;
    fill(c, "input[name=display_name]", "Browser Buyer").await;
    fill(c, "input[name=password]", "browser buyer password").await;
    click_and_wait(c, "form.form button[type=submit]").await;
    assert_eq!(text_of(c, "#my-email").await, "browser.buyer@example.com");

    // Sign out and back in.
    click_and_wait(c, "nav.adminnav form button[type=submit]").await;
    c.goto(&app.url("/account/login")).await.unwrap();
    fill(c, "input[name=email]", "browser.buyer@example.com").await;
    fill(c, "input[name=password]", "browser buyer password").await;
    click_and_wait(c, "form.form button[type=submit]").await;
    assert_eq!(text_of(c, "#my-email").await, "browser.buyer@example.com");

    // Add an address, then edit it.
    for (name, value) in [
        ("name", "Browser Buyer"),
        ("line1", "Rua das Flores 10"),
        ("city", "Porto"),
        ("postal_code", "4050-262"),
        ("country", "PT"),
    ] {
        fill(c, &format!("#new-address input[name={name}]"), value).await;
    }
    click_and_wait(c, "#new-address button[type=submit]").await;
    assert!(text_of(c, ".address-line").await.contains("Rua das Flores 10"));
    c.find(Locator::Css("details.address summary")).await.unwrap().click().await.unwrap();
    fill(c, "form.edit-address input[name=line1]", "Rua de Santa Catarina 5").await;
    click_and_wait(c, "form.edit-address button[type=submit]").await;
    assert!(text_of(c, ".address-line").await.contains("Rua de Santa Catarina 5"));
    screenshot(c, "account-addresses").await;

    // Export my data with the browser's own session.
    let export = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch('/account/export').then(r => r.json()).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(export["profile"]["email"], "browser.buyer@example.com");
    assert_eq!(export["addresses"][0]["line1"], "Rua de Santa Catarina 5");

    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_changes_a_role_and_finds_it_in_the_audit_log() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let browser = open_browser().await;
    let c = &browser.client;

    c.goto(&app.url("/admin/login")).await.unwrap();
    fill(c, "input[name=email]", "admin@outfitters.example").await;
    fill(c, "input[name=password]", DEMO_PASSWORD).await;
    click_and_wait(c, "main form button[type=submit]").await;

    c.goto(&app.url("/admin/staff")).await.unwrap();
    fill(c, "#add-staff input[name=email]", "sam@staff.example").await;
    fill(c, "#add-staff input[name=display_name]", "Sam Stock").await;
    fill(c, "#add-staff input[name=password]", "sam stock password").await;
    c.execute("document.querySelector('#add-staff select[name=role]').value = 'warehouse'", vec![]).await.unwrap();
    click_and_wait(c, "#add-staff button[type=submit]").await;
    assert!(text_of(c, "#staff-table").await.contains("sam@staff.example"));

    // Promote Sam from warehouse to order manager in the table.
    c.execute(
        "const row = [...document.querySelectorAll('#staff-table tr')].find(r => r.textContent.includes('sam@staff.example'));
         row.querySelector('select[name=role]').value = 'order_manager';
         row.querySelector('form').setAttribute('id', 'sam-role');",
        vec![],
    )
    .await
    .unwrap();
    click_and_wait(c, "#sam-role button[type=submit]").await;
    screenshot(c, "admin-staff").await;

    c.goto(&app.url("/admin/audit")).await.unwrap();
    fill(c, "#audit-filter input[name=action]", "staff.*").await;
    click_and_wait(c, "#audit-filter button[type=submit]").await;
    let table = text_of(c, "#audit-table").await;
    assert!(table.contains("staff.role_changed"), "{table}");
    assert!(
        table.contains("\"warehouse\"") && table.contains("\"order_manager\""),
        "before and after are shown: {table}"
    );
    assert!(table.contains("staff.created"));
    screenshot(c, "admin-audit").await;

    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopper_searches_in_german_and_chinese_filters_and_picks_a_variant() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let owner = app.outfitters_owner().await;
    let setup = [
        (
            "/api/v1/attributes",
            json!({"code": "colour", "kind": "choice", "filterable": true, "names": {"en": "Colour", "de": "Farbe", "zh": "颜色"},
                   "choices": [{"code": "red", "labels": {"en": "Red", "de": "Rot", "zh": "红色"}},
                               {"code": "blue", "labels": {"en": "Blue", "de": "Blau", "zh": "蓝色"}}]}),
        ),
        ("/api/v1/product-types", json!({"code": "shoes", "name": "Shoes", "attributes": ["colour"]})),
    ];
    for (path, body) in setup {
        assert_eq!(app.post_json(path, Some(&owner), &body).await.status(), 201);
    }
    for (sku, colour, en, de, zh) in [
        ("RUN", "red", "Trail running shoes", "Trail-Laufschuhe", "越野跑鞋"),
        ("HIKE", "blue", "Hiking shoes", "Wanderschuhe", "徒步鞋"),
    ] {
        let body = json!({
            "kind": "physical", "status": "published", "product_type": "shoes", "attributes": {"colour": colour},
            "texts": {"en": {"name": en}, "de": {"name": de}, "zh": {"name": zh}},
            "variants": [
                {"sku": format!("{sku}-42"), "options": {"size": "42"}, "prices": [{"channel": "web", "amount": 8999}]},
                {"sku": format!("{sku}-44"), "options": {"size": "44"}, "prices": [{"channel": "web", "amount": 9499}]}
            ]
        });
        assert_eq!(app.post_json("/api/v1/products", Some(&owner), &body).await.status(), 201);
    }
    let browser = open_browser().await;
    let c = &browser.client;

    // German: search, narrow by colour, open the product, pick a size.
    c.goto(&app.url("/")).await.unwrap();
    click_and_wait(c, "a[data-lang=de]").await;
    fill(c, "#search-input", "Schuhe").await;
    click_and_wait(c, ".searchbox button").await;
    assert_eq!(text_of(c, "#result-count").await, "2 Treffer");
    let facet = text_of(c, "[data-facet=colour] h3").await;
    assert_eq!(facet, "Farbe");
    click_and_wait(c, "[data-facet=colour] a[data-value=red]").await;
    assert_eq!(text_of(c, "#result-count").await, "1 Treffer");
    assert_eq!(text_of(c, "#products .card-name").await, "Trail-Laufschuhe");
    screenshot(c, "search-de-filtered").await;
    click_and_wait(c, "#products .card a").await;
    assert_eq!(text_of(c, "#product-name").await, "Trail-Laufschuhe");
    assert_eq!(text_of(c, "#sku").await, "RUN-42");
    click_and_wait(c, "#variant-picker a[data-sku=RUN-44]").await;
    assert_eq!(text_of(c, "#sku").await, "RUN-44");
    assert!(text_of(c, "#price").await.contains("94,99"), "German price format");
    screenshot(c, "product-variant-de").await;

    // Chinese: a word inside the name finds it.
    click_and_wait(c, "a[data-lang=zh]").await;
    fill(c, "#search-input", "跑鞋").await;
    click_and_wait(c, ".searchbox button").await;
    assert_eq!(text_of(c, "#products .card-name").await, "越野跑鞋");
    assert_eq!(text_of(c, "[data-facet=colour] h3").await, "颜色");
    screenshot(c, "search-zh").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_creates_a_product_with_an_image_and_sees_it_in_the_store() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    // A real photo-like picture to upload, made here.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lantern.png");
    let img = image::RgbImage::from_fn(640, 400, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    img.save(&path).unwrap();

    let browser = open_browser().await;
    let c = &browser.client;
    c.goto(&app.url("/admin/login")).await.unwrap();
    fill(c, "input[name=email]", "admin@outfitters.example").await;
    fill(c, "input[name=password]", DEMO_PASSWORD).await;
    click_and_wait(c, "main form button[type=submit]").await;
    c.goto(&app.url("/admin/products")).await.unwrap();
    click_and_wait(c, "#new-product").await;
    fill(c, "input[name='name.en']", "Camping lantern").await;
    fill(c, "textarea[name='description.en']", "Bright and **light**.").await;
    fill(c, "#variants input[name=sku]", "LANTERN-1").await;
    fill(c, "#variants input[name=price]", "24.90").await;
    c.find(Locator::Css("#status option[value=published]")).await.unwrap().click().await.unwrap();
    click_and_wait(c, "#save").await;
    assert!(text_of(c, "#notice").await.len() > 1, "saved");
    c.find(Locator::Css("#image-file")).await.unwrap().send_keys(path.to_str().unwrap()).await.unwrap();
    fill(c, "#media-form input[name=alt_en]", "A lit lantern").await;
    click_and_wait(c, "#upload").await;
    let thumbs = c.find_all(Locator::Css("#admin-gallery img")).await.unwrap();
    assert_eq!(thumbs.len(), 1, "the upload shows in the editor");
    screenshot(c, "admin-product-with-image").await;

    // The store shows it: found by search, with the picture on its page.
    c.goto(&app.url("/search?q=lantern")).await.unwrap();
    assert_eq!(text_of(c, "#products .card-name").await, "Camping lantern");
    click_and_wait(c, "#products .card a").await;
    assert_eq!(text_of(c, "#product-name").await, "Camping lantern");
    let loaded = c
        .execute(
            "const i = document.querySelector('.gallery img'); return i ? [i.complete && i.naturalWidth > 0, i.alt] : null",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(loaded, json!([true, "A lit lantern"]), "the image loads with its alt text");
    screenshot(c, "storefront-product-with-image").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_buys_in_german_and_an_admin_fulfils_the_order_and_takes_a_return() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let owner = app.outfitters_owner().await;
    let tent = json!({
        "kind": "physical", "status": "published",
        "texts": {"en": {"name": "Trail tent"}, "de": {"name": "Wanderzelt"}},
        "variants": [
            {"sku": "TENT-S", "options": {"size": "S"}, "prices": [{"channel": "web", "amount": 12000}]},
            {"sku": "TENT-L", "options": {"size": "L"}, "prices": [{"channel": "web", "amount": 15000}]}
        ]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &tent).await.status(), 201);
    let loc = json!({"code": "berlin", "name": "Berlin", "country": "DE"});
    assert_eq!(app.post_json("/api/v1/stock-locations", Some(&owner), &loc).await.status(), 201);
    let arrival = json!({"lines": [{"sku": "TENT-L", "location": "berlin", "delta": 3, "reason": "received"}]});
    assert_eq!(app.post_json("/api/v1/stock-adjustments", Some(&owner), &arrival).await.status(), 201);
    let browser = open_browser().await;
    let c = &browser.client;

    // In German: the small tent is sold out, the large one goes in the cart.
    c.goto(&app.url("/")).await.unwrap();
    click_and_wait(c, "a[data-lang=de]").await;
    c.goto(&app.url("/p/wanderzelt")).await.unwrap();
    assert_eq!(text_of(c, "#stock").await, "Ausverkauft");
    click_and_wait(c, "#variant-picker a[data-sku=TENT-L]").await;
    assert_eq!(text_of(c, "#stock").await, "Auf Lager");
    fill(c, "#add-to-cart input[name=quantity]", "2").await;
    click_and_wait(c, "#add-to-cart button").await;
    assert!(text_of(c, "#subtotal").await.contains("300,00"), "German money format");
    send_berlin_contact(c, "gast@example.com", "Greta Gast").await;
    screenshot(c, "cart-de").await;
    click_and_wait(c, "#place-order button").await;
    let order_url = c.current_url().await.unwrap().to_string();
    assert_eq!(text_of(c, "#order-number").await, "1");
    assert_eq!(text_of(c, "#order-status").await, "Eingegangen");
    assert!(text_of(c, "#order-total").await.contains("300,00"));
    screenshot(c, "order-confirmation-de").await;
    let mail = app.mailbox("outfitters", 1).await;
    assert!(mail[0].contains("gast@example.com"));

    // The admin confirms it.
    c.goto(&app.url("/admin/login")).await.unwrap();
    fill(c, "input[name=email]", "admin@outfitters.example").await;
    fill(c, "input[name=password]", DEMO_PASSWORD).await;
    click_and_wait(c, "main form button[type=submit]").await;
    c.goto(&app.url("/admin/orders")).await.unwrap();
    click_and_wait(c, "#order-1 a").await;
    click_and_wait(c, "#status-form button[type=submit]").await;
    assert_eq!(text_of(c, "#status").await, "confirmed");
    screenshot(c, "admin-order-confirmed").await;

    // …ships both tents from the pick list with a tracking number…
    assert!(text_of(c, "#fulfilment").await.contains("TENT-L"));
    fill(c, "#ship-form input[name=tracking_number]", "DHL-123").await;
    click_and_wait(c, "#ship-form button[type=submit]").await;
    assert_eq!(text_of(c, "#status").await, "fulfilled");
    assert!(text_of(c, "#shipments").await.contains("DHL-123"));

    // …the guest sends one back as damaged…
    c.goto(&order_url).await.unwrap();
    assert!(text_of(c, "#order").await.contains("DHL-123"), "the tracking number is on the order page");
    fill(c, "#return-form input[name=\"qty:TENT-L\"]", "1").await;
    fill(c, "#return-form input[name=comment]", "Riss im Zelt").await;
    click_and_wait(c, "#return-form button[type=submit]").await;
    assert!(text_of(c, "#returns").await.contains("angemeldet"), "the request shows in German");

    // …and the admin approves it, receives the tent and sees the refund owed.
    c.goto(&app.url("/admin/orders")).await.unwrap();
    click_and_wait(c, "#order-1 a").await;
    click_and_wait(c, "#returns form button[type=submit]").await;
    click_and_wait(c, "#returns .receive-form button[type=submit]").await;
    let returns = text_of(c, "#returns").await;
    assert!(returns.contains("received") && returns.contains("150,00"), "{returns}");
    screenshot(c, "admin-return-received").await;
    c.goto(&order_url).await.unwrap();
    assert!(text_of(c, "#returns .refund").await.contains("150,00"));
    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_buys_in_english_in_dollars_with_sales_tax_added() {
    if !browser_available() {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let owner = app.outfitters_owner().await;
    let us = json!({"code": "us", "name": "US store", "currency": "USD", "prices_include_tax": false});
    assert_eq!(app.post_json("/api/v1/channels", Some(&owner), &us).await.status(), 201);
    let lamp = json!({
        "kind": "physical", "status": "published", "texts": {"en": {"name": "Camp lamp"}},
        "variants": [{"sku": "LAMP", "prices": [{"channel": "web", "amount": 2500}, {"channel": "us", "amount": 2000}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &lamp).await.status(), 201);
    let rate =
        json!({"country": "US", "region": "NY", "tax_class": "standard", "rate": "8.875", "label": "NY sales tax"});
    assert_eq!(app.put_json("/api/v1/tax/rates", Some(&owner), &rate).await.status(), 200);
    let browser = open_browser().await;
    let c = &browser.client;

    // A customer signs in, picks dollars and buys a lamp: $20.00 + 8.875 % = $21.78.
    c.goto(&app.url("/account/login")).await.unwrap();
    fill(c, "input[name=email]", "ana@customers.example").await;
    fill(c, "input[name=password]", DEMO_PASSWORD).await;
    click_and_wait(c, "form.form button[type=submit]").await;
    c.goto(&app.url("/")).await.unwrap();
    click_and_wait(c, "#currency-switcher a[data-channel=us]").await;
    c.goto(&app.url("/p/camp-lamp")).await.unwrap();
    click_and_wait(c, "#add-to-cart button").await;
    assert!(text_of(c, "#subtotal").await.contains("$20.00"), "priced in dollars");
    for (name, value) in [
        ("email", "ana@customers.example"),
        ("name", "Ana Lima"),
        ("line1", "5th Avenue 1"),
        ("city", "New York"),
        ("region", "NY"),
        ("postal_code", "10001"),
        ("country", "US"),
    ] {
        fill(c, &format!("#contact-form input[name={name}]"), value).await;
    }
    click_and_wait(c, "#contact-form button[type=submit]").await;
    assert!(text_of(c, "#total").await.contains("$21.78"), "sales tax added on top");
    screenshot(c, "cart-usd").await;
    click_and_wait(c, "#place-order button").await;
    assert!(text_of(c, "#order-total").await.contains("$21.78"));
    assert!(text_of(c, "#order-tax").await.contains("$1.78"));
    // The order is in the customer's account.
    c.goto(&app.url("/account")).await.unwrap();
    assert!(c.source().await.unwrap().contains("$21.78"));
    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

/// A fresh shop selling a camp stove (STOVE, €45.00): the app and its owner's token.
async fn shop_with_a_stove() -> (helpers::TestApp, String) {
    let app = spawn(Backend::Sqlite).await;
    let owner = app.outfitters_owner().await;
    let stove = json!({
        "kind": "physical", "status": "published", "texts": {"en": {"name": "Camp stove"}},
        "variants": [{"sku": "STOVE", "prices": [{"channel": "web", "amount": 4500}]}]
    });
    assert_eq!(app.post_json("/api/v1/products", Some(&owner), &stove).await.status(), 201);
    (app, owner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_pays_by_card_through_the_issuers_challenge() {
    if !browser_available() {
        return;
    }
    let (app, _) = shop_with_a_stove().await;
    let browser = open_browser().await;
    let c = &browser.client;
    c.goto(&app.url("/p/camp-stove")).await.unwrap();
    click_and_wait(c, "#add-to-cart button").await;
    send_berlin_contact(c, "gina@example.com", "Gina Guest").await;
    click_and_wait(c, "#place-order button").await;
    assert!(text_of(c, "#left-to-pay").await.contains("45.00"));
    // A card the issuer wants confirmed.
    for (name, value) in [
        ("card_number", "4000 0000 0000 3220"),
        ("exp_month", "12"),
        ("exp_year", "2034"),
        ("cvc", "123"),
        ("holder", "Gina Guest"),
    ] {
        fill(c, &format!("#pay-form input[name={name}]"), value).await;
    }
    click_and_wait(c, "#pay-submit").await;
    assert!(text_of(c, ".payment .payment-status").await.contains("awaiting your confirmation"));
    screenshot(c, "pay-challenge").await;
    click_and_wait(c, "#challenge-approve").await;
    assert_eq!(text_of(c, ".payment .payment-status").await, "paid");
    assert!(text_of(c, "#order-status").await.to_lowercase().contains("confirmed"), "paying confirms the order");
    assert!(c.find(Locator::Css("#pay-form")).await.is_err(), "nothing left to pay");
    screenshot(c, "pay-done").await;
    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_pays_part_with_store_credit_and_the_rest_by_card() {
    if !browser_available() {
        return;
    }
    let (app, owner) = shop_with_a_stove().await;
    let ana = app.login("", "customer", "ana@customers.example").await;
    let me: serde_json::Value = app.get("/api/v1/me", Some(&ana)).await.json().await.unwrap();
    let grant = json!({"amount": 2000, "note": "sorry for the late parcel"});
    let path = format!("/api/v1/customers/{}/store-credit", me["id"].as_str().unwrap());
    assert_eq!(app.post_json(&path, Some(&owner), &grant).await.status(), 200);
    let browser = open_browser().await;
    let c = &browser.client;
    c.goto(&app.url("/account/login")).await.unwrap();
    fill(c, "input[name=email]", "ana@customers.example").await;
    fill(c, "input[name=password]", DEMO_PASSWORD).await;
    click_and_wait(c, "form.form button[type=submit]").await;
    c.goto(&app.url("/p/camp-stove")).await.unwrap();
    click_and_wait(c, "#add-to-cart button").await;
    send_berlin_contact(c, "ana@customers.example", "Ana Lima").await;
    click_and_wait(c, "#place-order button").await;
    assert!(text_of(c, "#left-to-pay").await.contains("45.00"));
    assert!(text_of(c, "#credit-balance").await.contains("20.00"));
    // The credit pays what it can...
    c.find(Locator::Css("#method-store-credit")).await.unwrap().click().await.unwrap();
    click_and_wait(c, "#pay-submit").await;
    assert!(text_of(c, "#left-to-pay").await.contains("25.00"), "the credit paid €20.00");
    assert!(c.find(Locator::Css("#credit-balance")).await.is_err(), "no credit left to offer");
    // ...and a card the rest.
    for (name, value) in
        [("card_number", "4242 4242 4242 4242"), ("exp_month", "12"), ("exp_year", "2034"), ("cvc", "123")]
    {
        fill(c, &format!("#pay-form input[name={name}]"), value).await;
    }
    click_and_wait(c, "#pay-submit").await;
    let methods: Vec<String> = {
        let mut out = Vec::new();
        for e in c.find_all(Locator::Css(".payment")).await.unwrap() {
            out.push(e.attr("data-method").await.unwrap().unwrap_or_default());
        }
        out
    };
    assert_eq!(methods, vec!["store_credit", "test_card"]);
    assert!(text_of(c, "#order-status").await.to_lowercase().contains("confirmed"), "paid in full");
    assert!(c.find(Locator::Css("#pay-form")).await.is_err(), "nothing left to pay");
    screenshot(c, "pay-credit-and-card").await;
    let credit: serde_json::Value = app.get("/api/v1/me/store-credit", Some(&ana)).await.json().await.unwrap();
    assert_eq!(credit, json!([{"currency": "EUR", "balance": 0}]));
    browser.client.clone().close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_refunds_part_of_an_order_and_sees_the_ledger_and_a_credit_note() {
    if !browser_available() {
        return;
    }
    let (app, owner) = shop_with_a_stove().await;
    // A guest's order, paid by card and invoiced, through the API.
    let cart: serde_json::Value =
        app.client.post(app.url("/api/v1/carts")).json(&json!({})).send().await.unwrap().json().await.unwrap();
    let (cart_id, cart_token) =
        (cart["cart"]["id"].as_str().unwrap().to_string(), cart["token"].as_str().unwrap().to_string());
    let put = |path: String, body: serde_json::Value| {
        let req = app.client.put(app.url(&path)).header("cart-token", cart_token.clone()).json(&body);
        async move { assert_eq!(req.send().await.unwrap().status(), 200) }
    };
    put(format!("/api/v1/carts/{cart_id}/lines/STOVE"), json!({"quantity": 1})).await;
    let address = json!({"name": "Gina Guest", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"});
    put(format!("/api/v1/carts/{cart_id}/contact"), json!({"email": "gina@example.com", "shipping_address": address}))
        .await;
    let order: serde_json::Value = app
        .client
        .post(app.url(&format!("/api/v1/carts/{cart_id}/checkout")))
        .header("cart-token", &cart_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (order_id, order_token) =
        (order["id"].as_str().unwrap().to_string(), order["access_token"].as_str().unwrap().to_string());
    let card = json!({"method": "test_card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}});
    let res = app
        .client
        .post(app.url(&format!("/api/v1/orders/{order_id}/payments")))
        .header("order-token", &order_token)
        .json(&card)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        app.post_json(&format!("/api/v1/orders/{order_id}/invoice"), Some(&owner), &json!({})).await.status(),
        201
    );

    let browser = open_browser().await;
    let c = &browser.client;
    c.goto(&app.url("/admin/login")).await.unwrap();
    fill(c, "input[name=email]", "admin@outfitters.example").await;
    fill(c, "input[name=password]", DEMO_PASSWORD).await;
    click_and_wait(c, "main form button[type=submit]").await;
    c.goto(&app.url(&format!("/admin/orders/{order_id}"))).await.unwrap();
    assert_eq!(text_of(c, "#payments .payment td:nth-child(2)").await, "captured");
    // Refund 10.00 of the 45.00.
    fill(c, "#payments .refund-form input[name=amount]", "10.00").await;
    fill(c, "#payments .refund-form input[name=note]", "dented lid").await;
    click_and_wait(c, "#payments .refund-form button[type=submit]").await;
    assert_eq!(text_of(c, "#payments .payment td:nth-child(2)").await, "partially_refunded");
    assert!(text_of(c, "#payments .payment td:nth-child(5)").await.contains("10.00"));
    // The ledger shows the refund, and a credit note was issued.
    let journal = text_of(c, "#journal").await;
    assert!(
        journal.contains("refund") && journal.contains("refunds:web") && journal.contains("clearing:test_card"),
        "{journal}"
    );
    assert!(text_of(c, "#invoices li[data-kind=credit_note]").await.contains("10.00"));
    screenshot(c, "admin-refund").await;
    click_and_wait(c, "#invoices li[data-kind=credit_note] a").await;
    assert_eq!(text_of(c, "#doc-title").await, "Credit note");
    assert!(text_of(c, "#doc-total").await.contains("10.00"));
    assert!(text_of(c, "#credits").await.contains("INV-"));
    screenshot(c, "admin-credit-note").await;
    browser.client.clone().close().await.unwrap();
    app.stop().await;
}
