//! Payments and the ledger: each provider path (approved, declined, the
//! step-up challenge, a time-out completed by a retry, money awaited by
//! transfer), captures and refunds that never exceed their limits under
//! concurrency, idempotent retries, who may pay and manage payments, card
//! numbers kept out of storage, and a journal that balances after it all.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn, spawn_with};
use crate::orders::{add, base, catalog, checkout, contact, new_cart, stock};

crate::on_both_databases!(
    a_card_payment_is_captured_and_posted_to_the_ledger,
    declined_and_invalid_cards_take_nothing,
    a_challenged_card_pays_once_the_holder_approves,
    a_timed_out_payment_completes_when_retried_with_its_key,
    a_lost_answer_is_reconciled_when_nobody_retries,
    concurrent_captures_and_refunds_never_exceed_their_limits,
    refunds_voids_and_retries_follow_the_rules,
    a_bank_transfer_waits_until_staff_record_the_money,
    only_the_buyer_and_payment_staff_reach_a_payment,
    cancelling_an_unpaid_order_reverses_its_sale,
    card_numbers_never_reach_the_database_or_the_logs,
    a_gift_card_pays_part_and_a_card_the_rest,
    concurrent_redemptions_never_overspend_a_gift_card,
    store_credit_is_granted_spent_and_refunded,
    cancelled_and_expired_orders_release_their_payments,
    a_late_webhook_settles_a_pending_card_once_in_any_order,
    a_charge_confirmed_after_its_order_was_cancelled_is_released,
    bank_statements_capture_the_transfers_they_pay,
    random_money_movements_keep_the_books_consistent,
    invoices_are_numbered_without_gaps_immutable_and_credited_on_refund,
);

pub(crate) const VISA: &str = "4242424242424242";

pub(crate) fn card(number: &str) -> Value {
    json!({"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123", "holder": "Ana Lima"})
}

/// A guest's order for `quantity` TENT-S (120.00 each): (id, token, total).
pub(crate) async fn guest_order(app: &TestApp, quantity: i64) -> (String, String, i64) {
    let cart = new_cart(app, &base(app)).await;
    assert_eq!(add(app, &cart, "TENT-S", quantity).await.status(), 200);
    contact(app, &cart).await;
    let res = checkout(&base(app), &cart, None).await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    (
        order["id"].as_str().unwrap().to_string(),
        order["access_token"].as_str().unwrap().to_string(),
        order["totals"]["total"]["amount"].as_i64().unwrap(),
    )
}

async fn shop(app: &TestApp) -> String {
    let owner = app.outfitters_owner().await;
    catalog(app, &owner).await;
    stock(app, &owner, 50).await;
    owner
}

/// Pays as the guest holding `token`, with an optional Idempotency-Key.
pub(crate) async fn pay(app: &TestApp, order: &str, token: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req =
        app.client.post(app.url(&format!("/api/v1/orders/{order}/payments"))).header("order-token", token).json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn staff_post(app: &TestApp, token: &str, path: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).bearer_auth(token).json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn order_view(app: &TestApp, order: &str, token: &str) -> Value {
    let res =
        app.client.get(app.url(&format!("/api/v1/orders/{order}"))).header("order-token", token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// An account's balance in EUR (0 when it has no postings).
pub(crate) async fn balance(app: &TestApp, staff: &str, account: &str) -> i64 {
    let accounts: Value = app.get("/api/v1/ledger/accounts", Some(staff)).await.json().await.unwrap();
    accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account && a["currency"] == "EUR")
        .map_or(0, |a| a["balance"].as_i64().unwrap())
}

/// The trial balance balances and `oxcart ledger verify` agrees.
pub(crate) async fn assert_books_balance(app: &TestApp, staff: &str) {
    let trial: Value = app.get("/api/v1/ledger/trial-balance", Some(staff)).await.json().await.unwrap();
    for t in trial["totals"].as_array().unwrap() {
        assert_eq!(t["debits"], t["credits"], "trial balance: {trial}");
    }
    let out = app.oxcart_cli(&["ledger", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ledger verify: {text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("outfitters: balanced"), "{text}");
}

async fn a_card_payment_is_captured_and_posted_to_the_ledger(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 2).await;
    assert_eq!(total, 24000);
    assert_eq!(
        balance(&app, &owner, &format!("receivable:{order}")).await,
        total,
        "placing the order posts what is owed"
    );

    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "captured", "{p}");
    assert_eq!((p["amount"].as_i64(), p["captured"].as_i64()), (Some(total), Some(total)));
    assert_eq!(p["details"]["brand"], "visa");
    assert_eq!(p["details"]["last4"], "4242");

    let o = order_view(&app, &order, &token).await;
    assert_eq!(o["payment_status"], "paid");
    assert_eq!(o["status"], "confirmed", "paying confirms a placed order");

    assert_eq!(balance(&app, &owner, &format!("receivable:{order}")).await, 0, "nothing owed any more");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total);
    let t = &o["totals"];
    let net = total - t["tax"]["amount"].as_i64().unwrap() - t["shipping"]["amount"].as_i64().unwrap()
        + t["discount"]["amount"].as_i64().unwrap();
    assert_eq!(balance(&app, &owner, "revenue:web").await, net, "revenue is net of tax and shipping");
    assert_eq!(balance(&app, &owner, "tax_payable").await, t["tax"]["amount"].as_i64().unwrap());

    // Staff see the timeline: the authorisation and the capture.
    let staff: Value =
        app.get(&format!("/api/v1/payments/{}", p["id"].as_str().unwrap()), Some(&owner)).await.json().await.unwrap();
    let kinds: Vec<&str> =
        staff["operations"].as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["authorize", "capture"]);
    // The order's journal lines, and the account statement with running balances.
    let lines: Value =
        app.get(&format!("/api/v1/ledger/entries?reference={order}"), Some(&owner)).await.json().await.unwrap();
    let kinds: Vec<&str> = lines.as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["order_placed", "order_placed", "payment_captured", "payment_captured"]);
    let st: Value = app
        .get(&format!("/api/v1/ledger/accounts/receivable:{order}/statement?currency=EUR"), Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    let after: Vec<i64> =
        st["lines"].as_array().unwrap().iter().map(|l| l["balance_after"].as_i64().unwrap()).collect();
    assert_eq!(after, [0, total], "newest first: paid off, then owed");
    // Paying again finds nothing left to pay.
    let again = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_problem(again, 409, "exceeds_outstanding").await;
    let csv = app.get("/api/v1/ledger/journal.csv", Some(&owner)).await.text().await.unwrap();
    assert!(csv.starts_with("entry_id,posted_at,kind"), "{csv}");
    assert!(csv.contains(&format!("receivable:{order},1200,EUR,240.00,")), "{csv}");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn declined_and_invalid_cards_take_nothing(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 1).await;
    for (number, code) in [("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds")] {
        let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(number)}), None).await;
        assert_eq!(res.status(), 402, "{number}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["status"], "failed");
        assert_eq!(p["details"]["decline_code"], code);
        assert_eq!(p["captured"], 0);
    }
    // Input that cannot be a card is refused before anything is recorded.
    let payments = app.count_rows("payments").await;
    for (body, field) in [
        (json!({"method": "test_card", "card": card("4242424242424241")}), "card.number"),
        (json!({"method": "test_card"}), "card"),
        (json!({"method": "carrier_pigeon"}), "method"),
        (
            json!({"method": "test_card", "card": {"number": VISA, "exp_month": 13, "exp_year": 2030, "cvc": "12"}}),
            "card.cvc",
        ),
        (json!({"method": "bank_transfer", "card": card(VISA)}), "card"),
        (json!({"method": "bank_transfer", "amount": -5}), "amount"),
    ] {
        let res = pay(&app, &order, &token, &body, None).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(problem.to_string().contains(field), "{field}: {problem}");
    }
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA), "tip": 5}), None).await;
    assert_eq!(res.status(), 422, "unknown fields are refused");
    assert_eq!(app.count_rows("payments").await, payments);
    let o = order_view(&app, &order, &token).await;
    assert_eq!(o["payment_status"], "unpaid");
    assert_eq!(balance(&app, &owner, &format!("receivable:{order}")).await, total, "still owed");
    // A good card after the declines pays.
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card("5555555555554444")}), None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn a_challenged_card_pays_once_the_holder_approves(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 1).await;
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card("4000000000003220")}), None).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "requires_action");
    let url = p["next_action"]["url"].as_str().unwrap().to_string();
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "unpaid");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, 0, "nothing taken before the challenge");
    // Only the buyer answers the challenge.
    let stranger = app
        .client
        .post(app.url(&url))
        .header("order-token", "wrong")
        .json(&json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);
    let res = app
        .client
        .post(app.url(&url))
        .header("order-token", &token)
        .json(&json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "captured", "{p}");
    assert_eq!(p["details"]["challenge"], "passed");
    let twice = app
        .client
        .post(app.url(&url))
        .header("order-token", &token)
        .json(&json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_problem(twice, 409, "no_challenge").await;
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total, "captured once");

    // A holder who fails the challenge pays nothing.
    let (order2, token2, _) = guest_order(&app, 1).await;
    let p: Value = pay(&app, &order2, &token2, &json!({"method": "test_card", "card": card("4000000000003220")}), None)
        .await
        .json()
        .await
        .unwrap();
    let url = p["next_action"]["url"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(url))
        .header("order-token", &token2)
        .json(&json!({"approve": false}))
        .send()
        .await
        .unwrap();
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "failed");
    assert_eq!(order_view(&app, &order2, &token2).await["payment_status"], "unpaid");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn a_timed_out_payment_completes_when_retried_with_its_key(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 1).await;
    let body = json!({"method": "test_card", "card": card("4000000000000119")});
    let res = pay(&app, &order, &token, &body, Some("pay-1")).await;
    assert_eq!(res.status(), 202, "the processor did not answer in time");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "processing");
    // Another payment must wait for this one's outcome.
    let other = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_problem(other, 409, "payment_processing").await;
    // The retry asks the processor again with the same key and settles.
    let res = pay(&app, &order, &token, &body, Some("pay-1")).await;
    assert_eq!(res.status(), 201);
    let settled: Value = res.json().await.unwrap();
    assert_eq!(settled["id"], p["id"], "the same payment");
    assert_eq!(settled["status"], "captured");
    // A further retry replays the answer.
    let res = pay(&app, &order, &token, &body, Some("pay-1")).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["idempotency-replayed"], "true");
    assert_eq!(res.json::<Value>().await.unwrap()["id"], p["id"]);
    assert_eq!(app.count_rows("payments").await, 1);
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total, "captured once");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn authorized_payment(app: &TestApp, quantity: i64) -> (String, String, String, i64) {
    let (order, token, total) = guest_order(app, quantity).await;
    let res = pay(app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "authorized", "held, not captured: {p}");
    (order, token, p["id"].as_str().unwrap().to_string(), total)
}

async fn concurrent_captures_and_refunds_never_exceed_their_limits(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    let owner = shop(&app).await;
    let (order, token, payment, total) = authorized_payment(&app, 5).await;
    assert_eq!(total, 55000, "5 × 110.00 (volume price)");
    let (part, refund_part) = (total * 2 / 5, total * 3 / 10);
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "authorized");
    // Eight captures of 40 % each at once: at most two fit.
    let capture = |i: usize| {
        let app = &app;
        let (owner, payment) = (owner.clone(), payment.clone());
        async move {
            let key = format!("cap-{i}");
            staff_post(
                app,
                &owner,
                &format!("/api/v1/payments/{payment}/capture"),
                &json!({"amount": part}),
                Some(&key),
            )
            .await
            .status()
            .as_u16()
        }
    };
    let statuses = futures::future::join_all((0..8).map(capture)).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let p: Value = app.get(&format!("/api/v1/payments/{payment}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(p["captured"], 2 * part);
    assert_eq!(p["status"], "partially_captured");
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "partially_paid");
    // The rest, then nothing more.
    let rest = staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/capture"), &json!({}), None).await;
    assert_eq!(rest.json::<Value>().await.unwrap()["captured"], total);
    let more =
        staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/capture"), &json!({"amount": 1}), None).await;
    assert_problem(more, 409, "exceeds_authorized").await;
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");

    // Eight refunds of 30 % each at once: at most three fit.
    let refund = |i: usize| {
        let app = &app;
        let (owner, payment) = (owner.clone(), payment.clone());
        async move {
            let key = format!("ref-{i}");
            staff_post(
                app,
                &owner,
                &format!("/api/v1/payments/{payment}/refunds"),
                &json!({"amount": refund_part}),
                Some(&key),
            )
            .await
            .status()
            .as_u16()
        }
    };
    let statuses = futures::future::join_all((0..8).map(refund)).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    let p: Value = app.get(&format!("/api/v1/payments/{payment}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((p["refunded"].as_i64(), p["pending_refund"].as_i64()), (Some(3 * refund_part), Some(0)));
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "partially_refunded");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total - 3 * refund_part);
    assert_eq!(balance(&app, &owner, "refunds:web").await, 3 * refund_part);
    let _ = order;
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn refunds_voids_and_retries_follow_the_rules(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    let owner = shop(&app).await;
    let (_, _, payment, total) = authorized_payment(&app, 1).await;
    // Nothing captured yet: nothing to refund.
    let early = staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/refunds"), &json!({}), None).await;
    assert_problem(early, 409, "nothing_captured").await;
    let cap =
        staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/capture"), &json!({"amount": 10000}), None).await;
    assert_eq!(cap.status(), 200);
    // A refund retried with its key happens once and answers the same.
    let path = format!("/api/v1/payments/{payment}/refunds");
    let first = staff_post(&app, &owner, &path, &json!({"amount": 2500, "note": "scratched"}), Some("r1")).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = staff_post(&app, &owner, &path, &json!({"amount": 2500, "note": "scratched"}), Some("r1")).await;
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(first["refunded"], 2500);
    let other = staff_post(&app, &owner, &path, &json!({"amount": 99}), Some("r1")).await;
    assert_eq!(other.status(), 422, "the same key with another request");
    let too_much = staff_post(&app, &owner, &path, &json!({"amount": 7501}), None).await;
    assert_problem(too_much, 409, "exceeds_captured").await;
    // Voiding releases the uncaptured rest; the captured part stays.
    let void = staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/void"), &json!({}), None).await;
    assert_eq!(void.status(), 200);
    let p: Value = void.json().await.unwrap();
    assert_eq!(p["status"], "partially_refunded");
    assert_eq!((p["captured"].as_i64(), p["amount"].as_i64()), (Some(10000), Some(total)));
    let cap = staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/capture"), &json!({}), None).await;
    assert_problem(cap, 409, "payment_closed").await;
    let void = staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/void"), &json!({}), None).await;
    assert_problem(void, 409, "already_voided").await;
    // A payment voided before any capture.
    let (order2, token2, payment2, _) = authorized_payment(&app, 1).await;
    let void = staff_post(&app, &owner, &format!("/api/v1/payments/{payment2}/void"), &json!({}), None).await;
    assert_eq!(void.json::<Value>().await.unwrap()["status"], "voided");
    assert_eq!(order_view(&app, &order2, &token2).await["payment_status"], "unpaid");
    let bad =
        staff_post(&app, &owner, &format!("/api/v1/payments/{payment}/refunds"), &json!({"amount": 0}), None).await;
    assert_problem(bad, 422, "validation_failed").await;
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn a_bank_transfer_waits_until_staff_record_the_money(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 1).await;
    let res = pay(&app, &order, &token, &json!({"method": "bank_transfer"}), Some("bt")).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "awaiting");
    let reference = p["details"]["reference"].as_str().unwrap().to_string();
    assert!(reference.starts_with("OX"), "{reference}");
    let o = order_view(&app, &order, &token).await;
    assert_eq!(o["payment_status"], "unpaid", "nothing arrived yet");
    assert!(o["reserved_until"].is_i64(), "the unpaid order still expires if the money never comes");
    // The money arrives: staff record it, which captures the payment.
    let id = p["id"].as_str().unwrap();
    let res =
        staff_post(&app, &owner, &format!("/api/v1/payments/{id}/capture"), &json!({"note": "statement line 4"}), None)
            .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "captured");
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");
    assert_eq!(balance(&app, &owner, "bank").await, total);

    // Recording a payment by hand on the order captures the same way.
    let (order2, _, total2) = guest_order(&app, 1).await;
    let res = staff_post(
        &app,
        &owner,
        &format!("/api/v1/orders/{order2}/payment-received"),
        &json!({"reference": "T-77"}),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let ps: Value = app.get(&format!("/api/v1/orders/{order2}/payments"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(ps[0]["status"], "captured");
    assert_eq!(ps[0]["method"], "bank_transfer");
    assert_eq!(balance(&app, &owner, "bank").await, total + total2);
    assert_eq!(balance(&app, &owner, &format!("receivable:{order2}")).await, 0);
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn only_the_buyer_and_payment_staff_reach_a_payment(b: Backend) {
    let app = spawn(b).await;
    shop(&app).await;
    let (order, token, _) = guest_order(&app, 1).await;
    let body = json!({"method": "test_card", "card": card(VISA)});
    let res = app.client.post(app.url(&format!("/api/v1/orders/{order}/payments"))).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 404, "no token, no order");
    let res = pay(&app, &order, "not-the-token", &body, None).await;
    assert_eq!(res.status(), 404);
    let p: Value = pay(&app, &order, &token, &body, None).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap();
    // The guest sees the order's payments, without the staff timeline.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/orders/{order}/payments")))
        .header("order-token", &token)
        .send()
        .await
        .unwrap();
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen[0]["id"], id);
    assert!(seen[0].get("operations").is_none());
    // Nobody without payments.manage refunds; nobody without ledger.read reads the books.
    let anon =
        app.client.post(app.url(&format!("/api/v1/payments/{id}/refunds"))).json(&json!({})).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let owner = app.outfitters_owner().await;
    let create = json!({"email": "pack@example.com", "display_name": "Pack", "role": "warehouse", "password": crate::helpers::DEMO_PASSWORD});
    assert_eq!(app.post_json("/api/v1/staff", Some(&owner), &create).await.status(), 201);
    let warehouse = app.login("", "staff", "pack@example.com").await;
    let res = staff_post(&app, &warehouse, &format!("/api/v1/payments/{id}/refunds"), &json!({}), None).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.get("/api/v1/ledger/accounts", Some(&warehouse)).await;
    assert_problem(res, 403, "forbidden").await;
    // Another store's staff do not find it.
    let foodbank = app.foodbank_owner().await;
    let res = app
        .client
        .get(app.url(&format!("/s/foodbank/api/v1/payments/{id}")))
        .bearer_auth(&foodbank)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    app.stop().await;
}

async fn cancelling_an_unpaid_order_reverses_its_sale(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, _, _) = guest_order(&app, 1).await;
    assert!(balance(&app, &owner, "revenue:web").await > 0);
    let res =
        app.post_json(&format!("/api/v1/orders/{order}/status"), Some(&owner), &json!({"status": "cancelled"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(balance(&app, &owner, &format!("receivable:{order}")).await, 0);
    assert_eq!(balance(&app, &owner, "revenue:web").await, 0);
    // A cancelled order takes no payment.
    let res = staff_post(
        &app,
        &owner,
        &format!("/api/v1/orders/{order}/payments"),
        &json!({"method": "bank_transfer"}),
        None,
    )
    .await;
    assert_problem(res, 409, "order_cancelled").await;
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn card_numbers_never_reach_the_database_or_the_logs(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    shop(&app).await;
    let (order, token, _) = guest_order(&app, 1).await;
    let pan = "4000056655665556";
    // A malformed request (number as a JSON number) is refused without echoing it.
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": {"number": 4000056655665556u64, "exp_month": "x", "exp_year": 2030, "cvc": "321"}}), None).await;
    assert_eq!(res.status(), 422);
    assert!(!res.text().await.unwrap().contains(pan), "the problem does not repeat the number");
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(pan)}), Some("k")).await;
    assert_eq!(res.status(), 201);

    // The real server binary, logging at debug level, takes a payment
    // (and a malformed one): its output never holds the number or code.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = app.data_dir().join("server.log");
    let search_dir = app.data_dir().join("search-of-logged-node").display().to_string();
    let out = std::fs::File::create(&log).unwrap();
    let mut server = app
        .oxcart_command(&[("OXCART_LOG", "debug"), ("OXCART_SEARCH__DIR", &search_dir)])
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start oxcart serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the server started: {}", std::fs::read_to_string(&log).unwrap_or_default());
    let (order2, token2, _) = guest_order(&app, 1).await;
    let path = format!("{base}/api/v1/orders/{order2}/payments");
    let bad = json!({"method": "test_card", "card": {"number": pan, "exp_month": 13, "exp_year": 2030, "cvc": "7319"}});
    let res = client.post(&path).header("order-token", &token2).json(&bad).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let mut good = json!({"method": "test_card", "card": card(pan)});
    good["card"]["cvc"] = json!("7319");
    let res = client.post(&path).header("order-token", &token2).json(&good).send().await.unwrap();
    assert_eq!(res.status(), 201);
    server.kill().unwrap();
    server.wait().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("/payments"), "the server logged the requests: {logged}");
    assert!(!logged.contains(pan) && !logged.contains("\"7319\""), "no card number or code in the logs: {logged}");

    let raw = app.raw_database().await;
    assert!(!raw.windows(pan.len()).any(|w| w == pan.as_bytes()), "no card number in the database");
    assert!(raw.windows(4).any(|w| w == b"5556"), "the last four digits are kept");
    app.stop().await;
}

pub(crate) async fn issue_card(app: &TestApp, owner: &str, amount: i64, extra: Value) -> (String, String) {
    let mut body = json!({"amount": amount, "origin": "sold"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let res = staff_post(app, owner, "/api/v1/gift-cards", &body, None).await;
    assert_eq!(res.status(), 201);
    let issued: Value = res.json().await.unwrap();
    (issued["gift_card"]["id"].as_str().unwrap().to_string(), issued["code"].as_str().unwrap().to_string())
}

async fn card_balance(app: &TestApp, code: &str) -> Value {
    let res = app.post_json("/api/v1/gift-cards/balance", None, &json!({ "code": code })).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn a_gift_card_pays_part_and_a_card_the_rest(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (card_id, code) = issue_card(&app, &owner, 5000, json!({})).await;
    assert_eq!(code.len(), 19, "four groups of four: {code}");
    assert_eq!(balance(&app, &owner, &format!("gift_cards:{card_id}")).await, 5000, "the store owes the card");
    assert_eq!(balance(&app, &owner, "bank").await, 5000, "a sold card was paid for");
    // Anyone with the code sees the balance; typing it loosely works.
    let typed = code.to_lowercase().replace('-', " ");
    assert_eq!(card_balance(&app, &typed).await["balance"], 5000);
    let res = app.post_json("/api/v1/gift-cards/balance", None, &json!({"code": "AAAA-BBBB-CCCC-DDDD"})).await;
    assert_eq!(res.status(), 404);

    let (order, token, total) = guest_order(&app, 1).await;
    let res = pay(&app, &order, &token, &json!({"method": "gift_card", "gift_card_code": code}), Some("g1")).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!((p["status"].as_str(), p["captured"].as_i64()), (Some("captured"), Some(5000)), "{p}");
    assert_eq!(card_balance(&app, &code).await["balance"], 0);
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "partially_paid");
    // The card is spent: paying with it again finds nothing.
    let (order2, token2, _) = guest_order(&app, 1).await;
    let res = pay(&app, &order2, &token2, &json!({"method": "gift_card", "gift_card_code": code}), None).await;
    assert_problem(res, 409, "exceeds_outstanding").await;
    // The card pays the rest of the first order.
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await;
    assert_eq!(res.json::<Value>().await.unwrap()["captured"], total - 5000);
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");
    assert_eq!(balance(&app, &owner, &format!("gift_cards:{card_id}")).await, 0);
    // A refund of the gift card part puts it back on the card.
    let res = staff_post(
        &app,
        &owner,
        &format!("/api/v1/payments/{}/refunds", p["id"].as_str().unwrap()),
        &json!({"amount": 2000}),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(card_balance(&app, &code).await["balance"], 2000);
    assert_eq!(balance(&app, &owner, &format!("gift_cards:{card_id}")).await, 2000);
    // Expired and foreign-currency cards do not pay.
    let (_, old) = issue_card(&app, &owner, 1000, json!({"valid_days": 1})).await;
    app.raw_sql("UPDATE gift_cards SET expires_at = 1 WHERE initial = 1000").await.unwrap();
    assert_eq!(card_balance(&app, &old).await["usable"], false);
    let res = pay(&app, &order2, &token2, &json!({"method": "gift_card", "gift_card_code": old}), None).await;
    assert_problem(res, 409, "gift_card_expired").await;
    let (_, usd) = issue_card(&app, &owner, 1000, json!({"currency": "USD"})).await;
    let res = pay(&app, &order2, &token2, &json!({"method": "gift_card", "gift_card_code": usd}), None).await;
    assert_problem(res, 409, "currency_mismatch").await;
    // Codes are kept only as hashes.
    let raw = app.raw_database().await;
    let bare = code.replace('-', "");
    assert!(!raw.windows(bare.len()).any(|w| w == bare.as_bytes()), "no gift card code in the database");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn concurrent_redemptions_never_overspend_a_gift_card(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (card_id, code) = issue_card(&app, &owner, 30000, json!({"origin": "promotion"})).await;
    let mut orders = Vec::new();
    for _ in 0..6 {
        orders.push(guest_order(&app, 1).await);
    }
    // Six orders of 120.00 each try to spend 120.00 of a 300.00 card at once.
    let attempts = orders.iter().map(|(order, token, _)| {
        let body = json!({"method": "gift_card", "gift_card_code": code, "amount": 12000});
        let app = &app;
        async move { pay(app, order, token, &body, None).await.status().as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(card_balance(&app, &code).await["balance"], 6000);
    assert_eq!(balance(&app, &owner, &format!("gift_cards:{card_id}")).await, 6000);
    assert_eq!(balance(&app, &owner, "promotions").await, 30000, "a card given away is a cost");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

pub(crate) async fn customer_order(app: &TestApp, customer: &str) -> (String, i64) {
    let res = app.client.post(app.url("/api/v1/carts")).bearer_auth(customer).json(&json!({})).send().await.unwrap();
    let cart: Value = res.json().await.unwrap();
    let id = cart["cart"]["id"].as_str().unwrap().to_string();
    let res = app
        .client
        .put(app.url(&format!("/api/v1/carts/{id}/lines/TENT-S")))
        .bearer_auth(customer)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let address =
        json!({"name": "Ana Lima", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"});
    let res = app
        .client
        .put(app.url(&format!("/api/v1/carts/{id}/contact")))
        .bearer_auth(customer)
        .json(&json!({"email": "ana@example.com", "shipping_address": address}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res =
        app.client.post(app.url(&format!("/api/v1/carts/{id}/checkout"))).bearer_auth(customer).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    (order["id"].as_str().unwrap().to_string(), order["totals"]["total"]["amount"].as_i64().unwrap())
}

pub(crate) async fn sign_up(app: &TestApp, email: &str) -> (String, String) {
    let body = json!({"email": email, "password": crate::helpers::DEMO_PASSWORD, "display_name": "Buyer"});
    let res = app.post_json("/api/v1/customers", None, &body).await;
    assert_eq!(res.status(), 201);
    let token = app.login("", "customer", email).await;
    let me: Value = app.get("/api/v1/me", Some(&token)).await.json().await.unwrap();
    (me["id"].as_str().unwrap().to_string(), token)
}

async fn store_credit_is_granted_spent_and_refunded(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (ana, ana_token) = sign_up(&app, "ana@example.com").await;
    let (_, bo_token) = sign_up(&app, "bo@example.com").await;
    let path = format!("/api/v1/customers/{ana}/store-credit");
    let res = staff_post(&app, &owner, &path, &json!({"amount": 4000, "note": "late delivery"}), Some("sc1")).await;
    assert_eq!(res.status(), 200);
    let again = staff_post(&app, &owner, &path, &json!({"amount": 4000, "note": "late delivery"}), Some("sc1")).await;
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let mine: Value = app.get("/api/v1/me/store-credit", Some(&ana_token)).await.json().await.unwrap();
    assert_eq!(mine, json!([{"currency": "EUR", "balance": 4000}]), "granted once");
    let bad = staff_post(&app, &owner, &path, &json!({"amount": 0, "note": ""}), None).await;
    assert_problem(bad, 422, "validation_failed").await;

    let (order, total) = customer_order(&app, &ana_token).await;
    // Another customer cannot pay Ana's order, nor spend her credit.
    let pay_as = |token: &str, body: Value| {
        let req = app
            .client
            .post(app.url(&format!("/api/v1/orders/{order}/payments")))
            .bearer_auth(token.to_string())
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(pay_as(&bo_token, json!({"method": "store_credit"})).await.status(), 404);
    let res = pay_as(&ana_token, json!({"method": "store_credit"})).await;
    assert_eq!(res.status(), 201);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["captured"], 4000, "all the credit, less than the order");
    let mine: Value = app.get("/api/v1/me/store-credit", Some(&ana_token)).await.json().await.unwrap();
    assert_eq!(mine[0]["balance"], 0);
    let res = pay_as(&ana_token, json!({"method": "store_credit"})).await;
    assert_problem(res, 409, "exceeds_outstanding").await;
    let res = pay_as(&ana_token, json!({"method": "test_card", "card": card(VISA)})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["captured"], total - 4000);
    // Refunding the credit part returns it as credit.
    let res =
        staff_post(&app, &owner, &format!("/api/v1/payments/{}/refunds", p["id"].as_str().unwrap()), &json!({}), None)
            .await;
    assert_eq!(res.status(), 200);
    let mine: Value = app.get("/api/v1/me/store-credit", Some(&ana_token)).await.json().await.unwrap();
    assert_eq!(mine[0]["balance"], 4000);
    assert_eq!(balance(&app, &owner, &format!("store_credit:{ana}")).await, 4000);
    // A guest order has no store credit to spend.
    let (gorder, gtoken, _) = guest_order(&app, 1).await;
    let res = pay(&app, &gorder, &gtoken, &json!({"method": "store_credit"}), None).await;
    assert_problem(res, 422, "validation_failed").await;
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn payment_of(app: &TestApp, staff: &str, order: &str) -> Value {
    let ps: Value = app.get(&format!("/api/v1/orders/{order}/payments"), Some(staff)).await.json().await.unwrap();
    ps[0].clone()
}

async fn cancelled_and_expired_orders_release_their_payments(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    let owner = shop(&app).await;
    // Staff cancel an order whose card payment is only authorised: the hold is released.
    let (order, token, _, _) = authorized_payment(&app, 1).await;
    let res =
        app.post_json(&format!("/api/v1/orders/{order}/status"), Some(&owner), &json!({"status": "cancelled"})).await;
    assert_eq!(res.status(), 200);
    let p = payment_of(&app, &owner, &order).await;
    assert_eq!(p["status"], "voided", "{p}");
    let kinds: Vec<&str> = p["operations"].as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["authorize", "void"]);
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "unpaid");
    // A transfer that never arrives: the order expires and the awaited payment closes.
    let (order2, token2, _) = guest_order(&app, 1).await;
    assert_eq!(pay(&app, &order2, &token2, &json!({"method": "bank_transfer"}), None).await.status(), 201);
    app.raw_sql(&format!("UPDATE orders SET reserved_until = 1 WHERE id = '{order2}'")).await.unwrap();
    let mut status = Value::Null;
    for _ in 0..100 {
        status = payment_of(&app, &owner, &order2).await["status"].clone();
        if status == "voided" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "voided");
    assert_eq!(order_view(&app, &order2, &token2).await["status"], "cancelled");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

/// The processor's reference of a payment's charge (what its webhooks name).
async fn charge_ref(app: &TestApp, payment: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT provider_ref FROM payments WHERE id = '{payment}'")))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

const WEBHOOK_SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3";

/// Sends a webhook as the test card processor would, signed (or not) with `secret`.
async fn provider_event(
    app: &TestApp,
    id: &str,
    kind: &str,
    charge: &str,
    secret: &str,
    age_secs: i64,
) -> reqwest::Response {
    let body = json!({"id": id, "type": kind, "data": {"charge": charge}}).to_string();
    let ts = chrono::Utc::now().timestamp() - age_secs;
    let sig = oxcart::domain::webhooks::sign(secret, id, ts, body.as_bytes()).unwrap();
    app.client
        .post(app.url("/api/v1/providers/test_card/webhooks"))
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn a_late_webhook_settles_a_pending_card_once_in_any_order(b: Backend) {
    let app = spawn_with(b, |c| c.payments.test_card_webhook_secret = Some(WEBHOOK_SECRET.into())).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 1).await;
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card("4000000000000077")}), None).await;
    assert_eq!(res.status(), 202);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "processing");
    let provider_ref = charge_ref(&app, p["id"].as_str().unwrap()).await;
    assert!(provider_ref.starts_with("ch_async_"), "{provider_ref}");
    // Forged, stale and unsigned events change nothing.
    let forged =
        provider_event(&app, "evt_1", "charge.succeeded", &provider_ref, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0)
            .await;
    assert_eq!(forged.status(), 401);
    let stale = provider_event(&app, "evt_1", "charge.succeeded", &provider_ref, WEBHOOK_SECRET, 3600).await;
    assert_eq!(stale.status(), 401);
    let bare = app.client.post(app.url("/api/v1/providers/test_card/webhooks")).body("{}").send().await.unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(payment_of(&app, &owner, &order).await["status"], "processing");
    // The real event settles it; its replay is recognised.
    let res = provider_event(&app, "evt_1", "charge.succeeded", &provider_ref, WEBHOOK_SECRET, 0).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "applied");
    let res = provider_event(&app, "evt_1", "charge.succeeded", &provider_ref, WEBHOOK_SECRET, 0).await;
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "duplicate");
    // A failure arriving after the success does not undo it.
    let res = provider_event(&app, "evt_2", "charge.failed", &provider_ref, WEBHOOK_SECRET, 0).await;
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "ignored");
    let p = payment_of(&app, &owner, &order).await;
    assert_eq!(p["status"], "captured", "{p}");
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total, "captured once");

    // The other order of arrival ends the same: failed, then succeeded.
    let (order2, token2, total2) = guest_order(&app, 1).await;
    pay(&app, &order2, &token2, &json!({"method": "test_card", "card": card("4000000000000077")}), None).await;
    let id2 = payment_of(&app, &owner, &order2).await["id"].as_str().unwrap().to_string();
    let ref2 = charge_ref(&app, &id2).await;
    let res = provider_event(&app, "evt_3", "charge.failed", &ref2, WEBHOOK_SECRET, 0).await;
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "applied");
    assert_eq!(payment_of(&app, &owner, &order2).await["status"], "failed");
    let res = provider_event(&app, "evt_4", "charge.succeeded", &ref2, WEBHOOK_SECRET, 0).await;
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "applied");
    assert_eq!(payment_of(&app, &owner, &order2).await["status"], "captured");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total + total2);
    // An event for a charge nobody knows is recorded and changes nothing.
    let res = provider_event(&app, "evt_5", "charge.succeeded", "ch_nothing", WEBHOOK_SECRET, 0).await;
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "unknown");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

fn camt(entries: &[(&str, &str, &str, &str)]) -> String {
    let body: String = entries
        .iter()
        .map(|(bank_ref, amount, indicator, remittance)| {
            format!(
                r#"<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><BookgDt><Dt>2026-12-06</Dt></BookgDt>
                <AcctSvcrRef>{bank_ref}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Zephyrine Quillfeather</Nm></Dbtr></RltdPties>
                <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr><Stmt><Id>S</Id>{body}</Stmt></BkToCstmrStmt></Document>"#
    )
}

async fn import(app: &TestApp, staff: &str, content_type: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/bank-statements"))
        .bearer_auth(staff)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A guest order paying by transfer: (order, token, total, reference).
async fn transfer_order(app: &TestApp) -> (String, String, i64, String) {
    let (order, token, total) = guest_order(app, 1).await;
    let p: Value = pay(app, &order, &token, &json!({"method": "bank_transfer"}), None).await.json().await.unwrap();
    (order, token, total, p["details"]["reference"].as_str().unwrap().to_string())
}

fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

async fn bank_statements_capture_the_transfers_they_pay(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (o1, t1, total1, r1) = transfer_order(&app).await;
    let (o2, t2, total2, r2) = transfer_order(&app).await;
    let (o3, t3, total3, r3) = transfer_order(&app).await;
    let spaced = format!("Payment {} {} thanks", &r1[..4], &r1[4..]).to_lowercase();
    let statement = camt(&[
        ("B-1", &decimal(total1), "CRDT", &spaced),
        ("B-2", &decimal(total3 - 1000), "CRDT", &r3),
        ("B-3", "15.00", "CRDT", "birthday money"),
        ("B-4", "9.99", "DBIT", "bank fee"),
    ]);
    // Unreadable statements and unknown formats change nothing.
    let res = import(&app, &owner, "application/xml", statement.replace("</Document>", "")).await;
    assert_problem(res, 422, "validation_failed").await;
    let res = import(&app, &owner, "application/pdf", statement.clone()).await;
    assert_eq!(res.status(), 415);
    assert_eq!(app.count_rows("bank_lines").await, 0);

    let res = import(&app, &owner, "application/xml", statement.clone()).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["credits"].as_u64(), report["matched"].as_u64(), report["unmatched"].as_u64()),
        (Some(3), Some(1), Some(2)),
        "{report}"
    );
    assert_eq!(order_view(&app, &o1, &t1).await["payment_status"], "paid");
    assert_eq!(order_view(&app, &o3, &t3).await["payment_status"], "unpaid", "a different amount is not matched");
    let lines: Value = app.get("/api/v1/bank-lines?status=unmatched", Some(&owner)).await.json().await.unwrap();
    let unmatched = lines["lines"].as_array().unwrap();
    assert_eq!(unmatched.len(), 2);
    let short = unmatched.iter().find(|l| l["bank_ref"] == "B-2").unwrap();
    assert!(short["note"].as_str().unwrap().contains("awaits"), "{short}");
    assert_eq!(short["payer"], "Zephyrine Quillfeather");
    // The same statement again adds nothing.
    let again: Value = import(&app, &owner, "application/xml", statement).await.json().await.unwrap();
    assert_eq!((again["duplicates"].as_u64(), again["matched"].as_u64()), (Some(3), Some(0)));
    // A CSV statement pays the second order.
    let csv =
        format!("date,amount,currency,reference,bank_ref,payer\n2026-12-07,{},EUR,{r2},C-1,Bo\n", decimal(total2));
    let report: Value = import(&app, &owner, "text/csv", csv).await.json().await.unwrap();
    assert_eq!(report["matched"], 1);
    assert_eq!(order_view(&app, &o2, &t2).await["payment_status"], "paid");
    // Staff match the short transfer by hand: the order is partly paid.
    let p3 = payment_of(&app, &owner, &o3).await;
    let path = format!("/api/v1/bank-lines/{}/match", short["id"].as_str().unwrap());
    let res = app.post_json(&path, Some(&owner), &json!({"payment_id": p3["id"]})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "matched");
    assert_eq!(order_view(&app, &o3, &t3).await["payment_status"], "partially_paid");
    let res = app.post_json(&path, Some(&owner), &json!({"payment_id": p3["id"]})).await;
    assert_problem(res, 409, "line_matched").await;
    assert_eq!(balance(&app, &owner, "bank").await, total1 + total2 + total3 - 1000);
    let raw = app.raw_database().await;
    assert!(!raw.windows(10).any(|w| w == b"Zephyrine "), "payer names are sealed");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

/// A small deterministic generator, so a failing sequence can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Random sequences of payments, captures, refunds, voids and cancels over
/// a few orders: whatever is accepted or refused, the journal balances,
/// every payment keeps refunded ≤ captured ≤ amount, and the clearing
/// account holds exactly what the card payments captured less refunded.
async fn random_money_movements_keep_the_books_consistent(b: Backend) {
    let app = spawn_with(b, |c| c.payments.capture_on_order = false).await;
    let owner = shop(&app).await;
    let mut rng = Lcg(0x5eed_2026);
    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(guest_order(&app, 1 + rng.below(3) as i64).await);
    }
    let mut payments: Vec<String> = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for step in 0..60 {
        let status = match rng.below(6) {
            0 | 1 => {
                let (order, token, total) = &orders[rng.below(orders.len() as u64) as usize];
                let amount = 1 + rng.below(*total as u64) as i64;
                let body = json!({"method": "test_card", "amount": amount, "card": card(VISA)});
                let res = pay(&app, order, token, &body, Some(&format!("p{step}"))).await;
                let s = res.status().as_u16();
                if s == 201 {
                    payments.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
                }
                s
            }
            2 | 3 if !payments.is_empty() => {
                let p = &payments[rng.below(payments.len() as u64) as usize];
                let op = if rng.below(2) == 0 { "capture" } else { "refunds" };
                let body = if rng.below(3) == 0 { json!({}) } else { json!({"amount": 1 + rng.below(20000)}) };
                staff_post(&app, &owner, &format!("/api/v1/payments/{p}/{op}"), &body, None).await.status().as_u16()
            }
            4 if !payments.is_empty() => {
                let p = &payments[rng.below(payments.len() as u64) as usize];
                staff_post(&app, &owner, &format!("/api/v1/payments/{p}/void"), &json!({}), None)
                    .await
                    .status()
                    .as_u16()
            }
            _ => {
                let (order, _, _) = &orders[rng.below(orders.len() as u64) as usize];
                app.post_json(&format!("/api/v1/orders/{order}/status"), Some(&owner), &json!({"status": "cancelled"}))
                    .await
                    .status()
                    .as_u16()
            }
        };
        assert!(matches!(status, 200 | 201 | 409), "step {step}: unexpected {status}");
        *statuses.entry(status).or_default() += 1;
    }
    assert!(statuses.len() >= 2, "both accepted and refused operations happened: {statuses:?}");
    let mut net_captured = 0;
    for p in &payments {
        let v: Value = app.get(&format!("/api/v1/payments/{p}"), Some(&owner)).await.json().await.unwrap();
        let (amount, captured, refunded) =
            (v["amount"].as_i64().unwrap(), v["captured"].as_i64().unwrap(), v["refunded"].as_i64().unwrap());
        assert!(0 <= refunded && refunded <= captured && captured <= amount, "{v}");
        assert_eq!((v["pending_capture"].as_i64(), v["pending_refund"].as_i64()), (Some(0), Some(0)));
        net_captured += captured - refunded;
    }
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, net_captured);
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn invoices_are_numbered_without_gaps_immutable_and_credited_on_refund(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let mut orders = Vec::new();
    for _ in 0..6 {
        orders.push(guest_order(&app, 1).await);
    }
    // Six orders invoiced at once: numbers 1 to 6, none skipped or repeated.
    let issue = |order: String| {
        let (app, owner) = (&app, owner.clone());
        async move { staff_post(app, &owner, &format!("/api/v1/orders/{order}/invoice"), &json!({}), None).await }
    };
    let answers = futures::future::join_all(orders.iter().map(|(o, _, _)| issue(o.clone()))).await;
    let mut numbers = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 201);
        numbers.push(res.json::<Value>().await.unwrap()["document"]["number"].as_str().unwrap().to_string());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=6).map(|n| format!("INV-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
    // Asking again answers with the same invoice.
    let (order, token, total) = orders[0].clone();
    let again = issue(order.clone()).await;
    assert_eq!(again.status(), 200);
    let invoice: Value = again.json().await.unwrap();
    let id = invoice["id"].as_str().unwrap().to_string();
    assert_eq!(invoice["document"]["gross"], total);
    assert_eq!(invoice["document"]["buyer"]["name"], "Ana Lima");
    // The buyer reads it with the order's token, as JSON, HTML and UBL; a stranger does not.
    let read = |path: String, token: &str| {
        let req = app.client.get(app.url(&path)).header("order-token", token.to_string());
        async move { req.send().await.unwrap() }
    };
    assert_eq!(read(format!("/api/v1/invoices/{id}"), &token).await.status(), 200);
    assert_eq!(read(format!("/api/v1/invoices/{id}"), "nope").await.status(), 404);
    let html = read(format!("/api/v1/invoices/{id}.html"), &token).await.text().await.unwrap();
    assert!(html.contains(&format!("id=\"doc-number\">{}", invoice["document"]["number"].as_str().unwrap())), "{html}");
    assert!(html.contains("Ana Lima") && html.contains("Invoice"));
    let xml = read(format!("/api/v1/invoices/{id}.xml"), &token).await.text().await.unwrap();
    for part in [
        "<Invoice xmlns=",
        "urn:cen.eu:en16931:2017",
        "<cbc:InvoiceTypeCode>380",
        "<cac:TaxTotal>",
        "<cac:InvoiceLine>",
    ] {
        assert!(xml.contains(part), "{part} in {xml}");
    }
    assert!(
        xml.contains(&format!("<cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>", decimal(total))),
        "{xml}"
    );
    // And as a PDF: the same document, text set in the standard fonts.
    let res = read(format!("/api/v1/invoices/{id}.pdf"), &token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.trim_ascii_end().ends_with(b"%%EOF"));
    // Strings with bytes beyond ASCII are written in hex, the rest literally.
    let shows = |text: &[u8]| {
        let hex: String = text.iter().map(|b| format!("{b:02X}")).collect();
        let literal = [b"(", text, b")"].concat();
        pdf.windows(literal.len()).any(|w| w == literal) || pdf.windows(hex.len()).any(|w| w == hex.as_bytes())
    };
    let number = invoice["document"]["number"].as_str().unwrap();
    assert!(shows(number.as_bytes()), "{}", String::from_utf8_lossy(&pdf));
    assert!(shows(b"Ana Lima") && pdf.windows(10).any(|w| w == b"/Helvetica"));
    // The total in the order's language (English: "€12.34", the euro sign as WinAnsi 0x80).
    assert!(shows(&[&[0x80u8][..], format!("{}.{:02}", total / 100, total % 100).as_bytes()].concat()), "the total");
    assert_eq!(read(format!("/api/v1/invoices/{id}.pdf"), "nope").await.status(), 404);
    // A partial refund of the paid order issues a credit note for it.
    let p: Value = pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None)
        .await
        .json()
        .await
        .unwrap();
    let res = staff_post(
        &app,
        &owner,
        &format!("/api/v1/payments/{}/refunds", p["id"].as_str().unwrap()),
        &json!({"amount": 2000}),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let docs: Value = app.get(&format!("/api/v1/orders/{order}/invoices"), Some(&owner)).await.json().await.unwrap();
    let docs = docs.as_array().unwrap();
    assert_eq!(docs.len(), 2);
    let credit = &docs[1]["document"];
    assert_eq!(credit["kind"], "credit_note");
    assert_eq!(credit["number"], format!("CN-{year}-000001"));
    assert_eq!(credit["credits"], invoice["document"]["number"]);
    assert_eq!(credit["gross"], 2000);
    assert_eq!(credit["net"].as_i64().unwrap() + credit["tax"].as_i64().unwrap(), 2000);
    let xml =
        read(format!("/api/v1/invoices/{}.xml", docs[1]["id"].as_str().unwrap()), &token).await.text().await.unwrap();
    assert!(xml.contains("<CreditNote xmlns=") && xml.contains("<cac:BillingReference>"), "{xml}");
    // Issued documents do not change, even for someone with database access.
    assert!(app.raw_sql("UPDATE invoices SET gross = 1").await.is_err());
    assert!(app.raw_sql("DELETE FROM invoices").await.is_err());
    // A cancelled order is not invoiced.
    let (cancelled, _, _) = guest_order(&app, 1).await;
    app.post_json(&format!("/api/v1/orders/{cancelled}/status"), Some(&owner), &json!({"status": "cancelled"})).await;
    assert_problem(issue(cancelled).await, 409, "order_cancelled").await;
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn a_lost_answer_is_reconciled_when_nobody_retries(b: Backend) {
    let app = spawn_with(b, |c| c.payments.reconcile_after_secs = 0).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 1).await;
    // The processor charges the card but its answer is lost; the buyer
    // never retries (no key to retry with).
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card("4000000000000119")}), None).await;
    assert_eq!(res.status(), 202);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "processing");
    let path = format!("/api/v1/payments/{}", p["id"].as_str().unwrap());
    // The payments worker looks the charge up with the processor and settles it.
    let mut settled = Value::Null;
    for _ in 0..100 {
        settled = app.get(&path, Some(&owner)).await.json().await.unwrap();
        if settled["status"] != "processing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        (settled["status"].as_str(), settled["captured"].as_i64()),
        (Some("captured"), Some(total)),
        "{settled}"
    );
    assert_eq!(order_view(&app, &order, &token).await["payment_status"], "paid");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, total, "captured once");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn a_charge_confirmed_after_its_order_was_cancelled_is_released(b: Backend) {
    let app = spawn_with(b, |c| c.payments.test_card_webhook_secret = Some(WEBHOOK_SECRET.into())).await;
    let owner = shop(&app).await;
    let (order, token, _) = guest_order(&app, 1).await;
    let res = pay(&app, &order, &token, &json!({"method": "test_card", "card": card("4000000000000077")}), None).await;
    assert_eq!(res.status(), 202);
    let p: Value = res.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    let res =
        app.post_json(&format!("/api/v1/orders/{order}/status"), Some(&owner), &json!({"status": "cancelled"})).await;
    assert_eq!(res.status(), 200);
    // The processor confirms the charge only now: it is released, not taken.
    let provider_ref = charge_ref(&app, &id).await;
    let res = provider_event(&app, "evt_late", "charge.succeeded", &provider_ref, WEBHOOK_SECRET, 0).await;
    assert_eq!(res.status(), 200);
    let after: Value = app.get(&format!("/api/v1/payments/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!((after["status"].as_str(), after["captured"].as_i64()), (Some("voided"), Some(0)), "{after}");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, 0);
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}
