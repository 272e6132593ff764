//! The local marketplace sandbox: simulators of Login with Amazon, the Seller Central consent
//! page, SP-API, and the Flipkart Seller API, faithful to their protocols (see
//! `shared/reference/amazon-sp-api.md` §10 and `flipkart-seller-api.md` §8), so that tests and
//! demos exercise Javelin's real clients. Amazon is served under `/amazon`, Flipkart under
//! `/flipkart`, and the simulator's own controls under `/_sandbox`.

mod amazon;
mod clock;
mod credentials;
mod data;
mod flipkart;
mod limits;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::post;
use serde::Deserialize;
use url::Url;

pub use amazon::{AmazonReport, CLIENT_SECRET_LIFETIME, OrderState, Rotation, SimStock};
pub use clock::Clock;
pub use credentials::{AmazonCredentials, Credentials, FlipkartCredentials};
pub use data::{ADJECTIVES, NOUNS};
pub use flipkart::{ShipmentState, SimListing};

/// How the simulated marketplaces are set up.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Changes every generated credential; the same seed gives the same values.
    pub seed: u64,
    /// The OAuth redirect URIs registered for the sample Amazon application.
    pub redirect_uris: Vec<Url>,
    /// Whether the sample Amazon application is still a draft (needs `version=beta`).
    pub draft_app: bool,
    /// Products in the seller's catalogue.
    pub products: usize,
    /// Amazon orders placed over the last `days` days (half as many Flipkart orders).
    pub orders: usize,
    /// How many days back the Amazon orders go.
    pub days: u32,
    /// Whether new orders keep arriving (every few minutes, for three days), as in the demo.
    pub live: bool,
    /// How many times faster than Amazon's published limits the sandbox lets calls through.
    pub time_scale: f64,
    /// The share of calls answered with a fault (429, 500, 503, slow, cut off, malformed).
    pub fault_rate: f64,
    /// How long the Amazon app's previous client secret keeps working after a rotation.
    pub client_secret_overlap: time::Duration,
    /// How long Amazon takes to build one report (divided by `time_scale`); a seller's reports
    /// are built one after another.
    pub report_processing: time::Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            // A constant URL that parses.
            redirect_uris: vec![
                Url::parse("http://localhost:8000/connections/amazon/oauth/callback").expect("valid URL"),
            ],
            draft_app: true,
            products: 40,
            orders: 300,
            days: 30,
            live: false,
            time_scale: 1.0,
            fault_rate: 0.0,
            client_secret_overlap: time::Duration::days(7),
            report_processing: time::Duration::minutes(10),
        }
    }
}

/// A running set of simulators. Cheap to clone: clones share their state.
#[derive(Clone)]
pub struct Sandbox {
    options: Arc<SandboxOptions>,
    credentials: Arc<Credentials>,
    clock: Clock,
    state: Arc<Mutex<amazon::AmazonState>>,
    flipkart: Arc<Mutex<flipkart::FlipkartState>>,
    calls: Arc<Mutex<BTreeMap<&'static str, u64>>>,
    rotations: Arc<tokio::sync::watch::Sender<Option<Rotation>>>,
}

/// The operations the sandbox counts calls of, by the marketplaces' own names.
pub mod operation {
    pub const LWA_TOKEN: &str = "amazon:lwa:token";
    pub const GET_MARKETPLACE_PARTICIPATIONS: &str = "amazon:sellers:getMarketplaceParticipations";
    pub const SEARCH_ORDERS: &str = "amazon:orders:searchOrders";
    pub const GET_ORDER: &str = "amazon:orders:getOrder";
    pub const GET_INVENTORY_SUMMARIES: &str = "amazon:fbaInventory:getInventorySummaries";
    pub const SEARCH_LISTINGS_ITEMS: &str = "amazon:listings:searchListingsItems";
    pub const CREATE_REPORT: &str = "amazon:reports:createReport";
    pub const GET_REPORT: &str = "amazon:reports:getReport";
    pub const GET_REPORT_DOCUMENT: &str = "amazon:reports:getReportDocument";
    /// Downloads of report documents from their presigned URLs (S3's part, not SP-API's).
    pub const DOWNLOAD_REPORT_DOCUMENT: &str = "amazon:reports:download";
    pub const FLIPKART_TOKEN: &str = "flipkart:oauth:token";
    pub const FLIPKART_FILTER_SHIPMENTS: &str = "flipkart:shipments:filter";
    pub const FLIPKART_SHIPMENTS_BY_ID: &str = "flipkart:shipments:byId";
    pub const FLIPKART_LISTINGS: &str = "flipkart:listings";
}

impl Sandbox {
    pub fn new(options: SandboxOptions) -> Self {
        let credentials = Credentials::from_seed(options.seed);
        let clock = Clock::default();
        let start = clock.now();
        let state = amazon::AmazonState::new(&credentials, &options, start);
        let flipkart = flipkart::FlipkartState::new(&options, start);
        Self {
            options: Arc::new(options),
            credentials: Arc::new(credentials),
            clock,
            state: Arc::new(Mutex::new(state)),
            flipkart: Arc::new(Mutex::new(flipkart)),
            calls: Arc::default(),
            rotations: Arc::new(tokio::sync::watch::Sender::new(None)),
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The Amazon app's client secret now (the sample one until a rotation).
    pub fn amazon_client_secret(&self) -> String {
        self.amazon().client_secrets.current().to_owned()
    }

    /// Rotates the Amazon app's client secret, as Developer Central's "Rotate secret" does.
    pub fn rotate_amazon_client_secret(&self) -> Rotation {
        let rotation = self.amazon().client_secrets.rotate(self.clock.now());
        self.rotations.send_replace(Some(rotation.clone()));
        rotation
    }

    /// Sees every rotation of the Amazon app's client secret (to print the new one).
    pub fn client_secret_rotations(&self) -> tokio::sync::watch::Receiver<Option<Rotation>> {
        self.rotations.subscribe()
    }

    /// Whether the sample Amazon application is a draft (its consent needs `version=beta`).
    pub fn draft_app(&self) -> bool {
        self.options.draft_app
    }

    /// The simulators' clock; tests move it forward to expire codes and tokens.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How many requests an operation (see [`operation`]) has received, answered or refused.
    pub fn calls(&self, operation: &str) -> u64 {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Every Amazon order of these marketplaces placed by now, as it stands now.
    pub fn amazon_orders(&self, marketplace_ids: &[&str]) -> Vec<OrderState> {
        self.amazon_orders_at(marketplace_ids, self.clock.now())
    }

    /// Every Amazon order of these marketplaces placed by `at`, as it stood then.
    pub fn amazon_orders_at(&self, marketplace_ids: &[&str], at: time::OffsetDateTime) -> Vec<OrderState> {
        self.amazon().order_states(marketplace_ids, at)
    }

    /// The Amazon stock of every SKU in every marketplace of the seller.
    pub fn amazon_stock(&self) -> Vec<SimStock> {
        self.amazon().stock.clone()
    }

    /// Every Flipkart order item placed by now, with its state now.
    pub fn flipkart_items(&self) -> Vec<ShipmentState> {
        self.flipkart().states(self.clock.now())
    }

    pub fn flipkart_listings(&self) -> Vec<SimListing> {
        self.flipkart().listings.clone()
    }

    /// Makes one Amazon order come with a broken field from now on.
    pub fn corrupt_amazon_order(&self, order_id: &str) -> bool {
        let mut state = self.amazon();
        let order = state.orders.iter_mut().find(|order| order.id == order_id);
        order.map(|order| order.corrupt = true).is_some()
    }

    /// Revokes every Amazon grant: refresh and access tokens stop working.
    pub fn revoke_amazon_grants(&self) {
        self.amazon().revoke_grants();
    }

    /// Changes the share of calls answered with a fault.
    pub fn set_fault_rate(&self, rate: f64) {
        self.amazon().faults.rate = rate.clamp(0.0, 1.0);
        self.flipkart().faults.rate = rate.clamp(0.0, 1.0);
    }

    /// Faults injected so far, and calls refused for their rate.
    pub fn faults_injected(&self) -> u64 {
        self.amazon().faults.injected + self.flipkart().faults.injected
    }

    pub fn throttled(&self, operation: &str) -> u64 {
        let amazon = self.amazon().limits.throttled.get(operation).copied().unwrap_or(0);
        let flipkart = self.flipkart().limits.throttled.get(operation).copied().unwrap_or(0);
        amazon + flipkart
    }

    fn count(&self, operation: &'static str) {
        *self
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(operation)
            .or_default() += 1;
    }

    pub fn router(&self) -> Router {
        Router::new()
            .nest("/amazon", amazon::router())
            .nest("/flipkart", flipkart::router())
            .route("/_sandbox/clock/advance", post(advance_clock))
            .route(
                "/_sandbox/amazon/rotate-client-secret",
                post(amazon::rotate_client_secret),
            )
            .route("/_sandbox/amazon/reports/fail-next", post(amazon::reports_fail_next))
            .with_state(self.clone())
    }

    fn amazon(&self) -> MutexGuard<'_, amazon::AmazonState> {
        // A panic while holding the lock would be a bug in the simulator; keep serving.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn flipkart(&self) -> MutexGuard<'_, flipkart::FlipkartState> {
        self.flipkart.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

/// `POST /_sandbox/clock/advance?seconds=N`: lets codes and tokens expire without waiting.
async fn advance_clock(State(sandbox): State<Sandbox>, Query(advance): Query<Advance>) -> String {
    sandbox.clock.advance(time::Duration::seconds(advance.seconds));
    format!("clock advanced by {} s\n", advance.seconds)
}

/// The id and secret of an `Authorization: Basic` header, as both token endpoints accept them.
fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Random hexadecimal characters for codes and tokens.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The operating system's random source failing is not something a simulator recovers from.
    getrandom::fill(&mut buf).expect("operating system randomness");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
