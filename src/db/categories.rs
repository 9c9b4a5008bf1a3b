//! SQL for the category tree, its texts, and product placement.

use sqlx::Row;

use super::Tx;

pub struct CategoryRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub position: i64,
}

pub struct CategoryText {
    pub category_id: String,
    pub lang: String,
    pub name: String,
    pub slug: String,
}

pub async fn insert(tx: &mut Tx, store_id: &str, c: &CategoryRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO categories (store_id, id, parent_id, position, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(store_id)
        .bind(&c.id)
        .bind(&c.parent_id)
        .bind(c.position)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn insert_text(tx: &mut Tx, store_id: &str, t: &CategoryText) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO category_texts (store_id, category_id, lang, name, slug) VALUES ($1, $2, $3, $4, $5)")
        .bind(store_id)
        .bind(&t.category_id)
        .bind(&t.lang)
        .bind(&t.name)
        .bind(&t.slug)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The whole tree of a store (categories number in the hundreds at most).
pub async fn all<'e, E>(ex: E, store_id: &str) -> Result<Vec<CategoryRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id, parent_id, position FROM categories WHERE store_id = $1 ORDER BY position, id LIMIT 10000")
        .bind(store_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(CategoryRow {
                id: r.try_get("id")?,
                parent_id: r.try_get("parent_id")?,
                position: r.try_get("position")?,
            })
        })
        .collect()
}

pub async fn all_texts<'e, E>(ex: E, store_id: &str) -> Result<Vec<CategoryText>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT category_id, lang, name, slug FROM category_texts WHERE store_id = $1 LIMIT 100000")
        .bind(store_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(CategoryText {
                category_id: r.try_get("category_id")?,
                lang: r.try_get("lang")?,
                name: r.try_get("name")?,
                slug: r.try_get("slug")?,
            })
        })
        .collect()
}

/// Moves or reorders a category; false when there is no such category.
pub async fn update(
    tx: &mut Tx,
    store_id: &str,
    id: &str,
    parent_id: Option<&str>,
    position: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE categories SET parent_id = $3, position = $4 WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .bind(parent_id)
        .bind(position)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_texts(tx: &mut Tx, store_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM category_texts WHERE store_id = $1 AND category_id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Locks the store's category rows until the transaction ends (a no-op
/// update: row locks on PostgreSQL; SQLite's one writer serialises anyway).
pub async fn lock_tree(tx: &mut Tx, store_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE categories SET position = position WHERE store_id = $1")
        .bind(store_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes a category, its texts and its product placements; returns how
/// many products were in it.
pub async fn delete(tx: &mut Tx, store_id: &str, id: &str) -> Result<u64, sqlx::Error> {
    let placed = sqlx::query("DELETE FROM product_categories WHERE store_id = $1 AND category_id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    delete_texts(tx, store_id, id).await?;
    sqlx::query("DELETE FROM categories WHERE store_id = $1 AND id = $2")
        .bind(store_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(placed)
}

pub async fn slug_owner(tx: &mut Tx, store_id: &str, lang: &str, slug: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT category_id FROM category_texts WHERE store_id = $1 AND lang = $2 AND slug = $3")
        .bind(store_id)
        .bind(lang)
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn set_product_categories(
    tx: &mut Tx,
    store_id: &str,
    product_id: &str,
    ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_categories WHERE store_id = $1 AND product_id = $2")
        .bind(store_id)
        .bind(product_id)
        .execute(&mut **tx)
        .await?;
    for id in ids {
        sqlx::query("INSERT INTO product_categories (store_id, product_id, category_id) VALUES ($1, $2, $3)")
            .bind(store_id)
            .bind(product_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn product_categories<'e, E>(ex: E, store_id: &str, product_id: &str) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT category_id FROM product_categories WHERE store_id = $1 AND product_id = $2 ORDER BY category_id",
    )
    .bind(store_id)
    .bind(product_id)
    .fetch_all(ex)
    .await
}

/// Visible products placed in any of `category_ids`, newest first, after
/// the cursor (a product id), at most `limit`.
pub async fn visible_products_in<'e, E>(
    ex: E,
    store_id: &str,
    category_ids: &[String],
    now: i64,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if category_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (0..category_ids.len()).map(|i| format!("${}", i + 5)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        // Walks products newest first and keeps those in the categories:
        // bounded by the page size for any but very sparse categories.
        "SELECT p.id FROM products p
         WHERE p.store_id = $1 AND {} AND ($3 = '' OR p.id < $3)
           AND p.id IN (SELECT product_id FROM product_categories WHERE store_id = $1 AND category_id IN ({list}))
         ORDER BY p.id DESC LIMIT $4",
        super::catalog::VISIBLE_AS_P
    );
    let mut q =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(store_id).bind(now).bind(after.unwrap_or("")).bind(limit);
    for id in category_ids {
        q = q.bind(id);
    }
    q.fetch_all(ex).await
}
