//! `/api/v1/store`: the current store and its brand.

use axum::Json;

use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, CurrentStore};
use crate::services::stores::{self, StoreView, UpdateBranding};

/// The store this request is addressed to (by host name or `/s/{slug}`).
#[utoipa::path(get, path = "/api/v1/store", tag = "store", responses((status = 200, body = StoreView)))]
pub async fn get_store(current: CurrentStore) -> Json<StoreView> {
    Json(StoreView::from(current.store.as_ref()))
}

/// Changes the brand shown on every page. Needs `settings.manage`.
#[utoipa::path(put, path = "/api/v1/store/branding", tag = "store", request_body = UpdateBranding,
    security(("bearer" = [])),
    responses((status = 200, body = StoreView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update_branding(
    axum::extract::State(state): axum::extract::State<crate::http::state::AppState>,
    ApiCtx(ctx): ApiCtx,
    ApiJson(input): ApiJson<UpdateBranding>,
) -> Result<Json<StoreView>, ApiError> {
    let store = stores::update_branding(&state.app, &ctx, input).await?;
    Ok(Json(StoreView::from(&store)))
}
