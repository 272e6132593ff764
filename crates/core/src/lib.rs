//! What Javelin does, independent of HTTP and the command line: accounts and sign-in, the
//! supported platforms. The web and CLI layers call these services; the services call storage.

pub mod accounts;
pub mod connections;
pub mod platforms;
mod tokens;
pub mod vault;

pub use accounts::{AccountError, Accounts, LoginError, NewSessionToken};
pub use connections::Connections;
pub use javelin_storage::ConnectionStatus;
pub use platforms::PlatformCard;
