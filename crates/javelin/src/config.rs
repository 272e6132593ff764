//! Validated configuration. A bad value stops the start with one line naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use tracing_subscriber::EnvFilter;
use url::Url;

use javelin_core::vault::MasterKey;
use javelin_marketplaces::amazon::AmazonEndpoints;
use javelin_sync::SyncSettings;

use crate::cli::Settings;
use crate::edge::EdgeLimits;

/// Where Amazon sends the seller back, below the front-end URL.
const CALLBACK_PATH: &str = "/connections/amazon/oauth/callback";

/// A setting that cannot be used: which one, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{var} (--{flag}): {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub flag: &'static str,
    pub problem: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone)]
pub struct AdminSeed {
    pub email: String,
    pub password: String,
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    /// Whether DATABASE_URL was given (else the SQLite file in the data folder).
    pub database_is_explicit: bool,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub frontend_url: Url,
    /// Whether FRONTEND_URL was set (else `http://localhost:PORT` of the listening port).
    pub frontend_url_explicit: bool,
    pub amazon_oauth_redirect_uri: Url,
    /// Whether AMAZON_OAUTH_REDIRECT_URI was set, rather than defaulted.
    pub amazon_oauth_redirect_uri_set: bool,
    /// JAVELIN_MASTER_KEY, decoded.
    pub master_key: Option<[u8; 32]>,
    pub amazon: AmazonEndpoints,
    pub flipkart_api_url: Url,
    pub admin: Option<AdminSeed>,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// How the sync engine runs.
    pub sync: SyncSettings,
    /// Limits of the HTTP edge: connections, timeouts.
    pub edge: EdgeLimits,
    /// How long Test Connection waits for a marketplace.
    pub check_time_limit: std::time::Duration,
}

impl std::fmt::Debug for Config {
    /// Shows what an operator needs to check a deployment, never a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &redacted_database_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("frontend_url", &self.frontend_url.as_str())
            .field("amazon_oauth_redirect_uri", &self.amazon_oauth_redirect_uri.as_str())
            .field("admin_email", &self.admin.as_ref().map(|admin| &admin.email))
            .field("max_connections", &self.edge.max_connections)
            .finish_non_exhaustive()
    }
}

fn error(var: &'static str, flag: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        flag,
        problem: problem.into(),
    }
}

impl Config {
    pub fn from_settings(settings: Settings) -> Result<Self, ConfigError> {
        let database_is_explicit = settings
            .database_url
            .as_deref()
            .is_some_and(|url| !url.trim().is_empty());
        let database_url = match settings.database_url.filter(|url| !url.trim().is_empty()) {
            Some(url) => check_database_url(url.trim())?,
            None => format!("sqlite://{}", settings.data_dir.join("javelin.db").display()),
        };
        let listen = settings.listen.parse::<SocketAddr>().map_err(|_| {
            error(
                "JAVELIN_LISTEN",
                "listen",
                format!(
                    "{:?} is not an address and port; expected e.g. 127.0.0.1:8000 or 0.0.0.0:8000",
                    settings.listen
                ),
            )
        })?;
        let frontend_url_explicit = settings.frontend_url.is_some();
        let frontend_url = match &settings.frontend_url {
            Some(url) => http_url("FRONTEND_URL", "frontend-url", url)?,
            None => local_url(listen.port()),
        };
        let amazon_oauth_redirect_uri_set = settings.amazon_oauth_redirect_uri.is_some();
        let amazon_oauth_redirect_uri = match &settings.amazon_oauth_redirect_uri {
            Some(url) => http_url("AMAZON_OAUTH_REDIRECT_URI", "amazon-oauth-redirect-uri", url)?,
            None => callback_of(&frontend_url),
        };
        let master_key = match settings.master_key.as_deref().filter(|key| !key.trim().is_empty()) {
            Some(key) => Some(MasterKey::from_base64(key).map(|(_, bytes)| bytes).map_err(|err| {
                error(
                    "JAVELIN_MASTER_KEY",
                    "master-key",
                    format!("{err}; generate one with: openssl rand -base64 32"),
                )
            })?),
            None => None,
        };
        let optional_url =
            |var, flag, value: Option<String>| value.map(|value| http_url(var, flag, &value)).transpose();
        let amazon = AmazonEndpoints {
            lwa_token_url: http_url(
                "AMAZON_LWA_TOKEN_URL",
                "amazon-lwa-token-url",
                &settings.amazon_lwa_token_url,
            )?,
            consent_base: optional_url("AMAZON_CONSENT_URL", "amazon-consent-url", settings.amazon_consent_url)?,
            spapi_base: optional_url("AMAZON_SPAPI_URL", "amazon-spapi-url", settings.amazon_spapi_url)?,
        };
        let flipkart_api_url = http_url("FLIPKART_API_URL", "flipkart-api-url", &settings.flipkart_api_url)?;
        let admin = admin_seed(settings.admin_email, settings.admin_password)?;
        EnvFilter::try_new(&settings.log).map_err(|err| {
            error(
                "JAVELIN_LOG",
                "log",
                format!("{:?} is not a log filter: {err}", settings.log),
            )
        })?;
        let log_format = match settings.log_format.as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(error(
                    "JAVELIN_LOG_FORMAT",
                    "log-format",
                    format!("{other:?} is not one of: pretty, json"),
                ));
            }
        };
        if !(1..=64).contains(&settings.sync_workers) {
            return Err(error("JAVELIN_SYNC_WORKERS", "sync-workers", "must be from 1 to 64"));
        }
        if !(1..=1_000_000).contains(&settings.max_connections) {
            return Err(error(
                "JAVELIN_MAX_CONNECTIONS",
                "max-connections",
                "must be from 1 to 1000000",
            ));
        }
        if !(3..=3600).contains(&settings.sync_lease_seconds) {
            return Err(error(
                "JAVELIN_SYNC_LEASE_SECONDS",
                "sync-lease-seconds",
                "must be from 3 to 3600 seconds",
            ));
        }
        if settings.history_days > 730 {
            return Err(error(
                "JAVELIN_HISTORY_DAYS",
                "history-days",
                "must be from 0 (none) to 730 days (Amazon's reports go two years back)",
            ));
        }
        let sync = SyncSettings {
            workers: settings.sync_workers as usize,
            lease: std::time::Duration::from_secs(settings.sync_lease_seconds),
            history_on_connect: (settings.history_days > 0)
                .then(|| time::Duration::days(i64::from(settings.history_days))),
            ..SyncSettings::default()
        };
        Ok(Self {
            database_url,
            database_is_explicit,
            data_dir: settings.data_dir,
            listen,
            frontend_url,
            frontend_url_explicit,
            amazon_oauth_redirect_uri,
            amazon_oauth_redirect_uri_set,
            master_key,
            amazon,
            flipkart_api_url,
            admin,
            log_filter: settings.log,
            log_format,
            sync,
            edge: EdgeLimits {
                max_connections: settings.max_connections as usize,
                ..EdgeLimits::default()
            },
            check_time_limit: javelin_core::connections::CHECK_TIME_LIMIT,
        })
    }
}

impl Config {
    /// The configuration once Javelin listens on `address` (which tells the port when the
    /// configured one is 0): the default front-end and redirect URLs follow the port.
    pub fn bound_to(&self, address: SocketAddr) -> Self {
        let mut bound = self.clone();
        bound.listen = address;
        if !self.frontend_url_explicit {
            bound.frontend_url = local_url(address.port());
            if !self.amazon_oauth_redirect_uri_set {
                bound.amazon_oauth_redirect_uri = callback_of(&bound.frontend_url);
            }
        }
        bound
    }
}

/// `http://localhost:PORT`, where a browser on this machine reaches Javelin.
fn local_url(port: u16) -> Url {
    // A constant URL that parses.
    let mut url = Url::parse("http://localhost").expect("valid URL");
    // An http URL with a host takes any port.
    let _ = url.set_port(Some(port));
    url
}

/// The OAuth callback of a front-end URL.
fn callback_of(frontend_url: &Url) -> Url {
    let mut url = frontend_url.clone();
    url.set_path(CALLBACK_PATH);
    url.set_query(None);
    url.set_fragment(None);
    url
}

fn check_database_url(url: &str) -> Result<String, ConfigError> {
    let problem = |what: &str| error("DATABASE_URL", "database-url", what.to_owned());
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| problem("expected sqlite://PATH or postgres://USER@HOST/DATABASE"))?;
    match scheme {
        "sqlite" if rest.is_empty() => Err(problem("sqlite:// needs a file path, e.g. sqlite://./data/javelin.db")),
        "sqlite" => Ok(url.to_owned()),
        "postgres" | "postgresql" => {
            Url::parse(url).map_err(|err| problem(&format!("not a valid PostgreSQL URL ({err})")))?;
            Ok(url.to_owned())
        }
        // The rest of the URL may hold a password: name only the scheme.
        other => Err(problem(&format!(
            "unsupported scheme {other:?}; use sqlite:// or postgres://"
        ))),
    }
}

fn http_url(var: &'static str, flag: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|err| {
        error(
            var,
            flag,
            format!("{value:?} is not a URL ({err}); expected e.g. https://oms.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(error(
            var,
            flag,
            format!("{value:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(url)
}

fn admin_seed(email: Option<String>, password: Option<String>) -> Result<Option<AdminSeed>, ConfigError> {
    match (email, password) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(error(
            "JAVELIN_ADMIN_PASSWORD",
            "admin-password",
            "must be set together with JAVELIN_ADMIN_EMAIL",
        )),
        (None, Some(_)) => Err(error(
            "JAVELIN_ADMIN_EMAIL",
            "admin-email",
            "must be set together with JAVELIN_ADMIN_PASSWORD",
        )),
        (Some(email), Some(password)) => {
            let email = javelin_core::accounts::normalise_email(&email)
                .map_err(|err| error("JAVELIN_ADMIN_EMAIL", "admin-email", err.to_string()))?;
            javelin_core::passwords::check_password(&password)
                .map_err(|err| error("JAVELIN_ADMIN_PASSWORD", "admin-password", err.to_string()))?;
            Ok(Some(AdminSeed { email, password }))
        }
    }
}

/// The database URL with any password replaced, for logs.
pub fn redacted_database_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Replacing the password of a URL that has one cannot fail.
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(args: &[&str]) -> Config {
        let cli = crate::cli::Cli::try_parse_from(["javelin"].iter().chain(args)).expect("valid arguments");
        Config::from_settings(cli.settings).expect("valid settings")
    }

    #[test]
    fn the_redirect_uri_follows_the_front_end_and_the_front_end_the_port() {
        let defaulted = config(&["--listen", "127.0.0.1:0"]).bound_to("127.0.0.1:9123".parse().expect("address"));
        assert_eq!(defaulted.frontend_url.as_str(), "http://localhost:9123/");
        assert_eq!(
            defaulted.amazon_oauth_redirect_uri.as_str(),
            "http://localhost:9123/connections/amazon/oauth/callback"
        );

        let behind_a_proxy = config(&["--listen", "127.0.0.1:0", "--frontend-url", "https://oms.example.com"])
            .bound_to("127.0.0.1:9123".parse().expect("address"));
        assert_eq!(behind_a_proxy.frontend_url.as_str(), "https://oms.example.com/");
        assert_eq!(
            behind_a_proxy.amazon_oauth_redirect_uri.as_str(),
            "https://oms.example.com/connections/amazon/oauth/callback"
        );

        let registered = config(&[
            "--listen",
            "127.0.0.1:0",
            "--amazon-oauth-redirect-uri",
            "https://oms.example.com/cb",
        ])
        .bound_to("127.0.0.1:9123".parse().expect("address"));
        assert_eq!(
            registered.amazon_oauth_redirect_uri.as_str(),
            "https://oms.example.com/cb"
        );
        assert!(registered.amazon_oauth_redirect_uri_set);
    }
}
