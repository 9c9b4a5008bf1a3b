-- Customer addresses (sealed as one value each), e-mail verification and
-- erasure markers, and one-time tokens for verification and password reset.

ALTER TABLE customers ADD COLUMN email_verified_at INTEGER;
ALTER TABLE customers ADD COLUMN erased_at INTEGER;

CREATE TABLE customer_addresses (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    data_enc    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX customer_addresses_owner ON customer_addresses (store_id, customer_id);

CREATE TABLE one_time_tokens (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    token_hash   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    PRIMARY KEY (store_id, token_hash)
);

-- Outgoing e-mail, written in the transaction that causes it and delivered
-- by the mail worker (recipient and content sealed: they are personal data).
CREATE TABLE mail_outbox (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    message_enc TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    PRIMARY KEY (store_id, id),
    CHECK (status IN ('pending', 'sent', 'failed'))
);
CREATE INDEX mail_outbox_pending ON mail_outbox (status, created_at);
