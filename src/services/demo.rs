//! Demo data and first-run set-up. `oxcart demo` and `serve --demo` load two
//! stores of different kinds, each with its own owner and a customer; a
//! fresh installation without the demo gets one default store and an owner
//! whose password is printed once.

use super::{App, ServiceResult, auth, now_ms};
use crate::db::{customers, staff, stores};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::stores::{Branding, Store, StoreKind};

/// Credentials of the accounts the demo created (printed by the CLI).
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub store_slug: String,
    pub store_name: String,
    pub email: String,
    pub password: String,
    pub role: &'static str,
}

pub const DEMO_PASSWORD: &str = "oxcart-demo-2026";

struct DemoStore {
    slug: &'static str,
    host: Option<&'static str>,
    kind: StoreKind,
    name: &'static str,
    slogan: &'static str,
    logo: &'static str,
    color: &'static str,
    lang: Language,
    currency: &'static str,
    owner: &'static str,
    customer: &'static str,
}

const DEMO_STORES: [DemoStore; 2] = [
    DemoStore {
        slug: "outfitters",
        host: None,
        kind: StoreKind::Shop,
        name: "Oxcart Outfitters",
        slogan: "Gear for every road",
        logo: "/static/logos/outfitters.svg",
        color: "#b4461f",
        lang: Language::En,
        currency: "EUR",
        owner: "admin@outfitters.example",
        customer: "ana@customers.example",
    },
    DemoStore {
        slug: "foodbank",
        // Browsers resolve *.localhost to this machine, so the demo shows
        // host-based store resolution with no DNS set-up.
        host: Some("foodbank.localhost"),
        kind: StoreKind::Nonprofit,
        name: "Harbor Food Bank",
        slogan: "No neighbour goes hungry",
        logo: "/static/logos/foodbank.svg",
        color: "#1d7a4f",
        lang: Language::De,
        currency: "EUR",
        owner: "admin@foodbank.example",
        customer: "ben@donors.example",
    },
];

async fn create_store(
    app: &App,
    store: &Store,
    owner_email: &str,
    password: &str,
    customer: Option<&str>,
) -> ServiceResult<()> {
    let hash = auth::hash_password(password).await?;
    let now = now_ms();
    let mut tx = app.db.begin().await?;
    stores::insert(&mut tx, store, now).await?;
    super::catalog::create_default_channel(&mut tx, store).await?;
    let staff_id = ids::new_id(ids::STAFF);
    let staff_slot = |column| Slot { table: "staff_users", column, store_id: &store.id, row_id: &staff_id };
    staff::insert(
        &mut tx,
        &staff::StaffRow {
            id: staff_id.clone(),
            store_id: store.id.clone(),
            email_index: app.email_index(&store.id, owner_email),
            email_enc: app.seal(staff_slot("email"), owner_email),
            display_name_enc: app.seal(staff_slot("display_name"), "Owner"),
            password_hash: hash.clone(),
            role: "owner".into(),
        },
        now,
    )
    .await?;
    if let Some(email) = customer {
        let id = ids::new_id(ids::CUSTOMER);
        let slot = |column| Slot { table: "customers", column, store_id: &store.id, row_id: &id };
        customers::insert(
            &mut tx,
            &customers::CustomerRow {
                id: id.clone(),
                store_id: store.id.clone(),
                email_index: app.email_index(&store.id, email),
                email_enc: app.seal(slot("email"), email),
                display_name_enc: app.seal(slot("display_name"), "Demo Customer"),
                password_hash: hash,
                created_at: now,
                email_verified_at: Some(now),
                erased_at: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Loads the demo stores that are not there yet. The first becomes the
/// default store when the installation has none.
pub async fn load(app: &App) -> ServiceResult<Vec<DemoLogin>> {
    load_stores(app, false).await
}

/// As [`load`], and gives each new demo store a small catalog in all five
/// languages (what `oxcart demo` and `serve --demo` use).
pub async fn load_with_catalog(app: &App) -> ServiceResult<Vec<DemoLogin>> {
    load_stores(app, true).await
}

async fn load_stores(app: &App, with_catalog: bool) -> ServiceResult<Vec<DemoLogin>> {
    let had_stores = !stores::list(app.db.pool()).await?.is_empty();
    let mut logins = Vec::new();
    for (i, d) in DEMO_STORES.iter().enumerate() {
        if stores::by_slug(app.db.pool(), d.slug).await?.is_none() {
            let store = Store {
                id: ids::new_id(ids::STORE),
                slug: d.slug.into(),
                host: d.host.map(str::to_string),
                kind: d.kind,
                brand: Branding {
                    name: d.name.into(),
                    slogan: d.slogan.into(),
                    logo_url: d.logo.into(),
                    primary_color: d.color.into(),
                    default_language: d.lang,
                },
                currency: d.currency.into(),
                is_default: i == 0 && !had_stores,
                require_owner_mfa: false,
            };
            create_store(app, &store, d.owner, DEMO_PASSWORD, Some(d.customer)).await?;
            if with_catalog {
                load_catalog(app, store).await?;
            }
        }
        logins.push(DemoLogin {
            store_slug: d.slug.into(),
            store_name: d.name.into(),
            email: d.owner.into(),
            password: DEMO_PASSWORD.into(),
            role: "owner",
        });
    }
    Ok(logins)
}

/// Creates the default store and its owner on an empty installation.
/// Returns the owner's one-time password, or `None` if stores exist.
pub async fn ensure_default_store(app: &App) -> ServiceResult<Option<DemoLogin>> {
    if !stores::list(app.db.pool()).await?.is_empty() {
        return Ok(None);
    }
    let password = {
        use base64::Engine;
        use rand::RngCore;
        let mut b = [0u8; 12];
        rand::rng().fill_bytes(&mut b);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let store = Store {
        id: ids::new_id(ids::STORE),
        slug: "default".into(),
        host: None,
        kind: StoreKind::Shop,
        brand: Branding {
            name: "My Oxcart Store".into(),
            slogan: String::new(),
            logo_url: String::new(),
            primary_color: "#1f6feb".into(),
            default_language: Language::En,
        },
        currency: "EUR".into(),
        is_default: true,
        require_owner_mfa: false,
    };
    create_store(app, &store, "owner@localhost.localdomain", &password, None).await?;
    Ok(Some(DemoLogin {
        store_slug: store.slug,
        store_name: store.brand.name,
        email: "owner@localhost.localdomain".into(),
        password,
        role: "owner",
    }))
}

/// A few products per demo store, in all five languages.
async fn load_catalog(app: &App, store: Store) -> ServiceResult<()> {
    use super::actor::{Actor, Ctx};
    use super::catalog::{self, ProductInput};
    use crate::domain::access::BuiltinRole;

    let file = match store.kind {
        StoreKind::Nonprofit => include_str!("demo/foodbank_catalog.json"),
        _ => include_str!("demo/outfitters_catalog.json"),
    };
    let products: Vec<ProductInput> =
        serde_json::from_str(file).map_err(|e| super::ServiceError::Internal(format!("demo catalog: {e}")))?;
    let ctx = Ctx {
        store: std::sync::Arc::new(store),
        actor: Actor::Staff {
            id: "demo-loader".into(),
            role: "owner".into(),
            permissions: BuiltinRole::Owner.permissions(),
        },
        client_ip: "demo".into(),
    };
    let mut skus = Vec::new();
    for p in products {
        let kind = p.kind;
        if kind == crate::domain::catalog::ProductKind::Physical {
            skus.extend(p.variants.iter().map(|v| v.sku.clone()));
        }
        let product = catalog::create(app, &ctx, p).await?;
        if kind == crate::domain::catalog::ProductKind::Digital {
            load_download(app, &ctx, &product.id).await?;
        }
    }
    if !skus.is_empty() {
        load_stock(app, &ctx, &skus).await?;
        load_checkout_rules(app, &ctx).await?;
    }
    Ok(())
}

/// The digital product's file and a few licence keys, so a paid demo order
/// shows its download link and key.
async fn load_download(app: &App, ctx: &super::actor::Ctx, product_id: &str) -> ServiceResult<()> {
    use super::digital::{self, FileSettings, KeysInput};
    let settings = FileSettings { file_name: "trail-guide.txt".into(), max_downloads: Some(5), valid_days: Some(30) };
    let bytes = include_bytes!("demo/trail_guide.txt").to_vec();
    digital::add_file(app, ctx, product_id, settings, Some("text/plain; charset=utf-8"), bytes).await?;
    let keys = (1..=20).map(|n| format!("DEMO-GUIDE-{n:04}")).collect();
    digital::add_keys(app, ctx, product_id, KeysInput { keys }).await?;
    Ok(())
}

/// German VAT and a few EU neighbours' rates, delivery in Germany (free
/// from 50 €), express, pickup in Berlin, EU delivery by weight, and a
/// welcome coupon, so a demo checkout shows every part of the price.
async fn load_checkout_rules(app: &App, ctx: &super::actor::Ctx) -> ServiceResult<()> {
    use super::promotions::{self, CouponInput, PromotionInput};
    use super::shipping::{self, MethodInput, PickupPoint, ZoneInput};
    use super::tax_rules::{self, TaxRateInput, TaxSettings};
    use crate::domain::promotions::{Conditions, Effect};
    use crate::domain::shipping::{Bracket, RateTable};
    use crate::domain::tax::{Rate, Rounding};

    let settings = TaxSettings { origin_country: "DE".into(), rounding: Rounding::Line, reverse_charge: true };
    tax_rules::set_settings(app, ctx, settings).await?;
    for (country, class, rate) in [
        ("DE", "standard", "19"),
        ("DE", "reduced", "7"),
        ("AT", "standard", "20"),
        ("AT", "reduced", "10"),
        ("FR", "standard", "20"),
        ("FR", "reduced", "5.5"),
        ("NL", "standard", "21"),
        ("NL", "reduced", "9"),
    ] {
        let input = TaxRateInput {
            country: country.into(),
            region: String::new(),
            tax_class: class.into(),
            rate: Rate::parse_percent(rate).unwrap_or_default(),
            label: format!("VAT {country} {rate}%"),
        };
        tax_rules::put_rate(app, ctx, input).await?;
    }
    let zone = |name: &str, regions: &[&str]| ZoneInput {
        name: name.into(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        postcodes: vec![],
        position: 0,
    };
    let method = |code: &str, name: &str, rates: RateTable, free_over: Option<i64>| MethodInput {
        code: code.into(),
        name: name.into(),
        carrier: "manual".into(),
        currency: "EUR".into(),
        rates,
        free_over,
        pickup_points: vec![],
        active: true,
    };
    let germany = shipping::create_zone(app, ctx, zone("Germany", &["DE"])).await?;
    shipping::create_method(
        app,
        ctx,
        &germany.id,
        method("standard", "Standard (2–3 days)", RateTable::Flat { amount: 490 }, Some(5000)),
    )
    .await?;
    shipping::create_method(
        app,
        ctx,
        &germany.id,
        method("express", "Express (next day)", RateTable::Flat { amount: 990 }, None),
    )
    .await?;
    let mut pickup = method("pickup", "Pick up in Berlin", RateTable::Flat { amount: 0 }, None);
    pickup.pickup_points = vec![PickupPoint {
        id: "berlin".into(),
        name: "Oxcart Outfitters Berlin".into(),
        address: "Torstraße 1, 10119 Berlin".into(),
    }];
    shipping::create_method(app, ctx, &germany.id, pickup).await?;
    let mut eu = zone("European Union", &["AT", "BE", "DK", "ES", "FR", "IT", "LU", "NL", "PL", "PT", "SE"]);
    eu.position = 1;
    let eu = shipping::create_zone(app, ctx, eu).await?;
    let by_weight = RateTable::ByWeight {
        brackets: vec![
            Bracket { up_to: Some(1000), amount: 890 },
            Bracket { up_to: Some(5000), amount: 1490 },
            Bracket { up_to: None, amount: 2490 },
        ],
    };
    shipping::create_method(app, ctx, &eu.id, method("eu-standard", "EU delivery (4–6 days)", by_weight, Some(15000)))
        .await?;
    let welcome = PromotionInput {
        name: "Welcome: 10 % off".into(),
        effect: Effect::OrderPercent { percent: Rate::parse_percent("10").unwrap_or_default() },
        conditions: Conditions::default(),
        priority: 0,
        exclusive: false,
        needs_coupon: true,
        active: true,
    };
    let welcome = promotions::create(app, ctx, welcome).await?;
    let coupon = CouponInput { code: "WELCOME10".into(), usage_limit: None, per_customer_limit: Some(1) };
    promotions::add_coupon(app, ctx, &welcome.id, coupon).await?;
    Ok(())
}

/// A warehouse holding the physical goods: most in stock, a few nearly
/// gone (low-stock threshold 3), one sold out, so every state shows.
async fn load_stock(app: &App, ctx: &super::actor::Ctx, skus: &[String]) -> ServiceResult<()> {
    use super::inventory::{self, AdjustmentInput, AdjustmentLine, LocationInput, SettingsInput};
    use crate::domain::inventory::{AdjustReason, StockPolicy};

    let main = LocationInput {
        code: "main".into(),
        name: "Main warehouse".into(),
        country: "DE".into(),
        priority: 0,
        active: true,
    };
    inventory::create_location(app, ctx, main).await?;
    let mut lines = Vec::new();
    for (i, sku) in skus.iter().enumerate() {
        let units = [24, 8, 2, 0, 40, 15][i % 6];
        if i % 6 == 2 {
            let low = SettingsInput { policy: StockPolicy::Track, low_stock_at: Some(3), restock_at: None };
            inventory::update_settings(app, ctx, sku, low).await?;
        }
        if units > 0 {
            lines.push(AdjustmentLine {
                sku: sku.clone(),
                location: "main".into(),
                delta: Some(units),
                counted: None,
                reason: AdjustReason::Received,
                note: "opening stock".into(),
            });
        }
    }
    inventory::adjust(app, ctx, AdjustmentInput { lines }, None).await?;
    Ok(())
}
