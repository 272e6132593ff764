-- Sync (SQLite). Kept in step with ../postgres/0002_sync.sql.
-- The order and inventory tables of 0001 were never written to; they are replaced by the one
-- model every channel maps into, with the jobs, schedules and watermarks that keep it current.

DROP TABLE inventory_items;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE sync_jobs;
DROP TABLE sync_schedules;

-- The marketplaces an account sells in (Amazon: from getMarketplaceParticipations). All are
-- synced unless the seller switches one off.
CREATE TABLE connection_marketplaces (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    marketplace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sync_enabled INTEGER NOT NULL DEFAULT 1 CHECK (sync_enabled IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, marketplace_id)
);

-- Orders from every channel, one row per (connection, marketplace order id): a re-sync updates,
-- never duplicates. `status` is Javelin's; `platform_status` the marketplace's own word.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    platform TEXT NOT NULL REFERENCES platforms (code),
    external_id TEXT NOT NULL,
    marketplace_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'unshipped', 'partially_shipped', 'shipped',
        'delivered', 'cancelled', 'return_requested', 'returned', 'unfulfillable')),
    platform_status TEXT NOT NULL,
    fulfillment_channel TEXT,
    purchased_at INTEGER NOT NULL,
    remote_updated_at INTEGER NOT NULL,
    ship_by_at INTEGER,
    total_minor INTEGER,
    total_currency TEXT CHECK (length(total_currency) = 3),
    item_count INTEGER NOT NULL DEFAULT 0,
    ship_city TEXT,
    ship_region TEXT,
    ship_postal_code TEXT,
    ship_country TEXT,
    created_at INTEGER NOT NULL,
    synced_at INTEGER NOT NULL,
    UNIQUE (connection_id, external_id),
    CHECK ((total_minor IS NULL) = (total_currency IS NULL))
);
CREATE INDEX orders_purchased ON orders (purchased_at DESC, id DESC);
CREATE INDEX orders_status_purchased ON orders (status, purchased_at DESC, id DESC);
CREATE INDEX orders_connection_purchased ON orders (connection_id, purchased_at DESC, id DESC);

-- Items of an order; prices in the order's currency, `line_total` as the marketplace states it.
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    sku TEXT,
    product_id TEXT,
    title TEXT,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    quantity_shipped INTEGER NOT NULL DEFAULT 0 CHECK (quantity_shipped >= 0),
    unit_price_minor INTEGER,
    line_total_minor INTEGER,
    currency TEXT CHECK (length(currency) = 3),
    UNIQUE (order_id, external_id),
    CHECK (currency IS NOT NULL OR (unit_price_minor IS NULL AND line_total_minor IS NULL))
);
CREATE INDEX order_items_sku ON order_items (sku);

-- Every status an order was seen in, for its history.
CREATE TABLE order_status_changes (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    platform_status TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX order_status_changes_order ON order_status_changes (order_id, changed_at);

-- Stock per connection, marketplace (Amazon; '' elsewhere), SKU and place: fba, fbm, or a
-- Flipkart location id.
CREATE TABLE inventory_items (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    marketplace_id TEXT NOT NULL DEFAULT '',
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    product_id TEXT,
    title TEXT,
    available INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    inbound INTEGER NOT NULL DEFAULT 0,
    unfulfillable INTEGER NOT NULL DEFAULT 0,
    remote_updated_at INTEGER,
    synced_at INTEGER NOT NULL,
    UNIQUE (connection_id, marketplace_id, sku, location)
);
CREATE INDEX inventory_items_sku ON inventory_items (sku);

-- How often each kind of sync runs for a connection.
CREATE TABLE sync_schedules (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('orders', 'inventory')),
    interval_minutes INTEGER NOT NULL CHECK (interval_minutes > 0),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    next_run_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, kind)
);

-- How far each stream of a connection has been synced (Amazon: the last lastUpdatedBefore).
-- Moved only in the transaction that stores the orders it covers.
CREATE TABLE sync_watermarks (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('orders', 'inventory')),
    stream TEXT NOT NULL,
    watermark_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, kind, stream)
);

-- A sync run. A worker holds a job through a lease; an expired lease makes it claimable again,
-- so several instances can share one database. At most one active job per connection and kind.
CREATE TABLE sync_jobs (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    kind TEXT NOT NULL CHECK (kind IN ('orders', 'inventory')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    origin TEXT NOT NULL CHECK (origin IN ('seller', 'schedule')),
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    cursor TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    fetched INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    skipped_reasons TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX sync_jobs_claim ON sync_jobs (state, run_at);
CREATE INDEX sync_jobs_connection ON sync_jobs (connection_id, id DESC);
CREATE UNIQUE INDEX sync_jobs_one_active ON sync_jobs (connection_id, kind)
    WHERE state IN ('queued', 'running');
