-- The SKU rollups keyed by period first. Every reader asks for a range of periods, which the
-- table now answers alone, rows and all; the upsert that keeps them current writes one b-tree
-- instead of a table and an index, and a batch of orders of the same few days writes it in one
-- place. (An import of a history report writes thousands of rollup rows a batch.)
CREATE TABLE sku_daily_next (
    day INTEGER NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (day, sku)
) WITHOUT ROWID;
INSERT INTO sku_daily_next (day, sku, units) SELECT day, sku, units FROM sku_daily;
DROP TABLE sku_daily;
ALTER TABLE sku_daily_next RENAME TO sku_daily;

CREATE TABLE sku_weekly_next (
    week INTEGER NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (week, sku)
) WITHOUT ROWID;
INSERT INTO sku_weekly_next (week, sku, units) SELECT week, sku, units FROM sku_weekly;
DROP TABLE sku_weekly;
ALTER TABLE sku_weekly_next RENAME TO sku_weekly;

CREATE TABLE sku_monthly_next (
    month INTEGER NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (month, sku)
) WITHOUT ROWID;
INSERT INTO sku_monthly_next (month, sku, units) SELECT month, sku, units FROM sku_monthly;
DROP TABLE sku_monthly;
ALTER TABLE sku_monthly_next RENAME TO sku_monthly;
