//! Admin forms for a digital product's goods, shown on its editor: upload
//! a file (`/admin/products/{id}/files`) and add licence keys, one per line
//! (`/admin/products/{id}/licence-keys`). Same services as the API.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;

use super::admin::same_token;
use super::admin_access::{FormPairs, signed_in, signed_in_post};
use super::admin_catalog::stored_editor;
use super::admin_forms::{back_or_show, failure};
use super::shell::{Shell, error_page};
use crate::http::state::AppState;
use crate::services::ServiceError;
use crate::services::digital::{self, FileSettings, KeysInput};

pub fn routes() -> Router<AppState> {
    Router::new()
        // The upload reads its own limit (digital::MAX_FILE_BYTES).
        .route("/admin/products/{id}/files", post(upload).layer(DefaultBodyLimit::disable()))
        .route("/admin/products/{id}/licence-keys", post(add_keys))
}

/// Back to the editor, or the editor with the reasons it was refused.
async fn after<T>(
    state: &AppState,
    shell: Shell,
    s: &super::admin::StaffSession,
    id: String,
    r: Result<T, ServiceError>,
) -> Response {
    let href = format!("/admin/products/{id}?saved=1");
    back_or_show(shell, &href, r, |shell, errors| stored_editor(state, shell, s, id, errors)).await
}

async fn upload(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let s = or_respond!(signed_in(&state, &shell, &headers).await);
    if let Err(e) = digital::may_upload(&s.ctx) {
        return failure(&shell, e);
    }
    let (mut csrf, mut bytes, mut uploaded_name, mut content_type) = (String::new(), Vec::new(), String::new(), None);
    let mut settings = FileSettings { file_name: String::new(), max_downloads: None, valid_days: None };
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return error_page(shell, StatusCode::BAD_REQUEST),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            uploaded_name = field.file_name().unwrap_or_default().to_string();
            content_type = field.content_type().map(str::to_string);
            while let Ok(Some(chunk)) = field.chunk().await {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > digital::MAX_FILE_BYTES {
                    return error_page(shell, StatusCode::PAYLOAD_TOO_LARGE);
                }
            }
        } else {
            let text = field.text().await.unwrap_or_default();
            let number = || text.trim().parse::<i64>().ok();
            match name.as_str() {
                "_csrf" => csrf = text,
                "file_name" => settings.file_name = text.trim().to_string(),
                "max_downloads" => settings.max_downloads = number().or(Some(0)),
                "valid_days" => settings.valid_days = number().or(Some(0)),
                _ => {}
            }
        }
    }
    if !same_token(&s.csrf, &csrf) {
        return error_page(shell, StatusCode::FORBIDDEN);
    }
    if settings.file_name.is_empty() {
        settings.file_name = uploaded_name;
    }
    let result = digital::add_file(&state.app, &s.ctx, &id, settings, content_type.as_deref(), bytes).await;
    after(&state, shell, &s, id, result).await
}

/// Keys one per line; blank lines are skipped.
async fn add_keys(
    State(state): State<AppState>,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormPairs,
) -> Response {
    let s = or_respond!(signed_in_post(&state, &shell, &headers, &form).await);
    let keys = form.get("keys").lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    let result = digital::add_keys(&state.app, &s.ctx, &id, KeysInput { keys }).await;
    after(&state, shell, &s, id, result).await
}
