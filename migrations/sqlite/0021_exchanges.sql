-- Exchanges: receiving an exchange return creates a replacement order;
-- the return remembers which.
ALTER TABLE returns ADD COLUMN replacement_order_id TEXT;
