//! E-mail verification and password reset through one-time links sent by
//! the mail outbox to the local mailbox.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, link_token, spawn};

crate::on_both_databases!(sign_up_sends_a_verification_link_that_works_once, password_reset_by_link_ends_old_sessions);

async fn sign_up_sends_a_verification_link_that_works_once(b: Backend) {
    let app = spawn(b).await;
    let body = json!({"email": "new.person@example.com", "password": "a long password", "display_name": "New"});
    assert_eq!(app.post_json("/s/foodbank/api/v1/customers", None, &body).await.status(), 201);
    let mail = app.mailbox("foodbank", 1).await.remove(0);
    assert!(mail.contains("To: new.person@example.com"));
    assert!(mail.contains("Bitte bestätigen"), "in the store's language (German): {mail}");
    assert!(mail.contains("/s/foodbank/account/verify?token="));
    let token = link_token(&mail);
    let res = app.post_json("/s/foodbank/api/v1/auth/verify-email", None, &json!({"token": token})).await;
    assert_eq!(res.status(), 204);
    let res = app.post_json("/s/foodbank/api/v1/auth/verify-email", None, &json!({"token": token})).await;
    assert_problem(res, 409, "invalid_token").await;
    // A token is only good in its own store.
    let res = app.post_json("/api/v1/auth/verify-email", None, &json!({"token": token})).await;
    assert_problem(res, 409, "invalid_token").await;
    let raw = String::from_utf8_lossy(&app.raw_database().await).to_string();
    assert!(!raw.contains(&token), "only the token's hash is stored");
    assert!(!raw.contains("new.person@example.com"), "queued mail is sealed too");
    app.stop().await;
}

async fn password_reset_by_link_ends_old_sessions(b: Backend) {
    let app = spawn(b).await;
    let old = app.login("", "customer", "ana@customers.example").await;
    let res = app.post_json("/api/v1/auth/password-reset", None, &json!({"email": "ANA@customers.example"})).await;
    assert_eq!(res.status(), 202);
    let res = app.post_json("/api/v1/auth/password-reset", None, &json!({"email": "nobody@nowhere.example"})).await;
    assert_eq!(res.status(), 202, "same answer for unknown addresses");
    let mails = app.mailbox("outfitters", 1).await;
    assert_eq!(mails.len(), 1, "no mail for the unknown address");
    let token = link_token(&mails[0]);

    let weak = json!({"token": token, "password": "short"});
    assert_problem(app.post_json("/api/v1/auth/password-reset/confirm", None, &weak).await, 422, "validation_failed")
        .await;
    let good = json!({"token": token, "password": "a brand new password"});
    assert_eq!(app.post_json("/api/v1/auth/password-reset/confirm", None, &good).await.status(), 204);
    assert_problem(app.post_json("/api/v1/auth/password-reset/confirm", None, &good).await, 409, "invalid_token").await;
    assert_problem(app.get("/api/v1/me", Some(&old)).await, 401, "invalid_token").await;
    let login = json!({"email": "ana@customers.example", "password": "a brand new password", "audience": "customer"});
    let res = app.post_json("/api/v1/auth/login", None, &login).await;
    assert_eq!(res.status(), 200);
    let _: Value = res.json().await.unwrap();

    // Reset requests are rate limited per account.
    for _ in 0..2 {
        app.post_json("/api/v1/auth/password-reset", None, &json!({"email": "ana@customers.example"})).await;
    }
    let res = app.post_json("/api/v1/auth/password-reset", None, &json!({"email": "ana@customers.example"})).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
    app.stop().await;
}
