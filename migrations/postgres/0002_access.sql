-- Access control and accountability: custom roles, API tokens, the
-- append-only hash-chained audit log, and rate-limit counters.

CREATE TABLE roles (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, name)
);

CREATE TABLE api_tokens (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    PRIMARY KEY (store_id, id)
);

CREATE TABLE audit_log (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    seq         BIGINT NOT NULL,
    id          TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    client_ip   TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (store_id, seq),
    UNIQUE (store_id, id)
);
CREATE INDEX audit_log_action ON audit_log (store_id, action, seq);
CREATE INDEX audit_log_actor ON audit_log (store_id, actor, seq);
CREATE INDEX audit_log_target ON audit_log (store_id, target, seq);

-- The audit log is append-only: the database itself refuses edits.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Fixed-window counters: one row per (store, bucket, window).
CREATE TABLE rate_limits (
    store_id     TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (store_id, bucket, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
