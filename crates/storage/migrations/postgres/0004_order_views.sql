-- Search and rollups for the Orders and Dashboard pages (PostgreSQL). Kept in step with
-- ../sqlite/0004_order_views.sql. Both are written in the transaction that upserts the orders
-- they describe, so they never go stale; the statements below fill them for orders stored before.

-- One full-text document per order: its marketplace id, and each item's SKU, ASIN/FSN and title,
-- cut into words at every character that is not a letter or digit, as SQLite's tokenizer does.
CREATE TABLE order_search (
    order_id BIGINT PRIMARY KEY REFERENCES orders (id),
    document TSVECTOR NOT NULL
);
INSERT INTO order_search (order_id, document)
SELECT o.id, to_tsvector('simple', regexp_replace(o.external_id || ' ' || COALESCE((
    SELECT string_agg(COALESCE(i.sku, '') || ' ' || COALESCE(i.product_id, '') || ' ' || COALESCE(i.title, ''), ' ')
    FROM order_items i WHERE i.order_id = o.id), ''), '[^[:alnum:]]+', ' ', 'g'))
FROM orders o;
CREATE INDEX order_search_document ON order_search USING GIN (document);

-- Orders, units and order totals per UTC day of purchase (days since 1970-01-01), connection,
-- status and currency ('' while a total is unknown).
CREATE TABLE order_daily (
    day BIGINT NOT NULL,
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    orders BIGINT NOT NULL,
    units BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    PRIMARY KEY (day, connection_id, status, currency)
);
INSERT INTO order_daily (day, connection_id, status, currency, orders, units, revenue_minor)
SELECT floor(extract(epoch FROM purchased_at) / 86400)::BIGINT, connection_id, status, COALESCE(total_currency, ''),
    COUNT(*), SUM(item_count), COALESCE(SUM(total_minor), 0)
FROM orders GROUP BY 1, 2, 3, 4;

-- Units sold per SKU and UTC day, cancelled orders left out: the dashboard's top SKUs. Keyed by
-- SKU first, so that a period is read as one short range per SKU.
CREATE TABLE sku_daily (
    day BIGINT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    PRIMARY KEY (sku, day)
);
-- And by day, for short periods: a range of days read from the index alone.
CREATE INDEX sku_daily_by_day ON sku_daily (day, sku, units);
INSERT INTO sku_daily (day, sku, units)
SELECT floor(extract(epoch FROM o.purchased_at) / 86400)::BIGINT, i.sku, SUM(i.quantity)
FROM orders o JOIN order_items i ON i.order_id = o.id
WHERE o.status <> 'cancelled' AND i.sku IS NOT NULL
GROUP BY 1, 2;

-- The same per UTC month (year * 12 + month - 1), so that a long period reads a row per month.
CREATE TABLE sku_monthly (
    month BIGINT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    PRIMARY KEY (sku, month)
);
CREATE INDEX sku_monthly_by_month ON sku_monthly (month, sku, units);
INSERT INTO sku_monthly (month, sku, units)
SELECT (extract(year FROM o.purchased_at AT TIME ZONE 'UTC') * 12
    + extract(month FROM o.purchased_at AT TIME ZONE 'UTC') - 1)::BIGINT, i.sku, SUM(i.quantity)
FROM orders o JOIN order_items i ON i.order_id = o.id
WHERE o.status <> 'cancelled' AND i.sku IS NOT NULL
GROUP BY 1, 2;

-- The Orders page filters by platform and by fulfilment channel, newest first.
CREATE INDEX orders_platform_purchased ON orders (platform, purchased_at DESC, id DESC);
CREATE INDEX orders_channel_purchased ON orders (fulfillment_channel, purchased_at DESC, id DESC);
-- The dashboard's open orders: waiting to ship, by ship-by time.
CREATE INDEX orders_open_ship_by ON orders (ship_by_at) WHERE status IN ('unshipped', 'partially_shipped');
