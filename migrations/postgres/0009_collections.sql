-- Collections: a curated list of products (manual) or a saved search
-- (rule-based, e.g. tag = summer and price < 50), with per-language texts.

CREATE TABLE collections (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    -- Rule-based: {"facets": {"tag": ["summer"]}, "price_max": 5000, …}
    rules      TEXT NOT NULL,
    featured   BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (kind IN ('manual', 'rule'))
);

CREATE TABLE collection_texts (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    collection_id TEXT NOT NULL,
    lang          TEXT NOT NULL,
    name          TEXT NOT NULL,
    slug          TEXT NOT NULL,
    description   TEXT NOT NULL,
    PRIMARY KEY (store_id, collection_id, lang),
    UNIQUE (store_id, lang, slug)
);

CREATE TABLE collection_products (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    collection_id TEXT NOT NULL,
    product_id    TEXT NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (store_id, collection_id, product_id)
);
