-- Search and rollups for the Orders and Dashboard pages (SQLite). Kept in step with
-- ../postgres/0004_order_views.sql. Both are written in the transaction that upserts the orders
-- they describe, so they never go stale; the statements below fill them for orders stored before.

-- One full-text document per order: its marketplace id, and each item's SKU, ASIN/FSN and title.
-- Its rowid is the order's purchase second, then its id (low 32 bits), so that FTS5 hands out the
-- newest matches first. Diacritics are kept, as PostgreSQL's 'simple' configuration keeps them.
CREATE VIRTUAL TABLE order_search USING fts5 (
    document, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO order_search (rowid, document)
SELECT ((o.purchased_at / 1000000) << 32) | o.id, o.external_id || ' ' || COALESCE((
    SELECT group_concat(COALESCE(i.sku, '') || ' ' || COALESCE(i.product_id, '') || ' ' || COALESCE(i.title, ''), ' ')
    FROM order_items i WHERE i.order_id = o.id), '')
FROM orders o;

-- The rollups are WITHOUT ROWID: a period is read as a range of the primary key, rows and all.

-- Orders, units and order totals per UTC day of purchase (days since 1970-01-01), connection,
-- status and currency ('' while a total is unknown).
CREATE TABLE order_daily (
    day INTEGER NOT NULL,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    orders INTEGER NOT NULL,
    units INTEGER NOT NULL,
    revenue_minor INTEGER NOT NULL,
    PRIMARY KEY (day, connection_id, status, currency)
) WITHOUT ROWID;
INSERT INTO order_daily (day, connection_id, status, currency, orders, units, revenue_minor)
SELECT purchased_at / 86400000000, connection_id, status, COALESCE(total_currency, ''), COUNT(*),
    SUM(item_count), COALESCE(SUM(total_minor), 0)
FROM orders GROUP BY 1, 2, 3, 4;

-- Units sold per SKU and UTC day, cancelled orders left out: the dashboard's top SKUs. Keyed by
-- SKU first, so that a period is read as one short range per SKU.
CREATE TABLE sku_daily (
    day INTEGER NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (sku, day)
) WITHOUT ROWID;
-- And by day, for short periods: a range of days read from the index alone.
CREATE INDEX sku_daily_by_day ON sku_daily (day, sku, units);
INSERT INTO sku_daily (day, sku, units)
SELECT o.purchased_at / 86400000000, i.sku, SUM(i.quantity)
FROM orders o JOIN order_items i ON i.order_id = o.id
WHERE o.status <> 'cancelled' AND i.sku IS NOT NULL
GROUP BY 1, 2;

-- The same per UTC month (year * 12 + month - 1), so that a long period reads a row per month.
CREATE TABLE sku_monthly (
    month INTEGER NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (sku, month)
) WITHOUT ROWID;
CREATE INDEX sku_monthly_by_month ON sku_monthly (month, sku, units);
INSERT INTO sku_monthly (month, sku, units)
SELECT CAST(strftime('%Y', o.purchased_at / 1000000, 'unixepoch') AS INTEGER) * 12
    + CAST(strftime('%m', o.purchased_at / 1000000, 'unixepoch') AS INTEGER) - 1, i.sku, SUM(i.quantity)
FROM orders o JOIN order_items i ON i.order_id = o.id
WHERE o.status <> 'cancelled' AND i.sku IS NOT NULL
GROUP BY 1, 2;

-- The Orders page filters by platform and by fulfilment channel, newest first.
CREATE INDEX orders_platform_purchased ON orders (platform, purchased_at DESC, id DESC);
CREATE INDEX orders_channel_purchased ON orders (fulfillment_channel, purchased_at DESC, id DESC);
-- The dashboard's open orders: waiting to ship, by ship-by time.
CREATE INDEX orders_open_ship_by ON orders (ship_by_at) WHERE status IN ('unshipped', 'partially_shipped');
