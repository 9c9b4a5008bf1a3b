//! The staff second factor (TOTP): enrolment, the two-step sign-in over the
//! API and the admin pages, replay protection, and the owner requirement.

use oxcart::domain::totp;
use serde_json::{Value, json};

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    totp_sign_in_needs_a_fresh_code,
    owners_can_be_required_to_use_a_second_factor,
    admin_pages_ask_for_the_code
);

fn code(secret: &[u8], steps_ahead: i64) -> String {
    totp::code_at(secret, chrono::Utc::now().timestamp() / totp::STEP_SECS + steps_ahead)
}

/// Enrols the default store's owner; returns the raw secret.
async fn enrol(app: &TestApp, token: &str) -> Vec<u8> {
    let res = app.client.post(app.url("/api/v1/me/totp")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let setup: Value = res.json().await.unwrap();
    assert!(setup["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let secret = totp::base32_decode(setup["secret"].as_str().unwrap()).unwrap();
    assert_problem(
        app.post_json("/api/v1/me/totp/enable", Some(token), &json!({"code": "000000"})).await,
        409,
        "invalid_code",
    )
    .await;
    let res = app.post_json("/api/v1/me/totp/enable", Some(token), &json!({"code": code(&secret, -1)})).await;
    assert_eq!(res.status(), 204);
    secret
}

async fn password_step(app: &TestApp) -> String {
    let res = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "admin@outfitters.example", "password": DEMO_PASSWORD, "audience": "staff"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("token").is_none(), "no session before the second step");
    body["mfa_challenge"].as_str().unwrap().to_string()
}

async fn totp_sign_in_needs_a_fresh_code(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let secret = enrol(&app, &owner).await;

    let challenge = password_step(&app).await;
    let wrong = json!({"challenge": challenge, "code": "123456"});
    assert_problem(app.post_json("/api/v1/auth/login/second-factor", None, &wrong).await, 401, "invalid_credentials")
        .await;
    let right = json!({"challenge": challenge, "code": code(&secret, 0)});
    assert_problem(app.post_json("/api/v1/auth/login/second-factor", None, &right).await, 401, "invalid_credentials")
        .await;

    let challenge = password_step(&app).await;
    let fresh = code(&secret, 0);
    let res =
        app.post_json("/api/v1/auth/login/second-factor", None, &json!({"challenge": challenge, "code": fresh})).await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/staff", Some(&token)).await.status(), 200);

    // The same code does not open a second session.
    let challenge = password_step(&app).await;
    let replay = json!({"challenge": challenge, "code": fresh});
    assert_problem(app.post_json("/api/v1/auth/login/second-factor", None, &replay).await, 401, "invalid_credentials")
        .await;
    let log: Value = app.get("/api/v1/audit?action=auth.mfa_failed", Some(&token)).await.json().await.unwrap();
    // The wrong code and the replay are audited; the spent challenge is
    // refused before any code is checked.
    assert_eq!(log.as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn owners_can_be_required_to_use_a_second_factor(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let res = app.put_json("/api/v1/store/security", Some(&owner), &json!({"require_owner_mfa": true})).await;
    assert_eq!(res.status(), 204);
    assert_problem(app.get("/api/v1/staff", Some(&owner)).await, 403, "forbidden").await;
    enrol(&app, &owner).await;
    assert_eq!(app.get("/api/v1/staff", Some(&owner)).await.status(), 200, "rights return once enrolled");
    let log: Value = app.get("/api/v1/audit?action=store.security_changed", Some(&owner)).await.json().await.unwrap();
    assert_eq!(log[0]["summary"]["after"]["require_owner_mfa"], true);
    app.stop().await;
}

async fn admin_pages_ask_for_the_code(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let secret = enrol(&app, &owner).await;
    let page = app.get("/admin/login", None).await;
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let start = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    let csrf = html[start..start + html[start..].find('"').unwrap()].to_string();
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("cookie", &csrf_cookie)
        .form(&[("email", "admin@outfitters.example"), ("password", DEMO_PASSWORD), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none(), "no session yet");
    let html = res.text().await.unwrap();
    let start = html.find("name=\"challenge\" value=\"").unwrap() + 24;
    let challenge = html[start..start + html[start..].find('"').unwrap()].to_string();
    let res = app
        .client
        .post(app.url("/admin/login/totp"))
        .header("cookie", &csrf_cookie)
        .form(&[("challenge", challenge.as_str()), ("code", &code(&secret, 0)), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("oxcart_session="))
        .unwrap();
    assert_eq!(app.client.get(app.url("/admin")).header("cookie", session).send().await.unwrap().status(), 200);
    app.stop().await;
}
