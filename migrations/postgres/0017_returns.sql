-- Returns (RMA): what a customer sends back, why, what inspection found,
-- and the refund owed (executed by payments).

-- Units of the line in returns that are open or received.
ALTER TABLE order_lines ADD COLUMN returned BIGINT NOT NULL DEFAULT 0;

CREATE TABLE returns (
    store_id        TEXT NOT NULL REFERENCES stores(id),
    id              TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    -- requested, approved, rejected, received, cancelled.
    status          TEXT NOT NULL,
    -- refund or exchange.
    resolution      TEXT NOT NULL,
    comment         TEXT NOT NULL,
    -- What is owed once received (minor units of the order's currency).
    refund_goods    BIGINT NOT NULL,
    refund_shipping BIGINT NOT NULL,
    refund_total    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (refund_goods >= 0 AND refund_shipping >= 0 AND refund_total = refund_goods + refund_shipping)
);
CREATE INDEX returns_order ON returns (store_id, order_id, created_at);
CREATE INDEX returns_status ON returns (store_id, status, created_at);

CREATE TABLE return_lines (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    return_id  TEXT NOT NULL,
    line_no    BIGINT NOT NULL,
    quantity   BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    -- '' until received; then resellable or damaged.
    condition  TEXT NOT NULL,
    PRIMARY KEY (store_id, return_id, line_no),
    CHECK (quantity >= 1)
);
