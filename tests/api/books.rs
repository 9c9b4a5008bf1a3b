//! Accounting reports and hand postings: receivables ageing by days past
//! due, payments by day and method, a provider payout that books its fee,
//! and writing off what a shipped order never paid.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn};
use crate::orders::{catalog, stock};
use crate::payments::{VISA, assert_books_balance, balance, card, guest_order, pay};

crate::on_both_databases!(
    receivables_age_by_days_past_due_and_payments_add_up_by_day,
    payouts_book_the_fee_and_write_offs_clear_what_is_owed,
    staff_keep_the_books_on_the_admin_pages,
    customers_top_up_credit_and_see_their_payments_statement_and_invoices,
    invoices_carry_the_sellers_details_terms_and_bank_account,
);

const DAY: i64 = 86_400_000;

async fn shop(app: &TestApp) -> String {
    let owner = app.outfitters_owner().await;
    catalog(app, &owner).await;
    stock(app, &owner, 50).await;
    owner
}

async fn ageing(app: &TestApp, staff: &str, as_of: i64) -> Value {
    let res = app.get(&format!("/api/v1/reports/receivables-ageing?as_of={as_of}"), Some(staff)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn line<'a>(report: &'a Value, order: &str) -> Option<&'a Value> {
    report["lines"].as_array().unwrap().iter().find(|l| l["order_id"] == order)
}

async fn receivables_age_by_days_past_due_and_payments_add_up_by_day(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (unpaid, _, unpaid_total) = guest_order(&app, 1).await;
    let (paid, paid_token, paid_total) = guest_order(&app, 2).await;
    assert_eq!(
        pay(&app, &paid, &paid_token, &json!({"method": "test_card", "card": card(VISA)}), None).await.status(),
        201
    );
    let (on_terms, terms_token, terms_total) = guest_order(&app, 3).await;
    assert_eq!(pay(&app, &on_terms, &terms_token, &json!({"method": "invoice"}), None).await.status(), 201);

    let now = chrono::Utc::now().timestamp_millis();
    let today = ageing(&app, &owner, now).await;
    assert!(line(&today, &paid).is_none(), "a paid order owes nothing");
    assert_eq!(line(&today, &unpaid).unwrap()["bucket"], "current");
    assert_eq!(line(&today, &on_terms).unwrap()["outstanding"], terms_total);
    assert_eq!(today["totals"][0]["current"].as_i64(), Some(unpaid_total + terms_total));

    // Forty days on: the order due at once is 40 days late, the invoice on
    // 14-day terms 26.
    let later = ageing(&app, &owner, now + 40 * DAY).await;
    let due_now = line(&later, &unpaid).unwrap();
    assert_eq!((due_now["bucket"].as_str(), due_now["days_overdue"].as_i64()), (Some("days_31_to_60"), Some(40)));
    let termed = line(&later, &on_terms).unwrap();
    assert_eq!((termed["bucket"].as_str(), termed["days_overdue"].as_i64()), (Some("days_1_to_30"), Some(26)));
    let t = &later["totals"][0];
    assert_eq!((t["days_31_to_60"].as_i64(), t["days_1_to_30"].as_i64()), (Some(unpaid_total), Some(terms_total)));
    assert_eq!(t["total"].as_i64(), Some(unpaid_total + terms_total));
    let much_later = ageing(&app, &owner, now + 100 * DAY).await;
    let t = &much_later["totals"][0];
    assert_eq!(
        (t["over_90"].as_i64(), t["days_61_to_90"].as_i64()),
        (Some(unpaid_total), Some(terms_total)),
        "100 and 86 days late"
    );

    // A refund shows on its day beside the capture.
    let payments: Value = app.get(&format!("/api/v1/orders/{paid}/payments"), Some(&owner)).await.json().await.unwrap();
    let pid = payments[0]["id"].as_str().unwrap();
    let res = app.post_json(&format!("/api/v1/payments/{pid}/refunds"), Some(&owner), &json!({"amount": 2000})).await;
    assert_eq!(res.status(), 200);
    let days: Value = app.get("/api/v1/reports/payments-by-day", Some(&owner)).await.json().await.unwrap();
    let card_day = days.as_array().unwrap().iter().find(|d| d["method"] == "test_card").unwrap();
    assert_eq!(card_day["day"], chrono::Utc::now().format("%Y-%m-%d").to_string());
    assert_eq!(
        (
            card_day["captured"].as_i64(),
            card_day["captures"].as_i64(),
            card_day["refunded"].as_i64(),
            card_day["net"].as_i64()
        ),
        (Some(paid_total), Some(1), Some(2000), Some(paid_total - 2000))
    );
    assert!(days.as_array().unwrap().iter().all(|d| d["method"] != "invoice"), "nothing taken by invoice yet: {days}");
    let past: Value = app
        .get("/api/v1/reports/payments-by-day?from=2020-01-01&to=2020-01-31", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(past, json!([]));
    assert_problem(
        app.get("/api/v1/reports/payments-by-day?from=yesterday", Some(&owner)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get("/api/v1/reports/payments-by-day?from=2026-02-01&to=2026-01-01", Some(&owner)).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(matches!(app.get("/api/v1/reports/receivables-ageing", None).await.status().as_u16(), 401 | 403));
    app.stop().await;
}

async fn payouts_book_the_fee_and_write_offs_clear_what_is_owed(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (paid, token, total) = guest_order(&app, 2).await;
    assert_eq!(pay(&app, &paid, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await.status(), 201);
    let bank_before = balance(&app, &owner, "bank").await;

    // The processor pays out what it took less its fee.
    let payout = json!({"method": "test_card", "gross": total, "fee": 361, "reference": "PO-2026-12-07"});
    let post = |body: Value, key: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/ledger/payouts"))
            .bearer_auth(&owner)
            .header("idempotency-key", key)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let res = post(payout.clone(), "po-1").await;
    assert_eq!(res.status(), 201);
    let posted: Value = res.json().await.unwrap();
    assert_eq!(posted["amount"].as_i64(), Some(total - 361));
    let again = post(payout.clone(), "po-1").await;
    assert_eq!(again.headers()["idempotency-replayed"], "true", "a retry posts nothing more");
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, 0);
    assert_eq!(balance(&app, &owner, "fees:test_card").await, 361);
    assert_eq!(balance(&app, &owner, "bank").await, bank_before + total - 361);
    // More than the processor holds, a fee above the gross, money that never passes a provider: refused.
    assert_problem(
        post(json!({"method": "test_card", "gross": 1, "reference": "PO-X"}), "po-2").await,
        409,
        "exceeds_balance",
    )
    .await;
    assert_eq!(
        post(json!({"method": "test_card", "gross": 10, "fee": 11, "reference": "PO-Y"}), "po-3").await.status(),
        422
    );
    assert_eq!(post(json!({"method": "bank_transfer", "gross": 10, "reference": "PO-Z"}), "po-4").await.status(), 422);
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, 0, "refused payouts change nothing");

    // An invoice that never gets paid, for goods already shipped, is written off.
    let (owed, owed_token, owed_total) = guest_order(&app, 1).await;
    assert_eq!(pay(&app, &owed, &owed_token, &json!({"method": "invoice"}), None).await.status(), 201);
    let write_off = |order: String, key: &'static str| {
        let req = app
            .client
            .post(app.url(&format!("/api/v1/orders/{order}/write-off")))
            .bearer_auth(&owner)
            .header("idempotency-key", key)
            .json(&json!({"note": "customer insolvent"}));
        async move { req.send().await.unwrap() }
    };
    assert_problem(write_off(owed.clone(), "wo-0").await, 409, "not_shipped").await;
    let res =
        app.post_json(&format!("/api/v1/orders/{owed}/status"), Some(&owner), &json!({"status": "confirmed"})).await;
    assert_eq!(res.status(), 200);
    let parcel = json!({"location": "berlin", "carrier": "manual", "tracking_number": "T-1"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{owed}/shipments"), Some(&owner), &parcel).await.status(), 201);
    // Not while the invoice payment may still bring the money.
    assert_problem(write_off(owed.clone(), "wo-p").await, 409, "payment_pending").await;
    let payments: Value = app.get(&format!("/api/v1/orders/{owed}/payments"), Some(&owner)).await.json().await.unwrap();
    let pid = payments[0]["id"].as_str().unwrap();
    assert_eq!(app.post_json(&format!("/api/v1/payments/{pid}/void"), Some(&owner), &json!({})).await.status(), 200);
    let res = write_off(owed.clone(), "wo-1").await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["amount"].as_i64(), Some(owed_total));
    assert_eq!(write_off(owed.clone(), "wo-1").await.headers()["idempotency-replayed"], "true");
    assert_problem(write_off(owed.clone(), "wo-2").await, 409, "nothing_owed").await;
    assert_eq!(balance(&app, &owner, &format!("receivable:{owed}")).await, 0);
    assert_eq!(balance(&app, &owner, "write_offs").await, owed_total);
    let now = chrono::Utc::now().timestamp_millis();
    assert!(line(&ageing(&app, &owner, now).await, &owed).is_none(), "written off, no longer owed");
    let order: Value = app.get(&format!("/api/v1/orders/{owed}"), Some(&owner)).await.json().await.unwrap();
    assert!(order["history"].to_string().contains("customer insolvent"), "{order}");
    assert_books_balance(&app, &owner).await;
    app.stop().await;
}

async fn staff_keep_the_books_on_the_admin_pages(b: Backend) {
    use crate::admin_pages::{field, page, post, sign_in};
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (order, token, total) = guest_order(&app, 2).await;
    assert_eq!(
        pay(&app, &order, &token, &json!({"method": "test_card", "card": card(VISA)}), None).await.status(),
        201
    );
    assert_eq!(app.post_json(&format!("/api/v1/orders/{order}/invoice"), Some(&owner), &json!({})).await.status(), 201);
    let cookie = sign_in(&app, "admin@outfitters.example", crate::helpers::DEMO_PASSWORD).await;

    // The trial balance, an account's statement, the reports.
    let (status, html) = page(&app, &cookie, "/admin/ledger").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"trial-balance\"") && html.contains("clearing:test_card"), "{html}");
    assert!(html.contains("data-balanced=\"true\"") && !html.contains("data-balanced=\"false\""));
    assert!(html.contains("id=\"by-day\"") && html.contains("id=\"ageing\""), "{html}");
    let (_, html) = page(&app, &cookie, "/admin/ledger?account=clearing:test_card&currency=EUR").await;
    assert_eq!(html.matches("class=\"statement-line\"").count(), 1, "{html}");
    assert!(html.contains("payment_captured"), "{html}");

    // A payout typed as decimals; a wrong amount is refused with the reason.
    let csrf = field(&html, "_csrf");
    let gross = format!("{}.{:02}", total / 100, total % 100);
    let form =
        [("_csrf", csrf.as_str()), ("method", "test_card"), ("gross", "abc"), ("fee", "0"), ("reference", "PO-1")];
    let (status, html) = post(&app, &cookie, "/admin/ledger/payouts", &form).await;
    assert_eq!(status, 422);
    assert!(html.contains("gross:"), "{html}");
    let form = [
        ("_csrf", csrf.as_str()),
        ("_key", "k-po"),
        ("method", "test_card"),
        ("gross", &gross),
        ("fee", "3.61"),
        ("reference", "PO-1"),
    ];
    assert_eq!(post(&app, &cookie, "/admin/ledger/payouts", &form).await.0, 303);
    assert_eq!(post(&app, &cookie, "/admin/ledger/payouts", &form).await.0, 303, "the same form twice books once");
    assert_eq!(balance(&app, &owner, "fees:test_card").await, 361);
    assert_eq!(balance(&app, &owner, "clearing:test_card").await, 0);

    // A bank statement pasted in; an unknown transfer waits for matching.
    let csv = "date,amount,currency,reference,payer,bank_ref\n2026-12-07,12.34,EUR,no idea,Somebody,B-77\n";
    let (status, html) =
        post(&app, &cookie, "/admin/bank", &[("_csrf", &csrf), ("format", "csv"), ("statement", csv)]).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"import-report\"") && html.contains("1 unmatched"), "{html}");
    assert!(html.contains("data-status=\"unmatched\"") && html.contains("Somebody"), "{html}");
    let (status, html) =
        post(&app, &cookie, "/admin/bank", &[("_csrf", &csrf), ("format", "camt053"), ("statement", "<nope")]).await;
    assert_eq!(status, 422, "{html}");

    // Gift cards: issued with its code shown once, then listed.
    let (status, html) = post(
        &app,
        &cookie,
        "/admin/gift-cards",
        &[("_csrf", &csrf), ("_key", "k-gc"), ("amount", "25.00"), ("origin", "promotion"), ("note", "raffle")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"issued-code\"") && html.contains("raffle"), "{html}");
    let (status, _) = post(&app, &cookie, "/admin/gift-cards", &[("_csrf", &csrf), ("amount", "-1")]).await;
    assert_eq!(status, 422);
    assert_eq!(balance(&app, &owner, "promotions").await, 2500);

    // Invoices.
    let (status, html) = page(&app, &cookie, "/admin/invoices").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-kind=\"invoice\"") && html.contains("INV-"), "{html}");
    app.stop().await;
}

async fn customers_top_up_credit_and_see_their_payments_statement_and_invoices(b: Backend) {
    use crate::account_pages::{Jar, field, get, post};
    use crate::payments::{customer_order, issue_card, sign_up};
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let (_, ana) = sign_up(&app, "ana@example.com").await;
    let (_, bo) = sign_up(&app, "bo@example.com").await;
    let (card_id, code) = issue_card(&app, &owner, 3000, json!({})).await;

    // A gift card tops up store credit once, whatever is retried.
    let top_up = |token: &str, code: &str, key: &str| {
        let req = app
            .client
            .post(app.url("/api/v1/me/store-credit/top-up"))
            .bearer_auth(token.to_string())
            .header("idempotency-key", key.to_string())
            .json(&json!({ "code": code }));
        async move { req.send().await.unwrap() }
    };
    let res = top_up(&ana, &code, "t1").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!([{"currency": "EUR", "balance": 3000}]));
    assert_eq!(top_up(&ana, &code, "t1").await.headers()["idempotency-replayed"], "true");
    assert_problem(top_up(&ana, &code, "t2").await, 409, "gift_card_empty").await;
    assert_problem(top_up(&bo, &code, "t3").await, 409, "gift_card_empty").await;
    assert_problem(top_up(&bo, "NOPE-NOPE-NOPE-NOPE", "t4").await, 409, "unknown_gift_card").await;
    assert_eq!(balance(&app, &owner, &format!("gift_cards:{card_id}")).await, 0);
    assert!(matches!(
        app.post_json("/api/v1/me/store-credit/top-up", None, &json!({"code": code})).await.status().as_u16(),
        401 | 403
    ));

    // Spend part of it; the statement and payments show both.
    let (order, total) = customer_order(&app, &ana).await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/orders/{order}/payments")))
        .bearer_auth(&ana)
        .json(&json!({"method": "store_credit", "amount": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let st: Value = app.get("/api/v1/me/store-credit/statement", Some(&ana)).await.json().await.unwrap();
    assert_eq!(st["account"]["balance"], 2000);
    let moves: Vec<(i64, i64)> = st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["debit"].as_i64().unwrap(), l["credit"].as_i64().unwrap()))
        .collect();
    assert_eq!(moves, vec![(1000, 0), (0, 3000)], "newest first: {st}");
    let mine: Value = app.get("/api/v1/me/payments", Some(&ana)).await.json().await.unwrap();
    assert_eq!((mine[0]["method"].as_str(), mine[0]["amount"].as_i64()), (Some("store_credit"), Some(1000)));
    assert_eq!(app.get("/api/v1/me/payments", Some(&bo)).await.json::<Value>().await.unwrap(), json!([]));
    assert_problem(app.get("/api/v1/me/store-credit/statement", Some(&bo)).await, 404, "not_found").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/orders/{order}/payments")))
        .bearer_auth(&ana)
        .json(&json!({"method": "test_card", "card": card(VISA)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(app.post_json(&format!("/api/v1/orders/{order}/invoice"), Some(&owner), &json!({})).await.status(), 201);

    // The account page shows it all; the invoice prints from the order page.
    let mut jar = Jar::default();
    let (_, html) = get(&app, &mut jar, "/account/login").await;
    let csrf = field(&html, "_csrf");
    let form = [("email", "ana@example.com"), ("password", crate::helpers::DEMO_PASSWORD), ("_csrf", csrf.as_str())];
    assert_eq!(post(&app, &mut jar, "/account/login", &form).await.0, 303);
    let (status, html) = get(&app, &mut jar, "/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"my-money\"") && html.contains("€20.00"), "{html}");
    assert_eq!(html.matches("class=\"my-payment\"").count(), 2, "{html}");
    let csrf = field(&html, "_csrf");
    let (status, html, _) = post(&app, &mut jar, "/account/gift-card", &[("_csrf", &csrf), ("code", &code)]).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"gift-card-result\"") && html.contains("€0.00"), "{html}");
    let (status, _, _) =
        post(&app, &mut jar, "/account/store-credit/top-up", &[("_csrf", &csrf), ("code", &code)]).await;
    assert_eq!(status, 422, "an empty card adds nothing");
    let (_, html) = get(&app, &mut jar, &format!("/orders/{order}")).await;
    assert!(html.contains("id=\"invoices\""), "{html}");
    let link = html.split("class=\"invoice\"><a href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (status, invoice) = get(&app, &mut jar, &link).await;
    assert_eq!(status, 200);
    assert!(invoice.contains("INV-") && invoice.contains(&format!("{}.{:02}", total / 100, total % 100)), "{invoice}");
    let mut stranger = Jar::default();
    assert_eq!(get(&app, &mut stranger, &link).await.0, 404, "only the buyer prints it");
    app.stop().await;
}

async fn invoices_carry_the_sellers_details_terms_and_bank_account(b: Backend) {
    let app = spawn(b).await;
    let owner = shop(&app).await;
    let defaults: Value = app.get("/api/v1/invoice-settings", Some(&owner)).await.json().await.unwrap();
    let bad = json!({"country": "de", "vat_id": "123", "iban": "DE00 1234", "bic": "X", "payment_terms_days": 999});
    let body =
        assert_problem(app.put_json("/api/v1/invoice-settings", Some(&owner), &bad).await, 422, "validation_failed")
            .await;
    for f in ["country", "vat_id", "iban", "bic", "payment_terms_days"] {
        assert!(body.to_string().contains(f), "{f}: {body}");
    }
    assert_eq!(app.get("/api/v1/invoice-settings", Some(&owner)).await.json::<Value>().await.unwrap(), defaults);
    let settings = json!({
        "legal_name": "Outfitters GmbH", "address_lines": ["Hauptstr. 1", "10115 Berlin"], "country": "DE",
        "vat_id": "DE123456789", "tax_number": "27/123/45678", "payment_terms_days": 14,
        "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX", "footer": "Amtsgericht Berlin HRB 12345"
    });
    let res = app.put_json("/api/v1/invoice-settings", Some(&owner), &settings).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["iban"], "DE89370400440532013000");

    let (order, _, _) = guest_order(&app, 1).await;
    let res = app.post_json(&format!("/api/v1/orders/{order}/invoice"), Some(&owner), &json!({})).await;
    assert_eq!(res.status(), 201);
    let invoice: Value = res.json().await.unwrap();
    let doc = &invoice["document"];
    assert_eq!(
        (doc["seller"]["company"].as_str(), doc["seller"]["vat_id"].as_str()),
        (Some("Outfitters GmbH"), Some("DE123456789"))
    );
    assert_eq!(doc["seller"]["tax_number"], "27/123/45678");
    let due = (chrono::Utc::now() + chrono::Duration::days(14)).format("%Y-%m-%d").to_string();
    assert_eq!(doc["due_on"], due.as_str());
    assert_eq!(doc["notes"], json!(["Amtsgericht Berlin HRB 12345"]));
    let id = invoice["id"].as_str().unwrap();
    let ubl = app.get(&format!("/api/v1/invoices/{id}.xml"), Some(&owner)).await.text().await.unwrap();
    for part in [
        format!("<cbc:DueDate>{due}</cbc:DueDate>"),
        "<cbc:CompanyID>DE123456789</cbc:CompanyID>".to_string(),
        "<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>".to_string(),
        "<cbc:ID>DE89370400440532013000</cbc:ID>".to_string(),
        "<cbc:Note>Amtsgericht Berlin HRB 12345</cbc:Note>".to_string(),
    ] {
        assert!(ubl.contains(&part), "{part} in {ubl}");
    }
    let html = app.get(&format!("/api/v1/invoices/{id}.html"), Some(&owner)).await.text().await.unwrap();
    assert!(
        html.contains("Hauptstr. 1") && html.contains("IBAN DE89370400440532013000") && html.contains(&due),
        "{html}"
    );
    // Issued invoices keep what they said when the settings change.
    let changed = json!({"legal_name": "Renamed AG", "country": "DE"});
    assert_eq!(app.put_json("/api/v1/invoice-settings", Some(&owner), &changed).await.status(), 200);
    let again: Value = app.get(&format!("/api/v1/invoices/{id}"), Some(&owner)).await.json().await.unwrap();
    assert_eq!(again["document"]["seller"]["company"], "Outfitters GmbH");
    app.stop().await;
}
