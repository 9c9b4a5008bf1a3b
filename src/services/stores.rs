//! Finding the store a request is for, and changing its brand.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::actor::{Ctx, Permission};
use super::{App, ServiceResult, audit, now_ms, outbox};
use crate::db::stores;
use crate::domain::locale::Language;
use crate::domain::stores::{Branding, BrandingInput, Store, StoreKind};

/// How a request names its store.
pub enum StoreRef<'a> {
    Slug(&'a str),
    Host(&'a str),
}

/// Looks a store up by path slug or host name, falling back to the
/// installation's default store for a host nobody claimed.
pub async fn resolve(app: &App, by: StoreRef<'_>) -> ServiceResult<Option<Arc<Store>>> {
    let key = match by {
        StoreRef::Slug(slug) => format!("slug:{slug}"),
        StoreRef::Host(host) => format!("host:{host}"),
    };
    if let Some(hit) = app.reads.stores.get(&key) {
        return Ok(hit.as_ref().clone());
    }
    let found = match by {
        StoreRef::Slug(slug) => stores::by_slug(app.db.pool(), slug).await?,
        StoreRef::Host(host) => match stores::by_host(app.db.pool(), host).await? {
            Some(s) => Some(s),
            None => stores::default_store(app.db.pool()).await?,
        },
    };
    let found = found.map(Arc::new);
    app.reads.stores.put(key, Arc::new(found.clone()));
    Ok(found)
}

/// The store's public face, as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoreView {
    pub id: String,
    pub slug: String,
    pub kind: StoreKind,
    pub name: String,
    pub slogan: String,
    pub logo_url: String,
    pub primary_color: String,
    pub default_language: Language,
    pub currency: String,
}

impl From<&Store> for StoreView {
    fn from(s: &Store) -> Self {
        StoreView {
            id: s.id.clone(),
            slug: s.slug.clone(),
            kind: s.kind,
            name: s.brand.name.clone(),
            slogan: s.brand.slogan.clone(),
            logo_url: s.brand.logo_url.clone(),
            primary_color: s.brand.primary_color.clone(),
            default_language: s.brand.default_language,
            currency: s.currency.clone(),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBranding {
    pub name: String,
    #[serde(default)]
    pub slogan: String,
    #[serde(default)]
    pub logo_url: String,
    pub primary_color: String,
    pub default_language: Language,
}

pub async fn update_branding(app: &App, ctx: &Ctx, input: UpdateBranding) -> ServiceResult<Store> {
    ctx.actor.require(Permission::SettingsManage)?;
    let staff_id = ctx.actor.principal();
    let brand = Branding::parse(BrandingInput {
        name: &input.name,
        slogan: &input.slogan,
        logo_url: &input.logo_url,
        primary_color: &input.primary_color,
        default_language: input.default_language,
    })?;
    let mut tx = app.db.begin().await?;
    stores::update_branding(&mut tx, &ctx.store.id, &brand, now_ms()).await?;
    let before = StoreView::from(ctx.store.as_ref());
    let updated = Store { brand, ..(*ctx.store).clone() };
    outbox::emit(
        &mut tx,
        &ctx.store.id,
        "store.updated",
        serde_json::json!({ "by": staff_id, "before": before, "after": StoreView::from(&updated) }),
    )
    .await?;
    audit::record(
        app,
        &mut tx,
        ctx,
        "store.branding_changed",
        &ctx.store.id,
        serde_json::json!({ "before": before, "after": StoreView::from(&updated) }),
    )
    .await?;
    tx.commit().await?;
    app.wake_outbox();
    // The default language decides fallbacks on every page.
    app.reads.stores.clear();
    app.catalog_changed(&ctx.store.id);
    Ok(updated)
}
