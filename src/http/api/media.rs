//! `/api/v1/products/{id}/media` (staff): a product's images; and
//! `/media/{media_id}/{file}` (everyone): the stored files.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;

use crate::domain::locale::Language;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{ApiCtx, ApiJson, CurrentStore};
use crate::http::state::AppState;
use crate::services::media::{self, GalleryImage, MediaUpdate, MediaView, OrderInput};
use crate::services::product_page::StoreProduct;

/// A published product as customers see it, with its gallery.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StoreProductWithImages {
    #[serde(flatten)]
    pub product: StoreProduct,
    /// In gallery order; alt texts in the requested language (else the
    /// store's default).
    pub images: Vec<GalleryImage>,
}

/// Gallery URLs under the store's address (`/s/{slug}/media/…` when the
/// store is reached by path).
pub fn under_store(images: Vec<GalleryImage>, base_path: &str) -> Vec<GalleryImage> {
    images
        .into_iter()
        .map(|mut g| {
            g.url = format!("{base_path}{}", g.url);
            for t in &mut g.thumbnails {
                t.url = format!("{base_path}{}", t.url);
            }
            g
        })
        .collect()
}

/// Alt texts for the uploaded image, one parameter per language.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Alt text in English.
    pub alt_en: Option<String>,
    /// Alt text in German.
    pub alt_de: Option<String>,
    /// Alt text in Spanish.
    pub alt_es: Option<String>,
    /// Alt text in Portuguese.
    pub alt_pt: Option<String>,
    /// Alt text in Chinese.
    pub alt_zh: Option<String>,
}

impl UploadQuery {
    fn alt(self) -> BTreeMap<Language, String> {
        [
            (Language::En, self.alt_en),
            (Language::De, self.alt_de),
            (Language::Es, self.alt_es),
            (Language::Pt, self.alt_pt),
            (Language::Zh, self.alt_zh),
        ]
        .into_iter()
        .filter_map(|(l, t)| t.map(|t| (l, t)))
        .collect()
    }
}

/// Adds an image to the end of the product's gallery. The body is the raw
/// image (JPEG, PNG or WebP, recognised by its content: the Content-Type
/// and any file name are ignored), at most the configured size (10 MiB by
/// default). It is re-encoded (JPEG, or PNG when it has transparency)
/// without its metadata, and thumbnails are made. Needs `catalog.manage`.
#[utoipa::path(post, path = "/api/v1/products/{id}/media", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)"), UploadQuery),
    request_body(description = "The image file's bytes", content(("image/jpeg"), ("image/png"), ("image/webp"), ("application/octet-stream"))),
    responses(
        (status = 201, body = MediaView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`too_many_images`: the product has the most images allowed"),
        (status = 413, body = Problem, description = "`payload_too_large`: over the upload limit"),
        (status = 415, body = Problem, description = "`unsupported_image_format`: not a JPEG, PNG or WebP image"),
        (status = 422, body = Problem, description = "`validation_failed`: an empty body, a corrupt image, too many pixels, or bad alt text"),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    current: CurrentStore,
    Path(id): Path<String>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    // Refuse strangers before reading up to the upload limit from them.
    media::may_upload(&ctx)?;
    let bytes = read_limited(&headers, body, state.app.config.media.max_upload_bytes, "an image upload").await?;
    let view = media::upload(&state.app, &ctx, &id, bytes, q.alt()).await?;
    Ok((StatusCode::CREATED, Json(prefixed(view, &current.base_path))).into_response())
}

/// Reads the body up to `limit` bytes: 413 as soon as it declares or
/// sends more.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("{what} is at most {limit} bytes"))
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(declared.map_or(64 * 1024, |n| n as usize));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the request body could not be read")
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// URLs in views are store-relative; a store addressed by path prefix
/// (`/s/{slug}`) needs it in front.
fn prefixed(mut v: MediaView, base: &str) -> MediaView {
    v.url = format!("{base}{}", v.url);
    for t in &mut v.thumbnails {
        t.url = format!("{base}{}", t.url);
    }
    v
}

/// The product's images in gallery order. Needs `catalog.read`.
#[utoipa::path(get, path = "/api/v1/products/{id}/media", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 200, body = Vec<MediaView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    current: CurrentStore,
    Path(id): Path<String>,
) -> Result<Json<Vec<MediaView>>, ApiError> {
    let views = media::list(&state.app, &ctx, &id).await?;
    Ok(Json(views.into_iter().map(|v| prefixed(v, &current.base_path)).collect()))
}

/// Sets the gallery order: list every image of the product once.
#[utoipa::path(put, path = "/api/v1/products/{id}/media/order", tag = "catalog", security(("bearer" = [])), request_body = OrderInput,
    params(("id" = String, Path, description = "Product id (prd_…)")),
    responses((status = 200, body = Vec<MediaView>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reorder(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    current: CurrentStore,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OrderInput>,
) -> Result<Json<Vec<MediaView>>, ApiError> {
    let views = media::reorder(&state.app, &ctx, &id, input).await?;
    Ok(Json(views.into_iter().map(|v| prefixed(v, &current.base_path)).collect()))
}

/// Replaces the image's alt texts.
#[utoipa::path(put, path = "/api/v1/products/{id}/media/{media_id}", tag = "catalog", security(("bearer" = [])), request_body = MediaUpdate,
    params(("id" = String, Path, description = "Product id (prd_…)"), ("media_id" = String, Path, description = "Image id (med_…)")),
    responses((status = 200, body = MediaView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    current: CurrentStore,
    Path((id, media_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<MediaUpdate>,
) -> Result<Json<MediaView>, ApiError> {
    Ok(Json(prefixed(media::update(&state.app, &ctx, &id, &media_id, input).await?, &current.base_path)))
}

/// Removes the image and its files.
#[utoipa::path(delete, path = "/api/v1/products/{id}/media/{media_id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id (prd_…)"), ("media_id" = String, Path, description = "Image id (med_…)")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiCtx(ctx): ApiCtx,
    Path((id, media_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    media::delete(&state.app, &ctx, &id, &media_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /media/{media_id}/{file}`: a stored image of this store, for
/// anyone who has its (unguessable) name. Names change with the content,
/// so the answer may be cached for ever.
pub async fn file(
    State(state): State<AppState>,
    current: CurrentStore,
    headers: HeaderMap,
    Path((media_id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let etag = format!("\"{file}\"");
    let (content_type, bytes) = media::public_file(&state.app, &current.store, &media_id, &file).await?;
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::ETAG, HeaderValue::from_str(&etag).map_err(|_| ApiError::not_found())?),
    ];
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag)) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let content_type = HeaderValue::from_str(&content_type).map_err(|_| ApiError::not_found())?;
    Ok((cache, [(header::CONTENT_TYPE, content_type)], bytes).into_response())
}
