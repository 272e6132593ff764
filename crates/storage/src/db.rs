use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};

use crate::{Result, StorageError};

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database engine a [`Storage`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Javelin's storage. Cheap to clone: it shares one connection pool.
#[derive(Clone, Debug)]
pub struct Storage {
    pub(crate) db: Db,
    /// How long a streamed read waits for its reader to take a batch before it gives up.
    pub(crate) reader_patience: Duration,
}

/// A streamed read (an export) holds a database connection while it waits for its reader, and
/// on SQLite keeps the log from being written back: a reader that takes nothing for this long
/// (a client that stopped reading but keeps its connection open) is let go.
const READER_PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite { pool: SqlitePool, path: Arc<Path> },
    Postgres(PgPool),
}

/// Runs the same body against whichever pool the storage holds. The body is compiled once
/// per backend, so each query is written once but type-checked for both.
macro_rules! with_pool {
    ($storage:expr, |$pool:ident| $body:expr) => {
        match &$storage.db {
            $crate::db::Db::Sqlite { pool: $pool, .. } => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs the same body against whichever connection a [`Transaction`] holds, as [`with_pool!`]
/// does for the pool; `$conn` is a `&mut` connection of the transaction's backend.
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::db::TxInner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::TxInner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// Where a reading task sends its batches of rows.
pub(crate) type BatchSender<T> = tokio::sync::mpsc::Sender<Result<Vec<T>>>;

/// Ends a query with its ` LIMIT n`, as each backend plans it best. SQLite plans a bound LIMIT by
/// its value, so each new binding re-prepares the statement (a twentieth of an orders page's
/// time): there it is written in (a handful of small numbers; the statement cache holds them).
/// PostgreSQL switches a prepared statement to a generic plan after five runs when that looks no
/// dearer; with a written-in LIMIT a search's generic plan walked the whole date index (3 s):
/// there it stays bound.
pub(crate) trait PushLimit {
    fn push_limit(&mut self, n: u32) -> &mut Self;
}

impl PushLimit for sqlx::QueryBuilder<sqlx::Sqlite> {
    fn push_limit(&mut self, n: u32) -> &mut Self {
        self.push(format!(" LIMIT {n}"))
    }
}

impl PushLimit for sqlx::QueryBuilder<sqlx::Postgres> {
    fn push_limit(&mut self, n: u32) -> &mut Self {
        self.push(" LIMIT ").push_bind(i64::from(n))
    }
}

/// Opens and closes a test of a value against the rows of a subquery, as each backend plans it
/// best. PostgreSQL plans `IN (subquery)` from its statistics, and with none for a table that
/// never had rows (autovacuum leaves an empty table alone) it probed the low-stock subquery once
/// per stock row: 130 ms for 25,000 rows. `= ANY(ARRAY(subquery))` runs the subquery once and
/// looks its values up in the index: 1.6 ms, statistics or not. SQLite plans `IN` well.
pub(crate) trait PushInSet {
    fn push_in_set(&mut self) -> &mut Self;
    fn push_end_set(&mut self) -> &mut Self;
}

impl PushInSet for sqlx::QueryBuilder<sqlx::Sqlite> {
    fn push_in_set(&mut self) -> &mut Self {
        self.push(" IN (")
    }
    fn push_end_set(&mut self) -> &mut Self {
        self.push(")")
    }
}

impl PushInSet for sqlx::QueryBuilder<sqlx::Postgres> {
    fn push_in_set(&mut self) -> &mut Self {
        self.push(" = ANY(ARRAY(")
    }
    fn push_end_set(&mut self) -> &mut Self {
        self.push("))")
    }
}

/// The batches a reading task (`read`, given where to send them) sends, as a stream. A stream
/// that ends without its last batch or an error (the task gave up on a reader that took
/// nothing) says so with [`StorageError::ReaderStalled`] rather than ending as if whole.
pub(crate) fn batches<T, F, Fut>(read: F) -> impl futures_util::Stream<Item = Result<Vec<T>>> + Send + use<T, F, Fut>
where
    T: Send + 'static,
    F: FnOnce(BatchSender<T>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let failed = sender.clone();
    let reading = read(sender);
    let whole = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let said = whole.clone();
    tokio::spawn(async move {
        let told = match reading.await {
            Ok(()) => true,
            // A reader that has stalled has no room for the error: it learns below.
            Err(err) => failed.try_send(Err(err)).is_ok(),
        };
        said.store(told, std::sync::atomic::Ordering::Release);
    });
    futures_util::stream::unfold(Some(receiver), move |receiver| {
        let whole = whole.clone();
        async move {
            let mut receiver = receiver?;
            match receiver.recv().await {
                Some(Ok(rows)) => Some((Ok(rows), Some(receiver))),
                Some(Err(err)) => Some((Err(err), None)),
                // The reading ended without its last rows or its error: the reader was let go.
                None if !whole.load(std::sync::atomic::Ordering::Acquire) => {
                    Some((Err(StorageError::ReaderStalled), None))
                }
                None => None,
            }
        }
    })
}

/// Sends `rows` on in batches of `batch`, until they end or the reader has gone; gives up when
/// the reader takes nothing for `patience`.
pub(crate) async fn send_batches<T>(
    mut rows: impl futures_util::Stream<Item = Result<T, sqlx::Error>> + Unpin,
    batch: usize,
    patience: Duration,
    sender: &BatchSender<T>,
) -> Result<()> {
    let mut chunk = Vec::with_capacity(batch);
    while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
        chunk.push(row);
        if chunk.len() == batch && !hand_over(sender, &mut chunk, patience).await? {
            return Ok(());
        }
    }
    if !chunk.is_empty() {
        hand_over(sender, &mut chunk, patience).await?;
    }
    Ok(())
}

/// Hands a batch to the reader: `false` when the reader has gone (and needs nothing more).
async fn hand_over<T>(sender: &BatchSender<T>, chunk: &mut Vec<T>, patience: Duration) -> Result<bool> {
    use tokio::sync::mpsc::error::SendTimeoutError;
    match sender.send_timeout(Ok(std::mem::take(chunk)), patience).await {
        Ok(()) => Ok(true),
        Err(SendTimeoutError::Closed(_)) => Ok(false),
        Err(SendTimeoutError::Timeout(_)) => Err(StorageError::ReaderStalled),
    }
}

/// Several writes that commit together or not at all: a unit of work such as a page of orders
/// and the watermark that covers it. Dropped without [`Transaction::commit`], it rolls back.
///
/// On SQLite a transaction holds the database's single write lock from its start: never keep
/// one open across a call to a marketplace.
pub struct Transaction {
    pub(crate) inner: TxInner,
}

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Transaction {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Opens a transaction that will write. SQLite needs `BEGIN IMMEDIATE` here: a deferred
/// transaction that reads and then writes fails with `SQLITE_BUSY_SNAPSHOT` under WAL when
/// another writer got in between, and the busy timeout does not help.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = Sqlite;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = Postgres;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}

impl Storage {
    /// Connects to `url`: `sqlite://path/to/file.db` (file and folder created when missing)
    /// or `postgres://…`. Does not migrate; call [`Storage::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Self::connect_sqlite(url).await,
            Some("postgres" | "postgresql") => Self::connect_postgres(url).await,
            _ => Err(StorageError::InvalidUrl(
                "expected a URL starting with sqlite:// or postgres://".into(),
            )),
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StorageError::InvalidUrl(err.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Rows cross from SQLite's thread to the reader in a channel of this many: the
            // default 50 wakes the reader every 50 rows, a third of a long export's time.
            .row_buffer_size(1024)
            // Pages written back to the database file (with an fsync) once the log holds 40 MB
            // rather than SQLite's 4 MB: a big import rewrites the same index pages again and
            // again, and writes them back a tenth as often (a tenth faster to store a report).
            .pragma("wal_autocheckpoint", "10000");
        let path = options.get_filename().to_path_buf();
        if path.as_os_str().is_empty() || path.starts_with(":memory:") {
            return Err(StorageError::InvalidUrl(
                "an in-memory SQLite database would lose everything at exit; give a file path".into(),
            ));
        }
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            crate::files::create_private_dir(dir)
                .map_err(|err| StorageError::InvalidUrl(format!("cannot create folder {}: {err}", dir.display())))?;
        }
        crate::files::private_database(&path)
            .map_err(|err| StorageError::InvalidUrl(format!("cannot create {}: {err}", path.display())))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection to a file in this process cannot be dropped by a server; pinging it
            // on every acquire only cost each query one more round trip to its thread.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Sqlite {
                pool,
                path: path.into(),
            },
            reader_patience: READER_PATIENCE,
        })
    }

    async fn connect_postgres(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| StorageError::InvalidUrl(err.to_string()))?
            .application_name("javelin");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Postgres(pool),
            reader_patience: READER_PATIENCE,
        })
    }

    /// Starts a transaction for writes (see [`Transaction`]).
    pub async fn begin(&self) -> Result<Transaction> {
        let inner = match &self.db {
            Db::Sqlite { pool, .. } => TxInner::Sqlite(pool.begin_write().await?),
            Db::Postgres(pool) => TxInner::Postgres(pool.begin_write().await?),
        };
        Ok(Transaction { inner })
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Readies the database for reads after a bulk load. PostgreSQL: `VACUUM (ANALYZE)`, which
    /// autovacuum does too, later, where it is on. Until then the planner guesses row counts
    /// (and read the 50 orders' items of a page by scanning every item: 380 ms instead of 3),
    /// and index-only scans still visit the table for each row (no visibility map yet).
    /// SQLite: nothing; its plans here are chosen without statistics, and measured so.
    pub async fn vacuum_analyze(&self) -> Result<()> {
        if let Db::Postgres(pool) = &self.db {
            // Javelin's bulk-loaded tables, not the whole database (which may hold others).
            sqlx::raw_sql(
                "VACUUM (ANALYZE) orders, order_items, order_status_changes, order_search, order_daily,
                     sku_daily, sku_weekly, sku_monthly, inventory_items, sku_stock",
            )
            .execute(pool)
            .await?;
        }
        Ok(())
    }

    /// Applies the embedded migrations. Safe when several instances start at once:
    /// PostgreSQL serialises them with an advisory lock (inside sqlx), SQLite with a lock
    /// file beside the database.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite { pool, path } => {
                let lock = lock_file(path).await?;
                let result = SQLITE_MIGRATIONS.run(pool).await;
                drop(lock);
                result?;
            }
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Takes an exclusive lock on `<database>.lock`, waiting for another process that holds it.
async fn lock_file(db_path: &Path) -> Result<File> {
    let mut path = db_path.as_os_str().to_owned();
    path.push(".lock");
    let path = PathBuf::from(path);
    let display = path.display().to_string();
    let error = |source| StorageError::LockFile {
        path: display.clone(),
        source,
    };
    tokio::task::spawn_blocking(move || {
        let file = File::options().create(true).truncate(false).write(true).open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(|join| error(std::io::Error::other(join)))?
    .map_err(error)
}
