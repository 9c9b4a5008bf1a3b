//! Personal data at rest: e-mail addresses and names are stored sealed,
//! found again through keyed hashes, and never appear as plaintext.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn};

crate::on_both_databases!(no_plaintext_personal_data_in_the_database, stale_data_is_purged_by_retention);

async fn no_plaintext_personal_data_in_the_database(b: Backend) {
    let app = spawn(b).await;
    let email = "Zelda.Secret@Example.com";
    let res = app
        .post_json(
            "/api/v1/customers",
            None,
            &json!({"email": email, "password": "a long password", "display_name": "Zelda Zebrafinch"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let login = json!({"email": "zelda.secret@example.com", "password": "a long password", "audience": "customer"});
    let res = app.post_json("/api/v1/auth/login", None, &login).await;
    assert_eq!(res.status(), 200, "found by the blind index of the normalised address");
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let me: Value = app.get("/api/v1/me", Some(&token)).await.json().await.unwrap();
    assert_eq!(me["email"], "zelda.secret@example.com", "decrypted on the way out");
    assert_eq!(me["display_name"], "Zelda Zebrafinch");
    let res = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .json(&json!({"display_name": "Zelda Quetzal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let raw = app.raw_database().await;
    let raw = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(raw.len() > 1000, "the dump has content");
    for needle in
        ["zelda", "zebrafinch", "quetzal", "ana@customers.example", "admin@outfitters.example", "demo customer"]
    {
        assert!(!raw.contains(needle), "plaintext {needle:?} found in the database");
    }
    assert!(raw.contains("v1.k1."), "sealed values are there, tagged with their key id");
    app.stop().await;
}

async fn stale_data_is_purged_by_retention(b: Backend) {
    let app = spawn(b).await;
    let body = json!({"email": "old.guest@example.com", "password": "a long password", "display_name": "Old"});
    let res = app
        .client
        .post(app.url("/api/v1/customers"))
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    app.mailbox("outfitters", 1).await;
    let token = app.login("", "customer", "ana@customers.example").await;
    // Age everything past its retention period.
    app.raw_sql("UPDATE sessions SET expires_at = 1").await.unwrap();
    app.raw_sql("UPDATE mail_outbox SET created_at = 1").await.unwrap();
    app.raw_sql("UPDATE idempotency_keys SET created_at = 1").await.unwrap();
    app.raw_sql("UPDATE one_time_tokens SET expires_at = 1").await.unwrap();
    let out = app.oxcart_cli(&["purge"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let purged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(purged["sessions"].as_u64().unwrap() >= 1);
    assert_eq!(purged["sent_mail"], 1);
    assert_eq!(purged["idempotency_keys"], 1);
    for table in ["sessions", "mail_outbox", "idempotency_keys", "one_time_tokens"] {
        assert_eq!(app.count_rows(table).await, 0, "{table} purged");
    }
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status(), 401);
    assert!(app.count_rows("customers").await >= 2, "accounts themselves are kept");
    app.stop().await;
}
