//! Databases for tests: a temporary SQLite file, or a fresh schema in the PostgreSQL named by
//! `JAVELIN_TEST_POSTGRES_URL`, so that tests run in parallel without seeing each other's rows.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::Storage;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "JAVELIN_TEST_POSTGRES_URL";

/// A migrated, empty database that lives as long as this value.
pub struct TestDatabase {
    /// URL to give Javelin (`DATABASE_URL`) to use this database.
    pub url: String,
    pub storage: Storage,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("javelin.db").display());
        let storage = Storage::connect(&url).await.expect("open SQLite");
        storage.migrate().await.expect("migrate SQLite");
        Self {
            url,
            storage,
            _dir: Some(dir),
        }
    }

    /// A new schema on the test PostgreSQL server, or `None` when none is configured.
    pub async fn postgres() -> Option<Self> {
        let base = std::env::var(POSTGRES_URL_VAR).ok().filter(|url| !url.is_empty())?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs();
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).expect("operating system randomness");
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let schema = format!("jt_{secs}_{suffix}");

        let admin = Storage::connect(&base).await.expect("connect to the test PostgreSQL");
        admin.drop_stale_test_schemas(secs).await;
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        admin.close().await;

        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
        let storage = Storage::connect(&url).await.expect("connect to the test schema");
        storage.migrate().await.expect("migrate PostgreSQL");
        Some(Self {
            url,
            storage,
            _dir: None,
        })
    }
}

impl Storage {
    pub async fn execute_unprepared(&self, sql: &str) -> crate::Result<()> {
        crate::db::with_pool!(self, |pool| {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(pool).await?;
        });
        Ok(())
    }

    /// Schemas of test runs more than a day old are left-overs of interrupted runs.
    async fn drop_stale_test_schemas(&self, now_secs: u64) {
        let crate::db::Db::Postgres(pool) = &self.db else {
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

/// Declares each test once per backend: `mod sqlite` always, `mod postgres` when
/// [`POSTGRES_URL_VAR`] is set (otherwise it says it skipped).
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
                #[tokio::test]
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
                #[tokio::test]
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
