-- Invoices and credit notes: numbered without gaps per store and series
-- (the counter row is taken in the issuing transaction), immutable once
-- issued.
CREATE TABLE invoice_numbers (
    store_id TEXT NOT NULL REFERENCES stores(id),
    series   TEXT NOT NULL,
    last     BIGINT NOT NULL,
    PRIMARY KEY (store_id, series)
);

CREATE TABLE invoices (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    series       TEXT NOT NULL,
    number       BIGINT NOT NULL,
    display      TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    -- For a credit note: the invoice it corrects.
    credits_id   TEXT,
    currency     TEXT NOT NULL,
    net          BIGINT NOT NULL,
    tax          BIGINT NOT NULL,
    gross        BIGINT NOT NULL,
    issued_at    BIGINT NOT NULL,
    -- Sealed JSON (domain::invoices::InvoiceDoc): it names the buyer.
    document_enc TEXT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, series, number)
);
CREATE UNIQUE INDEX invoices_one_per_order ON invoices (store_id, order_id) WHERE kind = 'invoice';
CREATE INDEX invoices_order ON invoices (store_id, order_id, id);

-- Only the sealed document may be rewritten, and only by key rotation
-- (same content under a new key).
CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR ROW(NEW.store_id, NEW.id, NEW.kind, NEW.series, NEW.number, NEW.display, NEW.order_id,
        NEW.credits_id, NEW.currency, NEW.net, NEW.tax, NEW.gross, NEW.issued_at)
        IS DISTINCT FROM ROW(OLD.store_id, OLD.id, OLD.kind, OLD.series, OLD.number, OLD.display, OLD.order_id,
        OLD.credits_id, OLD.currency, OLD.net, OLD.tax, OLD.gross, OLD.issued_at) THEN
        RAISE EXCEPTION 'issued invoices do not change';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER invoices_no_change BEFORE UPDATE OR DELETE ON invoices
FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
