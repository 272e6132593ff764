/// What can go wrong in storage, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database URL cannot be used (wrong scheme, bad path).
    #[error("{0}")]
    InvalidUrl(String),
    /// A row with the same unique key exists already.
    #[error("a record with the same {0} already exists")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database lock file {path}: {source}")]
    LockFile { path: String, source: std::io::Error },
    /// A streamed read's reader took nothing for a long while, and the read was given up.
    #[error("the rows stopped: they were not taken for too long")]
    ReaderStalled,
}

impl StorageError {
    /// Turns a unique-constraint violation into [`StorageError::Conflict`] naming `what`.
    pub(crate) fn conflict_on(what: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(what),
            _ => Self::Database(err),
        }
    }
}
