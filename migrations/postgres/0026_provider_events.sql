-- Events payment providers sent us, each applied once: a replayed event
-- finds its row and changes nothing.
CREATE TABLE provider_events (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payment_id  TEXT,
    -- applied, ignored (superseded by a later fact), unknown (no such charge).
    outcome     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, provider, event_id)
);

CREATE INDEX payments_provider_ref ON payments (store_id, provider, provider_ref);
