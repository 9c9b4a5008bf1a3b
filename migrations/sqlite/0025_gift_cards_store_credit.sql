-- Gift cards and store credit: balances the store owes, spent as payment.
-- A balance never goes below zero: spending is one conditional update
-- (`balance >= amount`), with the CHECK as the backstop.

CREATE TABLE gift_cards (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    -- SHA-256 of the normalised code; the code itself is shown once.
    code_hash  TEXT NOT NULL,
    last4      TEXT NOT NULL,
    currency   TEXT NOT NULL,
    initial    INTEGER NOT NULL,
    balance    INTEGER NOT NULL,
    -- Unix ms, or NULL for a card that never expires.
    expires_at INTEGER,
    -- sold (paid for) or promotion (given away).
    origin     TEXT NOT NULL,
    note       TEXT NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code_hash),
    CHECK (initial > 0 AND balance >= 0 AND balance <= initial)
);

CREATE TABLE store_credit (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    customer_id TEXT NOT NULL,
    currency    TEXT NOT NULL,
    balance     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (store_id, customer_id, currency),
    CHECK (balance >= 0)
);
