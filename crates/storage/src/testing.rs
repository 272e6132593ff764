//! Databases for tests and benchmarks: a temporary SQLite file, or a fresh schema in a
//! PostgreSQL server (for tests, the one named by `JAVELIN_TEST_POSTGRES_URL`), so that runs in
//! parallel do not see each other's rows; what tests need to look inside them (the migrated
//! schema, raw SQL); and the plain INSERT and SELECT that the benchmarks measure against.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use javelin_model::Order;

use crate::db::{Db, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, with_pool, with_tx};
use crate::{ConnectionStatus, NewConnection, NewPlatform, NewUser, Role, Storage, Timestamp};

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "JAVELIN_TEST_POSTGRES_URL";
/// Set to `1` (or run under `CI`) to make a missing PostgreSQL fail the tests instead of
/// skipping their PostgreSQL half.
pub const REQUIRE_POSTGRES_VAR: &str = "JAVELIN_REQUIRE_POSTGRES";

/// Whether this run must test PostgreSQL: under CI, or when asked to.
pub fn postgres_required() -> bool {
    let set = |var: &str| std::env::var(var).is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"));
    set(REQUIRE_POSTGRES_VAR) || set("CI")
}

/// An empty database that lives as long as this value.
pub struct TestDatabase {
    /// URL to give Javelin (`DATABASE_URL`) to use this database.
    pub url: String,
    pub storage: Storage,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A migrated SQLite database in a temporary folder.
    pub async fn sqlite() -> Self {
        let db = Self::sqlite_unmigrated().await;
        db.storage.migrate().await.expect("migrate SQLite");
        db
    }

    /// A SQLite database with no tables yet.
    pub async fn sqlite_unmigrated() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("javelin.db").display());
        let storage = Storage::connect(&url).await.expect("open SQLite");
        Self {
            url,
            storage,
            _dir: Some(dir),
        }
    }

    /// A migrated schema of its own on the test PostgreSQL server; `None` when no server is
    /// configured and none is required (see [`postgres_required`]).
    pub async fn postgres() -> Option<Self> {
        let db = Self::postgres_unmigrated().await?;
        db.storage.migrate().await.expect("migrate PostgreSQL");
        Some(db)
    }

    /// A new, empty schema on the test PostgreSQL server.
    pub async fn postgres_unmigrated() -> Option<Self> {
        let Some(base) = std::env::var(POSTGRES_URL_VAR).ok().filter(|url| !url.is_empty()) else {
            assert!(
                !postgres_required(),
                "{POSTGRES_URL_VAR} is not set, but this run must test PostgreSQL (CI or {REQUIRE_POSTGRES_VAR} is set)"
            );
            return None;
        };
        Some(
            Self::postgres_schema(&base)
                .await
                .expect("a schema on the test PostgreSQL"),
        )
    }

    /// A migrated database of the kind `url` names, of its own: a new SQLite file in a
    /// temporary folder for `sqlite:` URLs (the path is not used), a new schema otherwise.
    pub async fn scratch(url: &str) -> crate::Result<Self> {
        let db = if url.starts_with("sqlite:") {
            Self::sqlite_unmigrated().await
        } else {
            Self::postgres_schema(url).await?
        };
        db.storage.migrate().await?;
        Ok(db)
    }

    /// A new, empty schema on the PostgreSQL server at `base`; schemas older than a day left
    /// by earlier runs are dropped.
    async fn postgres_schema(base: &str) -> crate::Result<Self> {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs();
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).expect("operating system randomness");
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let schema = format!("jt_{secs}_{suffix}");

        let admin = Storage::connect(base).await?;
        admin.drop_stale_test_schemas(secs).await;
        admin.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await?;
        admin.close().await;

        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
        let storage = Storage::connect(&url).await?;
        Ok(Self {
            url,
            storage,
            _dir: None,
        })
    }

    /// A user, the platforms and one connected account of `platform`; returns its id.
    pub async fn connection(&self, platform: &str) -> crate::Result<i64> {
        let now = crate::Timestamp::now();
        let platforms = [
            NewPlatform {
                code: "amazon",
                name: "Amazon",
                sort_order: 1,
            },
            NewPlatform {
                code: "flipkart",
                name: "Flipkart",
                sort_order: 2,
            },
        ];
        self.storage.ensure_platforms(&platforms, now).await?;
        let email = "owner@example.com";
        let owner = match self.storage.find_user_login(email).await? {
            Some(login) => login.user.id,
            None => {
                let user = NewUser {
                    email,
                    password_hash: "$argon2id$not-a-real-hash",
                    role: Role::Admin,
                    now,
                };
                self.storage.create_user(&user).await?.id
            }
        };
        let mut tx = self.storage.begin().await?;
        let created = tx
            .insert_connection(&NewConnection {
                platform,
                status: ConnectionStatus::Connected,
                status_message: "",
                label: "Store",
                region: (platform == "amazon").then_some("NA"),
                marketplace_id: (platform == "amazon").then_some("ATVPDKIKX0DER"),
                selling_partner_id: None,
                application_id: None,
                created_by: Some(owner),
                now,
            })
            .await?;
        tx.commit().await?;
        Ok(created.id)
    }
}

impl Storage {
    /// Reads every order's exported columns, newest first, the plainest way, as the reference
    /// of the export benchmark: one query, each row decoded and counted.
    pub async fn read_orders_plainly(&self) -> crate::Result<usize> {
        with_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM orders ORDER BY purchased_at DESC, id DESC",
                crate::orders::EXPORT_COLUMNS
            );
            let mut rows = sqlx::query_as::<_, crate::ExportedOrder>(sqlx::AssertSqlSafe(sql)).fetch(pool);
            let mut count = 0;
            while futures_util::TryStreamExt::try_next(&mut rows).await?.is_some() {
                count += 1;
            }
            Ok(count)
        })
    }

    /// Stores new orders the plainest way, as the reference of the ingest benchmark: in one
    /// transaction, one prepared INSERT per order and per item, nothing read first.
    pub async fn insert_orders_plainly(
        &self,
        connection_id: i64,
        platform: &str,
        orders: &[Order],
        now: Timestamp,
    ) -> crate::Result<()> {
        let mut tx = self.begin().await?;
        for order in orders {
            let at = Timestamp::from_datetime;
            with_tx!(tx, |conn| {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO orders (connection_id, platform, external_id, marketplace_id, status, platform_status,
                         fulfillment_channel, purchased_at, remote_updated_at, ship_by_at, total_minor, total_currency,
                         item_count, ship_city, ship_region, ship_postal_code, ship_country, created_at, synced_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
                     RETURNING id",
                )
                .bind(connection_id)
                .bind(platform)
                .bind(&order.external_id)
                .bind(&order.marketplace_id)
                .bind(order.status.code())
                .bind(&order.platform_status)
                .bind(&order.fulfillment_channel)
                .bind(at(order.purchased_at))
                .bind(at(order.updated_at))
                .bind(order.ship_by.map(at))
                .bind(order.total.map(|total| total.minor()))
                .bind(order.total.map(|total| total.currency()))
                .bind(order.items.iter().map(|item| i64::from(item.quantity)).sum::<i64>())
                .bind(&order.ship_to.city)
                .bind(&order.ship_to.region)
                .bind(&order.ship_to.postal_code)
                .bind(&order.ship_to.country)
                .bind(now)
                .fetch_one(&mut *conn)
                .await?;
                for item in &order.items {
                    sqlx::query(
                        "INSERT INTO order_items (order_id, external_id, sku, product_id, title, quantity,
                             quantity_shipped, unit_price_minor, line_total_minor, currency)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(id)
                    .bind(&item.external_id)
                    .bind(&item.sku)
                    .bind(&item.product_id)
                    .bind(&item.title)
                    .bind(i64::from(item.quantity))
                    .bind(i64::from(item.quantity_shipped))
                    .bind(item.unit_price.map(|price| price.minor()))
                    .bind(item.line_total.map(|total| total.minor()))
                    .bind(item.currency())
                    .execute(&mut *conn)
                    .await?;
                }
            });
        }
        tx.commit().await
    }
}

/// A migrated schema, described the same way for both backends so that they can be compared:
/// column types by storage class (SQLite's INTEGER holds PostgreSQL's BIGINT, BOOLEAN and
/// TIMESTAMPTZ), timestamps by Javelin's convention (a `*_at` INTEGER column on SQLite).
/// Full-text indexes are built differently (an FTS5 table; a table of `tsvector`s) and are
/// compared by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, TableSchema>,
    pub full_text: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    pub columns: Vec<ColumnSchema>,
    pub primary_key: Vec<String>,
    /// `(column, referenced table, referenced column, on delete)`.
    pub foreign_keys: BTreeSet<(String, String, String, String)>,
    pub indexes: BTreeSet<IndexSchema>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSchema {
    pub name: String,
    /// `INTEGER`, `TEXT` or `BLOB`.
    pub class: String,
    pub timestamp: bool,
    pub not_null: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexSchema {
    /// `None` for the index behind a UNIQUE constraint, which each backend names its own way.
    pub name: Option<String>,
    pub unique: bool,
    /// Key columns in order, `DESC` where descending.
    pub columns: Vec<String>,
    pub partial: bool,
}

impl ColumnSchema {
    fn new(name: String, class: &str, timestamp: bool, not_null: bool) -> Self {
        Self {
            name,
            class: class.to_owned(),
            timestamp,
            not_null,
        }
    }
}

impl Storage {
    /// The same storage, waiting `patience` for the reader of a streamed read (a minute
    /// otherwise).
    pub fn with_reader_patience(self, patience: std::time::Duration) -> Self {
        Self {
            reader_patience: patience,
            ..self
        }
    }

    pub async fn execute_unprepared(&self, sql: &str) -> crate::Result<()> {
        with_pool!(self, |pool| {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(pool).await?;
        });
        Ok(())
    }

    /// The first column of every row `sql` returns, as text (`CAST(… AS TEXT)` what is not).
    pub async fn query_texts(&self, sql: &str) -> crate::Result<Vec<String>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(pool)
                .await?)
        })
    }

    /// The migrations recorded as applied: `(version, description, success)`, oldest first.
    pub async fn applied_migrations(&self) -> crate::Result<Vec<(i64, String, bool)>> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT version, description, success FROM _sqlx_migrations ORDER BY version")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// The migrations embedded in this build for this backend: `(version, description)`.
    pub fn embedded_migrations(&self) -> Vec<(i64, String)> {
        let migrator = match &self.db {
            Db::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// Every table of Javelin's (not the migrations' bookkeeping) with its columns and indexes.
    pub async fn schema(&self) -> crate::Result<Schema> {
        let mut tables = BTreeMap::new();
        let full_text: BTreeSet<String>;
        match &self.db {
            Db::Sqlite { pool, .. } => {
                full_text = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5%'",
                )
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect();
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'",
                )
                .fetch_all(pool)
                .await?;
                // An FTS5 table and the shadow tables that hold its index.
                let of_full_text = |table: &str| {
                    full_text.iter().any(|name| {
                        table == name
                            || table
                                .strip_prefix(name.as_str())
                                .is_some_and(|rest| rest.starts_with('_'))
                    })
                };
                for table in names.into_iter().filter(|table| !of_full_text(table)) {
                    let described = sqlite_table(pool, &table).await?;
                    tables.insert(table, described);
                }
            }
            Db::Postgres(pool) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                       AND table_name <> '_sqlx_migrations'",
                )
                .fetch_all(pool)
                .await?;
                full_text = sqlx::query_scalar(
                    "SELECT DISTINCT table_name::text FROM information_schema.columns
                     WHERE table_schema = current_schema() AND data_type = 'tsvector'",
                )
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect();
                for table in names.into_iter().filter(|table| !full_text.contains(table)) {
                    let described = postgres_table(pool, &table).await?;
                    tables.insert(table, described);
                }
            }
        }
        Ok(Schema { tables, full_text })
    }

    /// Schemas of test runs more than a day old are left-overs of interrupted runs.
    async fn drop_stale_test_schemas(&self, now_secs: u64) {
        let Db::Postgres(pool) = &self.db else {
            return;
        };
        let Ok(names) = sqlx::query_scalar::<_, String>(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'jt\\_%'",
        )
        .fetch_all(pool)
        .await
        else {
            return;
        };
        for name in names {
            let created = name.split('_').nth(1).and_then(|secs| secs.parse::<u64>().ok());
            if created.is_some_and(|secs| secs + 86_400 < now_secs) {
                let _ = self
                    .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await;
            }
        }
    }
}

async fn sqlite_table(pool: &sqlx::SqlitePool, table: &str) -> crate::Result<TableSchema> {
    let rows: Vec<(String, String, bool, i64)> =
        sqlx::query_as("SELECT name, upper(type), \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(pool)
            .await?;
    let mut primary: Vec<(i64, String)> = rows.iter().filter(|r| r.3 > 0).map(|r| (r.3, r.0.clone())).collect();
    primary.sort();
    let columns = rows
        .into_iter()
        .map(|(name, class, not_null, pk)| {
            let timestamp = class == "INTEGER" && name.ends_with("_at");
            ColumnSchema::new(name, &class, timestamp, not_null || pk > 0)
        })
        .collect();
    let foreign_keys = sqlx::query_as("SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list($1)")
        .bind(table)
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    let listed: Vec<(String, bool, String, bool)> =
        sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1) WHERE origin <> 'pk'")
            .bind(table)
            .fetch_all(pool)
            .await?;
    let mut indexes = BTreeSet::new();
    for (name, unique, origin, partial) in listed {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT name || CASE WHEN \"desc\" THEN ' DESC' ELSE '' END
                 FROM pragma_index_xinfo($1) WHERE key = 1 ORDER BY seqno",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        let name = (origin == "c").then_some(name);
        indexes.insert(IndexSchema {
            name,
            unique,
            columns,
            partial,
        });
    }
    let primary_key = primary.into_iter().map(|(_, name)| name).collect();
    Ok(TableSchema {
        columns,
        primary_key,
        foreign_keys,
        indexes,
    })
}

async fn postgres_table(pool: &sqlx::PgPool, table: &str) -> crate::Result<TableSchema> {
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_nullable = 'NO'
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let columns = rows
        .into_iter()
        .map(|(name, data_type, not_null)| {
            let class = match data_type.as_str() {
                "text" => "TEXT",
                "bytea" => "BLOB",
                _ => "INTEGER",
            };
            let timestamp = data_type == "timestamp with time zone";
            ColumnSchema::new(name, class, timestamp, not_null)
        })
        .collect();
    let relation = "(quote_ident(current_schema()) || '.' || quote_ident($1))::regclass";
    let primary_key = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT a.attname::text FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid
                 AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])
             WHERE i.indrelid = {relation} AND i.indisprimary
             ORDER BY array_position(i.indkey::int2[], a.attnum)"
    )))
    .bind(table)
    .fetch_all(pool)
    .await?;
    let foreign_keys = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT a.attname::text, t.relname::text, af.attname::text,
                 CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                     WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
             FROM pg_constraint c
             JOIN pg_class t ON t.oid = c.confrelid
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND c.conrelid = {relation}"
    )))
    .bind(table)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let listed: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT ic.relname::text, i.indisunique,
                 EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid),
                 i.indpred IS NOT NULL,
                 array_to_string(ARRAY(
                     SELECT pg_get_indexdef(i.indexrelid, k, true)
                         || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                     FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k), ',')
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = {relation} AND NOT i.indisprimary"
    )))
    .bind(table)
    .fetch_all(pool)
    .await?;
    let indexes = listed
        .into_iter()
        .map(|(name, unique, constraint, partial, columns)| IndexSchema {
            name: (!constraint).then_some(name),
            unique,
            columns: columns.split(',').map(str::to_owned).collect(),
            partial,
        })
        .collect();
    Ok(TableSchema {
        columns,
        primary_key,
        foreign_keys,
        indexes,
    })
}

/// Declares each test once per backend: `mod sqlite` always, `mod postgres` when
/// [`POSTGRES_URL_VAR`] is set. Without it the PostgreSQL tests say they skipped, or fail when
/// PostgreSQL is required ([`postgres_required`]). Each runs on a multi-threaded runtime, so
/// that a test may wait on a child process while a server of its own keeps answering.
///
/// ```ignore
/// javelin_storage::backend_tests! {
///     async fn counts_users(db) { assert_eq!(db.storage.count_users().await.unwrap(), 0); }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($db:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $db = $crate::testing::TestDatabase::sqlite().await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($db) = $crate::testing::TestDatabase::postgres().await else {
                        eprintln!("skipped: {} is not set", $crate::testing::POSTGRES_URL_VAR);
                        return;
                    };
                    $body
                }
            )*
        }
    };
}
