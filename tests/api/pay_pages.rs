//! Paying on the storefront's order page as a browser without JavaScript
//! would: a declined card says why, a challenged card is confirmed, a
//! transfer shows its reference, a double click pays once.

use crate::account_pages::{Jar, field, get, post};
use crate::helpers::{Backend, TestApp, spawn};

crate::on_both_databases!(a_guest_pays_on_the_order_page_through_a_challenge, a_transfer_shows_its_reference);

/// A guest's order of one TENT-S placed through the pages: (jar, csrf, order path).
async fn order_through_pages(app: &TestApp) -> (Jar, String, String) {
    let owner = app.outfitters_owner().await;
    crate::orders::catalog(app, &owner).await;
    crate::orders::stock(app, &owner, 5).await;
    let mut jar = Jar::default();
    let (_, html) = get(app, &mut jar, "/p/trail-tent").await;
    let csrf = field(&html, "_csrf");
    assert_eq!(
        post(app, &mut jar, "/cart/add", &[("_csrf", &csrf), ("sku", "TENT-S"), ("quantity", "1")]).await.0,
        303
    );
    let contact = [
        ("_csrf", csrf.as_str()),
        ("email", "gina@example.com"),
        ("name", "Gina Guest"),
        ("line1", "Hauptstr. 1"),
        ("city", "Berlin"),
        ("postal_code", "10115"),
        ("country", "DE"),
    ];
    assert_eq!(post(app, &mut jar, "/cart/contact", &contact).await.0, 303);
    let (_, html) = get(app, &mut jar, "/cart").await;
    let key = field(&html, "_key");
    let (status, _, to) = post(app, &mut jar, "/cart/checkout", &[("_csrf", &csrf), ("_key", &key)]).await;
    assert_eq!(status, 303);
    (jar, csrf, to.unwrap())
}

fn card_form<'a>(csrf: &'a str, key: &'a str, number: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("_key", key),
        ("method", "test_card"),
        ("card_number", number),
        ("exp_month", "12"),
        ("exp_year", "2034"),
        ("cvc", "123"),
        ("holder", "Gina Guest"),
    ]
}

async fn a_guest_pays_on_the_order_page_through_a_challenge(b: Backend) {
    let app = spawn(b).await;
    let (mut jar, csrf, order) = order_through_pages(&app).await;
    let (_, html) = get(&app, &mut jar, &order).await;
    assert!(html.contains("id=\"pay-form\"") && html.contains("€120.00"), "{html}");
    let key = field(&html, "_key");
    // A declined card: the page says why and stays payable.
    let (status, html, _) =
        post(&app, &mut jar, &format!("{order}/pay"), &card_form(&csrf, &key, "4000 0000 0000 9995")).await;
    assert_eq!(status, 402);
    assert!(html.contains("insufficient funds") && html.contains("id=\"pay-form\""), "{html}");
    // A challenged card: confirm at the "bank", then it is paid.
    let key = field(&html, "_key");
    let form = card_form(&csrf, &key, "4000 0000 0000 3220");
    let (status, _, to) = post(&app, &mut jar, &format!("{order}/pay"), &form).await;
    assert_eq!((status, to.as_deref()), (303, Some(format!("{order}#payments").as_str())));
    // The same form sent twice (a double click) pays once.
    let (status, _, _) = post(&app, &mut jar, &format!("{order}/pay"), &form).await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &mut jar, &order).await;
    assert!(html.contains("data-status=\"requires_action\"") && !html.contains("id=\"pay-form\""), "{html}");
    assert_eq!(html.matches("data-status=\"requires_action\"").count(), 1, "one challenged payment");
    let action = html.split("class=\"form challenge\"").next().unwrap().rsplit("action=\"").next().unwrap();
    let action = action.split('"').next().unwrap().to_string();
    assert!(action.ends_with("/challenge"), "{action}");
    let (status, _, _) = post(&app, &mut jar, &action, &[("_csrf", &csrf), ("approve", "yes")]).await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &mut jar, &order).await;
    assert!(html.contains("data-status=\"captured\"") && html.contains("···· 3220"), "{html}");
    assert!(!html.contains("id=\"pay-form\""), "nothing left to pay");
    // A forged form pays nothing; another browser finds no order.
    let (status, _, _) =
        post(&app, &mut jar, &format!("{order}/pay"), &card_form("forged", "k2", "4242424242424242")).await;
    assert_eq!(status, 403);
    let mut other = Jar::default();
    let (_, html) = get(&app, &mut other, "/p/trail-tent").await;
    let their_csrf = field(&html, "_csrf");
    let (status, _, _) =
        post(&app, &mut other, &format!("{order}/pay"), &card_form(&their_csrf, "k3", "4242424242424242")).await;
    assert_eq!(status, 404);
    assert_eq!(app.count_rows("payments").await, 2, "the decline and the challenged payment");
    app.stop().await;
}

async fn a_transfer_shows_its_reference(b: Backend) {
    let app = spawn(b).await;
    let (mut jar, csrf, order) = order_through_pages(&app).await;
    let (_, html) = get(&app, &mut jar, &order).await;
    let key = field(&html, "_key");
    let form = [("_csrf", csrf.as_str()), ("_key", key.as_str()), ("method", "bank_transfer")];
    assert_eq!(post(&app, &mut jar, &format!("{order}/pay"), &form).await.0, 303);
    let (_, html) = get(&app, &mut jar, &order).await;
    assert!(html.contains("data-status=\"awaiting\"") && html.contains("class=\"reference\">OX1"), "{html}");
    app.stop().await;
}
