//! What admin pages do with a service's refusal: field errors and conflicts
//! become messages on the form (the page is shown again, 422); missing
//! rights and missing things become error pages; anything else is logged
//! and a 500 page.

use axum::http::StatusCode;
use axum::response::Response;

use super::shell::{Shell, error_page};
use crate::services::ServiceError;

/// The error page for a refusal the form cannot show.
pub(super) fn failure(shell: &Shell, e: ServiceError) -> Response {
    let status = match e {
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::NotFound => StatusCode::NOT_FOUND,
        other => {
            tracing::error!(error = %other, "admin page failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error_page(shell.clone(), status)
}

/// A form page's status: 200, or 422 when it shows why a change was refused.
pub(super) fn form_status(errors: &[String]) -> StatusCode {
    if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }
}

/// Field errors and conflicts as messages for the form; anything else back.
pub(super) fn messages(e: ServiceError) -> Result<Vec<String>, ServiceError> {
    match e {
        ServiceError::Validation(f) => Ok(f.0.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()),
        ServiceError::Conflict { message, .. } => Ok(vec![message]),
        other => Err(other),
    }
}

/// The answer to an admin form post: back to `href` when it worked, the
/// page again (`show`) with the reasons when the change was refused, an
/// error page otherwise.
pub(super) async fn back_or_show<T, Fut>(
    shell: Shell,
    href: &str,
    result: Result<T, ServiceError>,
    show: impl FnOnce(Shell, Vec<String>) -> Fut,
) -> Response
where
    Fut: std::future::Future<Output = Response>,
{
    use axum::response::{IntoResponse, Redirect};
    match result {
        Ok(_) => Redirect::to(&shell.href(href)).into_response(),
        Err(e) => match messages(e) {
            Ok(errors) => show(shell, errors).await,
            Err(e) => failure(&shell, e),
        },
    }
}
