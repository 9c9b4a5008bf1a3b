-- Fraud risk: each store's rules, every payment attempt's assessment (the
-- history velocity rules count), and blocked lists of keyed hashes.
CREATE TABLE risk_settings (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    settings   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (store_id)
);

CREATE TABLE risk_assessments (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    payment_id  TEXT NOT NULL,
    method      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    score       BIGINT NOT NULL,
    -- allow, review or deny.
    decision    TEXT NOT NULL,
    -- JSON: the rules that fired and their points.
    reasons     TEXT NOT NULL,
    -- Keyed hashes (blind indexes) for velocity counts; '' when unknown.
    customer_id TEXT NOT NULL,
    email_hash  TEXT NOT NULL,
    card_hash   TEXT NOT NULL,
    ip_hash     TEXT NOT NULL,
    -- '' (none asked), pending, approved or rejected.
    review      TEXT NOT NULL,
    reviewed_by TEXT NOT NULL,
    reviewed_at BIGINT,
    review_note TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX risk_by_order ON risk_assessments (store_id, order_id, created_at);
CREATE INDEX risk_by_card ON risk_assessments (store_id, card_hash, created_at);
CREATE INDEX risk_by_email ON risk_assessments (store_id, email_hash, created_at);
CREATE INDEX risk_by_customer ON risk_assessments (store_id, customer_id, created_at);
CREATE INDEX risk_by_ip ON risk_assessments (store_id, ip_hash, created_at);
CREATE INDEX risk_reviews ON risk_assessments (store_id, review, created_at);

CREATE TABLE risk_blocks (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    -- Keyed hash of the normalised value: no e-mail, address or card kept.
    value_hash TEXT NOT NULL,
    -- What staff see: masked for personal data.
    label      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, kind, value_hash)
);
