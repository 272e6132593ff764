-- Weekly SKU rollups and covering open orders (PostgreSQL). Kept in step with
-- ../sqlite/0006_weekly_skus.sql.

-- Units sold per SKU and week (Monday to Sunday, UTC; week w starts on day 7w - 3, day 0 being
-- Thursday 1970-01-01), cancelled orders left out: a 30-day period reads four or five weeks and
-- at most three days at either end instead of thirty days, a third of the rows to group.
CREATE TABLE sku_weekly (
    week BIGINT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    PRIMARY KEY (sku, week)
);
CREATE INDEX sku_weekly_by_week ON sku_weekly (week, sku, units);
INSERT INTO sku_weekly (week, sku, units)
SELECT floor((day + 3) / 7.0)::BIGINT, sku, SUM(units)
FROM sku_daily GROUP BY 1, 2;

-- Orders waiting to ship and those at risk counted, and the first at risk listed, from this
-- index alone.
DROP INDEX orders_open_ship_by;
CREATE INDEX orders_open_ship_by ON orders (status, ship_by_at, id, external_id)
    WHERE status IN ('unshipped', 'partially_shipped');
