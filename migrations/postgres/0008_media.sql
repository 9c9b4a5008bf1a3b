-- Product media: images re-encoded on upload, stored as blobs (the table
-- holds their keys), a thumbnail per configured width, alt text per
-- language, and an order per product.

CREATE TABLE product_media (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    position     BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    width        BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    byte_size    BIGINT NOT NULL,
    blob_key     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, product_id) REFERENCES products (store_id, id),
    CHECK (content_type IN ('image/jpeg', 'image/png') AND width > 0 AND height > 0 AND byte_size > 0)
);
-- Galleries read a product's media in order.
CREATE INDEX product_media_product ON product_media (store_id, product_id, position);

CREATE TABLE product_media_thumbs (
    store_id  TEXT NOT NULL REFERENCES stores(id),
    media_id  TEXT NOT NULL,
    width     BIGINT NOT NULL,
    height    BIGINT NOT NULL,
    byte_size BIGINT NOT NULL,
    blob_key  TEXT NOT NULL,
    PRIMARY KEY (store_id, media_id, width),
    FOREIGN KEY (store_id, media_id) REFERENCES product_media (store_id, id)
);

CREATE TABLE product_media_texts (
    store_id TEXT NOT NULL REFERENCES stores(id),
    media_id TEXT NOT NULL,
    lang     TEXT NOT NULL,
    alt      TEXT NOT NULL,
    PRIMARY KEY (store_id, media_id, lang),
    FOREIGN KEY (store_id, media_id) REFERENCES product_media (store_id, id)
);
