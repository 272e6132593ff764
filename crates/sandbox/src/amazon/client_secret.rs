//! The sample application's LWA client secret, which Amazon makes developers rotate: a secret
//! lasts 180 days; Developer Central's "Rotate secret" makes a new one and leaves the previous one
//! working for an overlap (7 days at Amazon), after which Login with Amazon answers
//! `invalid_client` to it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::APP_NAME;
use crate::{Sandbox, random_hex};

/// How long Amazon accepts a client secret after it was made.
pub const CLIENT_SECRET_LIFETIME: Duration = Duration::days(180);

/// A new client secret, as Developer Central shows it once after "Rotate secret".
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Rotation {
    pub client_secret: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Until when the secret it replaced still works.
    #[serde(with = "time::serde::rfc3339")]
    pub previous_works_until: OffsetDateTime,
}

pub(crate) struct ClientSecrets {
    current: String,
    made_at: OffsetDateTime,
    /// The secret a rotation replaced, and until when it still works.
    previous: Option<(String, OffsetDateTime)>,
    overlap: Duration,
}

impl ClientSecrets {
    pub(crate) fn new(first: String, made_at: OffsetDateTime, overlap: Duration) -> Self {
        Self {
            current: first,
            made_at,
            previous: None,
            overlap,
        }
    }

    pub(crate) fn current(&self) -> &str {
        &self.current
    }

    pub(crate) fn accepts(&self, secret: &str, now: OffsetDateTime) -> bool {
        let current = secret == self.current && now < self.made_at + CLIENT_SECRET_LIFETIME;
        let previous = self
            .previous
            .as_ref()
            .is_some_and(|(previous, until)| secret == previous && now < *until);
        current || previous
    }

    pub(crate) fn rotate(&mut self, now: OffsetDateTime) -> Rotation {
        // Whole seconds, as Amazon's timestamps are.
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let new = format!("amzn1.oa2-cs.v1.{}", random_hex(32));
        let replaced = std::mem::replace(&mut self.current, new.clone());
        let until = now + self.overlap;
        self.previous = Some((replaced, until));
        self.made_at = now;
        Rotation {
            client_secret: new,
            expires_at: now + CLIENT_SECRET_LIFETIME,
            previous_works_until: until,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "developer_console.html")]
pub(crate) struct DeveloperConsole {
    app_name: &'static str,
    application_id: String,
    client_id: String,
    client_secret: String,
    expires_at: String,
    previous: Option<(String, String)>,
}

/// `GET /sellingpartner/developerconsole`: the app's LWA credentials and "Rotate secret".
pub(crate) async fn developer_console(State(sandbox): State<Sandbox>) -> DeveloperConsole {
    let app = &sandbox.credentials.amazon;
    let state = sandbox.amazon();
    let secrets = &state.client_secrets;
    let now = sandbox.clock.now();
    DeveloperConsole {
        app_name: APP_NAME,
        application_id: app.application_id.clone(),
        client_id: app.client_id.clone(),
        client_secret: secrets.current.clone(),
        expires_at: shown(secrets.made_at + CLIENT_SECRET_LIFETIME),
        previous: secrets
            .previous
            .as_ref()
            .filter(|(_, until)| *until > now)
            .map(|(secret, until)| (tail(secret), shown(*until))),
    }
}

/// `POST /sellingpartner/developerconsole/rotate`: "Rotate secret", then back to the console.
pub(crate) async fn rotate(State(sandbox): State<Sandbox>) -> Response {
    sandbox.rotate_amazon_client_secret();
    Redirect::to("../developerconsole").into_response()
}

/// `POST /_sandbox/amazon/rotate-client-secret`: the same for scripts, answering the new secret.
pub(crate) async fn rotate_json(State(sandbox): State<Sandbox>) -> axum::Json<Rotation> {
    axum::Json(sandbox.rotate_amazon_client_secret())
}

fn shown(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.format(&format).unwrap_or_else(|_| at.to_string())
}

fn tail(secret: &str) -> String {
    let start = secret.len().saturating_sub(4);
    format!("••••{}", secret.get(start..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_secret_works_for_the_overlap_and_a_secret_for_its_lifetime() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let mut secrets = ClientSecrets::new("first".into(), start, Duration::days(7));
        assert!(secrets.accepts("first", start + Duration::days(179)));
        assert!(!secrets.accepts("first", start + CLIENT_SECRET_LIFETIME));
        assert!(!secrets.accepts("other", start));

        let rotated_at = start + Duration::days(100);
        let rotation = secrets.rotate(rotated_at);
        assert_eq!(rotation.previous_works_until, rotated_at + Duration::days(7));
        assert_eq!(rotation.expires_at, rotated_at + CLIENT_SECRET_LIFETIME);
        assert_ne!(rotation.client_secret, "first");
        assert_eq!(secrets.current(), rotation.client_secret);
        assert!(secrets.accepts("first", rotation.previous_works_until - Duration::seconds(1)));
        assert!(!secrets.accepts("first", rotation.previous_works_until));
        assert!(secrets.accepts(&rotation.client_secret, rotated_at + Duration::days(179)));
        assert!(!secrets.accepts(&rotation.client_secret, rotation.expires_at));
    }
}
