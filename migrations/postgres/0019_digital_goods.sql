-- Digital goods: files a product delivers as download links, licence keys
-- from a pool, and what each paid order was given. Payment status moves
-- are recorded with who recorded them.

-- A product's downloadable files (kept in the blob store, never public).
CREATE TABLE digital_files (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    id            TEXT NOT NULL,
    product_id    TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    byte_size     BIGINT NOT NULL,
    blob_key      TEXT NOT NULL,
    -- How often and for how long each buyer's link works.
    max_downloads BIGINT NOT NULL,
    valid_days    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX digital_files_product ON digital_files (store_id, product_id);

-- The pool: a key is free while order_id is NULL. Keys are sealed (they
-- are what the customer pays for); key_index (a blind index) refuses
-- the same key twice for a product.
CREATE TABLE licence_keys (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    key_enc     TEXT NOT NULL,
    key_index   TEXT NOT NULL,
    order_id    TEXT,
    line_no     BIGINT,
    created_at  BIGINT NOT NULL,
    assigned_at BIGINT,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, product_id, key_index)
);
CREATE INDEX licence_keys_pool ON licence_keys (store_id, product_id, order_id, created_at);
CREATE INDEX licence_keys_order ON licence_keys (store_id, order_id);

-- One buyer's right to download one file: signed links name the grant.
CREATE TABLE download_grants (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    id            TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    line_no       BIGINT NOT NULL,
    file_id       TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    max_downloads BIGINT NOT NULL,
    downloads     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (downloads <= max_downloads)
);
CREATE INDEX download_grants_order ON download_grants (store_id, order_id);
