-- Payments and the double-entry ledger.

-- One attempt to collect money for an order by one method. Amounts are
-- minor units; what in-flight operations reserve is counted so two
-- concurrent captures or refunds can never together exceed the limits.
CREATE TABLE payments (
    store_id        TEXT NOT NULL REFERENCES stores(id),
    id              TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    provider        TEXT NOT NULL,
    -- The provider's id for it (card processor's charge, transfer reference).
    provider_ref    TEXT NOT NULL,
    -- processing, requires_action, awaiting, open, closed, failed (domain::payments::Gate).
    gate            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    captured        INTEGER NOT NULL DEFAULT 0,
    refunded        INTEGER NOT NULL DEFAULT 0,
    pending_capture INTEGER NOT NULL DEFAULT 0,
    pending_refund  INTEGER NOT NULL DEFAULT 0,
    -- JSON: card brand, last four digits and expiry; transfer instructions;
    -- the decline reason. Never a card number or security code.
    details         TEXT NOT NULL,
    -- The ledger party that owes (customer id, or the order id for a guest).
    party           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (amount > 0 AND captured >= 0 AND refunded >= 0 AND pending_capture >= 0 AND pending_refund >= 0),
    CHECK (captured + pending_capture <= amount),
    CHECK (refunded + pending_refund <= captured)
);
CREATE INDEX payments_order ON payments (store_id, order_id);
CREATE INDEX payments_created ON payments (store_id, created_at);

-- Each operation sent to a provider, the payment's timeline. An operation
-- is written pending before the provider is called and settled after, so
-- a crash in between leaves a record that a retry (same key) completes.
CREATE TABLE payment_operations (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    payment_id   TEXT NOT NULL,
    -- authorize, capture, void, refund.
    kind         TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    -- pending, succeeded, failed.
    status       TEXT NOT NULL,
    -- The caller's Idempotency-Key scoped to its principal, when given.
    request_key  TEXT,
    failure_code TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER,
    PRIMARY KEY (store_id, id),
    CHECK (amount >= 0)
);
CREATE INDEX payment_operations_payment ON payment_operations (store_id, payment_id, id);
CREATE UNIQUE INDEX payment_operations_request ON payment_operations (store_id, request_key);
CREATE INDEX payment_operations_pending ON payment_operations (status, created_at);

-- The journal: append-only. An entry balances per currency (checked before
-- it is written and by `oxcart ledger verify`); mistakes are reversed.
CREATE TABLE journal_entries (
    store_id  TEXT NOT NULL REFERENCES stores(id),
    id        TEXT NOT NULL,
    -- order_placed, payment_captured, refund, reversal, …
    kind      TEXT NOT NULL,
    -- What it records: an order, payment or gift card id.
    reference TEXT NOT NULL,
    memo      TEXT NOT NULL,
    reverses  TEXT,
    actor     TEXT NOT NULL,
    posted_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX journal_entries_reference ON journal_entries (store_id, reference);
CREATE INDEX journal_entries_posted ON journal_entries (store_id, posted_at);

CREATE TABLE journal_lines (
    store_id TEXT NOT NULL REFERENCES stores(id),
    entry_id TEXT NOT NULL,
    line_no  INTEGER NOT NULL,
    -- `code` or `code:party` (domain::ledger::AccountRef).
    account  TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit    INTEGER NOT NULL,
    credit   INTEGER NOT NULL,
    PRIMARY KEY (store_id, entry_id, line_no),
    CHECK (debit >= 0 AND credit >= 0 AND (debit = 0) <> (credit = 0))
);
CREATE INDEX journal_lines_account ON journal_lines (store_id, account, currency, entry_id);

-- Totals per account and currency, kept in the transaction that posts.
CREATE TABLE ledger_balances (
    store_id TEXT NOT NULL REFERENCES stores(id),
    account  TEXT NOT NULL,
    currency TEXT NOT NULL,
    debits   INTEGER NOT NULL,
    credits  INTEGER NOT NULL,
    lines    INTEGER NOT NULL,
    PRIMARY KEY (store_id, account, currency)
);

CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
