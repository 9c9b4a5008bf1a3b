//! Digital goods: a product's downloadable files and licence key pool, and
//! their delivery once an order is paid: signed download links that
//! expire and count their uses, and keys handed out from the pool.
//!
//! Delivery runs inside the transaction that made the order paid (or
//! confirmed a paid order), so a paid order is never left without its
//! goods. A line owed more keys than the pool holds waits; adding keys
//! hands them to waiting orders first.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actor::{Ctx, Permission};
use super::orders::apply_move;
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::digital::{self as sql, FileRow, GrantRow};
use crate::db::orders::{self as order_sql, LineRow, OrderRow};
use crate::domain::catalog::ProductKind;
use crate::domain::crypto::Slot;
use crate::domain::digital::{self as rules, DAY_MS, Refusal};
use crate::domain::ids;
use crate::domain::orders::{OrderStatus, PaymentStatus};
use crate::domain::stores::Store;
use crate::domain::validation::FieldErrors;
use crate::providers::blob::BlobKey;

/// Largest file a product may deliver.
pub const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;
const FILE: &str = "dgf";
const GRANT: &str = "dlg";
const KEY: &str = "lic";

fn key_slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "licence_keys", column: "key", store_id, row_id: id }
}

/// A file a digital product delivers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DigitalFile {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub byte_size: i64,
    /// Downloads each buyer's link allows.
    pub max_downloads: i64,
    /// Days each buyer's link works after payment.
    pub valid_days: i64,
    pub created_at: i64,
}

impl From<FileRow> for DigitalFile {
    fn from(f: FileRow) -> Self {
        DigitalFile {
            id: f.id,
            file_name: f.file_name,
            content_type: f.content_type,
            byte_size: f.byte_size,
            max_downloads: f.max_downloads,
            valid_days: f.valid_days,
            created_at: f.created_at,
        }
    }
}

/// How an uploaded file is delivered.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// The name buyers' downloads get (`guide.pdf`).
    pub file_name: String,
    /// Downloads per buyer (1–100, default 5).
    pub max_downloads: Option<i64>,
    /// Days a buyer's link works (1–3650, default 30).
    pub valid_days: Option<i64>,
}

/// The pool of a product's licence keys.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyStock {
    pub product_id: String,
    /// Keys not yet given to anyone.
    pub available: i64,
    pub handed_out: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysInput {
    /// New keys for the pool; each at most once per product.
    pub keys: Vec<String>,
}

/// A buyer's link to one file of an order line.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DownloadLink {
    pub sku: String,
    pub file_name: String,
    /// Relative to the store's address (`/downloads/…`).
    pub url: String,
    pub expires_at: i64,
    pub downloads_left: i64,
}

/// A licence key given with an order line.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LicenceKey {
    pub sku: String,
    pub key: String,
}

/// A digital product of this store, or why not.
async fn digital_product(app: &App, store_id: &str, product_id: &str) -> ServiceResult<()> {
    if !ids::is_valid("prd", product_id) {
        return Err(ServiceError::NotFound);
    }
    let product =
        crate::db::catalog::product(app.db.pool(), store_id, product_id).await?.ok_or(ServiceError::NotFound)?;
    if ProductKind::parse(&product.kind) != Some(ProductKind::Digital) {
        return Err(ServiceError::Conflict {
            code: "not_digital",
            message: format!("files and licence keys belong to digital products; this one is {}", product.kind),
        });
    }
    Ok(())
}

/// Fails unless the caller may upload; lets the HTTP layer refuse before
/// reading a large body.
pub fn may_upload(ctx: &Ctx) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)
}

/// Adds a file to a digital product. Buyers who pay from now on get a link.
pub async fn add_file(
    app: &App,
    ctx: &Ctx,
    product_id: &str,
    settings: FileSettings,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> ServiceResult<DigitalFile> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    digital_product(app, store_id, product_id).await?;
    let mut errs = FieldErrors::default();
    let name = settings.file_name.trim();
    errs.text("file_name", name, 1, 200);
    if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        errs.add("file_name", "invalid_file_name", "a file name without paths or control characters");
    }
    let max_downloads = settings.max_downloads.unwrap_or(5);
    if !(1..=100).contains(&max_downloads) {
        errs.add("max_downloads", "out_of_range", "1 to 100");
    }
    let valid_days = settings.valid_days.unwrap_or(30);
    if !(1..=3650).contains(&valid_days) {
        errs.add("valid_days", "out_of_range", "1 to 3650");
    }
    if bytes.is_empty() {
        errs.add("body", "required", "the file's bytes are the request body");
    }
    // A media type as sent (`type/subtype`), else a neutral one.
    let content_type = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|c| {
            c.len() <= 100
                && c.split_once('/').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && c.bytes().all(|x| x.is_ascii_alphanumeric() || b"/.+-".contains(&x))
                })
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    errs.finish(())?;

    let id = ids::new_id(FILE);
    let key = BlobKey::parse(&format!("{store_id}/digital/{id}"))
        .ok_or_else(|| ServiceError::Internal("unusable blob key".into()))?;
    let row = FileRow {
        id: id.clone(),
        product_id: product_id.to_string(),
        file_name: name.to_string(),
        content_type,
        byte_size: bytes.len() as i64,
        blob_key: key.to_string(),
        max_downloads,
        valid_days,
        created_at: now_ms(),
    };
    app.blobs.put(&key, bytes).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    let recorded: ServiceResult<()> = async {
        let mut tx = app.db.begin().await?;
        sql::insert_file(&mut tx, store_id, &row).await?;
        // Paid orders of a product that had nothing to deliver yet get it now.
        serve_waiting(app, &mut tx, ctx, product_id).await?;
        audit::record(
            app,
            &mut tx,
            ctx,
            "catalog.digital_file_added",
            &id,
            json!({ "product_id": product_id, "file_name": row.file_name, "bytes": row.byte_size }),
        )
        .await?;
        tx.commit().await?;
        app.wake_outbox();
        app.wake_mail();
        Ok(())
    }
    .await;
    if let Err(e) = recorded {
        let _ = app.blobs.delete(&key).await;
        return Err(e);
    }
    Ok(row.into())
}

/// A digital product's files, oldest first.
pub async fn files(app: &App, ctx: &Ctx, product_id: &str) -> ServiceResult<Vec<DigitalFile>> {
    ctx.actor.require(Permission::CatalogRead)?;
    digital_product(app, &ctx.store.id, product_id).await?;
    Ok(sql::files_of(app.db.pool(), &ctx.store.id, &[product_id]).await?.into_iter().map(Into::into).collect())
}

/// Removes a file. Refused while a buyer's link to it still works: their
/// purchase would break.
pub async fn remove_file(app: &App, ctx: &Ctx, product_id: &str, file_id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    let file = sql::file(app.db.pool(), store_id, file_id).await?.filter(|f| f.product_id == product_id);
    let file = file.ok_or(ServiceError::NotFound)?;
    let mut tx = app.db.begin().await?;
    let live: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM download_grants WHERE store_id = $1 AND file_id = $2 AND expires_at > $3
           AND downloads < max_downloads LIMIT 1",
    )
    .bind(store_id)
    .bind(file_id)
    .bind(now_ms())
    .fetch_optional(&mut *tx)
    .await?;
    if live.is_some() {
        return Err(ServiceError::Conflict {
            code: "file_in_use",
            message: "buyers' links to this file still work; add the new version and remove this one once they expire"
                .into(),
        });
    }
    if !sql::delete_file(&mut tx, store_id, product_id, file_id).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(app, &mut tx, ctx, "catalog.digital_file_removed", file_id, json!({ "product_id": product_id }))
        .await?;
    tx.commit().await?;
    if let Some(key) = BlobKey::parse(&file.blob_key) {
        // After the commit: a failed delete leaves an orphan, never a dangling row.
        let _ = app.blobs.delete(&key).await;
    }
    Ok(())
}

/// How many keys a product's pool holds.
pub async fn key_stock(app: &App, ctx: &Ctx, product_id: &str) -> ServiceResult<KeyStock> {
    ctx.actor.require(Permission::CatalogRead)?;
    digital_product(app, &ctx.store.id, product_id).await?;
    let (available, handed_out) = sql::key_counts(app.db.pool(), &ctx.store.id, product_id).await?;
    Ok(KeyStock { product_id: product_id.to_string(), available, handed_out })
}

/// Adds keys to a product's pool (all or none), then hands them to paid
/// orders still waiting for keys, oldest first.
pub async fn add_keys(app: &App, ctx: &Ctx, product_id: &str, input: KeysInput) -> ServiceResult<KeyStock> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    digital_product(app, store_id, product_id).await?;
    let mut errs = FieldErrors::default();
    if input.keys.is_empty() || input.keys.len() > rules::MAX_KEYS_PER_BATCH {
        errs.add("keys", "out_of_range", format!("1 to {} keys per request", rules::MAX_KEYS_PER_BATCH));
    }
    let mut keys: Vec<String> = Vec::new();
    for (i, raw) in input.keys.iter().enumerate() {
        match rules::normalise_key(raw) {
            None => errs.add(
                &format!("keys[{i}]"),
                "invalid_key",
                format!("1 to {} characters, no control characters", rules::MAX_KEY_LEN),
            ),
            Some(k) if keys.contains(&k) => errs.add(&format!("keys[{i}]"), "duplicate", "this key is listed twice"),
            Some(k) => keys.push(k),
        }
    }
    errs.finish(())?;

    let now = now_ms();
    let mut tx = app.db.begin().await?;
    let mut errs = FieldErrors::default();
    for (i, key) in keys.iter().enumerate() {
        let id = ids::new_id(KEY);
        let sealed = app.seal(key_slot(store_id, &id), key);
        let index = app.keyring.blind_index(store_id, &format!("licence_key:{product_id}"), key);
        if !sql::insert_key(&mut tx, store_id, product_id, &id, &sealed, &index, now).await? {
            errs.add(&format!("keys[{i}]"), "duplicate", "the pool already has this key");
        }
    }
    // Nothing is added when any key was refused: the transaction is dropped.
    errs.finish(())?;
    audit::record(app, &mut tx, ctx, "catalog.licence_keys_added", product_id, json!({ "count": keys.len() })).await?;
    serve_waiting(app, &mut tx, ctx, product_id).await?;
    let (available, handed_out) = sql::key_counts(&mut tx, store_id, product_id).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.wake_mail();
    Ok(KeyStock { product_id: product_id.to_string(), available, handed_out })
}

/// Delivers to paid orders waiting for this product's goods, oldest first.
async fn serve_waiting(app: &App, tx: &mut crate::db::Tx, ctx: &Ctx, product_id: &str) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    let mut waiting: Vec<String> = Vec::new();
    for (order_id, _, _) in sql::waiting_lines(tx, store_id, product_id).await? {
        if !waiting.contains(&order_id) {
            waiting.push(order_id);
        }
    }
    for order_id in waiting {
        deliver(app, tx, ctx, &order_id).await?;
    }
    Ok(())
}

fn is_digital(l: &LineRow) -> bool {
    ProductKind::parse(&l.kind) == Some(ProductKind::Digital)
}

/// Inside a transaction: gives a paid, confirmed order the digital goods
/// it is still owed (links for each file, keys from the pool), marks the
/// lines delivered when whole, moves the order on, and e-mails the buyer
/// what is new. Does nothing for an unpaid or unconfirmed order.
pub(super) async fn deliver(app: &App, tx: &mut crate::db::Tx, ctx: &Ctx, order_id: &str) -> ServiceResult<()> {
    let store_id = &ctx.store.id;
    // Deliveries of one order queue here (a payment and refills of the key
    // pool may race), and each sees what the one before it handed out.
    order_sql::lock_order(tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let row = &order_sql::by_id(&mut *tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let status = OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Placed);
    let paid = PaymentStatus::parse(&row.payment_status) == Some(PaymentStatus::Paid);
    if !paid || !matches!(status, OrderStatus::Confirmed | OrderStatus::PartiallyFulfilled) {
        return Ok(());
    }
    let lines = order_sql::lines(&mut *tx, store_id, &row.id).await?;
    let owed: Vec<&LineRow> = lines.iter().filter(|l| is_digital(l) && l.shipped < l.quantity).collect();
    if owed.is_empty() {
        return Ok(());
    }
    let products: Vec<&str> = owed.iter().map(|l| l.product_id.as_str()).collect();
    let files = sql::files_of(&mut *tx, store_id, &products).await?;
    let with_keys = sql::products_with_keys(tx, store_id, &products).await?;
    let granted = sql::grants_of_order(&mut *tx, store_id, &row.id).await?;
    let held = sql::keys_of_order(&mut *tx, store_id, &row.id).await?;
    let now = now_ms();
    let mut new_links: Vec<(String, GrantRow)> = Vec::new();
    let mut new_keys: Vec<(String, String)> = Vec::new();
    for line in owed {
        for f in files.iter().filter(|f| f.product_id == line.product_id) {
            if granted.iter().any(|g| g.line_no == line.line_no && g.file_id == f.id) {
                continue;
            }
            let g = GrantRow {
                id: ids::new_id(GRANT),
                order_id: row.id.clone(),
                line_no: line.line_no,
                file_id: f.id.clone(),
                expires_at: now + f.valid_days * DAY_MS,
                max_downloads: f.max_downloads,
                downloads: 0,
                created_at: now,
            };
            sql::insert_grant(tx, store_id, &g).await?;
            new_links.push((f.file_name.clone(), g));
        }
        // A product with neither files nor keys has nothing to deliver yet:
        // the line waits for the first file or key.
        let mut complete =
            with_keys.contains(&line.product_id) || files.iter().any(|f| f.product_id == line.product_id);
        if with_keys.contains(&line.product_id) {
            let has = held.iter().filter(|(no, _, _)| *no == line.line_no).count() as i64;
            for _ in has..line.quantity {
                match sql::take_key(tx, store_id, &line.product_id, &row.id, line.line_no, now).await? {
                    Some((id, sealed)) => {
                        new_keys.push((line.sku.clone(), app.open(key_slot(store_id, &id), &sealed)?));
                    }
                    None => {
                        complete = false;
                        outbox::emit(
                            tx,
                            store_id,
                            "licence_keys.exhausted",
                            json!({ "product_id": line.product_id, "sku": line.sku, "order_id": row.id }),
                        )
                        .await?;
                        break;
                    }
                }
            }
        }
        if complete {
            crate::db::fulfilment::ship_line(
                tx,
                store_id,
                &row.id,
                line.line_no,
                &line.variant_id,
                line.quantity - line.shipped,
            )
            .await?;
        }
    }
    let after = order_sql::lines(&mut *tx, store_id, &row.id).await?;
    let to = super::fulfilment::status_after(&after);
    let fresh = order_sql::by_id(&mut *tx, store_id, &row.id).await?.ok_or(ServiceError::NotFound)?;
    if after.iter().any(|l| l.shipped > 0) && OrderStatus::parse(&fresh.status) != Some(to) {
        apply_move(app, tx, ctx, &fresh, to, "digital goods delivered", "system").await?;
    }
    if !new_links.is_empty() || !new_keys.is_empty() {
        outbox::emit(
            tx,
            store_id,
            "order.digital_delivered",
            json!({ "order_id": row.id, "number": row.number, "links": new_links.len(), "keys": new_keys.len() }),
        )
        .await?;
        let sku_of = |no: i64| lines.iter().find(|l| l.line_no == no).map(|l| l.sku.clone()).unwrap_or_default();
        let links: Vec<(String, String, String)> = new_links
            .iter()
            .map(|(name, g)| (sku_of(g.line_no), name.clone(), link(app, store_id, &g.id, g.expires_at)))
            .collect();
        delivery_mail(app, tx, ctx, row, &links, &new_keys).await?;
    }
    Ok(())
}

/// What a link to a grant with this expiry is signed with.
fn signature(app: &App, store_id: &str, grant_id: &str, expires_at: i64) -> String {
    app.keyring.blind_index(store_id, "download_link", &rules::link_message(grant_id, expires_at))
}

/// The store-relative, signed address of a grant.
fn link(app: &App, store_id: &str, grant_id: &str, expires_at: i64) -> String {
    let sig = signature(app, store_id, grant_id, expires_at);
    format!("/downloads/{grant_id}?expires={expires_at}&sig={sig}")
}

async fn delivery_mail(
    app: &App,
    tx: &mut crate::db::Tx,
    ctx: &Ctx,
    row: &OrderRow,
    links: &[(String, String, String)],
    keys: &[(String, String)],
) -> ServiceResult<()> {
    use crate::i18n::t;
    let contact = super::orders::open_contact(app, &ctx.store.id, row)?;
    let lang = crate::domain::locale::Language::parse(&row.lang).unwrap_or(ctx.store.brand.default_language);
    let number = row.number.to_string();
    let base = super::mail::store_url(app, &ctx.store);
    let mut text = t(lang, "mail.downloads_body").replace("{number}", &number);
    text.push('\n');
    for (sku, name, url) in links {
        text.push_str(&format!("\n{name} ({sku}): {base}{url}"));
    }
    for (sku, key) in keys {
        text.push_str(&format!("\n{} ({sku}): {key}", t(lang, "order.licence_key")));
    }
    text.push_str(&format!("\n\n{}", ctx.store.brand.name));
    let subject = t(lang, "mail.downloads_subject").replace("{number}", &number);
    super::mail::queue(app, tx, &ctx.store, &contact.email, &subject, &text).await
}

/// What an order's buyer was given: links (with what is left of each) and keys.
pub(super) async fn delivered(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    store_id: &str,
    order_id: &str,
    lines: &[LineRow],
) -> ServiceResult<(Vec<DownloadLink>, Vec<LicenceKey>)> {
    let sku_of = |no: i64| lines.iter().find(|l| l.line_no == no).map(|l| l.sku.clone()).unwrap_or_default();
    let grants = sql::grants_of_order(&mut *conn, store_id, order_id).await?;
    let products: Vec<&str> = lines.iter().filter(|l| is_digital(l)).map(|l| l.product_id.as_str()).collect();
    let files = sql::files_of(&mut *conn, store_id, &products).await?;
    let links = grants
        .iter()
        .map(|g| DownloadLink {
            sku: sku_of(g.line_no),
            file_name: files.iter().find(|f| f.id == g.file_id).map(|f| f.file_name.clone()).unwrap_or_default(),
            url: link(app, store_id, &g.id, g.expires_at),
            expires_at: g.expires_at,
            downloads_left: (g.max_downloads - g.downloads).max(0),
        })
        .collect();
    let mut keys = Vec::new();
    for (no, sealed, id) in sql::keys_of_order(&mut *conn, store_id, order_id).await? {
        keys.push(LicenceKey { sku: sku_of(no), key: app.open(key_slot(store_id, &id), &sealed)? });
    }
    Ok((links, keys))
}

/// A file to send: name, media type, bytes.
pub struct Download {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Serves a signed link, counting the download. A link whose signature
/// does not match is unknown (404); a genuine one that expired or ran out
/// is gone (410).
pub async fn download(app: &App, store: &Store, grant_id: &str, expires: i64, sig: &str) -> ServiceResult<Download> {
    let expected = signature(app, &store.id, grant_id, expires);
    if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return Err(ServiceError::NotFound);
    }
    let pool = app.db.pool();
    let grant = sql::grant(pool, &store.id, grant_id).await?.ok_or(ServiceError::NotFound)?;
    let now = now_ms();
    // A link whose grant was revoked or renewed since is over.
    if grant.expires_at != expires {
        return Err(gone(Refusal::Expired));
    }
    rules::may_download(now, grant.expires_at, grant.downloads, grant.max_downloads).map_err(gone)?;
    let file = sql::file(pool, &store.id, &grant.file_id).await?.ok_or(ServiceError::NotFound)?;
    let key = BlobKey::parse(&file.blob_key).ok_or(ServiceError::NotFound)?;
    // Counted before the file is read: concurrent clicks on a link with one
    // download left load the file once, not once each.
    let mut tx = app.db.begin().await?;
    if !sql::count_download(&mut tx, &store.id, grant_id, now).await? {
        // Another download took the last one meanwhile.
        return Err(gone(Refusal::UsedUp));
    }
    tx.commit().await?;
    let bytes = app
        .blobs
        .get(&key)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .ok_or_else(|| ServiceError::Internal(format!("the file of {} is missing from storage", file.id)))?;
    Ok(Download { file_name: rules::attachment_name(&file.file_name), content_type: file.content_type, bytes })
}

fn gone(r: Refusal) -> ServiceError {
    match r {
        Refusal::Expired => {
            ServiceError::Gone { code: "download_expired", message: "this download link has expired".into() }
        }
        Refusal::UsedUp => ServiceError::Gone {
            code: "download_limit_reached",
            message: "this download link has been used as often as it allows".into(),
        },
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Ends an order's download links (it was cancelled).
pub(super) async fn revoke(tx: &mut crate::db::Tx, store_id: &str, order_id: &str) -> ServiceResult<()> {
    sql::revoke_grants(tx, store_id, order_id, now_ms()).await?;
    Ok(())
}

/// Staff renew a paid order's download links (a buyer lost them or used
/// them up): each starts its full lifetime and download count again, the
/// old addresses stop working, and the buyer gets the new ones by e-mail.
pub async fn renew_links(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<super::orders::Order> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    order_sql::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let row = order_sql::by_id(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    let status = OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Placed);
    let grants = sql::grants_of_order(&mut tx, store_id, order_id).await?;
    if status == OrderStatus::Cancelled || grants.is_empty() {
        return Err(ServiceError::Conflict {
            code: "no_downloads",
            message: "only a delivered order that is not cancelled has download links to renew".into(),
        });
    }
    let lines = order_sql::lines(&mut tx, store_id, order_id).await?;
    let products: Vec<&str> = lines.iter().map(|l| l.product_id.as_str()).collect();
    let files = sql::files_of(&mut tx, store_id, &products).await?;
    let now = now_ms();
    let mut links = Vec::new();
    for g in &grants {
        let Some(f) = files.iter().find(|f| f.id == g.file_id) else { continue };
        let expires_at = now + f.valid_days * DAY_MS;
        sql::renew_grant(&mut tx, store_id, &g.id, expires_at, f.max_downloads).await?;
        let sku = lines.iter().find(|l| l.line_no == g.line_no).map(|l| l.sku.clone()).unwrap_or_default();
        links.push((sku, f.file_name.clone(), link(app, store_id, &g.id, expires_at)));
    }
    let entry = crate::db::orders::HistoryRow {
        kind: "note".into(),
        from_status: Some(row.status.clone()),
        to_status: row.status.clone(),
        note: format!("download links renewed ({})", links.len()),
        actor: ctx.actor.principal(),
        at: now,
    };
    order_sql::add_history(&mut tx, store_id, order_id, &ids::new_id("ohs"), &entry).await?;
    audit::record(app, &mut tx, ctx, "orders.downloads_renewed", order_id, json!({ "links": links.len() })).await?;
    delivery_mail(app, &mut tx, ctx, &row, &links, &[]).await?;
    tx.commit().await?;
    app.wake_mail();
    super::orders::get(app, ctx, order_id, None).await
}
