-- The SKU rollups keyed by period first: every reader asks for a range of periods, and the
-- upsert that keeps them current maintains one index instead of two. The units ride along in
-- the key's index, so that a period is still read from the index alone.
ALTER TABLE sku_daily DROP CONSTRAINT sku_daily_pkey;
DROP INDEX sku_daily_by_day;
ALTER TABLE sku_daily ADD PRIMARY KEY (day, sku) INCLUDE (units);

ALTER TABLE sku_weekly DROP CONSTRAINT sku_weekly_pkey;
DROP INDEX sku_weekly_by_week;
ALTER TABLE sku_weekly ADD PRIMARY KEY (week, sku) INCLUDE (units);

ALTER TABLE sku_monthly DROP CONSTRAINT sku_monthly_pkey;
DROP INDEX sku_monthly_by_month;
ALTER TABLE sku_monthly ADD PRIMARY KEY (month, sku) INCLUDE (units);
