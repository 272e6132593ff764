-- Weekly SKU rollups and covering open orders (SQLite). Kept in step with
-- ../postgres/0006_weekly_skus.sql.

-- Units sold per SKU and week (Monday to Sunday, UTC; week w starts on day 7w - 3, day 0 being
-- Thursday 1970-01-01), cancelled orders left out: a 30-day period reads four or five weeks and
-- at most three days at either end instead of thirty days, a third of the rows to group.
CREATE TABLE sku_weekly (
    week INTEGER NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (sku, week)
) WITHOUT ROWID;
CREATE INDEX sku_weekly_by_week ON sku_weekly (week, sku, units);
-- The floor of (day + 3) / 7, for days before 1970 as well.
INSERT INTO sku_weekly (week, sku, units)
SELECT (day + 3 - (((day + 3) % 7) + 7) % 7) / 7, sku, SUM(units)
FROM sku_daily GROUP BY 1, 2;

-- Orders waiting to ship and those at risk counted, and the first at risk listed, from this
-- index alone (the status index, which the planner preferred, had to read every open order).
DROP INDEX orders_open_ship_by;
CREATE INDEX orders_open_ship_by ON orders (status, ship_by_at, id, external_id)
    WHERE status IN ('unshipped', 'partially_shipped');
