//! Staff roles and permissions, custom roles, API tokens, sessions, rate
//! limits and the audit log, through the HTTP API.

use std::time::Duration;

use oxcart::domain::access::BuiltinRole;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};

crate::on_both_databases!(
    each_role_can_do_exactly_what_it_grants,
    role_change_ends_sessions_and_is_audited,
    nobody_grants_more_than_they_hold,
    custom_roles_apply_on_the_next_request,
    api_tokens_are_scoped_revocable_and_expire,
    failed_logins_lock_the_account_with_retry_after,
    logout_everywhere_ends_every_session,
    login_replaces_a_planted_session_cookie,
    audit_chain_verifies_and_detects_tampering,
    sign_ups_are_rate_limited_per_address,
    repeated_lockouts_back_off_to_a_day,
);

const PASSWORD: &str = "staff password 2026";

/// Creates a staff member with `role` and returns (id, bearer token).
async fn member(app: &TestApp, owner: &str, email: &str, role: &str) -> (String, String) {
    let res = app
        .post_json(
            "/api/v1/staff",
            Some(owner),
            &json!({"email": email, "display_name": role, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(res.status(), 201, "creating {role}");
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    (id, login(app, email, PASSWORD).await)
}

async fn login(app: &TestApp, email: &str, password: &str) -> String {
    let res = app
        .post_json("/api/v1/auth/login", None, &json!({"email": email, "password": password, "audience": "staff"}))
        .await;
    assert_eq!(res.status(), 200, "login {email}");
    res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

/// One request per permission, and the status it gets when allowed.
async fn probe(app: &TestApp, token: &str, permission: &str) -> u16 {
    let t = Some(token);
    let res = match permission {
        "settings.manage" => {
            app.put_json(
                "/api/v1/store/branding",
                t,
                &json!({"name": "Oxcart Outfitters", "primary_color": "#b4461f", "default_language": "en", "logo_url": "/static/logos/outfitters.svg", "slogan": "Gear for every road"}),
            )
            .await
        }
        "webhooks.manage" => app.get("/api/v1/webhooks", t).await,
        "events.read" => app.get("/api/v1/events", t).await,
        "staff.read" => app.get("/api/v1/staff", t).await,
        "staff.manage" => app.post_json("/api/v1/staff", t, &json!({"email": "x", "display_name": "", "password": "", "role": "warehouse"})).await,
        "roles.manage" => app.post_json("/api/v1/roles", t, &json!({"name": "", "permissions": []})).await,
        "tokens.manage" => app.get("/api/v1/tokens", t).await,
        "audit.read" => app.get("/api/v1/audit", t).await,
        other => panic!("no probe for {other}"),
    };
    res.status().as_u16()
}

const PROBED: [&str; 8] = [
    "settings.manage",
    "webhooks.manage",
    "events.read",
    "staff.read",
    "staff.manage",
    "roles.manage",
    "tokens.manage",
    "audit.read",
];

async fn each_role_can_do_exactly_what_it_grants(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    for role in BuiltinRole::ALL {
        let token = if role == BuiltinRole::Owner {
            owner.clone()
        } else {
            member(&app, &owner, &format!("{}@staff.example", role.key()), role.key()).await.1
        };
        let granted = role.permissions();
        for perm in PROBED {
            let status = probe(&app, &token, perm).await;
            let allowed = granted.iter().any(|p| p.code() == perm);
            if allowed {
                // Allowed requests pass the permission check (the write probes
                // then fail validation on purpose, changing nothing).
                assert!(status == 200 || status == 422, "{} should be allowed {perm}, got {status}", role.key());
            } else {
                assert_eq!(status, 403, "{} must be refused {perm}", role.key());
            }
        }
    }
    // Spot checks that do not depend on the role table above.
    let (_, analyst) = member(&app, &owner, "second.analyst@staff.example", "analyst").await;
    assert_eq!(probe(&app, &analyst, "events.read").await, 200);
    assert_eq!(probe(&app, &analyst, "settings.manage").await, 403);
    let customer = app.login("", "customer", "ana@customers.example").await;
    for perm in PROBED {
        assert_eq!(probe(&app, &customer, perm).await, 403, "customers hold no staff permission ({perm})");
    }
    app.stop().await;
}

async fn role_change_ends_sessions_and_is_audited(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let (id, token) = member(&app, &owner, "wh@staff.example", "warehouse").await;
    assert_eq!(app.get("/api/v1/events", Some(&token)).await.status(), 403);
    let res = app.put_json(&format!("/api/v1/staff/{id}/role"), Some(&owner), &json!({"role": "analyst"})).await;
    assert_eq!(res.status(), 200);
    assert_problem(app.get("/api/v1/events", Some(&token)).await, 401, "invalid_token").await;
    let fresh = login(&app, "wh@staff.example", PASSWORD).await;
    assert_eq!(app.get("/api/v1/events", Some(&fresh)).await.status(), 200, "new rights after signing in again");

    let log: Value = app.get("/api/v1/audit?action=staff.role_changed", Some(&owner)).await.json().await.unwrap();
    let e = &log[0];
    assert_eq!(e["target"], id);
    assert_eq!(e["summary"]["before"]["role"], "warehouse");
    assert_eq!(e["summary"]["after"]["role"], "analyst");
    assert_eq!(e["summary"]["sessions_ended"], 1);
    assert!(e["client_ip"].as_str().unwrap().starts_with("127.0.0.1"));
    app.stop().await;
}

async fn nobody_grants_more_than_they_hold(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let (admin_id, admin) = member(&app, &owner, "admin2@staff.example", "administrator").await;
    let res = app
        .post_json(
            "/api/v1/staff",
            Some(&admin),
            &json!({"email": "o2@staff.example", "display_name": "O", "password": PASSWORD, "role": "owner"}),
        )
        .await;
    assert_problem(res, 409, "role_exceeds_own_rights").await;
    let res = app.put_json(&format!("/api/v1/staff/{admin_id}/role"), Some(&admin), &json!({"role": "owner"})).await;
    assert_problem(res, 409, "role_exceeds_own_rights").await;
    assert_problem(
        app.post_json("/api/v1/roles", Some(&admin), &json!({"name": "x", "permissions": ["orders.read"]})).await,
        403,
        "forbidden",
    )
    .await;
    let res =
        app.post_json("/api/v1/tokens", Some(&admin), &json!({"name": "t", "permissions": ["roles.manage"]})).await;
    assert_problem(res, 409, "scope_exceeds_own_rights").await;
    let res = app
        .post_json(
            "/api/v1/staff",
            Some(&owner),
            &json!({"email": "z@staff.example", "display_name": "Z", "password": PASSWORD, "role": "superuser"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;

    // The last owner cannot be demoted, not even by themselves.
    let staff: Value = app.get("/api/v1/staff", Some(&owner)).await.json().await.unwrap();
    let owner_id =
        staff.as_array().unwrap().iter().find(|s| s["role"] == "owner").unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(
        staff.as_array().unwrap().iter().find(|s| s["role"] == "owner").unwrap()["email"],
        "admin@outfitters.example"
    );
    let res = app.put_json(&format!("/api/v1/staff/{owner_id}/role"), Some(&owner), &json!({"role": "analyst"})).await;
    assert_problem(res, 409, "last_owner").await;
    app.stop().await;
}

async fn custom_roles_apply_on_the_next_request(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let res = app
        .post_json(
            "/api/v1/roles",
            Some(&owner),
            &json!({"name": "Auditor", "permissions": ["audit.read", "orders.read"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let role_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .post_json("/api/v1/roles", Some(&owner), &json!({"name": "Bad", "permissions": ["audit.read", "root"]}))
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("root"));

    let (_, auditor) = member(&app, &owner, "aud@staff.example", &role_id).await;
    assert_eq!(app.get("/api/v1/audit", Some(&auditor)).await.status(), 200);
    assert_eq!(app.get("/api/v1/webhooks", Some(&auditor)).await.status(), 403);
    let res = app
        .put_json(
            &format!("/api/v1/roles/{role_id}"),
            Some(&owner),
            &json!({"name": "Auditor", "permissions": ["orders.read"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get("/api/v1/audit", Some(&auditor)).await.status(), 403, "narrowed at once");
    let roles: Value = app.get("/api/v1/roles", Some(&owner)).await.json().await.unwrap();
    assert_eq!(roles.as_array().unwrap().len(), 9, "eight built-in roles and one custom");
    app.stop().await;
}

async fn api_tokens_are_scoped_revocable_and_expire(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    let res = app
        .post_json("/api/v1/tokens", Some(&owner), &json!({"name": "ERP sync", "permissions": ["events.read"]}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("oxc.tok_"));

    assert_eq!(app.get("/api/v1/events", Some(&secret)).await.status(), 200);
    assert_problem(app.get("/api/v1/webhooks", Some(&secret)).await, 403, "forbidden").await;
    assert_problem(app.get("/s/foodbank/api/v1/events", Some(&secret)).await, 401, "invalid_token").await;
    let tampered = format!("{}x", &secret[..secret.len() - 1]);
    assert_problem(app.get("/api/v1/events", Some(&tampered)).await, 401, "invalid_token").await;

    let list: Value = app.get("/api/v1/tokens", Some(&owner)).await.json().await.unwrap();
    let listed = &list[0];
    assert!(listed.get("secret").is_none(), "the secret is shown once only");
    assert!(listed["last_used_at"].as_i64().is_some(), "use is recorded");
    assert!(
        !app.raw_database().await.windows(20).any(|w| w == &secret.as_bytes()[secret.len() - 20..]),
        "secret not stored"
    );

    let res = app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get("/api/v1/events", Some(&secret)).await, 401, "invalid_token").await;

    let soon = chrono::Utc::now().timestamp_millis() + 1500;
    let res = app
        .post_json(
            "/api/v1/tokens",
            Some(&owner),
            &json!({"name": "short", "permissions": ["events.read"], "expires_at": soon}),
        )
        .await;
    let short = res.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/events", Some(&short)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_problem(app.get("/api/v1/events", Some(&short)).await, 401, "invalid_token").await;

    let audit: Value = app.get("/api/v1/audit?action=token.*", Some(&owner)).await.json().await.unwrap();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["token.created", "token.revoked", "token.created"]);
    app.stop().await;
}

async fn failed_logins_lock_the_account_with_retry_after(b: Backend) {
    let app = spawn(b).await;
    let wrong = json!({"email": "admin@outfitters.example", "password": "wrong password!", "audience": "staff"});
    for _ in 0..5 {
        assert_problem(app.post_json("/api/v1/auth/login", None, &wrong).await, 401, "invalid_credentials").await;
    }
    let right =
        json!({"email": "admin@outfitters.example", "password": crate::helpers::DEMO_PASSWORD, "audience": "staff"});
    let res = app.post_json("/api/v1/auth/login", None, &right).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    assert_problem(res, 429, "rate_limited").await;
    // A locked account says the same for an unknown one: no enumeration.
    let ghost = json!({"email": "ghost@nowhere.example", "password": "whatever pw", "audience": "staff"});
    for _ in 0..5 {
        assert_problem(app.post_json("/api/v1/auth/login", None, &ghost).await, 401, "invalid_credentials").await;
    }
    assert_problem(app.post_json("/api/v1/auth/login", None, &ghost).await, 429, "rate_limited").await;
    // Other accounts are unaffected.
    app.login("", "customer", "ana@customers.example").await;
    let owner = app.foodbank_owner().await;
    let log: Value = app.get("/s/foodbank/api/v1/audit?action=auth.*", Some(&owner)).await.json().await.unwrap();
    assert!(log.as_array().unwrap().iter().all(|e| e["action"] != "auth.login_failed"), "other store's log untouched");
    app.stop().await;
}

async fn logout_everywhere_ends_every_session(b: Backend) {
    let app = spawn(b).await;
    let a = app.outfitters_owner().await;
    let b2 = app.outfitters_owner().await;
    assert_ne!(a, b2, "every login gets a new session");
    let res = app.client.post(app.url("/api/v1/auth/logout-everywhere")).bearer_auth(&a).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get("/api/v1/staff", Some(&a)).await, 401, "invalid_token").await;
    assert_problem(app.get("/api/v1/staff", Some(&b2)).await, 401, "invalid_token").await;
    app.stop().await;
}

async fn login_replaces_a_planted_session_cookie(b: Backend) {
    let app = spawn(b).await;
    let planted = "attacker-chosen-session-value";
    let page = app.get("/admin/login", None).await;
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let start = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("cookie", format!("{csrf_cookie}; oxcart_session={planted}"))
        .form(&[("email", "admin@outfitters.example"), ("password", crate::helpers::DEMO_PASSWORD), ("_csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let issued = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("oxcart_session="))
        .unwrap();
    assert!(!issued.contains(planted), "a fresh session id is issued");
    assert!(issued.contains("HttpOnly") && issued.contains("SameSite=Lax"));
    let with_planted =
        app.client.get(app.url("/admin")).header("cookie", format!("oxcart_session={planted}")).send().await.unwrap();
    assert_eq!(with_planted.status(), 303, "the planted value grants nothing");
    app.stop().await;
}

async fn audit_chain_verifies_and_detects_tampering(b: Backend) {
    let app = spawn(b).await;
    let owner = app.outfitters_owner().await;
    member(&app, &owner, "c1@staff.example", "warehouse").await;
    member(&app, &owner, "c2@staff.example", "accountant").await;
    let out = app.oxcart_cli(&["audit", "verify", "--store", "outfitters"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("outfitters: intact"), "{text}");

    // The database refuses edits and deletions outright…
    assert!(app.raw_sql("UPDATE audit_log SET action = 'nothing' WHERE seq = 2").await.is_err());
    assert!(app.raw_sql("DELETE FROM audit_log WHERE seq = 2").await.is_err());
    // …and someone who disables that protection is still caught.
    let tamper = match app.backend() {
        Backend::Sqlite => {
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET summary = '{\"role\":\"owner\"}' WHERE seq = 2"
        }
        Backend::Postgres => {
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change; UPDATE audit_log SET summary = '{\"role\":\"owner\"}' WHERE seq = 2"
        }
    };
    app.raw_sql(tamper).await.unwrap();
    let out = app.oxcart_cli(&["audit", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("BROKEN at entry 2"), "{text}");
    assert!(text.contains("foodbank: intact"), "other stores' chains are separate: {text}");
    app.stop().await;
}

async fn sign_ups_are_rate_limited_per_address(b: Backend) {
    let app = spawn(b).await;
    for i in 0..10 {
        let body =
            json!({"email": format!("bulk{i}@example.com"), "password": "a long password", "display_name": "Bulk"});
        assert_eq!(app.post_json("/api/v1/customers", None, &body).await.status(), 201);
    }
    let body = json!({"email": "bulk10@example.com", "password": "a long password", "display_name": "Bulk"});
    let res = app.post_json("/api/v1/customers", None, &body).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
    // Another store counts separately.
    assert_eq!(app.post_json("/s/foodbank/api/v1/customers", None, &body).await.status(), 201);
    app.stop().await;
}

async fn repeated_lockouts_back_off_to_a_day(b: Backend) {
    let app = spawn(b).await;
    let wrong = json!({"email": "admin@outfitters.example", "password": "wrong password!", "audience": "staff"});
    let right =
        json!({"email": "admin@outfitters.example", "password": crate::helpers::DEMO_PASSWORD, "audience": "staff"});
    for round in 0..4 {
        for _ in 0..5 {
            assert_problem(app.post_json("/api/v1/auth/login", None, &wrong).await, 401, "invalid_credentials").await;
        }
        assert_problem(app.post_json("/api/v1/auth/login", None, &right).await, 429, "rate_limited").await;
        // Let the quarter hour pass (and the per-address budget reset).
        app.raw_sql("DELETE FROM rate_limits WHERE bucket NOT LIKE 'login-fail-day:%'").await.unwrap();
        if round < 3 {
            assert_eq!(
                app.post_json("/api/v1/auth/login", None, &right).await.status(),
                200,
                "unlocked after round {round}"
            );
            app.raw_sql("DELETE FROM rate_limits WHERE bucket NOT LIKE 'login-fail-day:%'").await.unwrap();
        }
    }
    // Twenty failures in a day: still locked although every quarter-hour
    // window is gone, until the day's window ends.
    let res = app.post_json("/api/v1/auth/login", None, &right).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry <= 24 * 60 * 60, "{retry}");
    assert_problem(res, 429, "rate_limited").await;
    app.stop().await;
}
