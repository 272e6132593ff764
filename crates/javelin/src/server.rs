//! Starting and stopping the web server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use javelin_core::connections::CredentialStore;
use javelin_core::{Accounts, Clock, Connections};
use javelin_marketplaces::Connectors;
use javelin_marketplaces::amazon::Amazon;
use javelin_marketplaces::flipkart::Flipkart;
use javelin_storage::Storage;
use javelin_sync::Sync;
use javelin_web::{AppState, Metrics, Services, WebSettings};
use tokio::net::TcpListener;

use crate::edge::EdgeLimits;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, redacted_database_url};

/// How often expired sessions, consent attempts and old sync jobs are purged.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(600);

/// A server bound to its address, with its database migrated and seeded, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    edge: EdgeLimits,
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
        Self::with_clock(config, listener, Clock::system()).await
    }

    /// As [`Server::with_listener`], with the services reading the time from `clock`.
    pub async fn with_clock(config: &Config, listener: TcpListener, clock: Clock) -> anyhow::Result<Self> {
        let config = &config.bound_to(listener.local_addr()?);
        let storage = open_storage(config, &clock).await?;
        let accounts = Accounts::new(storage.clone(), clock.clone())?;
        if let Some(admin) = &config.admin {
            match accounts
                .create_first_admin(&javelin_core::Actor::system(), &admin.email, &admin.password)
                .await
            {
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
        let connectors = Connectors::new(
            Amazon::new(http.clone(), config.amazon.clone()),
            Flipkart::new(http, config.flipkart_api_url.clone()),
        );
        let store = CredentialStore::new(storage.clone(), vault);
        let sync = Sync::new(
            storage.clone(),
            store.clone(),
            connectors.clone(),
            clock.clone(),
            config.sync.clone(),
        );
        let inventory = javelin_core::Inventory::new(storage.clone(), clock.clone());
        let connections = Connections::new(
            store,
            connectors,
            clock,
            config.amazon_oauth_redirect_uri.clone(),
            config.amazon_oauth_redirect_uri_set,
        )
        .with_check_limit(config.check_time_limit);
        let settings = WebSettings {
            frontend_url: config.frontend_url.clone(),
        };
        let state = AppState::new(Services {
            catalog: javelin_core::Catalog::new(storage.clone()),
            inventory,
            storage,
            accounts,
            connections,
            sync,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
        });
        Ok(Self {
            listener,
            state,
            edge: config.edge,
        })
    }

    /// The store this server reads and writes.
    pub fn storage(&self) -> Storage {
        self.state.storage.clone()
    }

    /// The sync engine this server runs.
    pub fn sync(&self) -> javelin_sync::Sync {
        self.state.sync.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and lets the
    /// background work end what it is doing.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, state, edge } = self;
        let storage = state.storage.clone();
        let stopping = CancellationToken::new();
        let housekeeping = tokio::spawn(housekeeping(
            state.accounts.clone(),
            state.connections.clone(),
            state.sync.clone(),
            stopping.clone(),
        ));
        let sync = state.sync.clone();
        let syncing = tokio::spawn({
            let stopping = stopping.clone();
            async move { sync.run(stopping).await }
        });
        let frontend_url = state.settings.frontend_url.clone();
        let app = javelin_web::router(state);
        tracing::info!(address = %listener.local_addr()?, %frontend_url, "Javelin is serving");
        let stop_background = stopping.clone();
        crate::edge::serve(listener, app, edge, async move {
            shutdown.await;
            stop_background.cancel();
        })
        .await;
        stopping.cancel();
        for (task, name) in [(housekeeping, "housekeeping"), (syncing, "sync")] {
            if let Err(err) = task.await {
                tracing::warn!(error = %err, "{name} ended abnormally");
            }
        }
        storage.close().await;
        tracing::info!("Javelin has stopped");
        Ok(())
    }
}

/// Connects, migrates and seeds the platforms: what every command that touches data needs.
pub async fn open_storage(config: &Config, clock: &Clock) -> anyhow::Result<Storage> {
    let shown = redacted_database_url(&config.database_url);
    let storage = Storage::connect(&config.database_url)
        .await
        .map_err(|err| anyhow::anyhow!("cannot open the database {shown} (DATABASE_URL): {err}"))?;
    storage.migrate().await?;
    javelin_core::platforms::initialise(&storage, clock).await?;
    tracing::info!(database = %shown, "database ready");
    Ok(storage)
}

/// Purges now and then until `stopping` is cancelled; a round in progress is finished first.
async fn housekeeping(accounts: Accounts, connections: Connections, sync: Sync, stopping: CancellationToken) {
    let mut ticks = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tokio::select! {
            _ = stopping.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(err) = accounts.housekeeping().await {
            tracing::warn!(error = %err, "session housekeeping failed");
        }
        if let Err(err) = connections.housekeeping().await {
            tracing::warn!(error = %err, "OAuth state housekeeping failed");
        }
        if let Err(err) = sync.housekeeping().await {
            tracing::warn!(error = %err, "sync job housekeeping failed");
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
