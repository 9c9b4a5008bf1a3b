-- Draft orders: carts staff fill for a customer (phone and B2B sales).
-- '' for a shopper's cart; the staff principal who started a draft.
ALTER TABLE carts ADD COLUMN draft_by TEXT NOT NULL DEFAULT '';
CREATE INDEX carts_drafts ON carts (store_id, draft_by, updated_at);
