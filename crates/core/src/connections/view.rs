//! What pages and the API show of connections: credentials masked, and per platform a card
//! with the worst status of its accounts.

use std::collections::BTreeMap;

use javelin_marketplaces::Platform;
use javelin_marketplaces::amazon;
use javelin_storage::{Connection, ConnectionStatus, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A secret field as it may be shown: `••••` and at most the last 4 characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    // Short secrets show nothing of themselves.
    if chars.len() < 12 {
        return "••••".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

/// Every credential field a connection may hold, with its name for sellers.
const CREDENTIALS: [(&str, &str); 6] = [
    ("client_id", "Client ID"),
    ("client_secret", "Client Secret"),
    ("refresh_token", "Refresh Token"),
    ("password", "Password"),
    ("api_key", "API Key"),
    ("api_secret", "API Secret"),
];

/// How a credential field is named to sellers.
pub fn credential_label(field: &str) -> &'static str {
    CREDENTIALS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or("credential", |(_, label)| label)
}

/// The masked credentials a [`ConnectionView`] carries beside its other fields, for the API's
/// OpenAPI document.
fn credentials_schema() -> Object {
    CREDENTIALS
        .iter()
        .fold(
            ObjectBuilder::new().description(Some(
                "The connection's credentials, masked: `••••` and at most the last 4 characters.",
            )),
            |object, (field, label)| {
                object.property(
                    *field,
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some(format!("The {label}, masked."))),
                )
            },
        )
        .build()
}

/// How a stored credential may be shown: passwords not at all (their tail is worth more to a
/// guesser than a token's), others masked; `None` when it could not be decrypted.
pub(crate) fn shown(field: &str, plain: Option<&str>) -> String {
    match plain {
        Some(_) if field == "password" => "••••".to_owned(),
        Some(plain) => mask(plain),
        None => "(cannot be decrypted)".to_owned(),
    }
}

/// Amazon stops accepting an LWA client secret this long after it was made (a rotation keeps
/// the previous one working for 7 days more).
pub const CLIENT_SECRET_LIFETIME: time::Duration = time::Duration::days(180);
/// From this long before that, the connection warns.
const CLIENT_SECRET_WARNING: time::Duration = time::Duration::days(30);

/// A connection's credentials as they may be shown: masked, and when each was set.
#[derive(Clone, Debug, Default)]
pub(crate) struct ShownCredentials {
    pub(crate) masked: BTreeMap<String, String>,
    pub(crate) set_at: BTreeMap<String, Timestamp>,
}

/// A connection with its masked credentials, for pages and the API.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    pub id: i64,
    pub platform: Platform,
    pub status: ConnectionStatus,
    pub status_message: String,
    pub label: String,
    pub region: Option<String>,
    pub marketplace_id: Option<String>,
    pub selling_partner_id: Option<String>,
    /// Field name → masked value (`"client_secret": "••••a1b2"`).
    #[serde(flatten)]
    #[schema(schema_with = credentials_schema)]
    pub credentials: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub last_tested_at: Option<Timestamp>,
    /// When any of its credentials was last given.
    pub credentials_updated_at: Timestamp,
    /// When each credential was last given, by field.
    #[schema(value_type = BTreeMap<String, String>)]
    pub credentials_set_at: BTreeMap<String, Timestamp>,
    /// Amazon: when its client secret stops working, 180 days after it was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<Timestamp>,
    /// From 30 days before that expiry: what to do, and the days left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_warning: Option<String>,
}

impl ConnectionView {
    pub(crate) fn new(
        connection: Connection,
        platform: Platform,
        credentials: ShownCredentials,
        now: Timestamp,
    ) -> Self {
        let credentials_updated_at = credentials
            .set_at
            .values()
            .max()
            .copied()
            .unwrap_or(connection.created_at);
        let client_secret_expires_at = match platform {
            Platform::Amazon => credentials
                .set_at
                .get("client_secret")
                .map(|set_at| *set_at + CLIENT_SECRET_LIFETIME),
            Platform::Flipkart => None,
        };
        // Past its expiry Amazon refuses the secret, whatever the last check said.
        let (status, status_message) = match client_secret_expires_at {
            Some(expiry) if expiry <= now => (ConnectionStatus::Error, secret_expired(expiry)),
            _ => (connection.status, connection.status_message),
        };
        Self {
            credentials_warning: client_secret_expires_at.and_then(|expiry| secret_warning(expiry, now)),
            credentials_updated_at,
            client_secret_expires_at,
            credentials_set_at: credentials.set_at,
            id: connection.id,
            platform,
            status,
            status_message,
            label: connection.label,
            region: connection.region,
            marketplace_id: connection.marketplace_id,
            selling_partner_id: connection.selling_partner_id,
            credentials: credentials.masked,
            created_at: connection.created_at,
            last_tested_at: connection.last_tested_at,
        }
    }

    /// The marketplace's name and country, for Amazon connections.
    pub fn marketplace_name(&self) -> Option<String> {
        let marketplace = amazon::marketplaces::find(self.marketplace_id.as_deref()?)?;
        Some(format!("{} ({})", marketplace.name, marketplace.country_code))
    }

    /// The seller's name for the account, or one Javelin makes up.
    pub fn display_name(&self) -> String {
        if self.label.is_empty() {
            format!("{} account {}", self.platform.name(), self.id)
        } else {
            self.label.clone()
        }
    }
}

/// The warning of an Amazon client secret expiring at `expiry`, from 30 days before it.
fn secret_warning(expiry: Timestamp, now: Timestamp) -> Option<String> {
    let left = expiry.datetime() - now.datetime();
    if left > CLIENT_SECRET_WARNING {
        return None;
    }
    let advice =
        "Amazon requires a new client secret every 180 days: rotate it in Developer Central and update it here";
    Some(match left.whole_days() {
        days if left <= time::Duration::ZERO => format!("{advice} (it expired {} days ago).", -days),
        1 => format!("{advice} (1 day left)."),
        days => format!("{advice} ({days} days left)."),
    })
}

/// The status message of an Amazon connection whose client secret expired at `expiry`.
fn secret_expired(expiry: Timestamp) -> String {
    let set_on = (expiry - CLIENT_SECRET_LIFETIME).datetime().date();
    format!(
        "The client secret was rotated or has expired — update it: Amazon stops accepting a client secret 180 \
         days after it is made, and the one stored here was set on {set_on}. Rotate it in Developer Central and \
         put the new one in with Update credentials."
    )
}

/// What the Connect Platforms page and `GET /api/v1/platforms` show of one platform.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlatformCard {
    #[schema(value_type = Platform)]
    pub platform: String,
    pub name: String,
    /// The worst status of its connections; `not_connected` without any.
    pub status: ConnectionStatus,
    pub connections: Vec<ConnectionView>,
}

impl PlatformCard {
    /// The platform's status is its worst connection's: an error outweighs an incomplete
    /// configuration, which outweighs connected; no connection at all is Not Connected.
    pub fn new(platform: javelin_storage::Platform, connections: Vec<ConnectionView>) -> Self {
        let rank = |status: ConnectionStatus| match status {
            ConnectionStatus::Error => 3,
            ConnectionStatus::Incomplete => 2,
            ConnectionStatus::Connected => 1,
            ConnectionStatus::NotConnected => 0,
        };
        let status = connections
            .iter()
            .map(|c| c.status)
            .max_by_key(|s| rank(*s))
            .unwrap_or(ConnectionStatus::NotConnected);
        Self {
            platform: platform.code,
            name: platform.name,
            status,
            connections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_at_most_four_characters() {
        assert_eq!(mask("Atzr|IQEBLzAtAhexamplewVz2Nn6f2y"), "••••6f2y");
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask("amzn1.oa2-cs.v1.abcdef1234"), "••••1234");
        assert_eq!(shown("password", Some("a long password 1234")), "••••");
        assert_eq!(shown("api_key", None), "(cannot be decrypted)");
    }

    #[test]
    fn a_card_shows_its_worst_connection() {
        let platform = || javelin_storage::Platform {
            code: "amazon".into(),
            name: "Amazon".into(),
            sort_order: 1,
        };
        let at = Timestamp::parse_rfc3339("2026-11-27T10:00:00Z").expect("valid");
        let view = |id, status| ConnectionView {
            id,
            platform: Platform::Amazon,
            status,
            status_message: String::new(),
            label: String::new(),
            region: None,
            marketplace_id: None,
            selling_partner_id: None,
            credentials: BTreeMap::new(),
            created_at: at,
            last_tested_at: None,
            credentials_updated_at: at,
            credentials_set_at: BTreeMap::new(),
            client_secret_expires_at: None,
            credentials_warning: None,
        };
        use ConnectionStatus::{Connected, Error, Incomplete, NotConnected};
        assert_eq!(PlatformCard::new(platform(), vec![]).status, NotConnected);
        let card = PlatformCard::new(platform(), vec![view(1, Connected), view(2, Incomplete)]);
        assert_eq!(card.status, Incomplete);
        let card = PlatformCard::new(
            platform(),
            vec![view(1, Error), view(2, Incomplete), view(3, Connected)],
        );
        assert_eq!(card.status, Error);
        assert_eq!(card.connections[0].display_name(), "Amazon account 1");
    }
}
