-- Typed attributes (defined per store, grouped into product types) and
-- their values on products; and the time index the search index reads
-- the event log by.

CREATE TABLE attributes (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    code       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    unit       TEXT,
    filterable BIGINT NOT NULL,
    -- {"en": "Colour", "de": "Farbe"}
    names      TEXT NOT NULL,
    -- [{"code": "red", "labels": {"en": "Red", "de": "Rot"}}]
    choices    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code),
    CHECK (kind IN ('text', 'number', 'boolean', 'choice', 'multi_choice'))
);

CREATE TABLE product_types (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    -- ["att_…", …] in display order
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code)
);

ALTER TABLE products ADD COLUMN type_id TEXT;

CREATE TABLE product_attributes (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    product_id   TEXT NOT NULL,
    attribute_id TEXT NOT NULL,
    -- JSON by kind: {"en": "…"} (text), "2.5" (number), true, "red", ["red", "blue"]
    value        TEXT NOT NULL,
    PRIMARY KEY (store_id, product_id, attribute_id)
);

CREATE INDEX outbox_events_time ON outbox_events (created_at);
