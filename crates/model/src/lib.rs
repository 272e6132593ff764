//! The one model every channel maps into: platforms, money, orders and stock levels. Marketplace
//! clients produce it, storage keeps it, the pages and the API show it.

mod inventory;
mod money;
mod order;
mod platform;

pub use inventory::StockLevel;
pub use money::{AmountText, Money, MoneyError};
pub use order::{Order, OrderItem, OrderStatus, ShipTo, UnknownStatus};
pub use platform::{Platform, UnknownPlatform};
