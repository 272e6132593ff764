-- Stock available per SKU (SQLite). Kept in step with ../postgres/0007_sku_stock.sql.
-- Each SKU's stock available across every active connection, rewritten for the SKUs a stock
-- read, prune or disconnection touches in the same transaction: which SKUs are low is read
-- from 3,000 rows here instead of grouping every stock row on each dashboard and page.
CREATE TABLE sku_stock (
    sku TEXT PRIMARY KEY,
    available INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sku_stock (sku, available)
SELECT i.sku, SUM(i.available) FROM inventory_items i JOIN connections c ON c.id = i.connection_id
WHERE c.active = TRUE GROUP BY i.sku;
