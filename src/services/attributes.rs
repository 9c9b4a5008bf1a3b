//! Attribute definitions and product types: what typed facts a product of
//! a given type carries (material, weight, colour…), in every language.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::actor::{Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::attributes as sql;
use crate::domain::attributes::{AttributeDef, AttributeKind, AttributeValue, Choice, is_valid_code};
use crate::domain::ids;
use crate::domain::locale::Language;
use crate::domain::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeInput {
    /// Stable code used in product input, filters and URLs, e.g. `colour`.
    pub code: String,
    pub kind: AttributeKind,
    /// Shown after numbers, e.g. `kg`.
    #[serde(default)]
    pub unit: Option<String>,
    /// Offered as a search facet.
    #[serde(default)]
    pub filterable: bool,
    /// Name by language; the store's default language is required.
    pub names: BTreeMap<Language, String>,
    /// For `choice` and `multi_choice`: the allowed values.
    #[serde(default)]
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttributeView {
    pub id: String,
    #[serde(flatten)]
    pub input: AttributeInput,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductTypeInput {
    pub code: String,
    pub name: String,
    /// Attribute codes, in display order.
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductTypeView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub attributes: Vec<String>,
}

fn def_from_row(r: sql::AttributeRow) -> AttributeDef {
    AttributeDef {
        kind: AttributeKind::parse(&r.kind).unwrap_or(AttributeKind::Text),
        names: serde_json::from_str(&r.names).unwrap_or_default(),
        choices: serde_json::from_str(&r.choices).unwrap_or_default(),
        id: r.id,
        code: r.code,
        unit: r.unit,
        filterable: r.filterable,
    }
}

/// Every attribute of a store (for product checks, pages and the index).
pub async fn definitions(app: &App, store_id: &str) -> ServiceResult<Vec<AttributeDef>> {
    Ok(sql::attributes(app.db.pool(), store_id).await?.into_iter().map(def_from_row).collect())
}

fn view(d: AttributeDef) -> AttributeView {
    AttributeView {
        id: d.id,
        input: AttributeInput {
            code: d.code,
            kind: d.kind,
            unit: d.unit,
            filterable: d.filterable,
            names: d.names,
            choices: d.choices,
        },
    }
}

pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<AttributeView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    Ok(definitions(app, &ctx.store.id).await?.into_iter().map(view).collect())
}

/// The checks every attribute definition passes, new or edited.
fn check(ctx: &Ctx, input: &AttributeInput) -> ServiceResult<()> {
    let mut errs = FieldErrors::default();
    if !is_valid_code(&input.code) {
        errs.add("code", "invalid_format", "code: 1 to 40 of a-z, 0-9, - and _");
    }
    if !input.names.contains_key(&ctx.store.brand.default_language) {
        errs.add("names", "default_language_missing", "names must include the store's default language");
    }
    for (l, n) in &input.names {
        errs.text(&format!("names.{}", l.code()), n, 1, 80);
    }
    if let Some(u) = &input.unit {
        errs.text("unit", u, 1, 12);
    }
    if input.kind.has_choices() {
        let mut seen = BTreeSet::new();
        if input.choices.is_empty() || input.choices.len() > 200 {
            errs.add("choices", "invalid_length", "1 to 200 choices");
        }
        for (i, c) in input.choices.iter().enumerate() {
            if !is_valid_code(&c.code) || !seen.insert(c.code.clone()) {
                errs.add(&format!("choices[{i}].code"), "invalid_format", "unique codes of a-z, 0-9, - and _");
            }
            if c.labels.is_empty() || c.labels.values().any(|l| l.trim().is_empty() || l.chars().count() > 80) {
                errs.add(&format!("choices[{i}].labels"), "invalid_length", "labels of 1 to 80 characters");
            }
        }
    } else if !input.choices.is_empty() {
        errs.add("choices", "not_allowed", "only choice attributes have choices");
    }
    Ok(errs.finish(())?)
}

pub async fn create(app: &App, ctx: &Ctx, input: AttributeInput) -> ServiceResult<AttributeView> {
    ctx.actor.require(Permission::CatalogManage)?;
    check(ctx, &input)?;
    let row = sql::AttributeRow {
        id: ids::new_id("att"),
        code: input.code.clone(),
        kind: input.kind.as_str().into(),
        unit: input.unit.clone(),
        filterable: input.filterable,
        names: serde_json::to_string(&input.names).unwrap_or_default(),
        choices: serde_json::to_string(&input.choices).unwrap_or_default(),
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = sql::insert_attribute(&mut tx, &ctx.store.id, &row, now_ms()).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict {
                code: "attribute_code_taken",
                message: "an attribute with this code exists".into(),
            }
        } else {
            e.into()
        });
    }
    audit::record(app, &mut tx, ctx, "catalog.attribute_created", &row.id, json!({ "code": row.code })).await?;
    tx.commit().await?;
    app.catalog_changed(&ctx.store.id);
    Ok(AttributeView { id: row.id, input })
}

/// Edits an attribute's names, unit, facet flag and choices. Its code and
/// kind stay (products, types and filters refer to them); a choice that a
/// product still uses cannot be removed. Products are re-indexed.
pub async fn update(app: &App, ctx: &Ctx, id: &str, input: AttributeInput) -> ServiceResult<AttributeView> {
    ctx.actor.require(Permission::CatalogManage)?;
    check(ctx, &input)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let current =
        sql::attribute_for_update(&mut tx, store_id, id).await?.map(def_from_row).ok_or(ServiceError::NotFound)?;
    let mut errs = FieldErrors::default();
    if input.code != current.code {
        errs.add("code", "immutable", "an attribute's code cannot change");
    }
    if input.kind != current.kind {
        errs.add("kind", "immutable", "an attribute's kind cannot change");
    }
    errs.finish(())?;
    if current.kind.has_choices() {
        let kept: BTreeSet<&str> = input.choices.iter().map(|c| c.code.as_str()).collect();
        let dropped: Vec<&str> =
            current.choices.iter().map(|c| c.code.as_str()).filter(|c| !kept.contains(c)).collect();
        if !dropped.is_empty() {
            let used = used_choices(&sql::values_of(&mut tx, store_id, id).await?);
            if let Some(c) = dropped.iter().find(|c| used.contains(**c)) {
                return Err(ServiceError::Conflict {
                    code: "choice_in_use",
                    message: format!("products use the choice {c}; change them first"),
                });
            }
        }
    }
    let row = sql::AttributeRow {
        id: id.to_string(),
        code: current.code,
        kind: current.kind.as_str().into(),
        unit: input.unit.clone(),
        filterable: input.filterable,
        names: serde_json::to_string(&input.names).unwrap_or_default(),
        choices: serde_json::to_string(&input.choices).unwrap_or_default(),
    };
    sql::update_attribute(&mut tx, store_id, &row).await?;
    outbox::emit(&mut tx, store_id, "attribute.updated", json!({ "attribute_id": id })).await?;
    audit::record(app, &mut tx, ctx, "catalog.attribute_updated", id, json!({ "code": row.code })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    Ok(AttributeView { id: id.to_string(), input })
}

/// Choice codes found in stored values (`"red"` or `["red", "blue"]`).
fn used_choices(values: &[String]) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for v in values {
        match serde_json::from_str::<Value>(v) {
            Ok(Value::String(c)) => {
                used.insert(c);
            }
            Ok(Value::Array(cs)) => used.extend(cs.into_iter().filter_map(|c| c.as_str().map(str::to_string))),
            _ => {}
        }
    }
    used
}

/// Deletes an attribute no product type lists and no product has a value
/// for (409 otherwise, naming what still uses it).
pub async fn delete(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.actor.require(Permission::CatalogManage)?;
    let store_id = &ctx.store.id;
    let mut tx = app.db.begin().await?;
    let current = sql::attribute_for_update(&mut tx, store_id, id).await?.ok_or(ServiceError::NotFound)?;
    let types: Vec<String> = sql::types(&mut *tx, store_id)
        .await?
        .into_iter()
        .filter(|t| serde_json::from_str::<Vec<String>>(&t.attributes).unwrap_or_default().iter().any(|a| a == id))
        .map(|t| t.code)
        .collect();
    if !types.is_empty() {
        return Err(ServiceError::Conflict {
            code: "attribute_in_use",
            message: format!("product types use it: {}; remove it from them first", types.join(", ")),
        });
    }
    let values = sql::values_of(&mut tx, store_id, id).await?.len();
    if values > 0 {
        return Err(ServiceError::Conflict {
            code: "attribute_in_use",
            message: format!("{values} products have a value for it; remove the values first"),
        });
    }
    sql::delete_attribute(&mut tx, store_id, id).await?;
    outbox::emit(&mut tx, store_id, "attribute.deleted", json!({ "attribute_id": id, "code": current.code })).await?;
    audit::record(app, &mut tx, ctx, "catalog.attribute_deleted", id, json!({ "code": current.code })).await?;
    tx.commit().await?;
    app.wake_outbox();
    app.catalog_changed(store_id);
    Ok(())
}

pub async fn list_types(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ProductTypeView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    let codes: HashMap<String, String> =
        definitions(app, &ctx.store.id).await?.into_iter().map(|d| (d.id, d.code)).collect();
    Ok(sql::types(app.db.pool(), &ctx.store.id)
        .await?
        .into_iter()
        .map(|t| {
            let ids: Vec<String> = serde_json::from_str(&t.attributes).unwrap_or_default();
            ProductTypeView {
                id: t.id,
                code: t.code,
                name: t.name,
                attributes: ids.iter().filter_map(|i| codes.get(i).cloned()).collect(),
            }
        })
        .collect())
}

pub async fn create_type(app: &App, ctx: &Ctx, input: ProductTypeInput) -> ServiceResult<ProductTypeView> {
    ctx.actor.require(Permission::CatalogManage)?;
    let defs = definitions(app, &ctx.store.id).await?;
    let mut errs = FieldErrors::default();
    if !is_valid_code(&input.code) {
        errs.add("code", "invalid_format", "code: 1 to 40 of a-z, 0-9, - and _");
    }
    errs.text("name", &input.name, 1, 80);
    let mut attribute_ids = Vec::new();
    for (i, code) in input.attributes.iter().enumerate() {
        match defs.iter().find(|d| &d.code == code) {
            Some(d) if !attribute_ids.contains(&d.id) => attribute_ids.push(d.id.clone()),
            Some(_) => errs.add(&format!("attributes[{i}]"), "duplicate", "each attribute once"),
            None => errs.add(&format!("attributes[{i}]"), "unknown_attribute", format!("no attribute {code}")),
        }
    }
    errs.finish(())?;
    let row = sql::ProductTypeRow {
        id: ids::new_id("pty"),
        code: input.code.clone(),
        name: input.name.trim().into(),
        attributes: serde_json::to_string(&attribute_ids).unwrap_or_default(),
    };
    let mut tx = app.db.begin().await?;
    if let Err(e) = sql::insert_type(&mut tx, &ctx.store.id, &row, now_ms()).await {
        return Err(if crate::db::is_unique_violation(&e) {
            ServiceError::Conflict {
                code: "product_type_code_taken",
                message: "a product type with this code exists".into(),
            }
        } else {
            e.into()
        });
    }
    audit::record(app, &mut tx, ctx, "catalog.product_type_created", &row.id, json!({ "code": row.code })).await?;
    outbox::emit(&mut tx, &ctx.store.id, "product_type.created", json!({ "product_type_id": row.id })).await?;
    tx.commit().await?;
    app.catalog_changed(&ctx.store.id);
    Ok(ProductTypeView { id: row.id, code: row.code, name: row.name, attributes: input.attributes })
}

/// A product's type and values as checked for saving: (type id, values as
/// (attribute id, JSON text)), or the field errors.
pub struct CheckedValues {
    pub type_id: Option<String>,
    pub values: Vec<(String, String)>,
}

/// The store's product types and attribute definitions, read once to check
/// many products (imports).
pub struct ValueRules {
    types: Vec<sql::ProductTypeRow>,
    defs: Vec<AttributeDef>,
}

pub async fn value_rules(app: &App, store_id: &str) -> ServiceResult<ValueRules> {
    Ok(ValueRules { types: sql::types(app.db.pool(), store_id).await?, defs: definitions(app, store_id).await? })
}

impl ValueRules {
    /// Checks a product's `product_type` and `attributes` input: every value
    /// belongs to an attribute of the type and fits its kind.
    pub fn check(
        &self,
        product_type: Option<&str>,
        attributes: &BTreeMap<String, Value>,
    ) -> Result<CheckedValues, FieldErrors> {
        let mut errs = FieldErrors::default();
        let Some(code) = product_type else {
            if !attributes.is_empty() {
                errs.add("attributes", "no_product_type", "attributes need a product_type");
            }
            return errs.finish(CheckedValues { type_id: None, values: Vec::new() });
        };
        let Some(t) = self.types.iter().find(|t| t.code == code) else {
            errs.add("product_type", "unknown_product_type", format!("no product type {code}"));
            return Err(errs);
        };
        let allowed: Vec<String> = serde_json::from_str(&t.attributes).unwrap_or_default();
        let mut values = Vec::new();
        for (code, raw) in attributes {
            let field = format!("attributes.{code}");
            match self.defs.iter().find(|d| &d.code == code && allowed.contains(&d.id)) {
                None => errs.add(&field, "unknown_attribute", format!("the type {} has no attribute {code}", t.code)),
                Some(d) => match d.parse_value(raw) {
                    Ok(v) => values.push((d.id.clone(), v.to_json().to_string())),
                    Err(reason) => errs.add(&field, "invalid_value", reason),
                },
            }
        }
        errs.finish(CheckedValues { type_id: Some(t.id.clone()), values })
    }
}

/// [`ValueRules::check`] for one product.
pub async fn check_values(
    app: &App,
    store_id: &str,
    product_type: Option<&str>,
    attributes: &BTreeMap<String, Value>,
) -> ServiceResult<CheckedValues> {
    if product_type.is_none() && attributes.is_empty() {
        return Ok(CheckedValues { type_id: None, values: Vec::new() });
    }
    Ok(value_rules(app, store_id).await?.check(product_type, attributes)?)
}

/// A product's type code and values by attribute code, as the API shows them.
pub async fn product_values(
    app: &App,
    store_id: &str,
    product_id: &str,
) -> ServiceResult<(Option<String>, BTreeMap<String, Value>)> {
    let (type_id, values) = sql::product_values(app.db.pool(), store_id, product_id).await?;
    let Some(type_id) = type_id else { return Ok((None, BTreeMap::new())) };
    let code = sql::types(app.db.pool(), store_id).await?.into_iter().find(|t| t.id == type_id).map(|t| t.code);
    let defs = definitions(app, store_id).await?;
    let values = values
        .into_iter()
        .filter_map(|(aid, v)| {
            let d = defs.iter().find(|d| d.id == aid)?;
            Some((d.code.clone(), serde_json::from_str(&v).ok()?))
        })
        .collect();
    Ok((code, values))
}

/// Stored values parsed back against their definitions, in definition order
/// (for pages and the search index).
pub fn typed_values<'a>(
    defs: &'a [AttributeDef],
    stored: &[(String, String)],
) -> Vec<(&'a AttributeDef, AttributeValue)> {
    defs.iter()
        .filter_map(|d| {
            let (_, raw) = stored.iter().find(|(aid, _)| *aid == d.id)?;
            let json: Value = serde_json::from_str(raw).ok()?;
            Some((d, d.parse_value(&json).ok()?))
        })
        .collect()
}
