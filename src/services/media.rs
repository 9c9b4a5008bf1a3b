//! Product media: staff upload images to a product (checked, re-encoded and
//! resized by `domain::media`), give them alt text per language, order and
//! delete them; customers see them in the product's gallery and fetch the
//! files by unguessable, content-derived names.
//!
//! Files and rows are kept in step: blobs are written (durably) before the
//! transaction that records them, removed again if it fails, and removed
//! only after the commit that forgets them. A crash between the two steps
//! can leave an unreferenced file, never a row without its file; the
//! housekeeping sweep ([`sweep_unreferenced`]) removes those.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::media as sql;
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::media::{MediaError, Processed};
use crate::domain::stores::Store;
use crate::domain::validation::FieldErrors;
use crate::providers::blob::BlobKey;

pub const MEDIA: &str = "med";
/// The event every media change of a product emits (the search index and
/// webhooks listen to product events).
pub const MEDIA_CHANGED: &str = "product.media_changed";
const MAX_ALT_CHARS: usize = 300;
/// How old an unreferenced file must be before the sweep removes it. An
/// upload writes its files before the transaction that records them, so a
/// young file may be about to be named; none takes an hour.
const SWEEP_GRACE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThumbnailView {
    pub width: i64,
    pub height: i64,
    pub byte_size: i64,
    pub url: String,
}

/// An image of a product, as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaView {
    pub id: String,
    pub product_id: String,
    /// Place in the gallery, from 0.
    pub position: i64,
    /// `image/jpeg` or `image/png` (what is stored, whatever was uploaded).
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub byte_size: i64,
    /// The full-size image, under the store's address.
    pub url: String,
    /// Smaller copies, narrowest first.
    pub thumbnails: Vec<ThumbnailView>,
    /// Alt text by language.
    pub alt: BTreeMap<Language, String>,
    pub created_at: i64,
}

/// New gallery order: every image of the product, once each.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub media: Vec<String>,
}

/// Replaces an image's alt texts (languages left out have none).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaUpdate {
    pub alt: BTreeMap<Language, String>,
}

/// An image in a product page's gallery, in the visitor's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GalleryImage {
    pub url: String,
    pub width: i64,
    pub height: i64,
    pub content_type: String,
    /// In the visitor's language, else the store's default, else empty.
    pub alt: String,
    pub thumbnails: Vec<ThumbnailView>,
}

/// Fails unless the caller may upload; lets the HTTP layer refuse before
/// reading a large body. `upload` checks again.
pub fn may_upload(ctx: &Ctx) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)
}

/// Adds an image to the end of a product's gallery.
pub async fn upload(
    app: &App,
    ctx: &Ctx,
    product_id: &str,
    bytes: Vec<u8>,
    alt: BTreeMap<Language, String>,
) -> ServiceResult<MediaView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    if !ids::is_valid("prd", product_id) || !sql::product_exists(app.db.pool(), store_id, product_id).await? {
        return Err(ServiceError::NotFound);
    }
    let alts = check_alts(&alt)?;
    let Processed { format, full, thumbnails, .. } = process(app, bytes).await?;

    let media_id = ids::new_id(MEDIA);
    let ext = format.extension();
    let full_key = blob_key(store_id, &media_id, "full", &full.bytes, ext)?;
    let row = sql::MediaRow {
        id: media_id.clone(),
        product_id: product_id.to_string(),
        position: 0,
        content_type: format.content_type().to_string(),
        width: full.width.into(),
        height: full.height.into(),
        byte_size: full.bytes.len() as i64,
        blob_key: full_key.to_string(),
        created_at: now_ms(),
    };
    let mut files = vec![(full_key, full.bytes)];
    let mut thumbs = Vec::new();
    for t in thumbnails {
        let key = blob_key(store_id, &media_id, &format!("w{}", t.width), &t.bytes, ext)?;
        thumbs.push(sql::ThumbRow {
            media_id: media_id.clone(),
            width: t.width.into(),
            height: t.height.into(),
            byte_size: t.bytes.len() as i64,
            blob_key: key.to_string(),
        });
        files.push((key, t.bytes));
    }
    let keys: Vec<BlobKey> = files.iter().map(|(k, _)| k.clone()).collect();
    let mut written = Vec::new();
    for (key, bytes) in files {
        if let Err(e) = app.blobs.put(&key, bytes).await {
            remove_blobs(app, &written).await;
            return Err(ServiceError::Internal(e.to_string()));
        }
        written.push(key);
    }

    let alt_rows: Vec<sql::AltRow> = alts
        .iter()
        .map(|(l, a)| sql::AltRow { media_id: media_id.clone(), lang: l.code().into(), alt: a.clone() })
        .collect();
    let recorded = record_upload(app, ctx, row, &thumbs, &alt_rows).await;
    if recorded.is_err() {
        remove_blobs(app, &keys).await;
    }
    recorded?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    view(app, store_id, product_id, &media_id).await
}

async fn record_upload(
    app: &App,
    ctx: &Ctx,
    mut row: sql::MediaRow,
    thumbs: &[sql::ThumbRow],
    alts: &[sql::AltRow],
) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    if !sql::touch_product(&mut tx, store_id, &row.product_id, now_ms()).await? {
        return Err(ServiceError::NotFound);
    }
    let (count, next) = sql::count_and_next_position(&mut tx, store_id, &row.product_id).await?;
    let max = i64::from(app.config.media.max_per_product);
    if count >= max {
        return Err(ServiceError::Conflict {
            code: "too_many_images",
            message: format!("a product has at most {max} images; delete one first"),
        });
    }
    row.position = next;
    sql::insert(&mut tx, store_id, &row, thumbs, alts).await?;
    outbox::emit(
        &mut tx,
        store_id,
        MEDIA_CHANGED,
        json!({ "product_id": row.product_id, "media_id": row.id, "change": "added" }),
    )
    .await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "catalog.media_added",
        &row.id,
        json!({ "product_id": row.product_id, "content_type": row.content_type, "width": row.width,
                "height": row.height, "bytes": row.byte_size }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A product's images in gallery order.
pub async fn list(app: &App, ctx: &Ctx, product_id: &str) -> ServiceResult<Vec<MediaView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    if !ids::is_valid("prd", product_id) || !sql::product_exists(app.db.pool(), &ctx.store.id, product_id).await? {
        return Err(ServiceError::NotFound);
    }
    views(app, &ctx.store.id, product_id).await
}

/// Puts a product's images in the given order.
pub async fn reorder(app: &App, ctx: &Ctx, product_id: &str, input: OrderInput) -> ServiceResult<Vec<MediaView>> {
    ctx.actor.require(Permission::CatalogManage)?;
    if !ids::is_valid("prd", product_id) {
        return Err(ServiceError::NotFound);
    }
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    if !sql::touch_product(&mut tx, store_id, product_id, now_ms()).await? {
        return Err(ServiceError::NotFound);
    }
    let current = sql::for_product(&mut *tx, store_id, product_id).await?;
    let mut wanted = input.media.clone();
    wanted.sort();
    let mut have: Vec<String> = current.iter().map(|m| m.id.clone()).collect();
    have.sort();
    if wanted != have {
        let mut errs = FieldErrors::default();
        errs.add("media", "not_a_permutation", "list every image of the product exactly once");
        return Err(errs.into());
    }
    for (position, id) in input.media.iter().enumerate() {
        sql::set_position(&mut tx, store_id, id, position as i64).await?;
    }
    outbox::emit(&mut tx, store_id, MEDIA_CHANGED, json!({ "product_id": product_id, "change": "reordered" })).await?;
    audit::record(app, &mut tx, ctx, "catalog.media_reordered", product_id, json!({ "order": input.media })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    views(app, store_id, product_id).await
}

/// Replaces an image's alt texts.
pub async fn update(
    app: &App,
    ctx: &Ctx,
    product_id: &str,
    media_id: &str,
    input: MediaUpdate,
) -> ServiceResult<MediaView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let alts = check_alts(&input.alt)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    owned(&mut tx, store_id, product_id, media_id).await?;
    let rows: Vec<sql::AltRow> = alts
        .iter()
        .map(|(l, a)| sql::AltRow { media_id: media_id.to_string(), lang: l.code().into(), alt: a.clone() })
        .collect();
    sql::replace_alts(&mut tx, store_id, media_id, &rows).await?;
    outbox::emit(
        &mut tx,
        store_id,
        MEDIA_CHANGED,
        json!({ "product_id": product_id, "media_id": media_id, "change": "updated" }),
    )
    .await?;
    let langs: Vec<&str> = alts.keys().map(|l| l.code()).collect();
    audit::record(app, &mut tx, ctx, "catalog.media_updated", media_id, json!({ "alt_languages": langs })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    view(app, store_id, product_id, media_id).await
}

/// Removes an image and, after the commit, its files.
pub async fn delete(app: &App, ctx: &Ctx, product_id: &str, media_id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    owned(&mut tx, store_id, product_id, media_id).await?;
    let keys = sql::delete(&mut tx, store_id, media_id).await?;
    outbox::emit(
        &mut tx,
        store_id,
        MEDIA_CHANGED,
        json!({ "product_id": product_id, "media_id": media_id, "change": "removed" }),
    )
    .await?;
    audit::record(app, &mut tx, ctx, "catalog.media_removed", media_id, json!({ "product_id": product_id })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    let keys: Vec<BlobKey> = keys.iter().filter_map(|k| BlobKey::parse(k)).collect();
    remove_blobs(app, &keys).await;
    Ok(())
}

/// Locks the product (touching its `updated_at`) and checks the image is
/// one of its own, in this store.
async fn owned(tx: &mut crate::db::Tx, store_id: &str, product_id: &str, media_id: &str) -> ServiceResult<()> {
    if !ids::is_valid("prd", product_id) || !ids::is_valid(MEDIA, media_id) {
        return Err(ServiceError::NotFound);
    }
    if !sql::touch_product(tx, store_id, product_id, now_ms()).await? {
        return Err(ServiceError::NotFound);
    }
    match sql::get(&mut **tx, store_id, media_id).await? {
        Some(m) if m.product_id == product_id => Ok(()),
        _ => Err(ServiceError::NotFound),
    }
}

/// The gallery of a product customers may see (the caller has checked
/// that), alt texts in `lang` with the store's default language as
/// fallback.
pub async fn gallery(app: &App, store: &Store, product_id: &str, lang: Language) -> ServiceResult<Vec<GalleryImage>> {
    Ok(views(app, &store.id, product_id)
        .await?
        .into_iter()
        .map(|v| GalleryImage {
            alt: v.alt.get(&lang).or_else(|| v.alt.get(&store.brand.default_language)).cloned().unwrap_or_default(),
            url: v.url,
            width: v.width,
            height: v.height,
            content_type: v.content_type,
            thumbnails: v.thumbnails,
        })
        .collect())
}

/// A stored file, public by its name: `file` must be the full image or a
/// thumbnail of `media_id` in this store. Returns the content type and the
/// bytes.
pub async fn public_file(app: &App, store: &Store, media_id: &str, file: &str) -> ServiceResult<(String, Vec<u8>)> {
    if !ids::is_valid(MEDIA, media_id) {
        return Err(ServiceError::NotFound);
    }
    // The key is built from the requesting store's id, so one store's
    // address can never name another store's file.
    let key = BlobKey::parse(&format!("{}/{media_id}/{file}", store.id)).ok_or(ServiceError::NotFound)?;
    let content_type =
        sql::content_type_of(app.db.pool(), &store.id, media_id, key.as_str()).await?.ok_or(ServiceError::NotFound)?;
    let bytes = app.blobs.get(&key).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok((content_type, bytes.ok_or(ServiceError::NotFound)?))
}

async fn view(app: &App, store_id: &str, product_id: &str, media_id: &str) -> ServiceResult<MediaView> {
    views(app, store_id, product_id).await?.into_iter().find(|v| v.id == media_id).ok_or(ServiceError::NotFound)
}

/// Every image of a product with thumbnails and alt texts: three queries.
async fn views(app: &App, store_id: &str, product_id: &str) -> ServiceResult<Vec<MediaView>> {
    let pool = app.db.pool();
    let rows = sql::for_product(pool, store_id, product_id).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut thumbs: HashMap<String, Vec<ThumbnailView>> = HashMap::new();
    for t in sql::thumbs_for_product(pool, store_id, product_id).await? {
        thumbs.entry(t.media_id).or_default().push(ThumbnailView {
            width: t.width,
            height: t.height,
            byte_size: t.byte_size,
            url: url_of(&t.blob_key),
        });
    }
    let mut alts: HashMap<String, BTreeMap<Language, String>> = HashMap::new();
    for a in sql::alts_for_product(pool, store_id, product_id).await? {
        if let Some(l) = Language::parse(&a.lang) {
            alts.entry(a.media_id).or_default().insert(l, a.alt);
        }
    }
    Ok(rows
        .into_iter()
        .map(|m| MediaView {
            url: url_of(&m.blob_key),
            thumbnails: thumbs.remove(&m.id).unwrap_or_default(),
            alt: alts.remove(&m.id).unwrap_or_default(),
            id: m.id,
            product_id: m.product_id,
            position: m.position,
            content_type: m.content_type,
            width: m.width,
            height: m.height,
            byte_size: m.byte_size,
            created_at: m.created_at,
        })
        .collect())
}

/// `{store}/{media}/{file}` is served at `/media/{media}/{file}` under the
/// store's address.
fn url_of(blob_key: &str) -> String {
    format!("/media/{}", blob_key.split_once('/').map_or(blob_key, |(_, rest)| rest))
}

/// `{store}/{media}/{label}-{digest}.{ext}`: grouped by store (a store
/// moves or is erased whole) and image (one delete removes a folder); the
/// content digest makes the name unguessable and changes with the bytes,
/// so files can be cached for ever.
fn blob_key(store_id: &str, media_id: &str, label: &str, bytes: &[u8], ext: &str) -> ServiceResult<BlobKey> {
    let digest = hex::encode(&Sha256::digest(bytes)[..16]);
    BlobKey::parse(&format!("{store_id}/{media_id}/{label}-{digest}.{ext}"))
        .ok_or_else(|| ServiceError::Internal("invalid blob key".into()))
}

/// Removes media files (`{store}/{media}/{file}`) that no row names and that
/// are older than [`SWEEP_GRACE`]: left by a crash between writing an
/// upload's files and recording them, or by a removal that failed after a
/// delete's commit. Other files in the blob store (digital goods, job
/// files) are not media keys and are left alone. The number removed.
pub async fn sweep_unreferenced(app: &App) -> ServiceResult<u64> {
    let cutoff = std::time::SystemTime::now() - SWEEP_GRACE;
    let mut removed = 0;
    for store in crate::db::stores::list(app.db.pool()).await? {
        let Some(prefix) = BlobKey::parse(&store.id) else { continue };
        let listed = app.blobs.list(&prefix).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        let old: Vec<(BlobKey, String)> = listed
            .into_iter()
            .filter(|e| e.written_at < cutoff)
            .filter_map(|e| match e.key.as_str().split('/').collect::<Vec<_>>()[..] {
                [_, media, _] if ids::is_valid(MEDIA, media) => Some((e.key.clone(), media.to_string())),
                _ => None,
            })
            .collect();
        let media_ids: Vec<&str> = old.iter().map(|(_, m)| m.as_str()).collect::<HashSet<_>>().into_iter().collect();
        let mut named = HashSet::new();
        for ids in media_ids.chunks(400) {
            named.extend(sql::keys_of(app.db.pool(), &store.id, ids).await?);
        }
        let orphans: Vec<BlobKey> = old.into_iter().map(|(k, _)| k).filter(|k| !named.contains(k.as_str())).collect();
        for key in &orphans {
            match app.blobs.delete(key).await {
                Ok(()) => {
                    tracing::info!(key = %key, "removed a media file no row names");
                    removed += 1;
                }
                Err(e) => tracing::warn!(key = %key, error = %e, "could not remove an unreferenced media file"),
            }
        }
    }
    Ok(removed)
}

async fn remove_blobs(app: &App, keys: &[BlobKey]) {
    for key in keys {
        if let Err(e) = app.blobs.delete(key).await {
            tracing::warn!(key = %key, error = %e, "could not remove a media file; it is no longer referenced");
        }
    }
}

fn check_alts(alt: &BTreeMap<Language, String>) -> ServiceResult<BTreeMap<Language, String>> {
    let mut errs = FieldErrors::default();
    for (lang, text) in alt {
        errs.text(&format!("alt.{}", lang.code()), text, 0, MAX_ALT_CHARS);
        if text.contains('\n') {
            errs.add(&format!("alt.{}", lang.code()), "invalid_characters", "alt text is one line");
        }
    }
    errs.finish(())?;
    Ok(alt.iter().map(|(l, t)| (*l, t.trim().to_string())).filter(|(_, t)| !t.is_empty()).collect())
}

/// Decoding and encoding are CPU-bound and need memory in proportion to
/// the picture: they run on the blocking pool, a few at a time per node.
async fn process(app: &App, bytes: Vec<u8>) -> ServiceResult<Processed> {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    let permits = PERMITS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4)));
    let _permit = permits.acquire().await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    let policy = app.config.media_policy();
    let result = tokio::task::spawn_blocking(move || crate::domain::media::process(&bytes, &policy))
        .await
        .map_err(|e| ServiceError::Internal(format!("image processing stopped: {e}")))?;
    result.map_err(|e| match e {
        MediaError::Empty => field_error("required", "send the image as the request body".into()),
        MediaError::TooManyBytes { .. } => ServiceError::TooLarge { code: "payload_too_large", message: e.to_string() },
        MediaError::UnsupportedFormat => ServiceError::UnsupportedContent {
            code: "unsupported_image_format",
            message: "the body is not a JPEG, PNG or WebP image (judged by its content)".into(),
        },
        MediaError::TooManyPixels { .. } => field_error("too_many_pixels", e.to_string()),
        MediaError::Corrupt(_) => field_error("corrupt_image", e.to_string()),
        MediaError::Encode(msg) => ServiceError::Internal(msg),
    })
}

fn field_error(code: &str, message: String) -> ServiceError {
    let mut errs = FieldErrors::default();
    errs.add("image", code, message);
    errs.into()
}
