//! A human-readable API page rendered on the server from the same
//! generated OpenAPI document that `/api/openapi.json` serves, so the two
//! cannot disagree. Works without JavaScript and without the network.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use utoipa::OpenApi;

use super::ApiDoc;
use crate::web::shell::{Shell, render};

pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub params: Vec<String>,
    pub request_schema: Option<String>,
    pub responses: Vec<String>,
    pub needs_auth: bool,
}

pub struct Tag {
    pub name: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    shell: Shell,
    title: String,
    version: String,
    description: String,
    tags: Vec<Tag>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// `#/components/schemas/Customer` → `Customer`; arrays as `[Customer]`.
fn schema_name(content: Option<&Value>) -> Option<String> {
    let schema =
        content?.get("application/json").or_else(|| content?.get("application/problem+json"))?.get("schema")?;
    let (reference, many) = match schema.get("$ref") {
        Some(r) => (r, false),
        None => (schema.get("items")?.get("$ref")?, true),
    };
    let name = reference.as_str()?.rsplit('/').next()?.to_string();
    Some(if many { format!("[{name}]") } else { name })
}

fn operation(method: &str, path: &str, op: &Value) -> Operation {
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let desc = text(p, "description");
                    let desc = if desc.is_empty() { String::new() } else { format!(": {desc}") };
                    format!("{} ({}){desc}", text(p, "name"), text(p, "in"))
                })
                .collect()
        })
        .unwrap_or_default();
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|rs| {
            rs.iter()
                .map(|(code, r)| match schema_name(r.get("content")) {
                    Some(s) => format!("{code} → {s}"),
                    None => code.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Operation {
        method: method.to_uppercase(),
        path: path.to_string(),
        summary: text(op, "summary"),
        description: text(op, "description"),
        params,
        request_schema: schema_name(op.get("requestBody").and_then(|b| b.get("content"))),
        responses,
        needs_auth: op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty()),
    }
}

pub async fn page(shell: Shell) -> Response {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let mut tags: Vec<Tag> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| Tag { name: text(t, "name"), description: text(t, "description"), operations: Vec::new() })
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(op) = item.get(method) else { continue };
                let tag = op.get("tags").and_then(|t| t.get(0)).and_then(Value::as_str).unwrap_or("other").to_string();
                let operation = operation(method, path, op);
                match tags.iter_mut().find(|t| t.name == tag) {
                    Some(t) => t.operations.push(operation),
                    None => tags.push(Tag { name: tag, description: String::new(), operations: vec![operation] }),
                }
            }
        }
    }
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    render(
        StatusCode::OK,
        &DocsPage {
            shell,
            title: text(&info, "title"),
            version: text(&info, "version"),
            description: text(&info, "description"),
            tags,
        },
    )
}
