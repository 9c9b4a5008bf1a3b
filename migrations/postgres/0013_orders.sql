-- Carts, orders with their lines and history, order numbers, and the stock
-- each unpaid order holds. Personal data (e-mail, addresses) is sealed.

CREATE TABLE carts (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    -- SHA-256 of the secret the visitor holds.
    token_hash  TEXT NOT NULL,
    customer_id TEXT,
    channel_id  TEXT NOT NULL,
    lang        TEXT NOT NULL,
    -- Sealed JSON: e-mail and shipping address, once given.
    contact_enc TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX carts_customer ON carts (store_id, customer_id);
CREATE INDEX carts_updated ON carts (updated_at);

CREATE TABLE cart_lines (
    store_id   TEXT NOT NULL REFERENCES stores(id),
    cart_id    TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (store_id, cart_id, variant_id),
    CHECK (quantity >= 1)
);

-- The last order number each store gave (gap-free, per store).
CREATE TABLE order_numbers (
    store_id TEXT NOT NULL REFERENCES stores(id),
    last     BIGINT NOT NULL,
    PRIMARY KEY (store_id)
);

CREATE TABLE orders (
    store_id           TEXT NOT NULL REFERENCES stores(id),
    id                 TEXT NOT NULL,
    number             BIGINT NOT NULL,
    status             TEXT NOT NULL,
    payment_status     TEXT NOT NULL,
    customer_id        TEXT,
    channel_id         TEXT NOT NULL,
    currency           TEXT NOT NULL,
    lang               TEXT NOT NULL,
    prices_include_tax BIGINT NOT NULL,
    subtotal           BIGINT NOT NULL,
    shipping_total     BIGINT NOT NULL,
    discount_total     BIGINT NOT NULL,
    tax_total          BIGINT NOT NULL,
    total              BIGINT NOT NULL,
    -- Sealed JSON: e-mail and addresses as given at checkout.
    contact_enc        TEXT NOT NULL,
    -- SHA-256 of the secret a guest uses to see the order.
    access_hash        TEXT NOT NULL,
    -- Until when an unpaid order holds its stock.
    reserved_until     BIGINT,
    placed_at          BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (store_id, id),
    UNIQUE (store_id, number),
    CHECK (subtotal >= 0 AND shipping_total >= 0 AND discount_total >= 0 AND tax_total >= 0 AND total >= 0)
);
CREATE INDEX orders_placed ON orders (store_id, placed_at);
CREATE INDEX orders_customer ON orders (store_id, customer_id, placed_at);
CREATE INDEX orders_reserved ON orders (reserved_until);

CREATE TABLE order_lines (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    order_id    TEXT NOT NULL,
    line_no     BIGINT NOT NULL,
    variant_id  TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    options     TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    unit_price  BIGINT NOT NULL,
    line_total  BIGINT NOT NULL,
    -- `regular`, `sale` or `price_list:<code>`.
    price_source TEXT NOT NULL,
    -- Units sold beyond stock (back-order or pre-order).
    backordered BIGINT NOT NULL,
    PRIMARY KEY (store_id, order_id, line_no),
    CHECK (quantity >= 1 AND unit_price >= 0 AND line_total >= 0 AND backordered >= 0)
);

-- Every status change with who made it and when.
CREATE TABLE order_history (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    id          TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX order_history_order ON order_history (store_id, order_id, id);

-- Stock an order holds at a location until it ships or is released.
CREATE TABLE stock_reservations (
    store_id    TEXT NOT NULL REFERENCES stores(id),
    order_id    TEXT NOT NULL,
    variant_id  TEXT NOT NULL,
    location_id TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    PRIMARY KEY (store_id, order_id, variant_id, location_id),
    CHECK (quantity >= 1)
);
