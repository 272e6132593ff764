//! Javelin's marketplace clients against the sandbox's simulators, over real HTTP.

use javelin_marketplaces::amazon::{Amazon, AmazonEndpoints, LwaClient, Region, marketplaces};
use javelin_marketplaces::flipkart::Flipkart;
use javelin_marketplaces::{Account, Connector, Credential, MarketplaceError};
use javelin_sandbox::{Sandbox, SandboxOptions, operation};
use url::Url;

struct Running {
    sandbox: Sandbox,
    base: Url,
    http: reqwest::Client,
}

const CALLBACK: &str = "http://127.0.0.1:9/connections/amazon/oauth/callback";

async fn start(options: SandboxOptions) -> Running {
    let sandbox = Sandbox::new(options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = Url::parse(&format!("http://{}", listener.local_addr().expect("address"))).expect("URL");
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Running {
        sandbox,
        base,
        http: javelin_marketplaces::http::client().expect("client"),
    }
}

async fn start_default() -> Running {
    start(SandboxOptions {
        redirect_uris: vec![Url::parse(CALLBACK).expect("URL")],
        ..SandboxOptions::default()
    })
    .await
}

impl Running {
    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("URL")
    }

    fn amazon(&self) -> Amazon {
        Amazon::new(
            self.http.clone(),
            AmazonEndpoints {
                lwa_token_url: self.url("/amazon/auth/o2/token"),
                consent_base: Some(self.url("/amazon")),
                spapi_base: Some(self.url("/amazon")),
            },
        )
    }

    /// An access token for the sandbox seller, from its ready refresh token.
    async fn access_token(&self) -> String {
        let refresh_token = &self.sandbox.credentials().amazon.refresh_token;
        self.amazon()
            .refresh(&self.client(), refresh_token)
            .await
            .expect("refresh")
            .access_token
    }

    fn client(&self) -> LwaClient<'_> {
        let creds = &self.sandbox.credentials().amazon;
        LwaClient {
            client_id: &creds.client_id,
            client_secret: &creds.client_secret,
        }
    }

    async fn advance(&self, seconds: i64) {
        let response = self
            .http
            .post(self.url(&format!("/_sandbox/clock/advance?seconds={seconds}")))
            .send()
            .await
            .expect("advance");
        assert!(response.status().is_success());
    }

    /// Walks the consent page and returns the redirect back to the application.
    async fn consent(&self, draft: bool, redirect_uri: Option<&str>, decision: &str) -> Result<Url, String> {
        let us = marketplaces::find("ATVPDKIKX0DER").expect("US");
        let creds = &self.sandbox.credentials().amazon;
        let redirect = redirect_uri.map(|uri| Url::parse(uri).expect("URL"));
        let url = self
            .amazon()
            .consent_url(us, &creds.application_id, "state-123", draft, redirect.as_ref())
            .expect("consent URL");
        let page = self.http.get(url).send().await.expect("consent page");
        let ok = page.status().is_success();
        let html = page.text().await.expect("page");
        if !ok {
            return Err(html);
        }
        assert!(html.contains("Authorize") && html.contains("Deny"), "{html}");
        let redirect_uri = redirect_uri.unwrap_or(CALLBACK);
        let response = self
            .http
            .post(self.url("/amazon/apps/authorize/confirm"))
            .form(&[
                ("application_id", creds.application_id.as_str()),
                ("state", "state-123"),
                ("redirect_uri", redirect_uri),
                ("decision", decision),
            ])
            .send()
            .await
            .expect("confirm");
        assert!(response.status().is_redirection());
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("location");
        Ok(Url::parse(location).expect("redirect URL"))
    }
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn amazon_consent_code_exchange_refresh_and_participations() {
    let running = start_default().await;
    let back = running.consent(true, None, "authorize").await.expect("consent");
    assert_eq!(back.as_str().split('?').next(), Some(CALLBACK));
    assert_eq!(query(&back, "state").as_deref(), Some("state-123"));
    assert_eq!(
        query(&back, "selling_partner_id").as_deref(),
        Some(running.sandbox.credentials().amazon.selling_partner_id.as_str())
    );
    let code = query(&back, "spapi_oauth_code").expect("code");

    let amazon = running.amazon();
    let callback = Url::parse(CALLBACK).expect("URL");
    let tokens = amazon
        .exchange_code(&running.client(), &code, &callback)
        .await
        .expect("exchange");
    assert!(tokens.access_token.starts_with("Atza|"));
    assert_eq!(tokens.expires_in, 3600);
    let refresh_token = tokens.refresh_token.expect("refresh token");

    // A code works once.
    let again = amazon.exchange_code(&running.client(), &code, &callback).await;
    assert!(
        matches!(&again, Err(MarketplaceError::Unauthorized { credential: Credential::Grant, detail }) if detail.starts_with("invalid_grant: ")),
        "{again:?}"
    );

    let refreshed = amazon
        .refresh(&running.client(), &refresh_token)
        .await
        .expect("refresh");
    let us = marketplaces::find("ATVPDKIKX0DER").expect("US");
    let participations = amazon
        .marketplace_participations(Region::Na, us, &refreshed.access_token)
        .await
        .expect("participations");
    assert!(
        participations
            .iter()
            .any(|p| p.marketplace.id == "ATVPDKIKX0DER" && p.store_name == "Javelin Sandbox Store")
    );

    // Wrong secret and unknown refresh tokens are refused in LWA's words.
    let wrong = LwaClient {
        client_id: running.client().client_id,
        client_secret: "amzn1.oa2-cs.v1.wrong",
    };
    let refused = amazon.refresh(&wrong, &refresh_token).await;
    assert!(
        matches!(&refused, Err(MarketplaceError::Unauthorized { credential: Credential::Client, detail }) if detail == "invalid_client: Client authentication failed"),
        "{refused:?}"
    );
    let refused = amazon.refresh(&running.client(), "Atzr|revoked").await;
    assert!(
        matches!(&refused, Err(MarketplaceError::Unauthorized { credential: Credential::Grant, detail }) if detail.contains("refresh_token")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn amazon_consent_page_refuses_what_amazon_refuses() {
    let running = start_default().await;
    let draft = running
        .consent(false, None, "authorize")
        .await
        .expect_err("draft without version=beta");
    assert!(draft.contains("MD1000"), "{draft}");
    let unregistered = running
        .consent(true, Some("https://elsewhere.example/callback"), "authorize")
        .await
        .expect_err("unknown redirect");
    assert!(unregistered.contains("MD5101"), "{unregistered}");
    let denied = running.consent(true, None, "deny").await.expect("redirect back");
    assert_eq!(query(&denied, "spapi_oauth_code"), None);
    assert_eq!(query(&denied, "error").as_deref(), Some("access_denied"));

    let published = start(SandboxOptions {
        draft_app: false,
        redirect_uris: vec![Url::parse(CALLBACK).expect("URL")],
        ..SandboxOptions::default()
    })
    .await;
    assert!(
        published.consent(false, None, "authorize").await.is_ok(),
        "a published app needs no version=beta"
    );
}

#[tokio::test]
async fn amazon_codes_expire_after_five_minutes_and_access_tokens_after_an_hour() {
    let running = start_default().await;
    let back = running.consent(true, None, "authorize").await.expect("consent");
    let code = query(&back, "spapi_oauth_code").expect("code");
    running.advance(301).await;
    let expired = running
        .amazon()
        .exchange_code(&running.client(), &code, &Url::parse(CALLBACK).expect("URL"))
        .await;
    assert!(
        matches!(
            &expired,
            Err(MarketplaceError::Unauthorized {
                credential: Credential::Grant,
                ..
            })
        ),
        "{expired:?}"
    );

    let access_token = running.access_token().await;
    running.advance(3601).await;
    let us = marketplaces::find("ATVPDKIKX0DER").expect("US");
    let refused = running
        .amazon()
        .marketplace_participations(Region::Na, us, &access_token)
        .await;
    assert!(
        matches!(&refused, Err(MarketplaceError::Unauthorized { credential: Credential::Permission, detail }) if detail.starts_with("Unauthorized: ") && detail.contains("expired")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn amazon_participations_allow_a_burst_of_15_then_one_a_minute() {
    let running = start_default().await;
    let access_token = running.access_token().await;
    let us = marketplaces::find("ATVPDKIKX0DER").expect("US");
    for _ in 0..15 {
        running
            .amazon()
            .marketplace_participations(Region::Na, us, &access_token)
            .await
            .expect("within the burst");
    }
    let throttled = running
        .amazon()
        .marketplace_participations(Region::Na, us, &access_token)
        .await;
    assert!(
        matches!(&throttled, Err(MarketplaceError::Throttled { retry_after: None, detail }) if detail.starts_with("QuotaExceeded")),
        "{throttled:?}"
    );
    running.advance(63).await;
    running
        .amazon()
        .marketplace_participations(Region::Na, us, &access_token)
        .await
        .expect("a token refilled");
}

#[tokio::test]
async fn lwa_accepts_json_and_basic_auth_as_amazon_does() {
    let running = start_default().await;
    let creds = &running.sandbox.credentials().amazon;
    let json = running
        .http
        .post(running.url("/amazon/auth/o2/token"))
        .json(&serde_json::json!({"grant_type": "refresh_token", "refresh_token": creds.refresh_token, "client_id": creds.client_id, "client_secret": creds.client_secret}))
        .send()
        .await
        .expect("POST");
    assert_eq!(json.status(), 200);
    let basic = running
        .http
        .post(running.url("/amazon/auth/o2/token"))
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", creds.refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(basic.status(), 200);
    let body: serde_json::Value = running
        .http
        .post(running.url("/amazon/auth/o2/token"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn connectors_check_accounts_against_the_sandbox() {
    let running = start_default().await;
    let creds = running.sandbox.credentials().clone();
    let mut account = Account {
        region: Some("NA".into()),
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        ..Account::default()
    };
    account
        .secrets
        .insert("client_id".into(), creds.amazon.client_id.clone());
    account
        .secrets
        .insert("client_secret".into(), creds.amazon.client_secret.clone());
    account
        .secrets
        .insert("refresh_token".into(), creds.amazon.refresh_token.clone());
    let check = running.amazon().check(&account).await.expect("Amazon check");
    assert_eq!(check.label.as_deref(), Some("Javelin Sandbox Store"));
    assert!(check.message.contains("Amazon.com (US)"), "{}", check.message);
    let issued = check.access_token.expect("a new access token");
    assert_eq!(
        issued.lifetime.as_secs(),
        3600 - 60,
        "used until a minute before it expires"
    );
    assert_eq!(running.sandbox.calls(operation::LWA_TOKEN), 1);

    // With a stored token, LWA is not asked again.
    account.access_token = Some(issued.value.clone());
    let check = running
        .amazon()
        .check(&account)
        .await
        .expect("check with the stored token");
    assert!(check.access_token.is_none());
    assert_eq!(running.sandbox.calls(operation::LWA_TOKEN), 1);
    assert_eq!(running.sandbox.calls(operation::GET_MARKETPLACE_PARTICIPATIONS), 2);
    // A stored token Amazon no longer accepts is replaced once, and the call repeated.
    running.advance(3601).await;
    let check = running
        .amazon()
        .check(&account)
        .await
        .expect("check after the token expired");
    assert!(check.access_token.is_some_and(|token| token.value != issued.value));
    assert_eq!(running.sandbox.calls(operation::LWA_TOKEN), 2);
    assert_eq!(running.sandbox.calls(operation::GET_MARKETPLACE_PARTICIPATIONS), 4);

    account.access_token = None;
    account.secrets.insert("client_secret".into(), "wrong".into());
    let refused = running.amazon().check(&account).await.err().expect("refused");
    assert!(
        matches!(
            &refused,
            MarketplaceError::Unauthorized {
                credential: Credential::Client,
                ..
            }
        ),
        "{refused}"
    );

    let flipkart = Flipkart::new(running.http.clone(), running.url("/flipkart"));
    let mut account = Account::default();
    account.secrets.insert("api_key".into(), creds.flipkart.api_key.clone());
    account
        .secrets
        .insert("api_secret".into(), creds.flipkart.api_secret.clone());
    let check = flipkart.check(&account).await.expect("Flipkart check");
    assert!(
        check.message.starts_with("Connected to the Flipkart Seller API"),
        "{}",
        check.message
    );
    let issued = check.access_token.expect("a new access token");
    assert_eq!(issued.lifetime.as_secs(), 5_183_999 - 86_400, "renewed a day early");
    // A stored token is used as long as Flipkart accepts it, then replaced once.
    account.access_token = Some(issued.value.clone());
    assert!(
        flipkart
            .check(&account)
            .await
            .expect("stored token")
            .access_token
            .is_none()
    );
    assert_eq!(running.sandbox.calls(operation::FLIPKART_TOKEN), 1);
    account.access_token = Some("revoked-token".into());
    assert!(
        flipkart
            .check(&account)
            .await
            .expect("new token")
            .access_token
            .is_some()
    );
    assert_eq!(running.sandbox.calls(operation::FLIPKART_TOKEN), 2);
    assert_eq!(running.sandbox.calls(operation::FLIPKART_FILTER_SHIPMENTS), 4);

    account.access_token = None;
    account.secrets.insert("api_secret".into(), "wrong".into());
    let refused = flipkart.check(&account).await.err().expect("refused");
    assert!(
        matches!(&refused, MarketplaceError::Unauthorized { credential: Credential::Client, detail } if detail.contains("Bad credentials")),
        "{refused}"
    );
    account.secrets.remove("api_key");
    assert!(matches!(
        flipkart.check(&account).await,
        Err(MarketplaceError::MissingCredential("api_key"))
    ));
}

#[tokio::test]
async fn a_rotated_client_secret_overlaps_then_is_refused_as_invalid_client() {
    let running = start(SandboxOptions {
        client_secret_overlap: time::Duration::hours(2),
        redirect_uris: vec![Url::parse(CALLBACK).expect("URL")],
        ..SandboxOptions::default()
    })
    .await;
    let refresh_token = running.sandbox.credentials().amazon.refresh_token.clone();
    let with_secret = |secret: String| {
        let amazon = running.amazon();
        let (client_id, token) = (running.client().client_id.to_owned(), refresh_token.clone());
        async move {
            let client = LwaClient {
                client_id: &client_id,
                client_secret: &secret,
            };
            amazon.refresh(&client, &token).await.map(|_| ())
        }
    };
    let old = running.sandbox.credentials().amazon.client_secret.clone();

    // Developer Central shows the secret and rotates it; the new one is on the page.
    let console = running.url("/amazon/sellingpartner/developerconsole");
    let page = running
        .http
        .get(console.clone())
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    assert!(page.contains(&old) && page.contains("Rotate secret"), "{page}");
    let mut rotations = running.sandbox.client_secret_rotations();
    let response = running
        .http
        .post(running.url("/amazon/sellingpartner/developerconsole/rotate"))
        .send()
        .await
        .expect("POST");
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("redirect");
    assert_eq!(
        response.url().join(location).expect("URL"),
        console,
        "back to the console"
    );
    let page = running
        .http
        .get(console)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    let first = running.sandbox.amazon_client_secret();
    assert!(page.contains(&first) && !page.contains(&old), "{page}");
    assert!(
        page.contains(&format!("••••{} keeps working until", &old[old.len() - 4..])),
        "{page}"
    );
    assert!(
        rotations.has_changed().expect("sender alive"),
        "the rotation is announced"
    );
    assert_eq!(
        rotations.borrow_and_update().as_ref().map(|r| r.client_secret.clone()),
        Some(first.clone())
    );

    // Scripts rotate too; each rotation keeps only the secret it replaced working.
    let rotated: serde_json::Value = running
        .http
        .post(running.url("/_sandbox/amazon/rotate-client-secret"))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let new = rotated["client_secret"].as_str().expect("secret").to_owned();
    assert_eq!(new, running.sandbox.amazon_client_secret());
    let at = |field: &str| {
        time::OffsetDateTime::parse(
            rotated[field].as_str().expect("time"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339")
    };
    // Both from the moment of the rotation: the new secret lasts 180 days, the old one 2 hours.
    assert_eq!(
        at("expires_at") - at("previous_works_until"),
        time::Duration::days(180) - time::Duration::hours(2),
        "{rotated}"
    );
    assert!(with_secret(new.clone()).await.is_ok());
    assert!(
        with_secret(first.clone()).await.is_ok(),
        "the replaced secret works during the overlap"
    );
    let refused = with_secret(old).await;
    assert!(
        matches!(
            &refused,
            Err(MarketplaceError::Unauthorized {
                credential: Credential::Client,
                ..
            })
        ),
        "two rotations ago: {refused:?}"
    );

    running.advance(2 * 3600).await;
    let refused = with_secret(first).await;
    assert!(
        matches!(&refused, Err(MarketplaceError::Unauthorized { credential: Credential::Client, detail }) if detail == "invalid_client: Client authentication failed"),
        "after the overlap: {refused:?}"
    );
    assert!(with_secret(new).await.is_ok());
}
