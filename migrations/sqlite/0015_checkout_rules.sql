-- The rules checkout prices with: tax (settings and rates per country,
-- region and product tax class), shipping (zones and methods with rate
-- tables) and promotions with their coupons. Carts remember the chosen
-- shipping and the entered coupons; orders keep what each line paid.

ALTER TABLE products ADD COLUMN tax_class TEXT NOT NULL DEFAULT 'standard';
UPDATE products SET tax_class = 'exempt' WHERE kind = 'donation';

CREATE TABLE tax_settings (
    store_id       TEXT NOT NULL REFERENCES stores(id),
    -- Where the store sells from (ISO 3166-1): decides reverse charge.
    origin_country TEXT NOT NULL,
    -- `line` or `document`.
    rounding       TEXT NOT NULL,
    reverse_charge INTEGER NOT NULL,
    PRIMARY KEY (store_id)
);

CREATE TABLE tax_rates (
    store_id  TEXT NOT NULL REFERENCES stores(id),
    id        TEXT NOT NULL,
    country   TEXT NOT NULL,
    -- '' for the whole country, or a region such as `CA`.
    region    TEXT NOT NULL,
    tax_class TEXT NOT NULL,
    -- A percentage as an exact decimal, e.g. `19` or `8.875`.
    rate      TEXT NOT NULL,
    label     TEXT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, country, region, tax_class)
);

CREATE TABLE shipping_zones (
    store_id TEXT NOT NULL REFERENCES stores(id),
    id       TEXT NOT NULL,
    name     TEXT NOT NULL,
    -- JSON: regions and postcode prefixes.
    area     TEXT NOT NULL,
    -- The first zone (lowest position) that covers an address is its zone.
    position INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
);

CREATE TABLE shipping_methods (
    store_id      TEXT NOT NULL REFERENCES stores(id),
    id            TEXT NOT NULL,
    zone_id       TEXT NOT NULL,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    carrier       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    -- JSON rate table: flat, by weight or by value.
    rates         TEXT NOT NULL,
    free_over     INTEGER,
    -- JSON list of pickup points; empty for delivery to the address.
    pickup_points TEXT NOT NULL,
    active        INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code)
);
CREATE INDEX shipping_methods_zone ON shipping_methods (store_id, zone_id);

CREATE TABLE promotions (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- JSON: what it does, and when it may apply.
    effect       TEXT NOT NULL,
    conditions   TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    exclusive    INTEGER NOT NULL,
    needs_coupon INTEGER NOT NULL,
    active       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
);

CREATE TABLE coupons (
    store_id           TEXT NOT NULL REFERENCES stores(id),
    id                 TEXT NOT NULL,
    promotion_id       TEXT NOT NULL,
    -- Upper case; customers type it in any case.
    code               TEXT NOT NULL,
    usage_limit        INTEGER,
    per_customer_limit INTEGER,
    used               INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, code),
    CHECK (used >= 0 AND (usage_limit IS NULL OR used <= usage_limit))
);
CREATE INDEX coupons_promotion ON coupons (store_id, promotion_id);

-- Uses per customer (customer id, or a blind index of a guest's e-mail).
CREATE TABLE coupon_uses (
    store_id  TEXT NOT NULL REFERENCES stores(id),
    coupon_id TEXT NOT NULL,
    who       TEXT NOT NULL,
    used      INTEGER NOT NULL,
    PRIMARY KEY (store_id, coupon_id, who),
    CHECK (used >= 0)
);

-- Which coupons an order used, so cancelling gives the use back.
CREATE TABLE order_coupons (
    store_id  TEXT NOT NULL REFERENCES stores(id),
    order_id  TEXT NOT NULL,
    coupon_id TEXT NOT NULL,
    who       TEXT NOT NULL,
    PRIMARY KEY (store_id, order_id, coupon_id)
);

-- JSON: {"method": code, "point": id}, or '' for none chosen.
ALTER TABLE carts ADD COLUMN shipping_choice TEXT NOT NULL DEFAULT '';
-- JSON list of the coupon codes entered.
ALTER TABLE carts ADD COLUMN coupon_codes TEXT NOT NULL DEFAULT '[]';

-- JSON: shipping method, promotions applied, tax per rate, reverse charge.
ALTER TABLE orders ADD COLUMN pricing TEXT NOT NULL DEFAULT '{}';
ALTER TABLE order_lines ADD COLUMN discount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN tax INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN tax_rate TEXT NOT NULL DEFAULT '0';
ALTER TABLE order_lines ADD COLUMN tax_label TEXT NOT NULL DEFAULT '';
-- JSON: which promotions make up the line's discount.
ALTER TABLE order_lines ADD COLUMN adjustments TEXT NOT NULL DEFAULT '[]';
ALTER TABLE order_lines ADD COLUMN weight_grams INTEGER NOT NULL DEFAULT 0;
