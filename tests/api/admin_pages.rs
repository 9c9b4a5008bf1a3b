//! Admin access pages: staff, roles, API tokens and the audit log viewer,
//! through forms and cookies as a browser without JavaScript would.

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, spawn};

crate::on_both_databases!(
    owner_manages_staff_roles_and_tokens_through_pages,
    pages_refuse_forged_forms_and_missing_rights,
    second_factor_is_set_up_on_the_security_page,
    signed_out_visitors_are_sent_to_sign_in,
    forged_forms_change_nothing,
    pages_speak_the_visitors_language_and_explain_refusals,
    tokens_show_their_times_and_are_revoked_from_the_list,
    audit_log_pages_back_with_the_cursor,
    members_who_may_only_look_get_no_forms,
);

pub(crate) fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

pub(crate) fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("{name} on page")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

pub(crate) async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
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

pub(crate) async fn page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
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
    // The new member's row is the last staff row that opens before their e-mail.
    let picker_row = html.find("picker@staff.example").unwrap();
    let row_start = html[..picker_row].rfind("id=\"staff-stf_").unwrap() + 10;
    let picker_id = html[row_start..row_start + 30].to_string();
    assert!(picker_id.starts_with("stf_"));

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

fn role_id(html: &str, after: usize) -> String {
    let start = html[after..].find("id=\"role-rol_").map(|i| after + i + 9).expect("a custom role");
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

async fn signed_out_visitors_are_sent_to_sign_in(b: Backend) {
    let app = spawn(b).await;
    for path in ["/admin/staff", "/admin/roles", "/admin/tokens", "/admin/audit"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(res.headers()["location"], "/admin/login", "{path}");
    }
    let res = app.client.post(app.url("/admin/staff")).form(&[("email", "a@b.example"), ("_csrf", "x")]).send().await;
    assert_eq!(res.unwrap().headers()["location"], "/admin/login");
    // The food bank lives under its own prefix, and so does its sign-in.
    let res = app.get("/s/foodbank/admin/audit", None).await;
    assert_eq!(res.headers()["location"], "/s/foodbank/admin/login");
    app.stop().await;
}

async fn forged_forms_change_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (_, html) = page(&app, &owner, "/admin/staff").await;
    let csrf = field(&html, "_csrf");
    let start = html.find("id=\"staff-stf_").unwrap() + 10;
    let owner_id = html[start..start + html[start..].find('"').unwrap()].to_string();
    let role_path = format!("/admin/staff/{owner_id}/role");
    assert_eq!(post(&app, &owner, &role_path, &[("role", "warehouse"), ("_csrf", "forged")]).await.0, 403);
    assert_eq!(post(&app, &owner, &role_path, &[("role", "warehouse")]).await.0, 403, "no token at all");
    let role = [("name", "Forged"), ("permissions", "orders.read"), ("_csrf", "forged")];
    assert_eq!(post(&app, &owner, "/admin/roles", &role).await.0, 403);
    let token = [("name", "Forged"), ("permissions", "orders.read"), ("_csrf", &csrf[1..])];
    assert_eq!(post(&app, &owner, "/admin/tokens", &token).await.0, 403, "a token cut short");

    let (_, html) = page(&app, &owner, "/admin/staff").await;
    assert!(html.contains("<option value=\"owner\" selected>"), "the owner is still an owner");
    let (_, html) = page(&app, &owner, "/admin/roles").await;
    assert!(!html.contains("Forged"));
    let (_, html) = page(&app, &owner, "/admin/tokens").await;
    assert!(!html.contains("Forged"));
    for action in ["staff.*", "role.*", "token.*"] {
        let (_, html) = page(&app, &owner, &format!("/admin/audit?action={action}")).await;
        assert_eq!(count(&html, "class=\"audit-entry\""), 0, "{action} was not audited: nothing happened");
    }

    // A form sent as something else than a url-encoded form is refused.
    let res = app
        .client
        .post(app.url("/admin/roles"))
        .header("cookie", &owner)
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"J\",\"_csrf\":\"{csrf}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    app.stop().await;
}

async fn pages_speak_the_visitors_language_and_explain_refusals(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let german = format!("{owner}; oxcart_lang=de");
    let (status, html) = page(&app, &german, "/admin/staff").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"de\">") && html.contains("Mitarbeitende hinzufügen"));
    assert!(html.contains(">Inhaber</option>"), "built-in roles are named in German");
    let csrf = field(&html, "_csrf");
    let bad = [
        ("email", "not-an-address"),
        ("display_name", "Kim Kasse"),
        ("password", "short"),
        ("role", "accountant"),
        ("_csrf", &csrf),
    ];
    let (status, html) = post(&app, &german, "/admin/staff", &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("Geben Sie eine gültige E-Mail-Adresse ein."), "{html}");
    assert!(html.contains("Dieses Passwort ist zu kurz oder zu gängig."));
    assert!(html.contains("value=\"not-an-address\"") && html.contains("value=\"Kim Kasse\""), "input is kept");
    assert!(html.contains("<option value=\"accountant\" selected>"), "the chosen role is kept");

    // Taking the last owner's role away is a conflict, explained in Spanish.
    let spanish = format!("{owner}; oxcart_lang=es");
    let start = html.find("id=\"staff-stf_").unwrap() + 10;
    let owner_id = html[start..start + html[start..].find('"').unwrap()].to_string();
    let (status, html) =
        post(&app, &spanish, &format!("/admin/staff/{owner_id}/role"), &[("role", "analyst"), ("_csrf", &csrf)]).await;
    assert_eq!(status, 409);
    assert!(html.contains("Una tienda necesita al menos un propietario."), "{html}");

    // A role without permissions, in Portuguese; then one named like a built-in.
    let portuguese = format!("{owner}; oxcart_lang=pt");
    let (status, html) = post(&app, &portuguese, "/admin/roles", &[("name", "Vazia"), ("_csrf", &csrf)]).await;
    assert_eq!(status, 422);
    assert!(html.contains("Escolha pelo menos uma permissão.") && html.contains("value=\"Vazia\""));
    assert!(html.contains("Ver pedidos"), "permissions are described in Portuguese");
    let (status, _) =
        post(&app, &portuguese, "/admin/roles", &[("name", "owner"), ("permissions", "orders.read"), ("_csrf", &csrf)])
            .await;
    assert_eq!(status, 422);

    // A token's lifetime must be a number of days, in Chinese.
    let chinese = format!("{owner}; oxcart_lang=zh");
    let form = [("name", "扫描器"), ("expires_days", "soon"), ("permissions", "orders.read"), ("_csrf", &csrf)];
    let (status, html) = post(&app, &chinese, "/admin/tokens", &form).await;
    assert_eq!(status, 422);
    assert!(html.contains("请输入 1 到 3650 之间的整数天数") && html.contains("value=\"扫描器\""), "{html}");
    assert!(!html.contains("id=\"token-secret\""));
    let (_, html) = page(&app, &chinese, "/admin/audit").await;
    assert!(html.contains("审计日志") && html.contains("IP 地址"));
    app.stop().await;
}

async fn tokens_show_their_times_and_are_revoked_from_the_list(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (_, html) = page(&app, &owner, "/admin/tokens").await;
    let csrf = field(&html, "_csrf");
    let form = [("name", "Event reader"), ("expires_days", "30"), ("permissions", "events.read"), ("_csrf", &csrf)];
    let (status, html) = post(&app, &owner, "/admin/tokens", &form).await;
    assert_eq!(status, 201);
    let start = html.find("id=\"token-secret\">").unwrap() + 18;
    let secret = html[start..start + html[start..].find('<').unwrap()].to_string();
    assert_eq!(app.get("/api/v1/events", Some(&secret)).await.status(), 200);

    let (_, html) = page(&app, &owner, "/admin/tokens").await;
    assert!(!html.contains(&secret) && !html.contains("id=\"token-secret\""), "the secret is never shown again");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let in_30_days = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    assert!(html.contains(&format!("<td>{today} ")), "created, in UTC");
    assert!(html.contains(&format!("<td>{in_30_days} ")), "expires, in UTC");
    let start = html.find("id=\"token-tok_").unwrap() + 10;
    let token_id = html[start..start + html[start..].find('"').unwrap()].to_string();
    let revoke = format!("/admin/tokens/{token_id}/revoke");
    assert!(html.contains(&format!("{revoke}\"")));

    assert_eq!(post(&app, &owner, &revoke, &[("_csrf", "forged")]).await.0, 403);
    assert_eq!(app.get("/api/v1/events", Some(&secret)).await.status(), 200, "still valid");
    let res =
        app.client.post(app.url(&revoke)).header("cookie", &owner).form(&[("_csrf", &csrf)]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/tokens?done=1");
    assert_eq!(app.get("/api/v1/events", Some(&secret)).await.status(), 401);
    let (_, html) = page(&app, &owner, "/admin/tokens?done=1").await;
    assert!(html.contains("id=\"notice\""));
    assert!(!html.contains(&format!("{revoke}\"")), "a revoked token has no revoke button");
    assert_eq!(post(&app, &owner, &revoke, &[("_csrf", &csrf)]).await.0, 404, "revoked once only");
    app.stop().await;
}

async fn audit_log_pages_back_with_the_cursor(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (_, html) = page(&app, &owner, "/admin/roles").await;
    let csrf = field(&html, "_csrf");
    let form = [("name", "Packer"), ("permissions", "orders.read"), ("_csrf", &csrf)];
    assert_eq!(post(&app, &owner, "/admin/roles", &form).await.0, 303);
    let (_, html) = page(&app, &owner, "/admin/roles?done=1").await;
    assert!(html.contains("id=\"notice\""));
    let id = role_id(&html, 0);
    for i in 0..55 {
        let perm = if i % 2 == 0 { "inventory.read" } else { "orders.read" };
        let form = [("name", "Packer"), ("permissions", perm), ("_csrf", &csrf)];
        assert_eq!(post(&app, &owner, &format!("/admin/roles/{id}"), &form).await.0, 303);
    }
    let (_, first) = page(&app, &owner, "/admin/audit?action=role.changed").await;
    assert_eq!(count(&first, "class=\"audit-entry\""), 50);
    assert!(!first.contains("id=\"audit-newest\""));
    let end = first.find("\" id=\"audit-older\"").expect("a link to older entries");
    let older = first[first[..end].rfind("href=\"").unwrap() + 6..end].replace("&#38;", "&").replace("&amp;", "&");
    assert!(older.starts_with("/admin/audit?action=role.changed&") && older.contains("&before="), "{older}");
    let (status, second) = page(&app, &owner, &older).await;
    assert_eq!(status, 200);
    assert_eq!(count(&second, "class=\"audit-entry\""), 5, "the rest, filtered alike");
    assert!(!second.contains("role.created") && !second.contains("id=\"audit-older\""));
    assert!(second.contains("id=\"audit-newest\""));
    // Entries newest first, and a malformed cursor starts from the newest.
    let seqs = |html: &str| -> Vec<i64> {
        html.match_indices("<tr class=\"audit-entry\"><td>")
            .map(|(i, m)| {
                let s = &html[i + m.len()..];
                s[..s.find('<').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let (a, b2) = (seqs(&first), seqs(&second));
    assert!(a.windows(2).all(|w| w[0] > w[1]) && b2.iter().all(|s| s < a.last().unwrap()));
    let (status, html) = page(&app, &owner, "/admin/audit?action=role.changed&before=soon").await;
    assert_eq!(status, 200);
    assert_eq!(seqs(&html), a);
    // The summary is JSON, escaped like any other text.
    assert!(html.contains("<code class=\"summary\">{&#34;after&#34;:{&#34;permissions&#34;:"), "{html}");
    app.stop().await;
}

async fn members_who_may_only_look_get_no_forms(b: Backend) {
    let app = spawn(b).await;
    let owner = sign_in(&app, "admin@outfitters.example", DEMO_PASSWORD).await;
    let (_, html) = page(&app, &owner, "/admin/roles").await;
    let csrf = field(&html, "_csrf");
    let form = [("name", "Viewer"), ("permissions", "staff.read"), ("permissions", "audit.read"), ("_csrf", &csrf)];
    assert_eq!(post(&app, &owner, "/admin/roles", &form).await.0, 303);
    let (_, html) = page(&app, &owner, "/admin/roles").await;
    let looker_role = role_id(&html, 0);
    let form = [
        ("email", "looker@staff.example"),
        ("display_name", "Lou Looker"),
        ("password", "looker password 9"),
        ("role", looker_role.as_str()),
        ("_csrf", &csrf),
    ];
    assert_eq!(post(&app, &owner, "/admin/staff", &form).await.0, 303);

    let looker = sign_in(&app, "looker@staff.example", "looker password 9").await;
    let (status, html) = page(&app, &looker, "/admin/staff").await;
    assert_eq!(status, 200);
    assert!(html.contains("Lou Looker") && html.contains("Viewer"), "members and their roles are listed");
    assert!(!html.contains("id=\"add-staff\"") && !html.contains("role-form"), "no forms to change anything");
    let own_csrf = field(&html, "_csrf");
    let form = [
        ("email", "sneak@staff.example"),
        ("display_name", "Sneak"),
        ("password", "sneaky password 1"),
        ("role", "owner"),
        ("_csrf", &own_csrf),
    ];
    let (status, html) = post(&app, &looker, "/admin/staff", &form).await;
    assert_eq!(status, 403);
    assert!(html.contains("id=\"errors\"") && html.contains("staff.manage"), "the page says what is missing");
    let (status, html) = page(&app, &looker, "/admin/roles").await;
    assert_eq!(status, 200);
    assert!(!html.contains("id=\"new-role\""));
    assert_eq!(page(&app, &looker, "/admin/audit").await.0, 200);
    assert_eq!(page(&app, &looker, "/admin/tokens").await.0, 403);
    let (_, html) = page(&app, &owner, "/admin/staff").await;
    assert!(!html.contains("sneak@staff.example"));
    app.stop().await;
}
