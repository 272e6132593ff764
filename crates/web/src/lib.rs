//! Javelin's web layer: the HTML pages, the JSON API under `/api/v1`, and operations endpoints.
//!
//! Handlers are thin: they read the request, call a service from `javelin-core`, and render.
//! Which routes need a signed-in user is decided by the structure of the router in
//! [`routes`]: every route lives in either the public table or the protected one.

mod api;
mod assets;
mod auth;
mod charts;
mod cookies;
mod csrf;
mod error;
mod extract;
mod flash;
mod metrics;
mod ops;
mod overview;
mod pages;
mod routes;
mod text_input;

use std::sync::Arc;

use javelin_core::{Accounts, Connections};
use javelin_storage::Storage;
use url::Url;

pub use metrics::Metrics;
pub use routes::{Access, RouteInfo, route_table, router};

/// Settings the web layer needs from the configuration.
#[derive(Clone, Debug)]
pub struct WebSettings {
    /// Where users reach Javelin; the base for redirects after OAuth.
    pub frontend_url: Url,
}

impl WebSettings {
    /// Cookies are marked `Secure` when Javelin is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.frontend_url.scheme() == "https"
    }
}

/// What every handler can reach. One pointer: the router clones it for every extractor of
/// every request, and a copy of each service was a fifth of an orders page's clones and frees.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub storage: Storage,
    pub accounts: Accounts,
    pub connections: Connections,
    pub sync: javelin_sync::Sync,
    pub catalog: javelin_core::Catalog,
    pub inventory: javelin_core::Inventory,
    pub settings: Arc<WebSettings>,
    pub metrics: Arc<Metrics>,
}
