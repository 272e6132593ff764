-- Javelin's initial schema (SQLite). Kept in step with ../postgres/0001_initial.sql.
-- Times are INTEGER microseconds since the Unix epoch, UTC (see Timestamp in src/timestamp.rs).
-- Money is an integer amount in the currency's minor unit plus its ISO 4217 code.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Browser sessions; the cookie holds a random token, the table only its SHA-256.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Bearer tokens for scripts; only the SHA-256 is kept. Revoked tokens stay for the audit trail.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE platforms (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- A seller account on a platform. Disconnecting deletes its secrets and deactivates the row;
-- the row stays so that orders synced from it keep their origin.
CREATE TABLE connections (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL REFERENCES platforms (code),
    status TEXT NOT NULL CHECK (status IN ('connected', 'incomplete', 'error')),
    status_message TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',
    region TEXT,
    marketplace_id TEXT,
    selling_partner_id TEXT,
    application_id TEXT,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_tested_at INTEGER,
    deactivated_at INTEGER
);
CREATE INDEX connections_platform ON connections (platform, active);

-- Every secret of a connection, encrypted with an AEAD; the key id names the master key used.
CREATE TABLE connection_secrets (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    expires_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, field)
);

-- An Amazon consent in progress: single use, short-lived, bound to the session (or API token)
-- that started it. The LWA client id and secret wait here sealed, never in a URL.
CREATE TABLE oauth_states (
    state_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    binding_hash BLOB NOT NULL,
    platform TEXT NOT NULL REFERENCES platforms (code),
    region TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    draft INTEGER NOT NULL DEFAULT 0 CHECK (draft IN (0, 1)),
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

CREATE TABLE sync_schedules (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('orders', 'inventory')),
    interval_minutes INTEGER NOT NULL CHECK (interval_minutes > 0),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    next_run_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, kind)
);

-- Sync work. A worker claims a job by setting a lease; an expired lease makes it claimable again,
-- so several instances can share one database. At most one active job per connection and kind.
CREATE TABLE sync_jobs (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    kind TEXT NOT NULL CHECK (kind IN ('orders', 'inventory')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    cursor TEXT,
    pages_done INTEGER NOT NULL DEFAULT 0,
    items_fetched INTEGER NOT NULL DEFAULT 0,
    items_created INTEGER NOT NULL DEFAULT 0,
    items_updated INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX sync_jobs_claim ON sync_jobs (state, run_at);
CREATE INDEX sync_jobs_connection ON sync_jobs (connection_id, created_at);
CREATE UNIQUE INDEX sync_jobs_one_active ON sync_jobs (connection_id, kind)
    WHERE state IN ('queued', 'running');

-- Orders from every channel; (connection_id, external_id) makes a re-synced order an update,
-- never a duplicate.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    platform TEXT NOT NULL REFERENCES platforms (code),
    external_id TEXT NOT NULL,
    marketplace_id TEXT,
    status TEXT NOT NULL,
    fulfillment_channel TEXT,
    purchased_at INTEGER NOT NULL,
    remote_updated_at INTEGER NOT NULL,
    total_minor INTEGER,
    total_currency TEXT CHECK (length(total_currency) = 3),
    item_count INTEGER NOT NULL DEFAULT 0,
    ship_city TEXT,
    ship_region TEXT,
    ship_country TEXT,
    synced_at INTEGER NOT NULL,
    UNIQUE (connection_id, external_id),
    CHECK ((total_minor IS NULL) = (total_currency IS NULL))
);
CREATE INDEX orders_purchased ON orders (purchased_at DESC, id DESC);
CREATE INDEX orders_status_purchased ON orders (status, purchased_at DESC, id DESC);
CREATE INDEX orders_connection_purchased ON orders (connection_id, purchased_at DESC, id DESC);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    sku TEXT,
    title TEXT,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    unit_price_minor INTEGER,
    currency TEXT CHECK (length(currency) = 3),
    UNIQUE (order_id, external_id),
    CHECK ((unit_price_minor IS NULL) = (currency IS NULL))
);
CREATE INDEX order_items_sku ON order_items (sku);

-- Stock per connection, SKU and fulfilment network (fba, fbm, flipkart).
CREATE TABLE inventory_items (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    sku TEXT NOT NULL,
    fulfillment TEXT NOT NULL,
    title TEXT,
    available INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    inbound INTEGER NOT NULL DEFAULT 0,
    remote_updated_at INTEGER,
    synced_at INTEGER NOT NULL,
    UNIQUE (connection_id, sku, fulfillment)
);
CREATE INDEX inventory_items_sku ON inventory_items (sku);
