//! Fraud risk checks before payment: the store's rules score each attempt;
//! a deny refuses it before the processor sees it, a review holds the
//! order (authorised, not captured) in a queue until staff approve it
//! (captured, confirmed) or reject it (cancelled, released, blocked).

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn, spawn_with};
use crate::orders::{catalog, stock};
use crate::payments::{VISA, card, guest_order, pay};

crate::on_both_databases!(
    risk_rules_allow_review_or_deny_and_staff_decide_held_orders,
    risk_settings_and_lists_are_checked_and_guarded,
    a_store_that_captures_on_fulfilment_takes_the_money_when_goods_ship,
    a_voided_payment_gives_the_order_a_new_deadline,
    staff_set_rules_and_decide_held_orders_on_the_admin_pages,
    held_and_rejected_orders_keep_late_authorisations_uncaptured,
);

const MASTERCARD: &str = "5555555555554444";

async fn shop(app: &TestApp) -> String {
    let owner = app.outfitters_owner().await;
    catalog(app, &owner).await;
    stock(app, &owner, 50).await;
    owner
}

fn rules() -> Value {
    json!({
        "review_at": 50, "deny_at": 90,
        "rules": [
            {"kind": "velocity", "key": "card", "window_minutes": 60, "max_attempts": 2, "points": 95},
            {"kind": "amount_over", "currency": "EUR", "amount": 30000, "points": 60},
            {"kind": "country_mismatch", "points": 55}
        ]
    })
}

async fn order_json(app: &TestApp, staff: &str, order: &str) -> Value {
    app.get(&format!("/api/v1/orders/{order}"), Some(staff)).await.json().await.unwrap()
}

async fn assessments(app: &TestApp, staff: &str, order: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/orders/{order}/risk"), Some(staff)).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

async fn queue(app: &TestApp, staff: &str) -> Vec<String> {
    let res = app.get("/api/v1/risk/reviews", Some(staff)).await;
    assert_eq!(res.status(), 200);
    let items: Value = res.json().await.unwrap();
    items.as_array().unwrap().iter().map(|i| i["order_id"].as_str().unwrap().to_string()).collect()
}

async fn available(app: &TestApp, staff: &str) -> i64 {
    let v: Value = app.get("/api/v1/inventory/TENT-S", Some(staff)).await.json().await.unwrap();
    v["available"].as_i64().unwrap_or_else(|| panic!("{v}"))
}

async fn risk_rules_allow_review_or_deny_and_staff_decide_held_orders(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    assert_eq!(app.put_json("/api/v1/risk/settings", Some(&owner), &rules()).await.status(), 200);

    // Allowed: an ordinary order is captured at once.
    let (a, a_token, _) = guest_order(&app, 1).await;
    let body = json!({"method": "test_card", "card": card(VISA), "billing_country": "DE"});
    let res = pay(&app, &a, &a_token, &body, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "captured");
    let risk = assessments(&app, &owner, &a).await;
    assert_eq!((risk.len(), risk[0]["decision"].as_str(), risk[0]["score"].as_i64()), (1, Some("allow"), Some(0)));

    // Review: a large order is authorised but not captured, and held.
    let (big, big_token, big_total) = guest_order(&app, 3).await;
    assert!(big_total > 30000);
    let res = pay(&app, &big, &big_token, &body, None).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "authorized", "a held order is not captured: {p}");
    let o = order_json(&app, &owner, &big).await;
    assert_eq!((o["status"].as_str(), o["payment_status"].as_str()), (Some("on_hold"), Some("authorized")));
    let risk = assessments(&app, &owner, &big).await;
    assert_eq!((risk[0]["decision"].as_str(), risk[0]["score"].as_i64()), (Some("review"), Some(60)));
    assert_eq!(risk[0]["reasons"][0]["code"], "amount_over");
    assert_eq!(risk[0]["review"], "pending");
    assert_eq!(queue(&app, &owner).await, vec![big.clone()]);

    // Deny: a third attempt with the same card within the hour is refused
    // before the processor sees it; nothing is held or taken.
    let (c, c_token, _) = guest_order(&app, 1).await;
    let res = pay(&app, &c, &c_token, &body, Some("deny-1")).await;
    assert_eq!(res.status(), 402);
    let p: Value = res.json().await.unwrap();
    assert_eq!((p["status"].as_str(), p["details"]["decline_code"].as_str()), (Some("failed"), Some("risk_denied")));
    assert_eq!(p["captured"], 0);
    let again = pay(&app, &c, &c_token, &body, Some("deny-1")).await;
    assert_eq!(again.status(), 402, "a retry with the key gets the same answer");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], p["id"]);
    let risk = assessments(&app, &owner, &c).await;
    assert_eq!(risk.len(), 1, "the retry was not assessed again");
    assert_eq!(
        (risk[0]["decision"].as_str(), risk[0]["reasons"][0]["code"].as_str()),
        (Some("deny"), Some("velocity_card"))
    );
    let o = order_json(&app, &owner, &c).await;
    assert_eq!((o["status"].as_str(), o["payment_status"].as_str()), (Some("placed"), Some("unpaid")));
    let timeline: Value =
        app.get(&format!("/api/v1/payments/{}", p["id"].as_str().unwrap()), Some(&owner)).await.json().await.unwrap();
    assert_eq!(timeline["operations"][0]["failure_code"], "risk_denied");

    // Staff approve the held order: it resumes, is captured and confirmed.
    let res = app
        .post_json(&format!("/api/v1/orders/{big}/risk/approve"), Some(&owner), &json!({"note": "known customer"}))
        .await;
    assert_eq!(res.status(), 204);
    let o = order_json(&app, &owner, &big).await;
    assert_eq!((o["status"].as_str(), o["payment_status"].as_str()), (Some("confirmed"), Some("paid")), "{o}");
    let risk = assessments(&app, &owner, &big).await;
    assert_eq!(
        (risk[0]["review"].as_str(), risk[0]["review_note"].as_str()),
        (Some("approved"), Some("known customer"))
    );
    assert!(queue(&app, &owner).await.is_empty());
    let res = app.post_json(&format!("/api/v1/orders/{big}/risk/approve"), Some(&owner), &json!({})).await;
    assert_problem(res, 409, "no_pending_review").await;

    // A held order whose card was then declined resumes unpaid, with a
    // deadline again, so it still expires if nobody pays.
    let (held, held_token, _) = guest_order(&app, 3).await;
    let declined = json!({"method": "test_card", "card": card("4000000000000002"), "billing_country": "DE"});
    assert_eq!(pay(&app, &held, &held_token, &declined, None).await.status(), 402);
    assert_eq!(order_json(&app, &owner, &held).await["status"], "on_hold");
    let res = app.post_json(&format!("/api/v1/orders/{held}/risk/approve"), Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 204);
    let o = order_json(&app, &owner, &held).await;
    assert_eq!((o["status"].as_str(), o["payment_status"].as_str()), (Some("placed"), Some("unpaid")));
    assert!(o["reserved_until"].as_i64().is_some(), "{o}");

    // A billing country that differs from the shipping one is reviewed;
    // staff reject it and block the buyer: the order is cancelled, the
    // authorisation released, the stock back.
    let before = available(&app, &owner).await;
    let (d, d_token, _) = guest_order(&app, 2).await;
    assert_eq!(available(&app, &owner).await, before - 2);
    let mc = json!({"method": "test_card", "card": card(MASTERCARD), "billing_country": "US"});
    let res = pay(&app, &d, &d_token, &mc, None).await;
    assert_eq!(res.status(), 201);
    let held: Value = res.json().await.unwrap();
    assert_eq!(held["status"], "authorized");
    assert_eq!(assessments(&app, &owner, &d).await[0]["reasons"][0]["code"], "country_mismatch");
    assert_eq!(queue(&app, &owner).await, vec![d.clone()]);
    let res = app
        .post_json(
            &format!("/api/v1/orders/{d}/risk/reject"),
            Some(&owner),
            &json!({"note": "stolen card", "block": true}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let o = order_json(&app, &owner, &d).await;
    assert_eq!(o["status"], "cancelled");
    let released: Value = app
        .get(&format!("/api/v1/payments/{}", held["id"].as_str().unwrap()), Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(released["status"], "voided", "{released}");
    assert_eq!(available(&app, &owner).await, before);
    let blocks: Value = app.get("/api/v1/risk/blocks", Some(&owner)).await.json().await.unwrap();
    let kinds: Vec<&str> = blocks.as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["card", "email"], "{blocks}");
    assert!(!blocks.to_string().contains("ana@example.com"), "the list keeps no address: {blocks}");
    assert!(!blocks.to_string().contains(MASTERCARD));

    // The blocked buyer is refused from then on, whatever card they use.
    let (e, e_token, _) = guest_order(&app, 1).await;
    let challenge = json!({"method": "test_card", "card": card("4000000000003220"), "billing_country": "DE"});
    let res = pay(&app, &e, &e_token, &challenge, None).await;
    assert_eq!(res.status(), 402);
    let risk = assessments(&app, &owner, &e).await;
    assert_eq!(
        (risk[0]["decision"].as_str(), risk[0]["reasons"][0]["code"].as_str()),
        (Some("deny"), Some("blocked_email"))
    );

    // Lifting the block lets the same buyer pay.
    let email_block =
        blocks.as_array().unwrap().iter().find(|b| b["kind"] == "email").unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/risk/blocks/{email_block}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = pay(&app, &e, &e_token, &challenge, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "requires_action");

    // A country on the list denies orders shipping there.
    let res = app.post_json("/api/v1/risk/blocks", Some(&owner), &json!({"kind": "country", "value": "de"})).await;
    assert_eq!(res.status(), 201);
    let (f, f_token, _) = guest_order(&app, 1).await;
    let transfer = json!({"method": "bank_transfer"});
    assert_eq!(pay(&app, &f, &f_token, &transfer, None).await.status(), 402);
    assert_eq!(assessments(&app, &owner, &f).await[0]["reasons"][0]["code"], "blocked_country");
    app.stop().await;
}

async fn risk_settings_and_lists_are_checked_and_guarded(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let empty: Value = app.get("/api/v1/risk/settings", Some(&owner)).await.json().await.unwrap();
    assert_eq!(empty["rules"], json!([]), "no rules until the store sets them");

    let bad = json!({"review_at": 80, "deny_at": 60, "rules": [
        {"kind": "velocity", "key": "ip", "window_minutes": 0, "max_attempts": 3, "points": 10},
        {"kind": "amount_over", "currency": "EUR", "amount": 100, "points": 500}
    ]});
    let body =
        assert_problem(app.put_json("/api/v1/risk/settings", Some(&owner), &bad).await, 422, "validation_failed").await;
    let fields = body.to_string();
    for f in ["deny_at", "rules[0].window_minutes", "rules[1].points"] {
        assert!(fields.contains(f), "{f} in {body}");
    }
    let unknown = json!({"review_at": 50, "deny_at": 90, "rules": [{"kind": "astrology", "points": 5}]});
    assert_eq!(app.put_json("/api/v1/risk/settings", Some(&owner), &unknown).await.status(), 422);
    let now: Value = app.get("/api/v1/risk/settings", Some(&owner)).await.json().await.unwrap();
    assert_eq!(now, empty, "refused settings change nothing");

    let recommended: Value = app.get("/api/v1/risk/settings/recommended", None).await.json().await.unwrap();
    assert_eq!(app.put_json("/api/v1/risk/settings", Some(&owner), &recommended).await.status(), 200);
    let now: Value = app.get("/api/v1/risk/settings", Some(&owner)).await.json().await.unwrap();
    assert_eq!(now, recommended);

    for (kind, value) in
        [("email", "nobody"), ("ip", "not-an-ip"), ("card", "4242424242424241"), ("country", "DEU"), ("planet", "x")]
    {
        let res = app.post_json("/api/v1/risk/blocks", Some(&owner), &json!({"kind": kind, "value": value})).await;
        assert_eq!(res.status(), 422, "{kind}={value}");
    }
    let res = app.post_json("/api/v1/risk/blocks", Some(&owner), &json!({"kind": "card", "value": VISA})).await;
    assert_eq!(res.status(), 201);
    let block: Value = res.json().await.unwrap();
    assert_eq!(block["label"], "card …4242");
    let res = app
        .post_json("/api/v1/risk/blocks", Some(&owner), &json!({"kind": "card", "value": "4242 4242 4242 4242"}))
        .await;
    assert_eq!(res.status(), 200, "listed once");
    assert_eq!(app.count_rows("risk_blocks").await, 1);

    // Buyers and anonymous callers reach none of it; nor do staff without the permission.
    assert!(matches!(app.get("/api/v1/risk/reviews", None).await.status().as_u16(), 401 | 403));
    let (order, _, _) = guest_order(&app, 1).await;
    assert!(matches!(
        app.post_json(&format!("/api/v1/orders/{order}/risk/approve"), None, &json!({})).await.status().as_u16(),
        401 | 403
    ));
    let res = app.post_json(&format!("/api/v1/orders/{order}/risk/approve"), Some(&owner), &json!({})).await;
    assert_problem(res, 409, "no_pending_review").await;
    let res = app.post_json(&format!("/api/v1/orders/{order}/risk/reject"), Some(&owner), &json!({})).await;
    assert_problem(res, 409, "no_pending_review").await;
    let o: Value = app.get(&format!("/api/v1/orders/{order}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(o["status"], "placed", "a refused rejection cancels nothing");
    app.stop().await;
}

async fn a_store_that_captures_on_fulfilment_takes_the_money_when_goods_ship(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 2).await;
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "authorized");
    let o = order_json(&app, &owner, &order).await;
    assert_eq!((o["status"].as_str(), o["payment_status"].as_str()), (Some("placed"), Some("authorized")));
    assert_eq!(o["reserved_until"], Value::Null, "held money ends the deadline");
    let res =
        app.post_json(&format!("/api/v1/orders/{order}/status"), Some(&owner), &json!({"status": "confirmed"})).await;
    assert_eq!(res.status(), 200);

    // The first parcel takes all the authorised money.
    let parcel = json!({"location": "berlin", "carrier": "manual", "tracking_number": "DHL-123",
                        "lines": [{"sku": "TENT-S", "quantity": 1}]});
    let res = app.post_json(&format!("/api/v1/orders/{order}/shipments"), Some(&owner), &parcel).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let paid: Value =
        app.get(&format!("/api/v1/payments/{}", p["id"].as_str().unwrap()), Some(&owner)).await.json().await.unwrap();
    assert_eq!((paid["status"].as_str(), paid["captured"].as_i64()), (Some("captured"), Some(total)), "{paid}");
    let o = order_json(&app, &owner, &order).await;
    assert_eq!(o["payment_status"], "paid");
    let kinds: Vec<&str> =
        paid["operations"].as_array().unwrap().iter().map(|op| op["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["authorize", "capture"]);
    app.stop().await;
}

async fn a_voided_payment_gives_the_order_a_new_deadline(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    let owner = shop(&app).await;
    let (order, token, _) = guest_order(&app, 1).await;
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    let p: Value = res.json().await.unwrap();
    assert_eq!(order_json(&app, &owner, &order).await["reserved_until"], Value::Null);
    let res =
        app.post_json(&format!("/api/v1/payments/{}/void", p["id"].as_str().unwrap()), Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 200);
    let o = order_json(&app, &owner, &order).await;
    assert_eq!((o["status"].as_str(), o["payment_status"].as_str()), (Some("placed"), Some("unpaid")), "{o}");
    assert!(o["reserved_until"].as_i64().is_some(), "unpaid again, the order can expire again: {o}");
    app.stop().await;
}

async fn staff_set_rules_and_decide_held_orders_on_the_admin_pages(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    shop(&app).await;
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;
    let (status, html) = page(&app, &cookie, "/admin/risk").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"queue-empty\""), "{html}");
    let csrf = field(&html, "_csrf");

    // Rules that are not JSON, or not valid, are refused with the reason and keep what was typed.
    let (status, html) =
        post(&app, &cookie, "/admin/risk/settings", &[("_csrf", &csrf), ("settings", "{not json")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("{not json") && html.contains("settings:"), "{html}");
    let bad = json!({"review_at": 70, "deny_at": 20}).to_string();
    let (status, html) = post(&app, &cookie, "/admin/risk/settings", &[("_csrf", &csrf), ("settings", &bad)]).await;
    assert_eq!(status, 422);
    assert!(html.contains("deny_at must not be below review_at"), "{html}");
    let good = rules().to_string();
    assert_eq!(post(&app, &cookie, "/admin/risk/settings", &[("_csrf", &csrf), ("settings", &good)]).await.0, 303);

    // A large order is held and listed; its page shows why and takes the verdict.
    let (big, token, _) = guest_order(&app, 3).await;
    let res = pay(&app, &big, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_eq!(res.status(), 201);
    let (_, html) = page(&app, &cookie, "/admin/risk").await;
    assert!(html.contains(&format!("/admin/orders/{big}")) && html.contains("amount_over"), "{html}");
    let (_, html) = page(&app, &cookie, &format!("/admin/orders/{big}")).await;
    assert!(html.contains("id=\"risk-approve\"") && html.contains("data-decision=\"review\""), "{html}");
    let (status, _) = post(
        &app,
        &cookie,
        &format!("/admin/orders/{big}/risk/approve"),
        &[("_csrf", &csrf), ("note", "called the buyer")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &cookie, &format!("/admin/orders/{big}")).await;
    assert!(!html.contains("id=\"risk-approve\"") && html.contains("called the buyer"), "{html}");
    let (_, html) = page(&app, &cookie, "/admin/risk").await;
    assert!(html.contains("id=\"queue-empty\""));

    // Blocked lists from the page.
    let (status, html) =
        post(&app, &cookie, "/admin/risk/blocks", &[("_csrf", &csrf), ("kind", "ip"), ("value", "nope")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("not an IP address"), "{html}");
    let form = [("_csrf", csrf.as_str()), ("kind", "email_domain"), ("value", "@Spam.example")];
    assert_eq!(post(&app, &cookie, "/admin/risk/blocks", &form).await.0, 303);
    let (_, html) = page(&app, &cookie, "/admin/risk").await;
    assert!(html.contains("spam.example"), "{html}");
    app.stop().await;
}

async fn held_and_rejected_orders_keep_late_authorisations_uncaptured(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let every_order = json!({"review_at": 50, "deny_at": 90,
        "rules": [{"kind": "amount_over", "currency": "EUR", "amount": 1, "points": 60}]});
    assert_eq!(app.put_json("/api/v1/risk/settings", Some(&owner), &every_order).await.status(), 200);
    let challenge = json!({"method": "test_card", "card": card("4000000000003220")});
    let answer = |payment: String, token: String| {
        let req = app
            .client
            .post(app.url(&format!("/api/v1/payments/{payment}/challenge")))
            .header("order-token", token)
            .json(&json!({"approve": true}));
        async move { req.send().await.unwrap() }
    };

    // Held: the challenge passes, the money is held, not taken.
    let (held, token, _) = guest_order(&app, 1).await;
    let p: Value = pay(&app, &held, &token, &challenge, None).await.json().await.unwrap();
    assert_eq!(p["status"], "requires_action");
    assert_eq!(order_json(&app, &owner, &held).await["status"], "on_hold");
    let res = answer(p["id"].as_str().unwrap().to_string(), token.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "authorized", "not captured while held");

    // Rejected while the buyer was at the bank: the payment is released at
    // once, and the late approval finds nothing to approve.
    let (rejected, token, _) = guest_order(&app, 1).await;
    let p: Value = pay(&app, &rejected, &token, &challenge, None).await.json().await.unwrap();
    let res = app.post_json(&format!("/api/v1/orders/{rejected}/risk/reject"), Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 204);
    let pid = p["id"].as_str().unwrap().to_string();
    assert_eq!(answer(pid.clone(), token).await.status(), 409);
    let after: Value = app.get(&format!("/api/v1/payments/{pid}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((after["status"].as_str(), after["captured"].as_i64()), (Some("voided"), Some(0)), "{after}");
    app.stop().await;
}
