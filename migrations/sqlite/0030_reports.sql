-- Money moved per day (the payments-by-day report) reads settled operations by time.
CREATE INDEX payment_operations_settled ON payment_operations (store_id, settled_at);
-- A customer's payments (their account page) by party.
CREATE INDEX payments_party ON payments (store_id, party, created_at);
