-- An exchange may send another variant of the same product (a different
-- size or colour) instead of the one returned: the variant chosen, and its
-- SKU as it was when asked for.
ALTER TABLE return_lines ADD COLUMN exchange_variant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE return_lines ADD COLUMN exchange_sku TEXT NOT NULL DEFAULT '';
-- The token of an order opens the replacements its returns sent: found by this.
CREATE INDEX returns_by_replacement ON returns (store_id, replacement_order_id);
