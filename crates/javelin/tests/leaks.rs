//! Plants unique secret values, runs every connection flow, then searches the database file's
//! bytes, the log output and every HTTP response body for them: there must be no hit.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{TestApp, api_client, location, sample};
use reqwest::Response;
use serde_json::json;

/// Collects everything the application logs.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Default)]
struct Bodies(Vec<String>);

impl Bodies {
    async fn keep(&mut self, response: Response) -> (reqwest::StatusCode, String) {
        let status = response.status();
        let location = location(&response).to_owned();
        let body = response.text().await.expect("body");
        self.0.push(format!("{location}\n{body}"));
        (status, location)
    }
}

#[tokio::test]
async fn no_secret_reaches_the_database_file_the_logs_or_a_response() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let db = javelin_storage::testing::TestDatabase::sqlite().await;
    let app = TestApp::start_with_admin(db).await;
    let creds = sample(&app);
    let canary = |name: &str| format!("leak-canary-{name}-{}", std::process::id());
    let (wrong_secret, password, wrong_api_secret) =
        (canary("client-secret"), canary("password"), canary("api-secret"));

    let mut bodies = Bodies::default();
    app.login_admin().await;
    let token = app.api_token().await;

    // OAuth, successful and with a wrong secret.
    for secret in [creds.amazon.client_secret.as_str(), wrong_secret.as_str()] {
        let consent = app.start_oauth(secret).await;
        let back = app.consent(&consent, "authorize").await;
        bodies.keep(app.client.get(&back).send().await.expect("callback")).await;
        bodies.keep(app.get("/connections").await).await;
    }
    // Manual connect, good and refused; with field errors (the secret typed into a bad form).
    let manual = |secret: &str, refresh: &str| {
        vec![
            ("client_id".to_owned(), creds.amazon.client_id.clone()),
            ("client_secret".to_owned(), secret.to_owned()),
            ("refresh_token".to_owned(), refresh.to_owned()),
            ("marketplace_id".to_owned(), "ATVPDKIKX0DER".to_owned()),
        ]
    };
    for form in [
        manual(&creds.amazon.client_secret, &creds.amazon.refresh_token),
        manual(&wrong_secret, &creds.amazon.refresh_token),
        manual(&creds.amazon.client_secret, "not-a-token"),
    ] {
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        bodies
            .keep(app.post_connect("/connections/amazon", &fields).await)
            .await;
        bodies.keep(app.get("/connections").await).await;
    }
    // Flipkart without keys, with keys, with a wrong secret, and with only a key.
    for fields in [
        vec![("username", "seller"), ("password", password.as_str())],
        vec![
            ("username", "seller"),
            ("password", password.as_str()),
            ("api_key", creds.flipkart.api_key.as_str()),
            ("api_secret", creds.flipkart.api_secret.as_str()),
        ],
        vec![
            ("username", "seller"),
            ("password", password.as_str()),
            ("api_key", creds.flipkart.api_key.as_str()),
            ("api_secret", wrong_api_secret.as_str()),
        ],
        vec![
            ("username", "seller"),
            ("password", password.as_str()),
            ("api_key", creds.flipkart.api_key.as_str()),
        ],
    ] {
        bodies
            .keep(app.post_connect("/connections/flipkart", &fields).await)
            .await;
        bodies.keep(app.get("/connections").await).await;
    }
    // The API: create, list, test, start OAuth, errors.
    let api = api_client();
    let created = api
        .post(app.url("/api/v1/connections"))
        .bearer_auth(&token)
        .json(&json!({"platform": "amazon", "client_id": creds.amazon.client_id, "client_secret": creds.amazon.client_secret,
                      "refresh_token": creds.amazon.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"}))
        .send()
        .await
        .expect("POST");
    bodies.keep(created).await;
    let invalid = api
        .post(app.url("/api/v1/connections"))
        .bearer_auth(&token)
        .json(&json!({"platform": "amazon", "client_secret": wrong_secret}))
        .send()
        .await
        .expect("POST");
    bodies.keep(invalid).await;
    bodies
        .keep(
            api.get(app.url("/api/v1/platforms"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("GET"),
        )
        .await;
    let ids: Vec<i64> = app
        .db
        .storage
        .list_connections()
        .await
        .expect("list")
        .iter()
        .map(|c| c.id)
        .collect();
    for id in &ids {
        bodies
            .keep(
                api.post(app.url(&format!("/api/v1/connections/{id}/test")))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("POST"),
            )
            .await;
        bodies
            .keep(app.get(&format!("/connections/{id}/disconnect")).await)
            .await;
    }
    let start = json!({"client_id": creds.amazon.client_id, "client_secret": creds.amazon.client_secret,
                       "application_id": creds.amazon.application_id, "marketplace_id": "ATVPDKIKX0DER", "draft": true});
    bodies
        .keep(
            api.post(app.url("/api/v1/connections/amazon/oauth/start"))
                .bearer_auth(&token)
                .json(&start)
                .send()
                .await
                .expect("POST"),
        )
        .await;
    bodies.keep(app.get("/metrics").await).await;
    // Updating credentials in place, refused and accepted, through the API and the card's form.
    let rotated = canary("rotated-secret");
    for id in &ids {
        for secret in [rotated.as_str(), creds.amazon.client_secret.as_str()] {
            bodies
                .keep(
                    api.put(app.url(&format!("/api/v1/connections/{id}/credentials")))
                        .bearer_auth(&token)
                        .json(&json!({"client_secret": secret}))
                        .send()
                        .await
                        .expect("PUT"),
                )
                .await;
        }
        bodies
            .keep(
                app.post_connect(
                    &format!("/connections/{id}/credentials"),
                    &[("client_secret", &rotated), ("api_secret", &rotated)],
                )
                .await,
            )
            .await;
        bodies.keep(app.get("/connections").await).await;
    }
    // Users and passwords: a failed sign-in, a user added, a password changed; then the audit
    // log that recorded them, as the API and the page show it.
    let (login_password, user_password, new_password) = (
        canary("login-password"),
        canary("user-password"),
        canary("new-password"),
    );
    bodies
        .keep(
            api.post(app.url("/api/v1/auth/token"))
                .json(&json!({"email": common::ADMIN_EMAIL, "password": login_password}))
                .send()
                .await
                .expect("POST"),
        )
        .await;
    bodies
        .keep(
            api.post(app.url("/api/v1/users"))
                .bearer_auth(&token)
                .json(&json!({"email": "staff@example.com", "role": "member", "password": user_password}))
                .send()
                .await
                .expect("POST"),
        )
        .await;
    bodies.keep(app.get("/users").await).await;
    bodies.keep(app.get("/account").await).await;
    let changed = api
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": common::ADMIN_PASSWORD, "new_password": new_password}))
        .send()
        .await
        .expect("POST");
    assert_eq!(changed.status(), reqwest::StatusCode::NO_CONTENT);
    bodies.keep(changed).await;
    let audit = api
        .get(app.url("/api/v1/audit?limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    let (status, _) = bodies.keep(audit).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        bodies.0.last().is_some_and(|body| body.contains("password_changed")),
        "the audit log was read"
    );

    let planted = [
        creds.amazon.client_secret.as_str(),
        creds.amazon.refresh_token.as_str(),
        creds.flipkart.api_key.as_str(),
        creds.flipkart.api_secret.as_str(),
        wrong_secret.as_str(),
        password.as_str(),
        wrong_api_secret.as_str(),
        login_password.as_str(),
        user_password.as_str(),
        new_password.as_str(),
        rotated.as_str(),
    ];
    let master_key = std::fs::read_to_string(app.data_dir.path().join("master.key")).expect("key file");
    let secrets: Vec<&str> = planted.iter().copied().chain([master_key.trim()]).collect();

    // While the accounts are connected: the file holds their ciphertexts, and no plaintext.
    let stored = database_bytes(&app);
    let sealed = app.db.storage.connection_secrets(ids[0]).await.expect("secrets");
    assert!(!sealed.is_empty());
    for secret in &sealed {
        assert!(
            contains(&stored, &secret.ciphertext),
            "the scan sees the stored {} ciphertext",
            secret.field
        );
    }
    assert_absent(&secrets, &stored, &logs, &bodies);

    // Disconnect everything, and look again.
    for id in &ids {
        bodies
            .keep(
                api.delete(app.url(&format!("/api/v1/connections/{id}")))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("DELETE"),
            )
            .await;
    }
    assert!(bodies.0.len() > 30);
    assert_absent(&secrets, &database_bytes(&app), &logs, &bodies);
}

/// The bytes of the SQLite database file and its write-ahead log.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let db_path = app.db.url.trim_start_matches("sqlite://").to_owned();
    let mut stored = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{db_path}{suffix}")) {
            stored.extend(bytes);
        }
    }
    stored
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn assert_absent(secrets: &[&str], stored: &[u8], logs: &LogBuffer, bodies: &Bodies) {
    let logged =
        String::from_utf8_lossy(&logs.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned();
    assert!(logged.contains("connection test failed"), "the logs were captured");
    for secret in secrets {
        assert!(
            !contains(stored, secret.as_bytes()),
            "a secret is in the database file in plain text"
        );
        assert!(!logged.contains(secret), "a secret is in the logs");
        for body in &bodies.0 {
            assert!(!body.contains(secret), "a secret is in a response body");
        }
    }
}
