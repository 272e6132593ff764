//! Both backends' migrations move in step and build the same schema, and applying them is safe
//! to repeat and to race.

use std::path::Path;

use javelin_storage::Storage;
use javelin_storage::testing::TestDatabase;

fn names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A fresh, unmigrated database on each backend this run tests.
async fn unmigrated() -> Vec<TestDatabase> {
    let mut databases = vec![TestDatabase::sqlite_unmigrated().await];
    databases.extend(TestDatabase::postgres_unmigrated().await);
    databases
}

/// Every embedded migration is recorded as applied, once and successfully.
async fn assert_fully_applied(storage: &Storage) {
    let applied: Vec<(i64, String)> = storage
        .applied_migrations()
        .await
        .expect("applied migrations")
        .into_iter()
        .map(|(version, description, success)| {
            assert!(success, "migration {version} is recorded as failed");
            (version, description)
        })
        .collect();
    assert_eq!(applied, storage.embedded_migrations());
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_match() {
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));

    let lite = TestDatabase::sqlite().await;
    let Some(pg) = TestDatabase::postgres().await else {
        eprintln!("skipped the schema comparison: no PostgreSQL");
        return;
    };
    assert_eq!(lite.storage.embedded_migrations(), pg.storage.embedded_migrations());
    let (lite, pg) = (
        lite.storage.schema().await.expect("SQLite schema"),
        pg.storage.schema().await.expect("PostgreSQL schema"),
    );
    assert!(lite.tables.contains_key("connections"), "{lite:#?}");
    assert!(lite.full_text.contains("order_search"), "{lite:#?}");
    for (name, table) in &lite.tables {
        assert_eq!(
            Some(table),
            pg.tables.get(name),
            "table {name} differs between SQLite and PostgreSQL"
        );
    }
    assert_eq!(lite, pg);
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for db in unmigrated().await {
        db.storage.migrate().await.expect("first run");
        let schema = db.storage.schema().await.expect("schema");
        db.storage.migrate().await.expect("second run is a no-op");
        assert_fully_applied(&db.storage).await;
        assert_eq!(db.storage.schema().await.expect("schema"), schema);
    }
}

#[tokio::test]
async fn concurrent_migrations_agree() {
    let reference = TestDatabase::sqlite().await.storage.schema().await.expect("schema");
    // A race lost once in a while is still a race: many rounds make a missing lock show.
    let mut databases = Vec::new();
    for round in 0..24 {
        databases.push(TestDatabase::sqlite_unmigrated().await);
        if round % 8 == 0 {
            databases.extend(TestDatabase::postgres_unmigrated().await);
        }
    }
    for db in databases {
        let pools: Vec<Storage> = instances(&db.url).await;
        let results = tokio::join!(pools[0].migrate(), pools[1].migrate(), pools[2].migrate());
        for result in [results.0, results.1, results.2] {
            result.expect("every migrator succeeds");
        }
        assert_fully_applied(&db.storage).await;
        let schema = db.storage.schema().await.expect("schema");
        assert_eq!(
            schema.tables.keys().collect::<Vec<_>>(),
            reference.tables.keys().collect::<Vec<_>>()
        );
    }
}

/// Three pools on one database, as three instances starting at once would have.
async fn instances(url: &str) -> Vec<Storage> {
    let mut pools = Vec::new();
    for _ in 0..3 {
        pools.push(Storage::connect(url).await.expect("pool"));
    }
    pools
}
