//! What the connect forms and the API send, and its validation: field by field, with messages
//! that say what a good value looks like.

use std::borrow::Cow;
use std::collections::BTreeMap;

use javelin_marketplaces::amazon::{self, Marketplace, Region};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest credential accepted (Amazon's tokens are at most 2048 bytes).
pub(crate) const MAX_SECRET_BYTES: usize = 4096;
const MAX_USERNAME_CHARS: usize = 200;

/// Field errors of a form, a body or a query, keyed by field or parameter name; the other input is
/// kept by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldErrors(pub BTreeMap<Cow<'static, str>, String>);

impl FieldErrors {
    /// Records `field`'s first error (a name of ours, or one a client sent).
    pub fn add(&mut self, field: impl Into<Cow<'static, str>>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The Amazon fields shared by the OAuth and manual forms. No `Debug`: they hold secrets. Absent
/// fields count as empty; what a connection needs is marked required.
#[derive(Clone, Default, Deserialize, ToSchema)]
pub struct AmazonApp {
    /// The LWA Client ID, `amzn1.application-oa2-client.…`.
    #[serde(default)]
    #[schema(required = true)]
    pub client_id: String,
    #[serde(default)]
    #[schema(required = true)]
    pub client_secret: String,
    /// The marketplace sold in, e.g. `ATVPDKIKX0DER` (Amazon.com).
    #[serde(default)]
    #[schema(required = true)]
    pub marketplace_id: String,
    /// `NA`, `EU`, `FE` or `SANDBOX`; the marketplace's own region when empty.
    #[serde(default)]
    pub region: String,
}

#[derive(Clone, Default, Deserialize, ToSchema)]
pub struct AmazonManualInput {
    #[serde(flatten)]
    pub app: AmazonApp,
    /// The LWA refresh token, `Atzr|…`.
    #[serde(default)]
    #[schema(required = true)]
    pub refresh_token: String,
    /// Optional: the seller's Merchant Token, which the OAuth flow receives from Amazon and a
    /// manual connection can only be told. Merchant-fulfilled stock needs it.
    #[serde(default)]
    pub selling_partner_id: String,
}

#[derive(Clone, Default, Deserialize, ToSchema)]
pub struct AmazonOAuthInput {
    #[serde(flatten)]
    pub app: AmazonApp,
    /// The SP-API Application ID, `amzn1.sp.solution.…`.
    #[serde(default)]
    #[schema(required = true)]
    pub application_id: String,
    /// The SP-API app is still a draft: the consent URL needs `version=beta`.
    #[serde(default, deserialize_with = "checkbox")]
    pub draft: bool,
}

/// Without the API Key and Secret the connection is stored as `incomplete`.
#[derive(Clone, Default, Deserialize, ToSchema)]
pub struct FlipkartInput {
    /// The username or Seller ID.
    #[serde(default)]
    #[schema(required = true)]
    pub username: String,
    #[serde(default)]
    #[schema(required = true)]
    pub password: String,
    #[serde(default)]
    pub api_key: String,
    #[serde(default)]
    pub api_secret: String,
}

/// The query Amazon sends back to the redirect URI (no `Debug`: the code is a credential).
#[derive(Clone, Default, Deserialize)]
pub struct OAuthCallback {
    pub state: Option<String>,
    pub selling_partner_id: Option<String>,
    pub spapi_oauth_code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A JSON `true`/`false`, or an HTML checkbox's presence (`on`, `true`, `1`).
fn checkbox<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Bool(bool),
        Text(String),
    }
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(value) => value,
        Value::Text(text) => matches!(text.as_str(), "on" | "true" | "1" | "yes"),
    })
}

/// An Amazon application and marketplace that passed validation, trimmed.
pub(crate) struct ValidApp<'a> {
    pub(crate) marketplace: &'static Marketplace,
    pub(crate) region: Region,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
}

pub(crate) struct ValidManual<'a> {
    pub(crate) app: ValidApp<'a>,
    pub(crate) refresh_token: &'a str,
    pub(crate) selling_partner_id: Option<&'a str>,
}

pub(crate) struct ValidOAuth<'a> {
    pub(crate) app: ValidApp<'a>,
    pub(crate) application_id: &'a str,
}

pub(crate) struct ValidFlipkart<'a> {
    pub(crate) username: &'a str,
    pub(crate) password: &'a str,
    /// The API Key and Secret, when both were given.
    pub(crate) keys: Option<(&'a str, &'a str)>,
}

impl AmazonManualInput {
    pub(crate) fn validate(&self) -> Result<ValidManual<'_>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let app = check_amazon_app(&self.app, &mut errors);
        let refresh_token = self.refresh_token.trim();
        if refresh_token.is_empty() {
            errors.add("refresh_token", "Enter the refresh token.");
        } else if !refresh_token.starts_with("Atzr|")
            || refresh_token.chars().any(char::is_whitespace)
            || refresh_token.len() > MAX_SECRET_BYTES
        {
            errors.add(
                "refresh_token",
                "An LWA refresh token starts with Atzr| and has no spaces.",
            );
        }
        let selling_partner_id = Some(self.selling_partner_id.trim()).filter(|id| !id.is_empty());
        if selling_partner_id.is_some_and(|id| {
            !(8..=20).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        }) {
            errors.add(
                "selling_partner_id",
                "A Seller ID (Merchant Token) is 8 to 20 capital letters and digits, like A3FHEXAMPLEYWS.",
            );
        }
        match app {
            Some(app) if errors.is_empty() => Ok(ValidManual {
                app,
                refresh_token,
                selling_partner_id,
            }),
            _ => Err(errors),
        }
    }
}

impl AmazonOAuthInput {
    pub(crate) fn validate(&self) -> Result<ValidOAuth<'_>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let app = check_amazon_app(&self.app, &mut errors);
        let application_id = self.application_id.trim();
        if application_id.is_empty() {
            errors.add("application_id", "Enter the Application ID of your SP-API app.");
        } else if !(application_id.starts_with("amzn1.sp.solution.")
            || application_id.starts_with("amzn1.sellerapps.app."))
            || application_id.chars().any(char::is_whitespace)
        {
            errors.add(
                "application_id",
                "An SP-API Application ID looks like amzn1.sp.solution.… (from Solution Provider Portal or Developer Central).",
            );
        }
        match app {
            Some(app) if errors.is_empty() => Ok(ValidOAuth { app, application_id }),
            _ => Err(errors),
        }
    }
}

impl FlipkartInput {
    pub(crate) fn validate(&self) -> Result<ValidFlipkart<'_>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let username = self.username.trim();
        if username.is_empty() {
            errors.add("username", "Enter your Flipkart username or Seller ID.");
        } else if username.chars().count() > MAX_USERNAME_CHARS {
            errors.add("username", "The username is too long.");
        }
        if self.password.is_empty() {
            errors.add("password", "Enter your Flipkart seller account password.");
        } else if self.password.len() > MAX_SECRET_BYTES {
            errors.add("password", "The password is too long.");
        }
        let (api_key, api_secret) = (self.api_key.trim(), self.api_secret.trim());
        match (api_key.is_empty(), api_secret.is_empty()) {
            (false, true) => errors.add(
                "api_secret",
                "Enter the API Secret that belongs to this API Key, or neither.",
            ),
            (true, false) => errors.add(
                "api_key",
                "Enter the API Key that belongs to this API Secret, or neither.",
            ),
            _ => {}
        }
        for (field, value) in [("api_key", api_key), ("api_secret", api_secret)] {
            if value.chars().any(char::is_whitespace) || value.len() > MAX_SECRET_BYTES {
                errors.add(field, "This value has no spaces; copy it again from Developer Access.");
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidFlipkart {
            username,
            password: &self.password,
            keys: (!api_key.is_empty()).then_some((api_key, api_secret)),
        })
    }
}

/// Checks the fields both Amazon forms share; `None` when the marketplace or region is unusable.
fn check_amazon_app<'a>(app: &'a AmazonApp, errors: &mut FieldErrors) -> Option<ValidApp<'a>> {
    let client_id = app.client_id.trim();
    if client_id.is_empty() {
        errors.add("client_id", "Enter the LWA Client ID.");
    } else if !client_id.starts_with("amzn1.application-oa2-client.") || client_id.chars().any(char::is_whitespace) {
        errors.add(
            "client_id",
            "An LWA Client ID looks like amzn1.application-oa2-client.… (Developer Central → your app → LWA credentials).",
        );
    }
    let client_secret = app.client_secret.trim();
    if client_secret.is_empty() {
        errors.add("client_secret", "Enter the LWA Client Secret.");
    } else if client_secret.chars().any(char::is_whitespace) || client_secret.len() > MAX_SECRET_BYTES {
        errors.add(
            "client_secret",
            "An LWA Client Secret has no spaces; copy it again from Developer Central.",
        );
    }
    let marketplace = amazon::marketplaces::find(app.marketplace_id.trim());
    if marketplace.is_none() {
        errors.add("marketplace_id", "Choose the marketplace you sell in.");
    }
    // No region chosen: the marketplace's home region.
    let region = match (app.region.trim(), marketplace) {
        ("", Some(marketplace)) => marketplace.region.parse::<Region>().ok(),
        (region, _) => region.parse::<Region>().ok(),
    };
    match (region, marketplace) {
        (None, _) if app.region.trim().is_empty() => {}
        (None, _) => errors.add("region", "Choose the API region: NA, EU, FE or SANDBOX."),
        (Some(region), Some(marketplace)) if !region.serves(marketplace) => errors.add(
            "region",
            format!(
                "{} ({}) is served by the {} region, not {region}.",
                marketplace.name, marketplace.country_code, marketplace.region
            ),
        ),
        _ => {}
    }
    Some(ValidApp {
        marketplace: marketplace?,
        region: region?,
        client_id,
        client_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_fields_are_checked_together() {
        let mut errors = FieldErrors::default();
        let app = AmazonApp {
            client_id: "client".into(),
            client_secret: String::new(),
            marketplace_id: "A21TJRUUN4KGV".into(),
            region: "NA".into(),
        };
        check_amazon_app(&app, &mut errors);
        assert!(
            errors
                .get("client_id")
                .is_some_and(|e| e.contains("amzn1.application-oa2-client."))
        );
        assert_eq!(errors.get("client_secret"), Some("Enter the LWA Client Secret."));
        assert_eq!(
            errors.get("region"),
            Some("India (IN) is served by the EU region, not NA.")
        );
        assert_eq!(errors.get("marketplace_id"), None);

        let mut errors = FieldErrors::default();
        let oversized = AmazonApp {
            client_secret: "x".repeat(MAX_SECRET_BYTES + 1),
            region: String::new(),
            ..app
        };
        let valid = check_amazon_app(&oversized, &mut errors);
        assert!(errors.get("client_secret").is_some(), "an oversized secret is refused");
        assert_eq!(errors.get("region"), None, "a blank region means the marketplace's");
        assert_eq!(valid.map(|app| app.region), Some(Region::Eu));
    }

    #[test]
    fn flipkart_keys_come_in_pairs() {
        let input = |key: &str, secret: &str| FlipkartInput {
            username: " seller ".into(),
            password: "pw".into(),
            api_key: key.into(),
            api_secret: secret.into(),
        };
        let both = input("key", "secret");
        let valid = both.validate().map_err(|e| format!("{e:?}")).expect("valid");
        assert_eq!((valid.username, valid.keys), ("seller", Some(("key", "secret"))));
        assert!(input("", "").validate().is_ok_and(|valid| valid.keys.is_none()));
        assert!(
            input("key", "")
                .validate()
                .is_err_and(|e| e.get("api_secret").is_some())
        );
        assert!(
            input("", "secret")
                .validate()
                .is_err_and(|e| e.get("api_key").is_some())
        );
    }
}
