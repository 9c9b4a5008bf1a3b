//! Admin catalog import and export: upload a CSV or ask for an export, then
//! watch the jobs' progress (the page refreshes itself while one runs, no
//! JavaScript) and download the result. Same services as the API.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::admin::same_token;
use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_forms::{failure, messages};
use super::shell::{Shell, error_page, render};
use crate::http::state::AppState;
use crate::services::jobs::{self, JobKind, JobView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/catalog/transfer", get(page))
        // The upload reads its own limit (catalog.max_import_bytes).
        .route("/admin/catalog/import", post(import).layer(DefaultBodyLimit::disable()))
        .route("/admin/catalog/export", post(export))
        .route("/admin/jobs/{id}/file", get(download))
}

#[derive(Template)]
#[template(path = "admin/transfer.html")]
struct TransferPage {
    shell: Shell,
    csrf: String,
    jobs: Vec<JobView>,
    errors: Vec<String>,
}

impl TransferPage {
    /// Reload every two seconds while a job is queued or running.
    fn busy(&self) -> bool {
        self.jobs.iter().any(|j| j.status == "queued" || j.status == "running")
    }

    fn kind_text(&self, j: &JobView) -> &'static str {
        self.shell.t(match j.kind {
            JobKind::CatalogImport => "admin.import",
            JobKind::CatalogExport => "admin.export",
        })
    }

    fn status_text(&self, j: &JobView) -> &'static str {
        self.shell.t(match j.status.as_str() {
            "queued" => "admin.job.queued",
            "running" => "admin.job.running",
            "succeeded" => "admin.job.succeeded",
            _ => "admin.job.failed",
        })
    }

    /// One line on what a finished job did.
    fn summary(&self, j: &JobView) -> String {
        let Some(r) = &j.report else { return j.error.clone().unwrap_or_default() };
        match j.kind {
            JobKind::CatalogExport => format!("{} {}", r["rows"], self.shell.t("admin.job.rows")),
            JobKind::CatalogImport if r["rejected"] == true => self.shell.t("admin.job.rejected").to_string(),
            JobKind::CatalogImport => format!(
                "{} {}, {} {}, {} {}",
                r["created"],
                self.shell.t("admin.job.created"),
                r["updated"],
                self.shell.t("admin.job.updated"),
                r["skipped_products"],
                self.shell.t("admin.job.skipped")
            ),
        }
    }

    /// The report's errors as "line N: message".
    fn row_errors(&self, j: &JobView) -> Vec<String> {
        let Some(errors) = j.report.as_ref().and_then(|r| r["errors"].as_array()) else { return Vec::new() };
        errors
            .iter()
            .take(200)
            .map(|e| {
                format!("{} {}: {}", self.shell.t("admin.job.line"), e["line"], e["message"].as_str().unwrap_or(""))
            })
            .collect()
    }
}

async fn show(state: &AppState, shell: Shell, s: &super::admin::StaffSession, errors: Vec<String>) -> Response {
    match jobs::recent(&state.app, &s.ctx, 20).await {
        Ok(jobs) => render(StatusCode::OK, &TransferPage { shell, csrf: s.csrf.clone(), jobs, errors }),
        Err(e) => failure(&shell, e),
    }
}

async fn page(State(state): State<AppState>, shell: Shell, headers: HeaderMap) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    show(&state, shell, &s, Vec::new()).await
}

async fn import(State(state): State<AppState>, shell: Shell, headers: HeaderMap, mut multipart: Multipart) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    if let Err(e) = s.ctx.actor.require(crate::services::actor::Permission::CatalogManage) {
        return failure(&shell, e);
    }
    let limit = state.app.config.catalog.max_import_bytes;
    let (mut csrf, mut bytes, mut skip) = (String::new(), Vec::new(), false);
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return error_page(shell, StatusCode::BAD_REQUEST),
        };
        match field.name().unwrap_or_default() {
            "file" => {
                while let Ok(Some(chunk)) = field.chunk().await {
                    if bytes.len() + chunk.len() > limit {
                        return error_page(shell, StatusCode::PAYLOAD_TOO_LARGE);
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
            "skip_bad_rows" => skip = true,
            "_csrf" => csrf = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    if !same_token(&s.csrf, &csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    match jobs::start_import(&state.app, &s.ctx, bytes, skip).await {
        Ok(_) => Redirect::to(&shell.href("/admin/catalog/transfer")).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(&state, shell, &s, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}

async fn export(State(state): State<AppState>, shell: Shell, headers: HeaderMap, form: FormPairs) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    match jobs::start_export(&state.app, &s.ctx).await {
        Ok(_) => Redirect::to(&shell.href("/admin/catalog/transfer")).into_response(),
        Err(e) => failure(&shell, e),
    }
}

async fn download(State(state): State<AppState>, shell: Shell, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    match jobs::file(&state.app, &s.ctx, &id).await {
        Ok((name, bytes)) => crate::http::api::jobs::csv_attachment(&name, bytes),
        Err(e) => failure(&shell, e),
    }
}
