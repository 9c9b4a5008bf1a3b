//! Admin access pages: staff, roles, API tokens and the audit log viewer,
//! through forms and cookies as a browser without JavaScript would.

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, spawn};

crate::on_both_databases!(
    owner_manages_staff_roles_and_tokens_through_pages,
    pages_refuse_forged_forms_and_missing_rights,
    second_factor_is_set_up_on_the_security_page,
);

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("{name} on page")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let res = app.get("/admin/login", None).await;
    let csrf_cookie = set_cookie(&res, "oxcart_csrf").unwrap();
    let csrf = field(&res.text().await.unwrap(), "_csrf");
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("email", email), ("password", password), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "sign-in of {email}");
    set_cookie(&res, "oxcart_session").unwrap()
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = app.client.post(app.url(path)).header("cookie", cookie).form(form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn owner_manages_staff_roles_and_tokens_through_pages(b: Backend) {
    let app = spawn(b).await;
    for path in ["/admin/staff", "/admin/roles", "/admin/tokens", "/admin/audit"] {
        assert_eq!(page(&app, "", path).await.0, 303, "{path} needs sign-in");
    }
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    for path in ["/admin/staff", "/admin/roles", "/admin/tokens", "/admin/audit"] {
        assert_eq!(page(&app, &owner, path).await.0, 200, "{path}");
    }
    let (_, html) = page(&app, &owner, "/admin/staff").await;
    let csrf = field(&html, "_csrf");
    let form = [
        ("email", "picker@staff.example"),
        ("display_name", "Pat Picker"),
        ("password", "picker password 1"),
        ("role", "warehouse"),
        ("_csrf", &csrf),
    ];
    assert_eq!(post(&app, &owner, "/admin/staff", &form).await.0, 303);
    let (_, html) = page(&app, &owner, "/admin/staff").await;
    assert!(html.contains("picker@staff.example") && html.contains("Pat Picker"));
    let start = html.find("id=\"staff-stf_").unwrap() + 10;
    let ids: Vec<&str> = html.match_indices("id=\"staff-stf_").map(|(i, _)| &html[i + 10..i + 40]).collect();
    assert!(ids.len() >= 2 && start > 0);
    let picker_row = html.find("picker@staff.example").unwrap();
    let picker_id = ids.iter().rev().copied().find(|id| html.find(*id).unwrap() < picker_row).unwrap().to_string();

    // A custom role from checkboxes, then assigned to the new member.
    let (status, _) = post(
        &app,
        &owner,
        "/admin/roles",
        &[
            ("name", "Stock auditor"),
            ("permissions", "inventory.read"),
            ("permissions", "audit.read"),
            ("_csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &owner, "/admin/roles").await;
    let start = html.find("id=\"role-rol_").unwrap() + 9;
    let role_id = html[start..start + 30].to_string();
    let (status, _) =
        post(&app, &owner, &format!("/admin/staff/{picker_id}/role"), &[("role", &role_id), ("_csrf", &csrf)]).await;
    assert_eq!(status, 303);

    let (_, html) = page(&app, &owner, "/admin/audit?action=staff.role_changed").await;
    assert!(html.contains("staff.role_changed") && html.contains(&picker_id) && html.contains(&role_id), "{html}");
    let (_, html) = page(&app, &owner, "/admin/audit?action=role.*").await;
    assert!(html.contains("role.created") && !html.contains("staff.role_changed"), "filters by family");

    // A token's secret is shown once, on creation only.
    let (status, html) = post(
        &app,
        &owner,
        "/admin/tokens",
        &[("name", "Warehouse scanner"), ("permissions", "inventory.read"), ("_csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 201);
    let start = html.find("id=\"token-secret\">").unwrap() + 18;
    let secret = html[start..start + html[start..].find('<').unwrap()].to_string();
    assert!(secret.starts_with("oxc.tok_"));
    let (_, list) = page(&app, &owner, "/admin/tokens").await;
    assert!(list.contains("Warehouse scanner") && !list.contains(&secret));
    assert_eq!(app.get("/api/v1/events", Some(&secret)).await.status(), 403, "scoped to inventory.read only");
    app.stop().await;
}

async fn pages_refuse_forged_forms_and_missing_rights(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let form = [
        ("email", "x@staff.example"),
        ("display_name", "X"),
        ("password", "x password 123"),
        ("role", "owner"),
        ("_csrf", "forged"),
    ];
    assert_eq!(post(&app, &owner, "/admin/staff", &form).await.0, 403);
    let (_, html) = page(&app, &owner, "/admin/staff").await;
    assert!(!html.contains("x@staff.example"), "nothing created");

    let csrf = field(&html, "_csrf");
    let form = [
        ("email", "wh@staff.example"),
        ("display_name", "W"),
        ("password", "warehouse pw 123"),
        ("role", "warehouse"),
        ("_csrf", &csrf),
    ];
    assert_eq!(post(&app, &owner, "/admin/staff", &form).await.0, 303);
    let bad = [
        ("email", "y@staff.example"),
        ("display_name", "Y"),
        ("password", "short"),
        ("role", "warehouse"),
        ("_csrf", &csrf),
    ];
    let (status, html) = post(&app, &owner, "/admin/staff", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("password"), "the error is shown");

    let warehouse = sign_in(&app, "wh@staff.example", "warehouse pw 123").await;
    assert_eq!(page(&app, &warehouse, "/admin/audit").await.0, 403);
    assert_eq!(page(&app, &warehouse, "/admin/tokens").await.0, 403);
    assert_eq!(page(&app, &warehouse, "/admin/staff").await.0, 403);
    app.stop().await;
}

async fn second_factor_is_set_up_on_the_security_page(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (status, html) = page(&app, &owner, "/admin/security").await;
    assert_eq!(status, 200);
    let csrf = field(&html, "_csrf");
    let (status, html) = post(&app, &owner, "/admin/security/totp", &[("_csrf", &csrf)]).await;
    assert_eq!(status, 200);
    let start = html.find("id=\"totp-secret\">").unwrap() + 17;
    let secret = oxcart::domain::totp::base32_decode(&html[start..start + html[start..].find('<').unwrap()]).unwrap();
    let step = chrono::Utc::now().timestamp() / oxcart::domain::totp::STEP_SECS;
    let code = oxcart::domain::totp::code_at(&secret, step);
    assert_eq!(post(&app, &owner, "/admin/security/totp/enable", &[("code", &code), ("_csrf", &csrf)]).await.0, 303);
    let (_, html) = page(&app, &owner, "/admin/security").await;
    assert!(html.contains("id=\"mfa-status\"") && html.contains("authenticator app."), "shown as on");

    // Signing in now asks for the code.
    let res = app.get("/admin/login", None).await;
    let csrf_cookie = set_cookie(&res, "oxcart_csrf").unwrap();
    let csrf = field(&res.text().await.unwrap(), "_csrf");
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("email", "admin@outfitters.example"), ("password", DEMO_PASSWORD), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("name=\"challenge\""));
    app.stop().await;
}
