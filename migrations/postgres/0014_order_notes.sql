-- Staff notes on an order sit in its history beside status changes.
ALTER TABLE order_history ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';
