//! The HTTP client every marketplace call goes through.

use std::time::Duration;

/// Sent on every call; Amazon requires a user agent naming the language.
pub const USER_AGENT: &str = concat!(
    "Javelin/",
    env!("CARGO_PKG_VERSION"),
    " (Language=Rust; Platform=Linux)"
);

/// Installs the process-wide TLS crypto provider (ring, the one sqlx uses too); idempotent.
pub fn ensure_crypto_provider() {
    // Fails only when a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with timeouts and no redirects: a token endpoint that redirects is not followed,
/// so credentials are never sent anywhere but where they were meant to go.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// `base` + `path`, keeping any path prefix of the base (`http://127.0.0.1:8001/amazon`).
pub(crate) fn join(base: &url::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// A short description of a transport failure, naming the host.
pub(crate) fn unreachable(url: &str, err: &reqwest::Error) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let reason = if err.is_timeout() {
        "the request timed out".to_owned()
    } else if err.is_connect() {
        "the connection failed".to_owned()
    } else {
        err.to_string()
    };
    format!("Could not reach {host}: {reason}. Check the network connection to the platform's API.")
}
