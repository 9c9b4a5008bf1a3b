-- Invoices and credit notes: numbered without gaps per store and series
-- (the counter row is taken in the issuing transaction), immutable once
-- issued.
CREATE TABLE invoice_numbers (
    store_id TEXT NOT NULL REFERENCES stores(id),
    series   TEXT NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (store_id, series)
);

CREATE TABLE invoices (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    series       TEXT NOT NULL,
    number       INTEGER NOT NULL,
    display      TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    -- For a credit note: the invoice it corrects.
    credits_id   TEXT,
    currency     TEXT NOT NULL,
    net          INTEGER NOT NULL,
    tax          INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    issued_at    INTEGER NOT NULL,
    -- Sealed JSON (domain::invoices::InvoiceDoc): it names the buyer.
    document_enc TEXT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, series, number)
);
CREATE UNIQUE INDEX invoices_one_per_order ON invoices (store_id, order_id) WHERE kind = 'invoice';
CREATE INDEX invoices_order ON invoices (store_id, order_id, id);

-- Only the sealed document may be rewritten, and only by key rotation
-- (same content under a new key).
CREATE TRIGGER invoices_no_update
BEFORE UPDATE OF store_id, id, kind, series, number, display, order_id, credits_id, currency, net, tax, gross, issued_at
ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices do not change'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices do not change'); END;
