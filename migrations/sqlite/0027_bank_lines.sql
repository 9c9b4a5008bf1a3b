-- Incoming credits read from bank statements, matched to awaited payments.
CREATE TABLE bank_lines (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    -- The bank's id of the entry: a statement imported twice adds nothing.
    bank_ref    TEXT NOT NULL,
    booked_on   TEXT NOT NULL,
    currency    TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    remittance  TEXT NOT NULL,
    -- Sealed: the payer's name.
    payer_enc   TEXT NOT NULL,
    -- matched or unmatched.
    status      TEXT NOT NULL,
    payment_id  TEXT,
    note        TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, bank_ref),
    CHECK (amount > 0)
);
CREATE INDEX bank_lines_status ON bank_lines (store_id, status, id);
