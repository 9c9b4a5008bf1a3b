//! Storefront pages. The catalog work adds category, search and product
//! pages beside the home page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::shell::{Shell, render};

#[derive(Template)]
#[template(path = "storefront/home.html")]
pub struct HomePage {
    pub shell: Shell,
}

pub async fn home(shell: Shell) -> Response {
    render(StatusCode::OK, &HomePage { shell })
}
