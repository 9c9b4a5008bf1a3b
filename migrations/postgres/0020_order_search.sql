-- Finding orders by the buyer's e-mail without decrypting every order: a
-- blind index (HMAC per store) of the normalised address, written at checkout.
ALTER TABLE orders ADD COLUMN email_index TEXT NOT NULL DEFAULT '';
CREATE INDEX orders_email ON orders (store_id, email_index, placed_at);
CREATE INDEX order_lines_sku ON order_lines (store_id, sku);
