-- Low-stock thresholds (SQLite). Kept in step with ../postgres/0005_inventory_thresholds.sql.
-- One per SKU, across every connection: a SKU is low when the stock available of all its rows
-- is at or below it. A SKU without a row has the default threshold (DEFAULT_THRESHOLD, 5).
CREATE TABLE inventory_thresholds (
    sku TEXT PRIMARY KEY,
    threshold INTEGER NOT NULL CHECK (threshold BETWEEN 0 AND 1000000),
    updated_at INTEGER NOT NULL
);

-- The Inventory page and API read stock in SKU order and page by (SKU, id).
DROP INDEX inventory_items_sku;
CREATE INDEX inventory_items_sku_id ON inventory_items (sku, id);
-- Each SKU's total available across active connections, and which SKUs are low, from this
-- index alone.
CREATE INDEX inventory_items_sku_available ON inventory_items (sku, connection_id, available);
