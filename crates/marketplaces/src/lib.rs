//! Clients of the marketplaces' real APIs: Amazon (Login with Amazon and SP-API) and the
//! Flipkart Seller API. Every endpoint's base URL is configurable, so that the local sandbox
//! (and tests) can stand in for the real services without a change in protocol.

pub mod amazon;
mod connector;
mod error;
pub mod flipkart;
pub mod http;
mod pace;

pub use connector::{
    Account, AccountCheck, Connector, Connectors, IssuedToken, OrdersPage, Session, Skipped, StockPage, StockScope,
};
pub use error::{Credential, MarketplaceError, Unavailability};
pub use javelin_model::{Platform, UnknownPlatform};
pub use pace::{Operation, Pace, Unpaced};
