//! SQL for attribute definitions, product types and product values.

use sqlx::Row;

use super::Tx;

pub struct AttributeRow {
    pub id: String,
    pub code: String,
    pub kind: String,
    pub unit: Option<String>,
    pub filterable: bool,
    pub names: String,
    pub choices: String,
}

pub async fn insert_attribute(tx: &mut Tx, store_id: &str, a: &AttributeRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attributes (store_id, id, code, kind, unit, filterable, names, choices, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(store_id)
    .bind(&a.id)
    .bind(&a.code)
    .bind(&a.kind)
    .bind(&a.unit)
    .bind(i64::from(a.filterable))
    .bind(&a.names)
    .bind(&a.choices)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One attribute, locked until the transaction ends (a no-op update
/// first: a row lock on PostgreSQL), so checks of its use hold at commit.
pub async fn attribute_for_update(tx: &mut Tx, store_id: &str, id: &str) -> Result<Option<AttributeRow>, sqlx::Error> {
    sqlx::query("UPDATE attributes SET code = code WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(attributes(&mut **tx, store_id).await?.into_iter().find(|a| a.id == id))
}

pub async fn update_attribute(tx: &mut Tx, store_id: &str, a: &AttributeRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE attributes SET unit = $3, filterable = $4, names = $5, choices = $6 WHERE store_id = $1 AND id = $2",
    )
    .bind(store_id)
    .bind(&a.id)
    .bind(&a.unit)
    .bind(i64::from(a.filterable))
    .bind(&a.names)
    .bind(&a.choices)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_attribute(tx: &mut Tx, store_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM attributes WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every stored value of one attribute (JSON text).
pub async fn values_of(tx: &mut Tx, store_id: &str, attribute_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM product_attributes WHERE store_id = $1 AND attribute_id = $2")
        .bind(store_id)
        .bind(attribute_id)
        .fetch_all(&mut **tx)
        .await
}

pub async fn attributes<'e, E>(ex: E, store_id: &str) -> Result<Vec<AttributeRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT id, code, kind, unit, filterable, names, choices FROM attributes WHERE store_id = $1 ORDER BY code LIMIT 1000",
    )
    .bind(store_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(AttributeRow {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            kind: r.try_get("kind")?,
            unit: r.try_get("unit")?,
            filterable: r.try_get::<i64, _>("filterable")? != 0,
            names: r.try_get("names")?,
            choices: r.try_get("choices")?,
        })
    })
    .collect()
}

pub struct ProductTypeRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub attributes: String,
}

pub async fn insert_type(tx: &mut Tx, store_id: &str, t: &ProductTypeRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO product_types (store_id, id, code, name, attributes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(store_id)
    .bind(&t.id)
    .bind(&t.code)
    .bind(&t.name)
    .bind(&t.attributes)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn types<'e, E>(ex: E, store_id: &str) -> Result<Vec<ProductTypeRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, code, name, attributes FROM product_types WHERE store_id = $1 ORDER BY code LIMIT 1000")
        .bind(store_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(ProductTypeRow {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                attributes: r.try_get("attributes")?,
            })
        })
        .collect()
}

/// Sets a product's type and replaces its attribute values.
pub async fn set_product_values(
    tx: &mut Tx,
    store_id: &str,
    product_id: &str,
    type_id: Option<&str>,
    values: &[(String, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE products SET type_id = $3 WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(product_id)
        .bind(type_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM product_attributes WHERE store_id = $1 AND product_id = $2")
        .bind(store_id)
        .bind(product_id)
        .execute(&mut **tx)
        .await?;
    for (attribute_id, value) in values {
        sqlx::query(
            "INSERT INTO product_attributes (store_id, product_id, attribute_id, value) VALUES ($1, $2, $3, $4)",
        )
        .bind(store_id)
        .bind(product_id)
        .bind(attribute_id)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// (type id, [(attribute id, JSON value)]) of a product.
pub async fn product_values<'e, E>(
    ex: E,
    store_id: &str,
    product_id: &str,
) -> Result<(Option<String>, Vec<(String, String)>), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    let type_id: Option<String> = sqlx::query_scalar("SELECT type_id FROM products WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(product_id)
        .fetch_optional(ex)
        .await?
        .flatten();
    let values =
        sqlx::query("SELECT attribute_id, value FROM product_attributes WHERE store_id = $1 AND product_id = $2")
            .bind(store_id)
            .bind(product_id)
            .fetch_all(ex)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("attribute_id")?, r.try_get("value")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((type_id, values))
}
