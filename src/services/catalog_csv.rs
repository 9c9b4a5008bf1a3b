//! Catalog import and export as CSV, one row per variant; the format is
//! documented in docs/catalog-csv.md. Import validates the whole file first
//! and reports every bad row with its line number; nothing is applied from
//! a file with errors unless the caller asks to skip bad products. Export
//! writes every field, so export → import → export is lossless.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::actor::Ctx;
use super::catalog::{self, PriceInput, ProductInput, TextInput, VariantInput};
use super::catalog_batch::{self, Draft};
use super::{App, ServiceError, ServiceResult};
use crate::db::catalog_bulk as bulk;
use crate::domain::catalog::{ProductKind, PublishStatus};
use crate::domain::locale::Language;

const TEXT_FIELDS: [&str; 5] = ["name", "slug", "description", "seo_title", "seo_description"];

/// The header, in order.
pub fn header() -> Vec<String> {
    let mut h: Vec<String> = [
        "product",
        "kind",
        "status",
        "publish_at",
        "unpublish_at",
        "tags",
        "categories",
        "product_type",
        "attributes",
        "tax_class",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for lang in Language::ALL {
        for f in TEXT_FIELDS {
            h.push(format!("{f}.{}", lang.code()));
        }
    }
    h.extend(["sku", "gtin", "options", "weight_grams", "prices"].iter().map(|s| s.to_string()));
    h
}

fn join_prices(prices: &[PriceInput]) -> String {
    prices
        .iter()
        .map(|p| {
            let mut s = format!("{}:{}:{}", p.channel, p.min_qty, p.amount);
            if p.sale_amount.is_some() || p.sale_starts_at.is_some() || p.sale_ends_at.is_some() {
                let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
                s.push_str(&format!(":{}:{}:{}", opt(p.sale_amount), opt(p.sale_starts_at), opt(p.sale_ends_at)));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn parse_prices(cell: &str) -> Result<Vec<PriceInput>, String> {
    let int = |s: &str, what: &str| {
        s.trim().parse::<i64>().map_err(|_| format!("prices: {what} {s:?} is not a whole number"))
    };
    let opt = |s: Option<&str>, what: &str| match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => int(v, what).map(Some),
    };
    cell.split('|')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let parts: Vec<&str> = p.split(':').collect();
            if parts.len() != 3 && parts.len() != 6 {
                return Err(format!(
                    "prices: {p:?} should be channel:min_qty:amount[:sale_amount:sale_starts_at:sale_ends_at]"
                ));
            }
            Ok(PriceInput {
                channel: parts[0].trim().to_string(),
                min_qty: int(parts[1], "min_qty")?,
                amount: int(parts[2], "amount")?,
                sale_amount: opt(parts.get(3).copied(), "sale_amount")?,
                sale_starts_at: opt(parts.get(4).copied(), "sale_starts_at")?,
                sale_ends_at: opt(parts.get(5).copied(), "sale_ends_at")?,
            })
        })
        .collect()
}

fn parse_options(cell: &str) -> Result<BTreeMap<String, String>, String> {
    cell.split('|')
        .filter(|o| !o.trim().is_empty())
        .map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or(format!("options: {o:?} should be axis=value"))
        })
        .collect()
}

fn list(cell: &str) -> Vec<String> {
    cell.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn opt_int(cell: &str, what: &str) -> Result<Option<i64>, String> {
    match cell.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| format!("{what}: {v:?} is not a whole number")),
    }
}

/// Writes the store's whole catalog.
/// `progress(done, total)` is called after each product.
pub async fn export(
    app: &App,
    ctx: &Ctx,
    out: impl std::io::Write,
    mut progress: impl FnMut(usize, usize),
) -> ServiceResult<usize> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| ServiceError::Internal(e.to_string());
    w.write_record(header()).map_err(io)?;
    let mut rows = 0;
    let ids = catalog::all_ids(app, ctx).await?;
    let total = ids.len();
    let mut done = 0;
    progress(0, total);
    // Whole products a few hundred at a time: a few queries per chunk.
    for chunk in ids.chunks(500) {
        for p in catalog::views(app, ctx, chunk).await? {
            for v in &p.variants {
                let mut rec = vec![
                    p.id.clone(),
                    p.kind.as_str().to_string(),
                    p.status.as_str().to_string(),
                    p.publish_at.map(|t| t.to_string()).unwrap_or_default(),
                    p.unpublish_at.map(|t| t.to_string()).unwrap_or_default(),
                    p.tags.join("|"),
                    p.categories.join("|"),
                    p.product_type.clone().unwrap_or_default(),
                    if p.attributes.is_empty() {
                        String::new()
                    } else {
                        serde_json::to_string(&p.attributes).unwrap_or_default()
                    },
                    p.tax_class.clone(),
                ];
                for lang in Language::ALL {
                    let t = p.texts.get(&lang);
                    rec.push(t.map(|t| t.name.clone()).unwrap_or_default());
                    rec.push(t.and_then(|t| t.slug.clone()).unwrap_or_default());
                    rec.push(t.map(|t| t.description.clone()).unwrap_or_default());
                    rec.push(t.map(|t| t.seo_title.clone()).unwrap_or_default());
                    rec.push(t.map(|t| t.seo_description.clone()).unwrap_or_default());
                }
                rec.push(v.sku.clone());
                rec.push(v.gtin.clone().unwrap_or_default());
                rec.push(v.options.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("|"));
                rec.push(v.weight_grams.map(|w| w.to_string()).unwrap_or_default());
                rec.push(join_prices(&v.prices));
                w.write_record(&rec).map_err(io)?;
                rows += 1;
            }
        }
        done += chunk.len();
        progress(done, total);
    }
    w.flush().map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(rows)
}

/// One problem in an import file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub skipped_products: usize,
    pub errors: Vec<RowError>,
    /// True when nothing was written because of errors.
    pub rejected: bool,
}

struct Group {
    first_line: u64,
    lines: Vec<u64>,
    key: String,
    input: Option<ProductInput>,
    errors: Vec<RowError>,
}

/// Imports a CSV file: creates or updates products (matched by product id
/// or by any of their SKUs). With errors, nothing is written unless
/// `skip_bad` is set, in which case the products with bad rows are skipped.
pub async fn import(
    app: &App,
    ctx: &Ctx,
    data: &[u8],
    skip_bad: bool,
    mut progress: impl FnMut(usize, usize),
) -> ServiceResult<ImportReport> {
    let started = std::time::Instant::now();
    let mut report = ImportReport::default();
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            report.errors.push(RowError { line: 1, message: format!("unreadable header: {e}") });
            report.rejected = true;
            return Ok(report);
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<&str> =
        ["product", "kind", "status", "sku", "prices"].into_iter().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        report.errors.push(RowError { line: 1, message: format!("missing columns: {}", missing.join(", ")) });
        report.rejected = true;
        return Ok(report);
    }
    if let Some(unknown) = headers.iter().find(|h| !header().contains(h)) {
        report.errors.push(RowError { line: 1, message: format!("unknown column {unknown:?}") });
        report.rejected = true;
        return Ok(report);
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    // Column positions by name, looked up once (rows ask ~40 times each).
    let positions: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.errors.push(RowError { line, message: format!("unreadable row: {e}") });
                continue;
            }
        };
        let get = |name: &str| positions.get(name).and_then(|c| record.get(*c)).unwrap_or("").to_string();
        let key = get("product");
        let idx = match group_of.get(&key).filter(|_| !key.is_empty()) {
            Some(i) => *i,
            None => {
                groups.push(Group { first_line: line, lines: vec![], key: key.clone(), input: None, errors: vec![] });
                group_of.insert(key.clone(), groups.len() - 1);
                groups.len() - 1
            }
        };
        let group = &mut groups[idx];
        let mut err = |m: String| group.errors.push(RowError { line, message: m });
        if key.is_empty() {
            err("product: every row needs a product key (an id or any label shared by its variants)".into());
        }
        let variant = (|| -> Result<VariantInput, String> {
            Ok(VariantInput {
                sku: get("sku"),
                gtin: Some(get("gtin")).filter(|g| !g.is_empty()),
                options: parse_options(&get("options"))?,
                weight_grams: opt_int(&get("weight_grams"), "weight_grams")?,
                prices: parse_prices(&get("prices"))?,
            })
        })();
        let variant = match variant {
            Ok(v) => v,
            Err(m) => {
                err(m);
                continue;
            }
        };
        if group.input.is_none() {
            let product = (|| -> Result<ProductInput, String> {
                let kind =
                    ProductKind::parse(&get("kind")).ok_or(format!("kind: {:?} is not a product kind", get("kind")))?;
                let status = PublishStatus::parse(&get("status"))
                    .ok_or(format!("status: {:?} is not draft, published or archived", get("status")))?;
                let mut texts = BTreeMap::new();
                for lang in Language::ALL {
                    let f = |field: &str| get(&format!("{field}.{}", lang.code()));
                    if !f("name").is_empty() {
                        texts.insert(
                            lang,
                            TextInput {
                                name: f("name"),
                                slug: Some(f("slug")).filter(|s| !s.is_empty()),
                                description: f("description"),
                                seo_title: f("seo_title"),
                                seo_description: f("seo_description"),
                            },
                        );
                    }
                }
                Ok(ProductInput {
                    kind,
                    status,
                    publish_at: opt_int(&get("publish_at"), "publish_at")?,
                    unpublish_at: opt_int(&get("unpublish_at"), "unpublish_at")?,
                    tags: list(&get("tags")),
                    categories: list(&get("categories")),
                    product_type: Some(get("product_type")).filter(|t| !t.is_empty()),
                    attributes: match get("attributes").trim() {
                        "" => BTreeMap::new(),
                        json => serde_json::from_str(json)
                            .map_err(|_| "attributes: not a JSON object of values by attribute code".to_string())?,
                    },
                    tax_class: Some(get("tax_class")).filter(|t| !t.trim().is_empty()),
                    texts,
                    variants: vec![],
                })
            })();
            match product {
                Ok(p) => group.input = Some(p),
                Err(m) => {
                    err(m);
                    continue;
                }
            }
        }
        if let Some(p) = group.input.as_mut() {
            p.variants.push(variant);
            group.lines.push(line);
        }
    }
    tracing::info!(products = groups.len(), ms = started.elapsed().as_millis() as u64, "import: file read");
    // Which product each group updates: an existing product id as its key,
    // else the product owning one of its SKUs; none: a new product.
    let keys: Vec<String> =
        groups.iter().filter(|g| crate::domain::ids::is_valid("prd", &g.key)).map(|g| g.key.clone()).collect();
    let mut existing: HashSet<String> = HashSet::new();
    for chunk in keys.chunks(2_000) {
        existing.extend(bulk::existing_products(&app.db, &ctx.store.id, chunk).await?.into_iter().map(|(id, _)| id));
    }
    let skus: Vec<String> =
        groups.iter().filter_map(|g| g.input.as_ref()).flat_map(|i| i.variants.iter().map(|v| v.sku.clone())).collect();
    let mut sku_owner: HashMap<String, String> = HashMap::new();
    for chunk in skus.chunks(2_000) {
        sku_owner.extend(bulk::owners_of_skus(&app.db, &ctx.store.id, chunk).await?);
    }
    // Check every product against the store before writing anything.
    let mut drafts = Vec::new();
    let mut draft_group = Vec::new();
    for (i, g) in groups.iter_mut().enumerate() {
        let Some(input) = g.input.take() else { continue };
        let target = Some(g.key.clone())
            .filter(|k| existing.contains(k))
            .or_else(|| input.variants.iter().find_map(|v| sku_owner.get(&v.sku).cloned()));
        drafts.push(Draft { target, input });
        draft_group.push(i);
    }
    let prepared = catalog_batch::prepare(app, ctx, drafts).await?;
    tracing::info!(ms = started.elapsed().as_millis() as u64, "import: checked");
    let mut good = Vec::new();
    for (result, i) in prepared.into_iter().zip(draft_group) {
        let g = &mut groups[i];
        match result {
            Ok(p) if g.errors.is_empty() => good.push(p),
            Ok(_) => {}
            Err(ServiceError::Validation(fields)) => {
                for f in fields.0 {
                    g.errors
                        .push(RowError { line: line_of(g, &f.field), message: format!("{}: {}", f.field, f.message) });
                }
            }
            Err(ServiceError::Conflict { message, .. }) => g.errors.push(RowError { line: g.first_line, message }),
            Err(ServiceError::NotFound) => {
                g.errors.push(RowError { line: g.first_line, message: "product: it was deleted meanwhile".into() })
            }
            Err(e) => return Err(e),
        }
    }
    for g in &groups {
        report.errors.extend(g.errors.iter().cloned());
    }
    report.errors.sort_by_key(|e| e.line);
    if !report.errors.is_empty() && !skip_bad {
        report.rejected = true;
        return Ok(report);
    }
    let total = groups.len();
    report.skipped_products = total - good.len();
    let skipped = report.skipped_products;
    progress(skipped, total);
    let (created, updated) = catalog_batch::write(app, ctx, good, |done| progress(skipped + done, total)).await?;
    tracing::info!(created, updated, ms = started.elapsed().as_millis() as u64, "import: written");
    report.created = created;
    report.updated = updated;
    if let Err(e) = app.db.refresh_statistics().await {
        tracing::warn!(error = %e, "refreshing planner statistics after an import failed");
    }
    Ok(report)
}

/// The file line a field error points at (`variants[2].sku` → the third row
/// of the product), else the product's first line.
fn line_of(g: &Group, field: &str) -> u64 {
    field
        .strip_prefix("variants[")
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|i| g.lines.get(i).copied())
        .unwrap_or(g.first_line)
}
