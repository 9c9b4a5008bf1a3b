-- Foundation: stores (tenants), people who can sign in, sessions,
-- idempotency records, the transactional outbox and webhook delivery.
-- Every business table carries store_id and leads its primary key with it,
-- so a store's rows stay together (and PostgreSQL can shard by it).
-- (PostgreSQL twin of the SQLite migration.) Times are Unix milliseconds (UTC); flags are 0/1 integers so the same
-- SQL reads the same on SQLite and PostgreSQL.

CREATE TABLE stores (
    id               TEXT PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    host             TEXT UNIQUE,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    slogan           TEXT NOT NULL DEFAULT '',
    logo_url         TEXT NOT NULL DEFAULT '',
    primary_color    TEXT NOT NULL DEFAULT '#1f6feb',
    default_language TEXT NOT NULL DEFAULT 'en',
    currency         TEXT NOT NULL DEFAULT 'EUR',
    is_default       BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- Personal data is stored sealed (`*_enc`, see domain::crypto) and looked
-- up through keyed hashes (`*_index`), never as plaintext.
CREATE TABLE staff_users (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    id            TEXT NOT NULL,
    email_index   TEXT NOT NULL,
    email_enc     TEXT NOT NULL,
    display_name_enc TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, email_index)
);

CREATE TABLE customers (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    id            TEXT NOT NULL,
    email_index   TEXT NOT NULL,
    email_enc     TEXT NOT NULL,
    display_name_enc TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, email_index)
);

CREATE TABLE sessions (
    store_id       TEXT NOT NULL REFERENCES stores(id),
    token_hash     TEXT NOT NULL,
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    csrf_token     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (store_id, token_hash)
);
CREATE INDEX sessions_principal ON sessions (store_id, principal_kind, principal_id);

CREATE TABLE idempotency_keys (
    store_id        TEXT NOT NULL REFERENCES stores(id),
    principal       TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status BIGINT NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (store_id, principal, idem_key)
);

CREATE TABLE outbox_events (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    id         TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX outbox_events_created ON outbox_events (store_id, created_at);

CREATE TABLE webhook_endpoints (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    url         TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL,
    event_types TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);

CREATE TABLE webhook_deliveries (
    store_id             TEXT NOT NULL REFERENCES stores(id),
    id                   TEXT NOT NULL,
    endpoint_id          TEXT NOT NULL,
    event_id             TEXT NOT NULL,
    status               TEXT NOT NULL,
    attempts             BIGINT NOT NULL DEFAULT 0,
    next_attempt_at      BIGINT NOT NULL,
    lease_owner          TEXT,
    lease_until          BIGINT,
    last_response_status BIGINT,
    last_error           TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, endpoint_id, event_id),
    CHECK (status IN ('pending', 'delivered', 'parked')),
    CHECK (attempts >= 0)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (store_id, endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    store_id        TEXT NOT NULL REFERENCES stores(id),
    delivery_id     TEXT NOT NULL,
    attempt_no      BIGINT NOT NULL,
    started_at      BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    response_status BIGINT,
    error           TEXT,
    PRIMARY KEY (store_id, delivery_id, attempt_no)
);
