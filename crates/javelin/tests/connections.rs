//! Every flow of the Platform Connection Guide against the sandbox, and each troubleshooting
//! message produced by the situation it names. Each test runs on SQLite and on PostgreSQL.

mod common;

use common::{TestApp, api_client, flash_of, location, sample, unescape};
use javelin_core::Accounts;
use javelin_core::connections::CHECK_TIME_LIMIT;
use javelin_sandbox::operation;
use javelin_storage::testing::TestDatabase;
use javelin_storage::{ConnectionStatus, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn query(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).expect("URL");
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Connects a Flipkart account with API keys, signed in as the admin, on an app whose Flipkart API
/// is at `api_url` and whose Test Connection waits `check_time_limit`: the app and its flash.
async fn connect_flipkart_at(
    db: TestDatabase,
    api_url: &str,
    check_time_limit: std::time::Duration,
) -> (TestApp, String) {
    let app = TestApp::start_with(db, |config| {
        config.flipkart_api_url = api_url.parse().expect("URL");
        config.check_time_limit = check_time_limit;
        config.admin = Some(javelin::config::AdminSeed {
            email: common::ADMIN_EMAIL.into(),
            password: common::ADMIN_PASSWORD.into(),
        });
    })
    .await;
    app.login_admin().await;
    let creds = sample(&app).flipkart;
    app.post_connect(
        "/connections/flipkart",
        &[
            ("username", "seller"),
            ("password", "pw"),
            ("api_key", &creds.api_key),
            ("api_secret", &creds.api_secret),
        ],
    )
    .await;
    let flash = flash_of(&app.get("/connections").await.text().await.expect("page"));
    (app, flash)
}

async fn connections_html(app: &TestApp) -> String {
    unescape(&app.get("/connections").await.text().await.expect("page"))
}

javelin_storage::backend_tests! {
    async fn oauth_flow_connects_through_the_consent_page(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let creds = sample(&app).amazon;
        let consent = app.start_oauth(&creds.client_secret).await;
        assert!(consent.as_str().starts_with(&format!("{}/amazon/apps/authorize/consent?", app.sandbox_base)), "{consent}");
        assert_eq!(query(consent.as_str(), "application_id").as_deref(), Some(creds.application_id.as_str()));
        assert_eq!(query(consent.as_str(), "version").as_deref(), Some("beta"));
        assert_eq!(query(consent.as_str(), "redirect_uri"), None, "not configured explicitly");
        let state = query(consent.as_str(), "state").expect("state");
        assert!(state.len() >= 43, "at least 128 random bits (256 here): {state}");
        assert!(!consent.as_str().contains(&creds.client_secret), "the secret never travels in a URL");

        let back = app.consent(&consent, "authorize").await;
        assert!(back.starts_with(&app.url("/connections/amazon/oauth/callback?")), "{back}");
        let flash = app.callback(&back).await;
        assert!(flash.contains("Connected to Amazon store “Javelin Sandbox Store”"), "{flash}");

        let html = connections_html(&app).await;
        assert!(html.contains("badge connected\">Connected<"), "{html}");
        assert!(html.contains("Javelin Sandbox Store") && html.contains(&creds.selling_partner_id));
        assert!(!html.contains(&creds.client_secret) && !html.contains(&creds.client_id));
        let tail: String = creds.client_secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        assert!(html.contains(&format!("••••{tail}")), "masked secret with its last 4 characters");
    }

    async fn reconnecting_the_same_seller_through_oauth_updates_its_connection(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let creds = sample(&app).amazon;
        let back = app.consent(&app.start_oauth(&creds.client_secret).await, "authorize").await;
        let flash = app.callback(&back).await;
        assert!(flash.starts_with("Connected to Amazon store"), "{flash}");
        let first = app.db.storage.list_connections().await.expect("list");
        assert_eq!(first.len(), 1);
        let set_at = |secrets: Vec<javelin_storage::StoredSecret>| {
            secrets.into_iter().find(|s| s.field == "client_secret").expect("client secret").set_at
        };
        let before = set_at(app.db.storage.connection_secrets(first[0].id).await.expect("secrets"));

        // Within the session's 12 idle hours.
        app.clock.advance(time::Duration::hours(2));
        let back = app.consent(&app.start_oauth(&creds.client_secret).await, "authorize").await;
        let flash = app.callback(&back).await;
        assert!(
            flash.starts_with("Javelin Sandbox Store was connected already (the same seller and region): its connection now uses the new authorisation")
                && flash.contains("Connected to Amazon store"),
            "{flash}"
        );
        let again = app.db.storage.list_connections().await.expect("list");
        assert_eq!(again.iter().map(|c| c.id).collect::<Vec<_>>(), [first[0].id], "the same connection, no second one");
        let after = set_at(app.db.storage.connection_secrets(first[0].id).await.expect("secrets"));
        assert_eq!(after, before + time::Duration::hours(2), "its credentials were replaced");
    }

    async fn oauth_states_are_single_use_bound_and_expiring(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let secret = sample(&app).amazon.client_secret;

        // Replayed: the same answer twice.
        let back = app.consent(&app.start_oauth(&secret).await, "authorize").await;
        assert!(app.callback(&back).await.starts_with("Connected to Amazon"));
        let replay = app.callback(&back).await;
        assert!(replay.starts_with("Authorization failed:") && replay.contains("used already"), "{replay}");

        // Forged: a state this server never issued.
        let forged = app.callback(&app.url("/connections/amazon/oauth/callback?state=forged&spapi_oauth_code=x&selling_partner_id=A1")).await;
        assert!(forged.starts_with("Authorization failed:") && forged.contains("does not belong"), "{forged}");
        let missing = app.callback(&app.url("/connections/amazon/oauth/callback?spapi_oauth_code=x")).await;
        assert!(missing.starts_with("Authorization failed:"), "{missing}");

        // Expired: older than ten minutes (and not a second younger).
        let consent = app.start_oauth(&secret).await;
        let back = app.consent(&consent, "authorize").await;
        app.clock.advance(time::Duration::minutes(10));
        let expired = app.callback(&back).await;
        assert!(expired.starts_with("Authorization failed:") && expired.contains("expired"), "{expired}");
        let consent = app.start_oauth(&secret).await;
        let back = app.consent(&consent, "authorize").await;
        app.clock.advance(time::Duration::minutes(10) - time::Duration::seconds(1));
        assert!(app.callback(&back).await.contains("Connected to Amazon store"), "still in time");

        // Another user's: started by one user, answered in another user's session.
        let back = app.consent(&app.start_oauth(&secret).await, "authorize").await;
        Accounts::new(app.db.storage.clone(), app.clock.clock()).expect("accounts").create_user(&javelin_core::Actor::system(), "other@example.com", "other password", Role::Member).await.expect("second user");
        let other = common::browser_client();
        let token = { let html = other.get(app.url("/login")).send().await.expect("GET").text().await.expect("page"); common::hidden_field(&html, "csrf_token").expect("token") };
        let signed_in = other.post(app.url("/login")).form(&[("csrf_token", token.as_str()), ("email", "other@example.com"), ("password", "other password")]).send().await.expect("POST");
        assert_eq!(location(&signed_in), "/");
        let response = other.get(&back).send().await.expect("callback");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let flash = flash_of(&other.get(app.url("/connections")).send().await.expect("GET").text().await.expect("page"));
        assert!(flash.starts_with("Authorization failed:") && flash.contains("another user"), "{flash}");
        // Refused, the other user's callback spent nothing: the owner's own still connects.
        assert!(app.callback(&back).await.contains("Connected to Amazon store"));
        assert!(app.callback(&back).await.contains("used already"), "and only once");
        // The first flow, the one in time and the owner's all connected the same seller: one
        // connection, updated by the later two.
        assert_eq!(app.db.storage.list_connections().await.expect("list").len(), 1);
    }

    async fn oauth_troubleshooting_messages(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let secret = sample(&app).amazon.client_secret;

        // Consent denied on Amazon's page.
        let denied = app.callback(&app.consent(&app.start_oauth(&secret).await, "deny").await).await;
        assert!(denied.starts_with("Authorization failed: Amazon reported access_denied"), "{denied}");

        // Wrong client secret: Amazon refuses the client at the token endpoint.
        let back = app.consent(&app.start_oauth("amzn1.oa2-cs.v1.wrong-secret").await, "authorize").await;
        let invalid_client = app.callback(&back).await;
        assert!(invalid_client.starts_with("Authorization failed:") && invalid_client.contains("invalid_client"), "{invalid_client}");

        // A code used twice fails at the token endpoint, and says so.
        let first = app.consent(&app.start_oauth(&secret).await, "authorize").await;
        let second = app.consent(&app.start_oauth(&secret).await, "authorize").await;
        assert!(app.callback(&first).await.contains("Connected to Amazon store"));
        let replayed_code = second.replace(&query(&second, "spapi_oauth_code").expect("code"), &query(&first, "spapi_oauth_code").expect("code"));
        let exchange = app.callback(&replayed_code).await;
        assert!(exchange.starts_with("Token exchange failed:") && exchange.contains("invalid_grant"), "{exchange}");

        // A code older than five minutes.
        let back = app.consent(&app.start_oauth(&secret).await, "authorize").await;
        app.sandbox.clock().advance(time::Duration::seconds(301));
        let expired = app.callback(&back).await;
        assert!(expired.starts_with("Token exchange failed:"), "{expired}");
    }

    async fn invalid_redirect_uri_shows_the_configured_one(db) {
        // Developer Central has 127.0.0.1 registered; Javelin is configured with localhost.
        let app = TestApp::start_with(db, |config| {
            let configured = config.amazon_oauth_redirect_uri.as_str().replace("127.0.0.1", "localhost");
            config.amazon_oauth_redirect_uri = configured.parse().expect("URL");
            config.admin = Some(javelin::config::AdminSeed { email: common::ADMIN_EMAIL.into(), password: common::ADMIN_PASSWORD.into() });
        })
        .await;
        app.login_admin().await;
        let html = connections_html(&app).await;
        let configured = app.url("/connections/amazon/oauth/callback").replace("127.0.0.1", "localhost");
        assert!(html.contains(&configured), "the page shows the redirect URI to register");
        let back = app.consent(&app.start_oauth(&sample(&app).amazon.client_secret).await, "authorize").await;
        let flash = app.callback(&back).await;
        assert!(flash.starts_with("Invalid redirect URI:"), "{flash}");
        assert!(flash.contains(&format!("AMAZON_OAUTH_REDIRECT_URI is {configured}")), "{flash}");
    }

    async fn manual_amazon_connect_tests_at_once(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let creds = sample(&app).amazon;

        // Missing and malformed fields: errors by field, other input kept, nothing stored.
        let response = app
            .post_connect("/connections/amazon", &[("client_id", "my-client"), ("client_secret", ""), ("refresh_token", "nope"), ("marketplace_id", "A21TJRUUN4KGV"), ("region", "NA")])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = unescape(&response.text().await.expect("page"));
        assert!(html.contains("An LWA Client ID looks like amzn1.application-oa2-client."), "{html}");
        assert!(html.contains("Enter the LWA Client Secret."));
        assert!(html.contains("An LWA refresh token starts with Atzr|"));
        assert!(html.contains("India (IN) is served by the EU region, not NA."));
        assert!(html.contains("value=\"my-client\""), "input kept");
        assert!(!html.contains("value=\"nope\""), "secrets are not rendered back");
        assert!(app.db.storage.list_connections().await.expect("list").is_empty());

        // Good credentials: Connected, named after the store.
        let response = app
            .post_connect("/connections/amazon", &[("client_id", &creds.client_id), ("client_secret", &creds.client_secret), ("refresh_token", &creds.refresh_token), ("marketplace_id", "A21TJRUUN4KGV"), ("region", "EU")])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let flash = flash_of(&app.get("/connections").await.text().await.expect("page"));
        assert!(flash.contains("Connected to Amazon store “Javelin Sandbox Store”") && flash.contains("Amazon.in (IN)"), "{flash}");

        // A refresh token Amazon does not know: saved, in Connection Error, with Amazon's words.
        let response = app
            .post_connect("/connections/amazon", &[("client_id", &creds.client_id), ("client_secret", &creds.client_secret), ("refresh_token", "Atzr|revoked-long-ago"), ("marketplace_id", "ATVPDKIKX0DER"), ("region", "")])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let flash = flash_of(&app.get("/connections").await.text().await.expect("page"));
        assert!(flash.contains("connection test failed") && flash.contains("invalid_grant"), "{flash}");
        let statuses: Vec<_> = app.db.storage.list_connections().await.expect("list").into_iter().map(|c| c.status).collect();
        assert_eq!(statuses, [ConnectionStatus::Connected, ConnectionStatus::Error]);
        let html = connections_html(&app).await;
        assert!(html.contains("badge error\">Connection Error<"), "the card shows the worst status");
    }

    async fn flipkart_with_and_without_api_keys(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let creds = sample(&app).flipkart;

        let response = app.post_connect("/connections/flipkart", &[("username", ""), ("password", ""), ("api_key", "abc"), ("api_secret", "")]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = unescape(&response.text().await.expect("page"));
        assert!(html.contains("Enter your Flipkart username or Seller ID.") && html.contains("Enter the API Secret that belongs to this API Key"), "{html}");

        let response = app.post_connect("/connections/flipkart", &[("username", "seller-one"), ("password", "hunter2 password")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let html = connections_html(&app).await;
        assert!(flash_of(&html).contains("Incomplete Configuration"), "{}", flash_of(&html));
        assert!(html.contains("badge incomplete\">Incomplete Configuration<"));
        assert!(html.contains("Seller Dashboard → Manage Profile → Developer Access"));
        let incomplete = app.db.storage.list_connections().await.expect("list")[0].id;
        let response = app.post_connect(&format!("/connections/{incomplete}/test"), &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(flash_of(&app.get("/connections").await.text().await.expect("page")).contains("needs an API Key and API Secret"));

        let response = app.post_connect("/connections/flipkart", &[("username", "seller-two"), ("password", "pw"), ("api_key", &creds.api_key), ("api_secret", &creds.api_secret)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(flash_of(&app.get("/connections").await.text().await.expect("page")).starts_with("Connected to the Flipkart Seller API"));

        app.post_connect("/connections/flipkart", &[("username", "seller-three"), ("password", "pw"), ("api_key", &creds.api_key), ("api_secret", "wrong-secret")]).await;
        let flash = flash_of(&app.get("/connections").await.text().await.expect("page"));
        assert!(flash.contains("connection test failed") && flash.contains("Bad credentials"), "{flash}");
        let statuses: Vec<_> = app.db.storage.list_connections().await.expect("list").into_iter().map(|c| c.status).collect();
        assert_eq!(statuses, [ConnectionStatus::Incomplete, ConnectionStatus::Connected, ConnectionStatus::Error]);
    }

    async fn an_unreachable_platform_is_a_connection_error_that_says_so(db) {
        // Nothing listens on the discard port of loopback.
        let (app, flash) = connect_flipkart_at(db, "http://127.0.0.1:9", CHECK_TIME_LIMIT).await;
        assert!(flash.contains("Could not reach 127.0.0.1") && flash.contains("Check the network connection"), "{flash}");
        assert_eq!(app.db.storage.list_connections().await.expect("list")[0].status, ConnectionStatus::Error);
    }

    async fn a_marketplace_that_never_answers_is_given_up_on(db) {
        // A loopback server that takes connections and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = silent.local_addr().expect("address");
        let holding = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        let (app, flash) = connect_flipkart_at(db, &format!("http://{address}"), std::time::Duration::from_secs(1)).await;
        assert!(flash.contains("Flipkart did not answer within 1 second: its API is slow or unreachable from here"), "{flash}");
        let connection = &app.db.storage.list_connections().await.expect("list")[0];
        assert_eq!(connection.status, ConnectionStatus::Error);
        let response = app.post_connect(&format!("/connections/{}/test", connection.id), &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let flash = flash_of(&app.get("/connections").await.text().await.expect("page"));
        assert!(flash.contains("did not answer within 1 second"), "Test Connection gives up alike: {flash}");
        holding.abort();
    }

    async fn test_connection_reuses_a_fresh_result(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let creds = sample(&app).amazon;
        app.post_connect("/connections/amazon", &[("client_id", &creds.client_id), ("client_secret", &creds.client_secret), ("refresh_token", &creds.refresh_token), ("marketplace_id", "ATVPDKIKX0DER"), ("region", "NA")]).await;
        let id = app.db.storage.list_connections().await.expect("list")[0].id;
        let asked = || app.sandbox.calls(operation::GET_MARKETPLACE_PARTICIPATIONS);
        assert_eq!(asked(), 1, "connecting tests the account once");
        // Sixteen more clicks within the minute would empty Amazon's bucket; none reaches Amazon.
        for _ in 0..16 {
            let response = app.post_connect(&format!("/connections/{id}/test"), &[]).await;
            assert_eq!(location(&response), format!("/connections#connection-{id}"));
        }
        assert_eq!(asked(), 1);
        app.clock.advance(time::Duration::seconds(59));
        app.post_connect(&format!("/connections/{id}/test"), &[]).await;
        assert_eq!(asked(), 1, "59 seconds later the result is still fresh");
        let flash = flash_of(&app.get("/connections").await.text().await.expect("page"));
        assert!(flash.contains("Connected to Amazon store") && flash.contains("Result from 59 seconds ago"), "{flash}");

        // A minute after the check, Amazon is asked again, with the access token Javelin keeps.
        app.clock.advance(time::Duration::seconds(1));
        let token = app.api_token().await;
        let ok: Value = api_client().post(app.url(&format!("/api/v1/connections/{id}/test"))).bearer_auth(&token).send().await.expect("POST").json().await.expect("JSON");
        assert_eq!(ok["ok"], true, "{ok}");
        assert!(!ok["message"].as_str().expect("message").contains("seconds ago"), "{ok}");
        assert_eq!(asked(), 2);
        assert_eq!(app.sandbox.calls(operation::LWA_TOKEN), 1, "the stored access token was used");

        // Once the stored token has expired by Javelin's clock, a new one is asked for.
        app.clock.advance(time::Duration::hours(1));
        let ok: Value = api_client().post(app.url(&format!("/api/v1/connections/{id}/test"))).bearer_auth(&token).send().await.expect("POST").json().await.expect("JSON");
        assert_eq!(ok["ok"], true, "{ok}");
        assert_eq!((asked(), app.sandbox.calls(operation::LWA_TOKEN)), (3, 2));
    }

    async fn disconnect_removes_every_credential(db) {
        let app = TestApp::start_with_admin(db).await;
        app.login_admin().await;
        let creds = sample(&app).flipkart;
        app.post_connect("/connections/flipkart", &[("username", "seller-one"), ("password", "pw"), ("api_key", &creds.api_key), ("api_secret", &creds.api_secret)]).await;
        let id = app.db.storage.list_connections().await.expect("list")[0].id;
        assert_eq!(app.db.storage.connection_secrets(id).await.expect("secrets").len(), 4, "password, key, secret, access token");

        // Without JavaScript the Disconnect button leads to a confirmation page.
        let html = unescape(&app.get(&format!("/connections/{id}/disconnect")).await.text().await.expect("page"));
        assert!(html.contains("Disconnect “seller-one”?") && html.contains("All stored credentials"), "{html}");
        let response = app.post_connect(&format!("/connections/{id}/disconnect"), &[]).await;
        assert_eq!(location(&response), "/connections");
        assert!(flash_of(&app.get("/connections").await.text().await.expect("page")).starts_with("Disconnected."));
        assert!(app.db.storage.connection_secrets(id).await.expect("secrets").is_empty(), "rows gone");
        let row = app.db.storage.get_connection(id).await.expect("get").expect("row kept for history");
        assert!(!row.active);
        let html = connections_html(&app).await;
        assert_eq!(html.matches("badge not_connected\">Not Connected<").count(), 2, "both cards back to Not Connected");
        assert_eq!(app.get(&format!("/connections/{id}/disconnect")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get("/connections/not-a-number/disconnect").await.status(), StatusCode::NOT_FOUND);
    }

    async fn amazon_client_secrets_show_their_age_and_warn_before_they_expire(db) {
        let app = TestApp::start_with_admin(db).await;
        let api = api_client();
        // A token that outlives the half year this test moves through.
        let token = app.api_token_lasting(365).await;
        let connected_at = app.clock.clock().now();
        for body in [app.amazon_connection(""), app.flipkart_connection()] {
            let response = api.post(app.url("/api/v1/connections")).bearer_auth(&token).json(&body).send().await.expect("POST");
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        let connection = |cards: &Value, platform: &str| {
            cards.as_array().expect("cards").iter().find(|card| card["platform"] == platform).expect("card")["connections"][0].clone()
        };
        let (_, cards) = app.api_get(&token, "/api/v1/platforms").await;
        let (amazon, flipkart) = (connection(&cards, "amazon"), connection(&cards, "flipkart"));
        assert_eq!(amazon["credentials_updated_at"], connected_at.to_rfc3339());
        assert_eq!(amazon["client_secret_expires_at"], (connected_at + time::Duration::days(180)).to_rfc3339());
        assert_eq!(amazon.get("credentials_warning"), None, "{amazon}");
        assert_eq!(flipkart["credentials_updated_at"], connected_at.to_rfc3339());
        assert_eq!((flipkart.get("client_secret_expires_at"), flipkart.get("credentials_warning")), (None, None), "{flipkart}");

        // Day 149: nothing yet. Day 150: the card, the API and the dashboard's health say so.
        app.clock.advance(time::Duration::days(149));
        let (_, cards) = app.api_get(&token, "/api/v1/platforms").await;
        assert_eq!(connection(&cards, "amazon").get("credentials_warning"), None);
        app.clock.advance(time::Duration::days(1));
        let warning = "Amazon requires a new client secret every 180 days: rotate it in Developer Central and update it here (30 days left).";
        let (_, cards) = app.api_get(&token, "/api/v1/platforms").await;
        assert_eq!(connection(&cards, "amazon")["credentials_warning"], warning);
        assert_eq!(connection(&cards, "amazon")["status"], "connected", "a warning, not yet an error");
        assert_eq!(connection(&cards, "flipkart").get("credentials_warning"), None);
        let (_, dashboard) = app.api_get(&token, "/api/v1/dashboard").await;
        let health = dashboard["connections"].as_array().expect("connections");
        assert!(health.iter().any(|c| c["credentials_warning"] == warning), "{dashboard}");
        app.login_admin().await;
        let page = unescape(&app.get("/connections").await.text().await.expect("page"));
        assert!(page.contains(warning), "the card warns");
        // Day 180: Amazon refuses the secret now, so the connection is in error, saying why.
        app.clock.advance(time::Duration::days(29));
        let (_, cards) = app.api_get(&token, "/api/v1/platforms").await;
        assert_eq!(connection(&cards, "amazon")["status"], "connected", "one day left");
        app.clock.advance(time::Duration::days(1));
        let (_, cards) = app.api_get(&token, "/api/v1/platforms").await;
        let (amazon, flipkart) = (connection(&cards, "amazon"), connection(&cards, "flipkart"));
        let expired = format!(
            "The client secret was rotated or has expired — update it: Amazon stops accepting a client secret 180 days \
             after it is made, and the one stored here was set on {}.",
            connected_at.datetime().date()
        );
        assert_eq!(amazon["status"], "error", "{amazon}");
        assert!(amazon["status_message"].as_str().expect("message").starts_with(&expired), "{amazon}");
        assert_eq!((cards[0]["platform"].as_str(), cards[0]["status"].as_str()), (Some("amazon"), Some("error")), "the platform shows its worst");
        assert_eq!(flipkart["status"], "connected", "Flipkart secrets do not expire");
        let (_, dashboard) = app.api_get(&token, "/api/v1/dashboard").await;
        let health = dashboard["connections"].as_array().expect("connections");
        assert!(health.iter().any(|c| c["status"] == "error" && c["id"] == amazon["id"]), "{dashboard}");
        app.login_admin().await;
        let page = unescape(&app.get("/connections").await.text().await.expect("page"));
        assert!(page.contains(&expired), "the card says so");
        // Past the day, the warning says how long ago.
        app.clock.advance(time::Duration::days(3));
        let (_, cards) = app.api_get(&token, "/api/v1/platforms").await;
        assert!(connection(&cards, "amazon")["credentials_warning"].as_str().expect("warning").ends_with("(it expired 3 days ago)."));
    }

    async fn credentials_are_updated_in_place_only_when_the_marketplace_accepts_them(db) {
        let app = TestApp::start_with_admin(db).await;
        let api = api_client();
        let token = app.api_token_lasting(365).await;
        let creds = sample(&app);
        let created: Value = api.post(app.url("/api/v1/connections")).bearer_auth(&token).json(&app.amazon_connection("")).send().await.expect("POST").json().await.expect("JSON");
        let id = created["id"].as_i64().expect("id");
        let put = |body: Value| {
            let (url, token) = (app.url(&format!("/api/v1/connections/{id}/credentials")), token.clone());
            async move {
                let response = api_client().put(url).bearer_auth(token).json(&body).send().await.expect("PUT");
                (response.status(), response.json::<Value>().await.expect("JSON"))
            }
        };
        let amazon = |cards: Value| cards.as_array().expect("cards").iter().find(|c| c["platform"] == "amazon").expect("card")["connections"][0].clone();
        app.clock.advance(time::Duration::days(151));
        let before = amazon(app.api_get(&token, "/api/v1/platforms").await.1);
        assert!(before["credentials_warning"].is_string());

        // Refused by Amazon: nothing changes, not even the status.
        let (status, body) = put(json!({"client_secret": "a-rotated-secret-amazon-does-not-know"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["ok"], false);
        let refused = body["message"].as_str().expect("message");
        assert!(refused.contains("The client secret was rotated or has expired — update it") && refused.ends_with("Nothing was changed."), "{body}");
        let after = amazon(app.api_get(&token, "/api/v1/platforms").await.1);
        assert_eq!(after, before, "stored credentials, status and ages untouched");
        // Fields that are not this platform's, or none at all.
        let (status, body) = put(json!({"api_key": "x"})).await;
        assert_eq!((status, body["fields"]["api_key"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{body}");
        let (status, body) = put(json!({})).await;
        assert_eq!((status, body["fields"]["credentials"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{body}");
        let (status, _) = put(json!({"client_secret": "x", "sneaky": "y"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");

        // Accepted: stored in place; the same connection, its age starts again.
        let (status, body) = put(json!({"client_secret": creds.amazon.client_secret})).await;
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
        let updated = amazon(app.api_get(&token, "/api/v1/platforms").await.1);
        let now = app.clock.clock().now();
        assert_eq!((updated["id"].as_i64(), updated["status"].as_str()), (Some(id), Some("connected")));
        assert_eq!(updated["credentials_updated_at"], now.to_rfc3339());
        // Each credential keeps its own date: only the client secret's moved.
        assert_eq!(updated["credentials_set_at"]["client_secret"], now.to_rfc3339());
        assert_eq!(updated["credentials_set_at"]["refresh_token"], before["credentials_set_at"]["refresh_token"]);
        assert_ne!(updated["credentials_set_at"]["refresh_token"], now.to_rfc3339());
        assert_eq!(updated["client_secret_expires_at"], (now + time::Duration::days(180)).to_rfc3339());
        assert_eq!(updated.get("credentials_warning"), None);
        assert_eq!(app.db.storage.list_connections().await.expect("list").len(), 1, "no second connection");
        // The card's form does the same.
        app.login_admin().await;
        let response = app.post_connect(&format!("/connections/{id}/credentials"), &[("client_secret", "another-unknown-secret")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", response.text().await);
        let html = unescape(&app.get(location(&response)).await.text().await.expect("page"));
        assert!(flash_of(&html).starts_with("The new credentials were not saved:"), "{}", flash_of(&html));
    }

    async fn json_api_for_the_same_operations(db) {
        let app = TestApp::start_with_admin(db).await;
        let token = app.api_token().await;
        let api = api_client();
        let creds = sample(&app);
        let post = |path: &str, body: Value| api.post(app.url(path)).bearer_auth(&token).json(&body).send();

        let response = post("/api/v1/connections", json!({"platform": "amazon", "client_id": "x", "marketplace_id": "ATVPDKIKX0DER", "region": "NA"})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.expect("JSON");
        assert!(body["fields"]["client_secret"].is_string() && body["fields"]["refresh_token"].is_string() && body["fields"]["client_id"].is_string(), "{body}");
        let response = post("/api/v1/connections", json!({"platform": "ebay"})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let response = post("/api/v1/connections", json!({"platform": "amazon", "client_id": creds.amazon.client_id, "client_secret": creds.amazon.client_secret, "refresh_token": creds.amazon.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::CREATED);
        let amazon: Value = response.json().await.expect("JSON");
        for key in ["id", "platform", "status", "status_message", "label", "region", "marketplace_id", "selling_partner_id", "created_at", "last_tested_at"] {
            assert!(amazon.get(key).is_some(), "{key} in {amazon}");
        }
        assert_eq!(amazon["status"], "connected");
        assert_eq!(amazon["label"], "Javelin Sandbox Store");
        assert!(amazon["client_secret"].as_str().expect("masked").starts_with("••••"));
        assert!(!amazon.to_string().contains(&creds.amazon.client_secret) && !amazon.to_string().contains(&creds.amazon.refresh_token));

        let response = post("/api/v1/connections", json!({"platform": "flipkart", "username": "seller", "password": "pw"})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::CREATED);
        let flipkart: Value = response.json().await.expect("JSON");
        assert_eq!(flipkart["status"], "incomplete");

        let platforms = app.platforms(&token).await;
        assert_eq!(platforms[0]["status"], "connected");
        assert_eq!(platforms[0]["connections"][0]["id"], amazon["id"]);
        assert_eq!(platforms[1]["status"], "incomplete");

        let test: Value = post(&format!("/api/v1/connections/{}/test", amazon["id"]), json!({})).await.expect("POST").json().await.expect("JSON");
        assert_eq!(test["ok"], true);
        assert!(test["message"].is_string());

        // OAuth through the API: the callback carries the same bearer token.
        let response = post("/api/v1/connections/amazon/oauth/start", json!({"client_id": creds.amazon.client_id, "client_secret": creds.amazon.client_secret, "application_id": creds.amazon.application_id, "marketplace_id": "ATVPDKIKX0DER", "region": "NA", "draft": true})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::OK);
        let authorize_url: url::Url = response.json::<Value>().await.expect("JSON")["authorize_url"].as_str().expect("URL").parse().expect("URL");
        let back = app.consent(&authorize_url, "authorize").await;
        let stranger = common::browser_client();
        let anonymous = stranger.get(&back).send().await.expect("GET");
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "without the token the state does not match");
        // Someone not signed in is told where to sign in.
        let login = stranger.get(app.url("/login")).send().await.expect("GET").text().await.expect("page");
        let flash = common::flash_of(&login);
        assert!(flash.starts_with(&format!("Authorization failed: nobody is signed in to Javelin at {}", app.base)), "{flash}");
        // The refused callback left the state unspent: its owner's answer still connects.
        let response = api.get(&back).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["connection"]["status"], "connected");
        assert_eq!(body["connection"]["selling_partner_id"], creds.amazon.selling_partner_id.as_str());

        let id = amazon["id"].as_i64().expect("id");
        let response = api.delete(app.url(&format!("/api/v1/connections/{id}"))).bearer_auth(&token).send().await.expect("DELETE");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let response = api.delete(app.url(&format!("/api/v1/connections/{id}"))).bearer_auth(&token).send().await.expect("DELETE");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = post(&format!("/api/v1/connections/{id}/test"), json!({})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = post("/api/v1/connections/abc/test", json!({})).await.expect("POST");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.json::<Value>().await.expect("JSON")["error"], "There is no such connection.");
    }
}
