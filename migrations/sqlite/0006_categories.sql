-- Categories: a tree per store, with per-language names and slugs, and
-- the products placed in each.

CREATE TABLE categories (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    parent_id  TEXT,
    position   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
);

CREATE TABLE category_texts (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    category_id TEXT NOT NULL,
    lang        TEXT NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    PRIMARY KEY (store_id, category_id, lang),
    UNIQUE (store_id, lang, slug)
);

CREATE TABLE product_categories (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    product_id  TEXT NOT NULL,
    category_id TEXT NOT NULL,
    PRIMARY KEY (store_id, product_id, category_id)
);
CREATE INDEX product_categories_category ON product_categories (store_id, category_id, product_id);
