//! Starting and stopping the web server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use javelin_core::{Accounts, Connections};
use javelin_marketplaces::amazon::Amazon;
use javelin_marketplaces::flipkart::Flipkart;
use javelin_storage::Storage;
use javelin_web::{AppState, Metrics, WebSettings};
use tokio::net::TcpListener;

use crate::config::{Config, redacted_database_url};

/// How often expired sessions and consent attempts are purged.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(600);

/// A server bound to its address, with its database migrated and seeded, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Binds the configured address, then prepares as [`Server::with_listener`].
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|err| anyhow::anyhow!("cannot listen on {} (JAVELIN_LISTEN): {err}", config.listen))?;
        Self::with_listener(config, listener).await
    }

    /// Opens and migrates the database, initialises the platforms, and creates the configured
    /// administrator when no user exists; serves on a socket the caller has bound.
    pub async fn with_listener(config: &Config, listener: TcpListener) -> anyhow::Result<Self> {
        let storage = open_storage(config).await?;
        let accounts = Accounts::new(storage.clone())?;
        if let Some(admin) = &config.admin {
            match accounts.create_first_admin(&admin.email, &admin.password).await {
                Ok(user) => {
                    tracing::info!(email = %user.email, "created the administrator from JAVELIN_ADMIN_EMAIL")
                }
                Err(javelin_core::AccountError::AlreadySetUp) => {
                    tracing::info!("users exist already; JAVELIN_ADMIN_EMAIL and JAVELIN_ADMIN_PASSWORD are not used");
                }
                Err(err) => return Err(err.into()),
            }
        }
        let vault = Arc::new(crate::keys::open_vault(config, &storage).await?);
        let http = javelin_marketplaces::http::client()?;
        let connections = Connections::new(
            storage.clone(),
            vault,
            Amazon::new(http.clone(), config.amazon.clone()),
            Flipkart::new(http, config.flipkart_api_url.clone()),
            config.amazon_oauth_redirect_uri.clone(),
            config.amazon_oauth_redirect_uri_set,
        );
        let settings = WebSettings {
            frontend_url: config.frontend_url.clone(),
        };
        let state = AppState {
            storage,
            accounts,
            connections,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
        };
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, state } = self;
        let storage = state.storage.clone();
        let housekeeping = tokio::spawn(housekeeping(state.accounts.clone(), state.connections.clone()));
        let app = javelin_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tracing::info!(address = %listener.local_addr()?, "Javelin is serving");
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        housekeeping.abort();
        storage.close().await;
        tracing::info!("Javelin has stopped");
        Ok(served?)
    }
}

/// Connects, migrates and seeds the platforms: what every command that touches data needs.
pub async fn open_storage(config: &Config) -> anyhow::Result<Storage> {
    let shown = redacted_database_url(&config.database_url);
    let storage = Storage::connect(&config.database_url)
        .await
        .map_err(|err| anyhow::anyhow!("cannot open the database {shown} (DATABASE_URL): {err}"))?;
    storage.migrate().await?;
    javelin_core::platforms::initialise(&storage).await?;
    tracing::info!(database = %shown, "database ready");
    Ok(storage)
}

async fn housekeeping(accounts: Accounts, connections: Connections) {
    let mut ticks = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        ticks.tick().await;
        if let Err(err) = accounts.housekeeping().await {
            tracing::warn!(error = %err, "session housekeeping failed");
        }
        if let Err(err) = connections.housekeeping().await {
            tracing::warn!(error = %err, "OAuth state housekeeping failed");
        }
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives while the server is starting is not lost
/// (nor does it kill the process outright).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            (Err(err), _) | (_, Err(err)) => {
                tracing::warn!(error = %err, "cannot listen for signals; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
