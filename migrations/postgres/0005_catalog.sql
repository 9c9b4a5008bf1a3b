-- Catalog: sales channels, products with per-language texts, variants
-- (SKU, barcode, option values) and their prices per channel, in tiers.

CREATE TABLE channels (
    store_id           TEXT NOT NULL REFERENCES stores(id),
    id                 TEXT NOT NULL,
    code               TEXT NOT NULL,
    name               TEXT NOT NULL,
    currency           TEXT NOT NULL,
    prices_include_tax BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code)
);

CREATE TABLE products (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    publish_at   BIGINT,
    unpublish_at BIGINT,
    tags         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (status IN ('draft', 'published', 'archived'))
);
CREATE INDEX products_status ON products (store_id, status, id);

CREATE TABLE product_texts (
    store_id        TEXT NOT NULL REFERENCES stores(id),
    product_id      TEXT NOT NULL,
    lang            TEXT NOT NULL,
    name            TEXT NOT NULL,
    slug            TEXT NOT NULL,
    description     TEXT NOT NULL,
    seo_title       TEXT NOT NULL,
    seo_description TEXT NOT NULL,
    PRIMARY KEY (store_id, product_id, lang),
    UNIQUE (store_id, lang, slug)
);
-- Product pages look a slug up in any language.
CREATE INDEX product_texts_slug ON product_texts (store_id, slug);

CREATE TABLE variants (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    sku          TEXT NOT NULL,
    gtin         TEXT,
    options      TEXT NOT NULL,
    weight_grams BIGINT,
    position     BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, sku)
);
CREATE INDEX variants_product ON variants (store_id, product_id, position);

CREATE TABLE prices (
    store_id       TEXT NOT NULL REFERENCES stores(id),
    channel_id     TEXT NOT NULL,
    variant_id     TEXT NOT NULL,
    min_qty        BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    sale_amount    BIGINT,
    sale_starts_at BIGINT,
    sale_ends_at   BIGINT,
    -- Variant first: pages read a product's prices by variant.
    PRIMARY KEY (store_id, variant_id, channel_id, min_qty),
    CHECK (amount >= 0 AND min_qty >= 1)
);

-- Every existing store gets its web channel (new stores get one when created).
INSERT INTO channels (store_id, id, code, name, currency, prices_include_tax, created_at)
SELECT id, 'chn_' || substr(id, 5), 'web', 'Web store', currency, 1, created_at FROM stores;
