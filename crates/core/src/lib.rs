//! What Javelin does, independent of HTTP and the command line: accounts and sign-in, the
//! supported platforms, connecting seller accounts. The web and CLI layers call these
//! services; the services call storage and the marketplace clients.

pub mod accounts;
pub mod audit;
mod clock;
pub mod connections;
pub mod inventory;
pub mod orders;
pub mod passwords;
pub mod platforms;
mod tokens;
pub mod vault;

pub use accounts::{AccountError, Accounts, LoginError, NewSessionToken};
pub use audit::{Actor, Audit, AuditAction, AuditQuery, Forbidden, Permission};
pub use clock::{Clock, ManualClock};
pub use connections::{Connections, PlatformCard};
pub use inventory::Inventory;
pub use javelin_storage::ConnectionStatus;
pub use orders::Catalog;
pub use passwords::PasswordError;
