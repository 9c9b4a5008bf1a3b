//! The customer account pages, driven as a browser without JavaScript
//! would: forms with CSRF tokens and cookies.

use serde_json::Value;

use crate::helpers::{Backend, TestApp, link_token, spawn};

crate::on_both_databases!(a_customer_signs_up_manages_addresses_exports_and_erases, reset_password_through_the_pages);

/// A minimal cookie jar for one site.
#[derive(Default)]
pub(crate) struct Jar(Vec<(String, String)>);

impl Jar {
    pub(crate) fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    pub(crate) fn absorb(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.0.retain(|(name, _)| name != k);
            if !val.is_empty() {
                self.0.push((k.to_string(), val.to_string()));
            }
        }
    }
}

pub(crate) fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("{name} in page")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

pub(crate) async fn get(app: &TestApp, jar: &mut Jar, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", jar.header()).send().await.unwrap();
    jar.absorb(&res);
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) async fn post(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let res = app.client.post(app.url(path)).header("cookie", jar.header()).form(form).send().await.unwrap();
    jar.absorb(&res);
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    (res.status().as_u16(), res.text().await.unwrap(), location)
}

async fn a_customer_signs_up_manages_addresses_exports_and_erases(b: Backend) {
    let app = spawn(b).await;
    let mut jar = Jar::default();
    let (status, html) = get(&app, &mut jar, "/account").await;
    assert_eq!(status, 303, "{html}");
    let (_, html) = get(&app, &mut jar, "/account/signup").await;
    let csrf = field(&html, "_csrf");
    let form = [
        ("email", "pages.user@example.com"),
        ("display_name", "Page User"),
        ("password", "page user password"),
        ("_csrf", csrf.as_str()),
    ];
    let (status, _, location) = post(&app, &mut jar, "/account/signup", &form).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/account"));
    let (status, html) = get(&app, &mut jar, "/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("pages.user@example.com"));
    let csrf = field(&html, "_csrf");

    // A forged form is refused.
    let (status, _, _) =
        post(&app, &mut jar, "/account/profile", &[("display_name", "Hacked"), ("_csrf", "forged")]).await;
    assert_eq!(status, 403);

    let address = [
        ("name", "Page User"),
        ("line1", "Calle Mayor 7"),
        ("city", "Madrid"),
        ("postal_code", "28013"),
        ("country", "ES"),
        ("_csrf", csrf.as_str()),
    ];
    let (status, _, _) = post(&app, &mut jar, "/account/addresses", &address).await;
    assert_eq!(status, 303);
    let bad = [
        ("name", "X"),
        ("line1", "Y"),
        ("city", "Z"),
        ("postal_code", "ABC"),
        ("country", "ES"),
        ("_csrf", csrf.as_str()),
    ];
    let (status, html, _) = post(&app, &mut jar, "/account/addresses", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("postal_code"), "the error names the field");

    let (_, html) = get(&app, &mut jar, "/account").await;
    assert!(html.contains("Calle Mayor 7"));
    let start = html.find("id=\"address-adr_").unwrap() + 12;
    let id = &html[start..start + 30];
    let edited = [
        ("name", "Page User"),
        ("line1", "Gran Vía 1"),
        ("city", "Madrid"),
        ("postal_code", "28013"),
        ("country", "ES"),
        ("_csrf", csrf.as_str()),
    ];
    let (status, _, _) = post(&app, &mut jar, &format!("/account/addresses/{id}"), &edited).await;
    assert_eq!(status, 303);

    let res = app.client.get(app.url("/account/export")).header("cookie", jar.header()).send().await.unwrap();
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["addresses"][0]["line1"], "Gran Vía 1");

    let (status, _, _) =
        post(&app, &mut jar, "/account/erasure", &[("password", "wrong password!"), ("_csrf", csrf.as_str())]).await;
    assert_eq!(status, 401);
    let (status, html, _) =
        post(&app, &mut jar, "/account/erasure", &[("password", "page user password"), ("_csrf", csrf.as_str())]).await;
    assert_eq!(status, 200);
    assert!(html.contains("deleted"));
    let (status, _) = get(&app, &mut jar, "/account").await;
    assert_eq!(status, 303, "signed out after erasure");
    app.stop().await;
}

async fn reset_password_through_the_pages(b: Backend) {
    let app = spawn(b).await;
    let mut jar = Jar::default();
    let (_, html) = get(&app, &mut jar, "/account/reset").await;
    let csrf = field(&html, "_csrf");
    let (status, html, _) = post(
        &app,
        &mut jar,
        "/account/reset",
        &[("email", "ana@customers.example"), ("token", ""), ("_csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let token = link_token(&app.mailbox("outfitters", 1).await[0]);
    let (_, html) = get(&app, &mut jar, &format!("/account/reset?token={token}")).await;
    let csrf = field(&html, "_csrf");
    let form = [("token", token.as_str()), ("password", "my new page password"), ("_csrf", csrf.as_str())];
    let (status, html, _) = post(&app, &mut jar, "/account/reset/confirm", &form).await;
    assert_eq!(status, 200, "{html}");
    let (_, html) = get(&app, &mut jar, "/account/login").await;
    let csrf = field(&html, "_csrf");
    let form = [("email", "ana@customers.example"), ("password", "my new page password"), ("_csrf", csrf.as_str())];
    let (status, _, location) = post(&app, &mut jar, "/account/login", &form).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/account"));
    app.stop().await;
}
