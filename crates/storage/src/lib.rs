//! Javelin's storage: one interface over embedded SQLite and PostgreSQL.
//!
//! [`Storage`] holds a pool of one of the two backends, chosen from the database URL at start.
//! Each query is written once in portable SQL (`$N` placeholders, `RETURNING`, `ON CONFLICT`)
//! and runs on either pool through [`with_pool!`]; times are bound from Rust, never `now()`.
//! The contract tests in `tests/` run the same suite on both backends.

mod audit;
mod connections;
mod dashboard;
mod db;
mod error;
mod files;
mod inventory;
mod inventory_lists;
mod oauth_states;
mod orders;
mod platforms;
mod rollups;
mod search;
mod sessions;
mod sign_in;
mod sync_jobs;
mod sync_state;
#[cfg(feature = "testing")]
pub mod testing;
mod timestamp;
mod users;

pub use audit::{AuditEvent, AuditFilter, NewAuditEvent};
pub use connections::{Connection, ConnectionStatus, NewConnection, StoredSecret};
pub use dashboard::{DayFigures, Figures, OpenOrders, Span};
pub use db::{Backend, Storage, Transaction};
pub use error::StorageError;
pub use files::create_private_dir;
pub use inventory::StoredStock;
pub use inventory_lists::{DEFAULT_THRESHOLD, SkuStock, StockCursor, StockFilter};
pub use oauth_states::{OAuthState, StateLookup};
pub use orders::{ExportedOrder, OrderCursor, OrderFilter, StatusChange, StoredItem, StoredOrder, UpsertSummary};
pub use platforms::{NewPlatform, Platform};
pub use rollups::{day_of, day_start, month_of, month_start, week_of, week_start};
pub use search::SearchTerms;
pub use sessions::{NewSession, SessionRecord};
pub use sign_in::Failures;
pub use sync_jobs::{JobOrigin, JobState, PageProgress, SyncJob, SyncKind};
pub use sync_state::{ConnectionMarketplace, Schedule};
pub use timestamp::Timestamp;
pub use users::{ApiTokenInfo, NewUser, Role, User, UserChange, UserChangeOutcome, UserLogin};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;
