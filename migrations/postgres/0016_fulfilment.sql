-- Fulfilment: shipments from a stock location with carrier and tracking,
-- the units of each order line they carry, and delivery confirmation.

-- Units of the line shipped so far (never more than ordered: guarded updates).
ALTER TABLE order_lines ADD COLUMN shipped BIGINT NOT NULL DEFAULT 0;

CREATE TABLE shipments (
    store_id        TEXT NOT NULL REFERENCES stores(id),
    id              TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    location_id     TEXT NOT NULL,
    carrier         TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    -- `shipped` or `delivered`.
    status          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    shipped_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX shipments_order ON shipments (store_id, order_id, shipped_at);

CREATE TABLE shipment_lines (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    shipment_id TEXT NOT NULL,
    line_no     BIGINT NOT NULL,
    quantity    BIGINT NOT NULL,
    PRIMARY KEY (store_id, shipment_id, line_no),
    CHECK (quantity >= 1)
);
