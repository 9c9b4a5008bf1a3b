//! Key rotation: `oxcart keys rotate` re-encrypts every sealed value under
//! the new active key while old keys keep reading; blind indexes still find
//! accounts afterwards.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn};
use crate::orders::{add, base, catalog, checkout, contact, new_cart};

crate::on_both_databases!(rotation_re_encrypts_everything_under_the_new_key);

async fn rotation_re_encrypts_everything_under_the_new_key(b: Backend) {
    let app = spawn(b).await;
    let ana = app.login("", "customer", "ana@customers.example").await;
    let addr = json!({"name": "Ana", "line1": "Rua Augusta 100", "city": "Lisboa", "postal_code": "1100-053", "country": "PT"});
    assert_eq!(app.post_json("/api/v1/me/addresses", Some(&ana), &addr).await.status(), 201);
    // A guest order: its cart's and its own contact details are sealed too.
    let owner = app.outfitters_owner().await;
    catalog(&app, &owner).await;
    let cart = new_cart(&app, &base(&app)).await;
    assert_eq!(add(&app, &cart, "REPAIR-1", 1).await.status(), 200);
    contact(&app, &cart).await;
    let placed: Value = checkout(&base(&app), &cart, None).await.json().await.unwrap();
    let (order_id, order_token) = (placed["id"].as_str().unwrap(), placed["access_token"].as_str().unwrap());
    let before = String::from_utf8_lossy(&app.raw_database().await).to_string();
    assert!(before.contains("v1.k1.") && !before.contains("v1.k2."));

    let k2 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([42u8; 32])
    };
    let out = match b {
        Backend::Sqlite => {
            let out = app.oxcart_cli(&["keys", "new"]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            app.oxcart_cli(&["keys", "rotate"])
        }
        Backend::Postgres => app.oxcart_cli_env(
            &["keys", "rotate"],
            &[("OXCART_SECURITY__KEYS__k2", k2.as_str()), ("OXCART_SECURITY__ACTIVE_KEY", "k2")],
        ),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("under key k2"), "{text}");

    // Asked through SQL: SQLite's files may still hold superseded page
    // images (WAL frames, free pages) until a checkpoint reuses them.
    let count = |prefix: &str| {
        format!(
            "SELECT (SELECT COUNT(*) FROM customers WHERE email_enc LIKE '{prefix}%' OR display_name_enc LIKE '{prefix}%')
                  + (SELECT COUNT(*) FROM staff_users WHERE email_enc LIKE '{prefix}%' OR display_name_enc LIKE '{prefix}%')
                  + (SELECT COUNT(*) FROM customer_addresses WHERE data_enc LIKE '{prefix}%')
                  + (SELECT COUNT(*) FROM mail_outbox WHERE message_enc LIKE '{prefix}%')
                  + (SELECT COUNT(*) FROM carts WHERE contact_enc LIKE '{prefix}%')
                  + (SELECT COUNT(*) FROM orders WHERE contact_enc LIKE '{prefix}%')"
        )
    };
    assert_eq!(app.scalar(&count("v1.k1.")).await, 0, "nothing left under the old key");
    assert!(
        app.scalar(&count("v1.k2.")).await >= 7,
        "customers, staff, the address and the order are under the new key"
    );
    // Running it again finds nothing to do (resumable, idempotent).
    let again = match b {
        Backend::Sqlite => app.oxcart_cli(&["keys", "rotate"]),
        Backend::Postgres => app.oxcart_cli_env(
            &["keys", "rotate"],
            &[("OXCART_SECURITY__KEYS__k2", k2.as_str()), ("OXCART_SECURITY__ACTIVE_KEY", "k2")],
        ),
    };
    assert!(String::from_utf8_lossy(&again.stdout).contains("re-encrypted 0 values"));

    // A node that knows the new key serves the data as before.
    let node = app
        .second_node_with(|c| {
            if b == Backend::Postgres {
                c.security.keys.insert("k2".into(), k2.clone());
                c.security.active_key = Some("k2".into());
            }
        })
        .await;
    let base = format!("http://{}", node.addr);
    let login =
        json!({"email": "ana@customers.example", "password": crate::helpers::DEMO_PASSWORD, "audience": "customer"});
    let res = app.client.post(format!("{base}/api/v1/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(res.status(), 200, "the blind index still finds the account");
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let list: Value = app
        .client
        .get(format!("{base}/api/v1/me/addresses"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["line1"], "Rua Augusta 100");
    let res = app
        .client
        .get(format!("{base}/api/v1/orders/{order_id}"))
        .header("order-token", order_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the order's contact opens under the new key");
    assert_eq!(res.json::<Value>().await.unwrap()["contact"]["email"], "ana@example.com");
    node.stop().await;
    app.stop().await;
}
