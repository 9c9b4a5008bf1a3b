//! Server-rendered pages: language switching, admin sign-in with CSRF
//! protection, brand settings, and the API reference.

use serde_json::Value;

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, spawn};

crate::on_both_databases!(
    language_switcher_translates_the_shell,
    admin_signs_in_and_changes_the_brand,
    forms_without_a_valid_csrf_token_are_refused,
    api_reference_is_generated_from_the_code,
);

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn hidden_csrf(html: &str) -> String {
    let start = html.find("name=\"_csrf\" value=\"").expect("csrf field") + 20;
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn language_switcher_translates_the_shell(b: Backend) {
    let app = spawn(b).await;
    let expected = [("de", "Startseite"), ("es", "Inicio"), ("pt", "Início"), ("zh", "首页"), ("en", "Home")];
    for (code, home) in expected {
        let res = app.get(&format!("/lang/{code}?next=/"), None).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/");
        let cookie = set_cookie(&res, "oxcart_lang").expect("language cookie");
        let html = app.client.get(app.url("/")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("<html lang=\"{code}\">")), "{code}");
        assert!(html.contains(&format!(">{home}</a>")), "nav text in {code}");
    }
    // Accept-Language is honoured without a cookie; the store default otherwise.
    let html = app
        .client
        .get(app.url("/"))
        .header("accept-language", "pt-BR,pt;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"pt\">"));
    let html = app.get("/s/foodbank/", None).await.text().await.unwrap();
    assert!(html.contains("<html lang=\"de\">"), "the food bank's default language is German");
    // No open redirect through `next`.
    let res = app.get("/lang/de?next=//evil.example/", None).await;
    assert_eq!(res.headers()["location"], "/");
    app.stop().await;
}

async fn sign_in(app: &TestApp, prefix: &str, email: &str) -> String {
    let res = app.get(&format!("{prefix}/admin"), None).await;
    assert_eq!(res.status(), 303, "admin needs sign-in");
    let res = app.get(&format!("{prefix}/admin/login"), None).await;
    let csrf_cookie = set_cookie(&res, "oxcart_csrf").unwrap();
    let csrf = hidden_csrf(&res.text().await.unwrap());
    let res = app
        .client
        .post(app.url(&format!("{prefix}/admin/login")))
        .header("cookie", &csrf_cookie)
        .form(&[("email", email), ("password", DEMO_PASSWORD), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    set_cookie(&res, "oxcart_session").expect("session cookie")
}

async fn admin_signs_in_and_changes_the_brand(b: Backend) {
    let app = spawn(b).await;
    let session = sign_in(&app, "/s/foodbank", "admin@foodbank.example").await;
    let home = app.client.get(app.url("/s/foodbank/admin")).header("cookie", &session).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Harbor Food Bank"));

    let form = app.client.get(app.url("/s/foodbank/admin/settings")).header("cookie", &session).send().await.unwrap();
    let csrf = hidden_csrf(&form.text().await.unwrap());
    let res = app
        .client
        .post(app.url("/s/foodbank/admin/settings"))
        .header("cookie", &session)
        .form(&[
            ("name", "Harbour Food Bank"),
            ("slogan", "Together against hunger"),
            ("logo_url", "/static/logos/foodbank.svg"),
            ("primary_color", "#0b6e4f"),
            ("default_language", "en"),
            ("_csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/s/foodbank/admin/settings?saved=1");
    let page = app.get("/s/foodbank/", None).await.text().await.unwrap();
    assert!(page.contains("Harbour Food Bank") && page.contains("Together against hunger"));

    // A bad colour re-renders the form with the field's error and changes nothing.
    let res = app
        .client
        .post(app.url("/s/foodbank/admin/settings"))
        .header("cookie", &session)
        .form(&[("name", "X"), ("primary_color", "green"), ("default_language", "en"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("primary_color must look like"));
    let store: Value = app.get("/s/foodbank/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(store["name"], "Harbour Food Bank");
    app.stop().await;
}

async fn forms_without_a_valid_csrf_token_are_refused(b: Backend) {
    let app = spawn(b).await;
    // Sign-in without the double-submit cookie.
    let res = app
        .client
        .post(app.url("/admin/login"))
        .form(&[("email", "admin@outfitters.example"), ("password", DEMO_PASSWORD), ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(set_cookie(&res, "oxcart_session").is_none());

    let session = sign_in(&app, "", "admin@outfitters.example").await;
    let res = app
        .client
        .post(app.url("/admin/settings"))
        .header("cookie", &session)
        .form(&[("name", "Hijacked"), ("primary_color", "#000000"), ("default_language", "en"), ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let store: Value = app.get("/api/v1/store", None).await.json().await.unwrap();
    assert_eq!(store["name"], "Oxcart Outfitters");
    app.stop().await;
}

async fn api_reference_is_generated_from_the_code(b: Backend) {
    let app = spawn(b).await;
    let doc: Value = app.get("/api/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/store", "/api/v1/webhooks", "/api/v1/webhooks/{id}/deliveries", "/api/v1/customers"] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());
    let html = app.get("/api/docs", None).await.text().await.unwrap();
    assert!(html.contains("/api/v1/webhooks/{id}/ping") && html.contains("CreateEndpoint"));
    app.stop().await;
}
