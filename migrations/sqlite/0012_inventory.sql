-- Inventory: stock locations (warehouses, shops), stock per variant and
-- location, how each variant is sold when stock runs out, and the journal
-- of every movement. Reservations for unpaid orders are the `reserved`
-- part of a level: available = on_hand - reserved, never below zero.

CREATE TABLE stock_locations (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    -- ISO 3166-1 alpha-2: "nearest" allocation ships from the buyer's country first.
    country    TEXT NOT NULL,
    -- Lower first when allocating by priority.
    priority   INTEGER NOT NULL,
    active     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code)
);

CREATE TABLE stock_levels (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    variant_id  TEXT NOT NULL,
    location_id TEXT NOT NULL,
    on_hand     INTEGER NOT NULL,
    reserved    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- Variant first: pages and checkout read a variant's levels.
    PRIMARY KEY (store_id, variant_id, location_id),
    CHECK (on_hand >= 0 AND reserved >= 0 AND reserved <= on_hand)
);
CREATE INDEX stock_levels_location ON stock_levels (store_id, location_id, variant_id);

-- Per variant; a variant without a row follows its product's kind.
CREATE TABLE stock_settings (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    variant_id   TEXT NOT NULL,
    policy       TEXT NOT NULL,
    low_stock_at INTEGER,
    restock_at   INTEGER,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (store_id, variant_id),
    CHECK (policy IN ('track', 'backorder', 'preorder', 'untracked')),
    CHECK (low_stock_at IS NULL OR low_stock_at >= 0)
);

-- Append-only: every change of a level, with why and by whom.
CREATE TABLE stock_movements (
    store_id       TEXT NOT NULL REFERENCES stores(id),
    id             TEXT NOT NULL,
    variant_id     TEXT NOT NULL,
    location_id    TEXT NOT NULL,
    kind           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    on_hand_delta  INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    on_hand_after  INTEGER NOT NULL,
    reserved_after INTEGER NOT NULL,
    note           TEXT NOT NULL,
    -- What caused it: a transfer, an order, a return.
    reference      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX stock_movements_variant ON stock_movements (store_id, variant_id, id);
CREATE INDEX stock_movements_location ON stock_movements (store_id, location_id, id);
