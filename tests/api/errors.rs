//! Hostile and malformed input: every answer is a problem+json 4xx and
//! nothing is written.

use serde_json::json;

use crate::helpers::{Backend, assert_problem, spawn};

crate::on_both_databases!(
    malformed_json_is_400_and_writes_nothing,
    wrong_types_and_unknown_fields_name_the_field,
    oversized_bodies_are_413,
    wrong_content_type_is_415,
    unknown_routes_ids_and_methods_are_problems,
    sql_and_html_in_strings_are_stored_as_text,
    invalid_form_posts_are_problems,
    framework_rejections_are_problems_too,
);

async fn malformed_json_is_400_and_writes_nothing(b: Backend) {
    let app = spawn(b).await;
    let before = app.count_rows("customers").await;
    for body in ["{", "{\"email\": }", "[1,2", "nul", "{\"email\":\"a@b.co\"} trailing"] {
        let res = app
            .client
            .post(app.url("/api/v1/customers"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 400, "malformed_json").await;
    }
    assert_eq!(app.count_rows("customers").await, before);
    app.stop().await;
}

async fn wrong_types_and_unknown_fields_name_the_field(b: Backend) {
    let app = spawn(b).await;
    let before = app.count_rows("customers").await;
    let res =
        app.post_json("/api/v1/customers", None, &json!({"email": 5, "password": "x", "display_name": "y"})).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");

    let res = app
        .post_json(
            "/api/v1/customers",
            None,
            &json!({"email": "a@b.co", "password": "long enough pw", "display_name": "y", "role": "owner"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("unknown field `role`"), "{body}");

    let res = app
        .post_json(
            "/api/v1/customers",
            None,
            &json!({"email": "not-an-email", "password": "short", "display_name": ""}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "password", "display_name"], "every bad field is reported at once");
    assert_eq!(app.count_rows("customers").await, before);
    app.stop().await;
}

async fn oversized_bodies_are_413(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let huge = "x".repeat(200 * 1024);
    let res = app
        .post_json(
            "/api/v1/webhooks",
            Some(&token),
            &json!({"url": "https://example.com/", "event_types": ["*"], "description": huge}),
        )
        .await;
    assert_problem(res, 413, "payload_too_large").await;
    assert_eq!(app.count_rows("webhook_endpoints").await, 0);
    app.stop().await;
}

async fn wrong_content_type_is_415(b: Backend) {
    let app = spawn(b).await;
    let res = app
        .client
        .post(app.url("/api/v1/customers"))
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@b.co","password":"long enough pw","display_name":"A"}"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = app.client.post(app.url("/api/v1/customers")).body("{}").send().await.unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    app.stop().await;
}

async fn unknown_routes_ids_and_methods_are_problems(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    assert_problem(app.get("/api/v1/nope", None).await, 404, "not_found").await;
    for id in ["whk_x", "1", "whk_01' OR '1'='1", "whk_01m840x8rar5rm0c511z6whtwc"] {
        let res = app.get(&format!("/api/v1/webhooks/{}", urlencode(id)), Some(&token)).await;
        assert_problem(res, 404, "not_found").await;
    }
    let res = app.client.delete(app.url("/api/v1/store")).send().await.unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
    assert_problem(app.get("/s/no-such-store/api/v1/store", None).await, 404, "store_not_found").await;
    let res = app.get("/api/v1/events?limit=abc", Some(&token)).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.client.get(app.url("/api/v1/webhooks")).header("authorization", "Basic abc").send().await.unwrap();
    assert_problem(res, 401, "unauthenticated").await;
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.replace('\'', "%27").replace(' ', "%20").replace('=', "%3D")
}

async fn sql_and_html_in_strings_are_stored_as_text(b: Backend) {
    let app = spawn(b).await;
    let token = app.outfitters_owner().await;
    let name = "Robert'); DROP TABLE customers;-- <script>alert(1)</script>";
    let res = app
        .post_json(
            "/api/v1/customers",
            None,
            &json!({"email": "bobby@tables.example", "password": "a long password", "display_name": name}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["display_name"], name, "stored verbatim, as data");
    assert!(app.count_rows("customers").await >= 2, "the table is still there");

    // HTML in the brand is escaped on every page.
    let res = app.put_json("/api/v1/store/branding", Some(&token), &json!({"name": "<img src=x onerror=alert(1)>", "slogan": "\"><script>x()</script>", "primary_color": "#123456", "default_language": "en"})).await;
    assert_eq!(res.status(), 200);
    let html = app.get("/", None).await.text().await.unwrap();
    assert!(!html.contains("<img src=x"), "name is escaped");
    assert!(!html.contains("<script>x()"), "slogan is escaped");
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;"), "shown as text");
    app.stop().await;
}

async fn invalid_form_posts_are_problems(b: Backend) {
    let app = spawn(b).await;
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "invalid_form").await;
    app.stop().await;
}

async fn framework_rejections_are_problems_too(b: Backend) {
    let app = spawn(b).await;
    // Duplicate query keys fail axum's own query extractor.
    let res = app.get("/lang/de?next=/&next=/x", None).await;
    assert_problem(res, 400, "bad_request").await;
    app.stop().await;
}
