//! A generated catalog of any size for demos and benchmarks: multilingual
//! names from word lists, three variants each, prices with tiers and
//! sales, spread over a two-level category tree. Deterministic for a given
//! size, so benchmark runs compare like with like.

use std::collections::BTreeMap;

use super::actor::Ctx;
use super::catalog::{self, PriceInput, ProductInput, TextInput, VariantInput};
use super::catalog_batch::{self, CHUNK, Draft};
use super::categories::{self, CategoryInput, CategoryText};
use super::{App, ServiceResult};
use crate::domain::catalog::{ProductKind, PublishStatus};
use crate::domain::locale::Language;

const ADJECTIVES: [[&str; 5]; 8] = [
    ["Light", "Leichte", "Ligera", "Leve", "轻便"],
    ["Warm", "Warme", "Cálida", "Quente", "保暖"],
    ["Waterproof", "Wasserdichte", "Impermeable", "Impermeável", "防水"],
    ["Classic", "Klassische", "Clásica", "Clássica", "经典"],
    ["Compact", "Kompakte", "Compacta", "Compacta", "紧凑"],
    ["Rugged", "Robuste", "Resistente", "Robusta", "耐用"],
    ["Quick", "Schnelle", "Rápida", "Rápida", "速干"],
    ["Soft", "Weiche", "Suave", "Macia", "柔软"],
];

const NOUNS: [[&str; 5]; 10] = [
    ["Jacket", "Jacke", "Chaqueta", "Jaqueta", "夹克"],
    ["Backpack", "Rucksack", "Mochila", "Mochila", "背包"],
    ["Tent", "Zelt", "Tienda", "Barraca", "帐篷"],
    ["Boot", "Stiefel", "Bota", "Bota", "靴子"],
    ["Lamp", "Lampe", "Lámpara", "Lanterna", "灯"],
    ["Bottle", "Flasche", "Botella", "Garrafa", "水瓶"],
    ["Glove", "Handschuh", "Guante", "Luva", "手套"],
    ["Phone case", "Handyhülle", "Funda de móvil", "Capa de celular", "手机壳"],
    ["Sleeping bag", "Schlafsack", "Saco de dormir", "Saco de dormir", "睡袋"],
    ["Stove", "Kocher", "Hornillo", "Fogareiro", "炉具"],
];

/// A small deterministic generator (xorshift), so sizes are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Adds `count` generated products (and the category tree, once).
pub async fn generate(app: &App, ctx: &Ctx, count: usize, mut progress: impl FnMut(usize)) -> ServiceResult<()> {
    let mut leaf_categories = Vec::new();
    for (n, noun) in NOUNS.iter().enumerate() {
        let texts = |suffix: &str| -> BTreeMap<Language, CategoryText> {
            Language::ALL
                .iter()
                .enumerate()
                .map(|(i, l)| (*l, CategoryText { name: format!("{}{suffix}", noun[i]), slug: None }))
                .collect()
        };
        let top =
            match categories::create(app, ctx, CategoryInput { parent_id: None, position: n as i64, texts: texts("") })
                .await
            {
                Ok(c) => c.id,
                // Already generated before: reuse nothing, just place products at the top level.
                Err(_) => continue,
            };
        for (k, adjective) in ADJECTIVES.iter().take(3).enumerate() {
            let texts: BTreeMap<Language, CategoryText> = Language::ALL
                .iter()
                .enumerate()
                .map(|(i, l)| (*l, CategoryText { name: format!("{} {}", adjective[i], noun[i]), slug: None }))
                .collect();
            let c =
                categories::create(app, ctx, CategoryInput { parent_id: Some(top.clone()), position: k as i64, texts })
                    .await?;
            leaf_categories.push((n, c.id));
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = catalog::all_ids(app, ctx).await?.len();
    let mut drafts = Vec::new();
    let mut written = 0;
    // Stores that keep stock get some of each generated variant.
    let warehouse = super::inventory::locations(app, ctx).await?.into_iter().find(|l| l.active).map(|l| l.code);
    let mut arrivals: Vec<(String, i64)> = Vec::new();
    let mut chunks = 0_usize;
    for i in 0..count {
        let serial = start + i;
        let (a, n) = (rng.below(ADJECTIVES.len() as u64) as usize, rng.below(NOUNS.len() as u64) as usize);
        let texts: BTreeMap<Language, TextInput> = Language::ALL
            .iter()
            .enumerate()
            .map(|(l, lang)| {
                let name = if *lang == Language::Zh {
                    format!("{}{} {serial}", ADJECTIVES[a][l], NOUNS[n][l])
                } else {
                    format!("{} {} {serial}", ADJECTIVES[a][l], NOUNS[n][l])
                };
                (
                    *lang,
                    TextInput {
                        description: format!("{name}. {} {}.", ADJECTIVES[(a + 1) % 8][l], NOUNS[n][l]),
                        name,
                        slug: None,
                        seo_title: String::new(),
                        seo_description: String::new(),
                    },
                )
            })
            .collect();
        let base = 500 + rng.below(20_000) as i64;
        let on_sale = rng.below(5) == 0;
        let variants = ["S", "M", "L"]
            .iter()
            .map(|size| VariantInput {
                sku: format!("GEN-{serial}-{size}"),
                gtin: None,
                options: BTreeMap::from([("size".to_string(), size.to_string())]),
                weight_grams: Some(100 + rng.below(2000) as i64),
                prices: vec![
                    PriceInput {
                        channel: "web".into(),
                        min_qty: 1,
                        amount: base,
                        sale_amount: on_sale.then_some(base * 8 / 10),
                        sale_starts_at: None,
                        sale_ends_at: None,
                    },
                    PriceInput {
                        channel: "web".into(),
                        min_qty: 10,
                        amount: base * 9 / 10,
                        sale_amount: None,
                        sale_starts_at: None,
                        sale_ends_at: None,
                    },
                ],
            })
            .collect();
        let categories =
            leaf_categories.iter().filter(|(noun, _)| *noun == n).map(|(_, id)| id.clone()).take(1).collect();
        let input = ProductInput {
            kind: ProductKind::Physical,
            status: PublishStatus::Published,
            publish_at: None,
            unpublish_at: None,
            tags: vec![NOUNS[n][0].to_lowercase()],
            texts,
            variants,
            categories,
            product_type: None,
            attributes: Default::default(),
            tax_class: None,
        };
        if warehouse.is_some() {
            for v in &input.variants {
                // About one in ten sold out; the rest up to 60 units.
                let units = if rng.below(10) == 0 { 0 } else { 1 + rng.below(60) as i64 };
                arrivals.push((v.sku.clone(), units));
            }
        }
        drafts.push(Draft { target: None, input });
        if drafts.len() == CHUNK || i + 1 == count {
            let prepared = catalog_batch::prepare(app, ctx, std::mem::take(&mut drafts))
                .await?
                .into_iter()
                .collect::<ServiceResult<Vec<_>>>()?;
            written += catalog_batch::write(app, ctx, prepared, |_| {}).await?.0;
            if let Some(code) = &warehouse {
                stock_up(app, ctx, code, std::mem::take(&mut arrivals)).await?;
            }
            // Planner statistics taken while the tables were nearly empty
            // make lookups walk whole tables as they grow (PostgreSQL slowed
            // from 120 to 47 products/s by 28,000); refreshing them whenever
            // the catalog has doubled costs a few statements in all.
            chunks += 1;
            if chunks.is_power_of_two() {
                app.db.refresh_statistics().await?;
            }
            progress(written);
        }
    }
    Ok(())
}

/// Receives the generated variants' opening stock at the store's warehouse.
async fn stock_up(app: &App, ctx: &Ctx, location: &str, arrivals: Vec<(String, i64)>) -> ServiceResult<()> {
    use super::inventory::{AdjustmentInput, AdjustmentLine};
    use crate::domain::inventory::AdjustReason;
    let lines: Vec<AdjustmentLine> = arrivals
        .into_iter()
        .filter(|(_, units)| *units > 0)
        .map(|(sku, units)| AdjustmentLine {
            sku,
            location: location.to_string(),
            delta: Some(units),
            counted: None,
            reason: AdjustReason::Received,
            note: "opening stock".into(),
        })
        .collect();
    for chunk in lines.chunks(500) {
        super::inventory::adjust(app, ctx, AdjustmentInput { lines: chunk.to_vec() }, None).await?;
    }
    Ok(())
}
