-- How each store presents itself as the seller on invoices (JSON:
-- domain::invoices::SellerSettings).
CREATE TABLE invoice_settings (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    settings   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (store_id)
);
