-- Customer groups (e.g. wholesale, members) and price lists: prices for a
-- channel, optionally only for one group and only within a time window, in
-- volume tiers. A customer pays the lowest price that applies to them.

CREATE TABLE customer_groups (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code)
);

CREATE TABLE customer_group_members (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    customer_id TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    -- Customer first: pricing reads a customer's groups.
    PRIMARY KEY (store_id, customer_id, group_id)
);
CREATE INDEX customer_group_members_group ON customer_group_members (store_id, group_id, customer_id);

CREATE TABLE price_lists (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    -- NULL: everyone in the channel (e.g. a seasonal list).
    group_id   TEXT,
    starts_at  INTEGER,
    ends_at    INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code)
);

CREATE TABLE price_list_prices (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    price_list_id TEXT NOT NULL,
    variant_id    TEXT NOT NULL,
    min_qty       INTEGER NOT NULL,
    amount        INTEGER NOT NULL,
    PRIMARY KEY (store_id, price_list_id, variant_id, min_qty),
    CHECK (amount >= 0 AND min_qty >= 1)
);
-- Product pages read the list prices of a product's variants.
CREATE INDEX price_list_prices_variant ON price_list_prices (store_id, variant_id);
