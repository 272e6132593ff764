//! Credentials at rest: tampering and moved ciphertexts are caught, a wrong or missing master
//! key stops the start, and `javelin key rotate` keeps every secret readable.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{TestApp, api_client, sample};
use javelin::server::Server;
use serde_json::{Value, json};

/// Connects the sandbox's Amazon account and Flipkart account through the API; returns their ids.
async fn connect_both(app: &TestApp, token: &str) -> Vec<i64> {
    let creds = sample(app);
    let bodies = [
        json!({"platform": "amazon", "client_id": creds.amazon.client_id, "client_secret": creds.amazon.client_secret,
               "refresh_token": creds.amazon.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"}),
        json!({"platform": "flipkart", "username": "seller", "password": "pw",
               "api_key": creds.flipkart.api_key, "api_secret": creds.flipkart.api_secret}),
    ];
    let mut ids = Vec::new();
    for body in bodies {
        ids.push(app.connect_by_api(token, &body).await);
    }
    ids
}

/// Runs Test Connection on a connection, past the reuse window of the last result.
async fn test_now(app: &TestApp, token: &str, id: i64) -> Value {
    app.clock.advance(time::Duration::minutes(2));
    let response = api_client()
        .post(app.url(&format!("/api/v1/connections/{id}/test")))
        .bearer_auth(token)
        .send()
        .await
        .expect("POST");
    response.json().await.expect("JSON")
}

fn run_javelin(app: &TestApp, args: &[&str], master_key: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_javelin"));
    command
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("JAVELIN_DATA_DIR", app.data_dir.path())
        .env_remove("JAVELIN_MASTER_KEY")
        .env("JAVELIN_LOG", "warn")
        .current_dir(app.data_dir.path());
    if let Some(key) = master_key {
        command.env("JAVELIN_MASTER_KEY", key);
    }
    command.output().expect("run javelin")
}

javelin_storage::backend_tests! {
    async fn tampered_and_moved_ciphertexts_are_refused(db) {
        let app = TestApp::start_with_admin(db).await;
        let token = app.api_token().await;
        let ids = connect_both(&app, &token).await;
        // Another Amazon connection, whose client secret is then copied over the first one's.
        let second = connect_both(&app, &token).await[0];
        let moved = format!(
            "UPDATE connection_secrets SET nonce = (SELECT s.nonce FROM connection_secrets s WHERE s.connection_id = {second} AND s.field = 'client_secret'),
                 ciphertext = (SELECT s.ciphertext FROM connection_secrets s WHERE s.connection_id = {second} AND s.field = 'client_secret')
             WHERE connection_id = {} AND field = 'client_secret'",
            ids[0]
        );
        app.db.storage.execute_unprepared(&moved).await.expect("move a ciphertext");
        let result = test_now(&app, &token, ids[0]).await;
        assert_eq!(result["ok"], false);
        assert!(result["message"].as_str().expect("message").contains("failed its integrity check"), "{result}");
        assert_eq!(test_now(&app, &token, second).await["ok"], true, "the original row is untouched");

        let tampered = format!("UPDATE connection_secrets SET ciphertext = nonce WHERE connection_id = {} AND field = 'api_secret'", ids[1]);
        app.db.storage.execute_unprepared(&tampered).await.expect("tamper");
        let result = test_now(&app, &token, ids[1]).await;
        assert_eq!(result["ok"], false);
        assert!(result["message"].as_str().expect("message").contains("cannot be read"), "{result}");
        let platforms = app.platforms(&token).await;
        assert_eq!(platforms[1]["status"], "error", "the status follows the failed test");
    }

    async fn a_wrong_or_missing_key_stops_the_start(db) {
        let mut app = TestApp::start_with_admin(db).await;
        let token = app.api_token().await;
        connect_both(&app, &token).await;
        app.shutdown().await;
        let key_file = app.data_dir.path().join("master.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).expect("key file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the key file is readable by its owner only");
        }

        let mut wrong = app.config.clone();
        wrong.master_key = Some([9; 32]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let refused = Server::with_listener(&wrong, listener).await.err().expect("a wrong key stops the start");
        assert!(refused.to_string().contains("is not the key that encrypted the stored credentials"), "{refused}");

        let saved = std::fs::read_to_string(&key_file).expect("key");
        std::fs::remove_file(&key_file).expect("remove the key file");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let refused = Server::with_listener(&app.config, listener).await.err().expect("a missing key stops the start");
        assert!(refused.to_string().contains("Javelin will not create a new key over existing data"), "{refused}");
        assert!(!key_file.exists(), "no new key was created");

        std::fs::write(&key_file, saved).expect("restore the key");
        // As an operator restoring it would: a key file others may read is refused.
        let owner_only = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
        std::fs::set_permissions(&key_file, owner_only).expect("chmod 600");
        app.restart().await;
        assert_eq!(app.platforms(&token).await[0]["status"], "connected");
    }

    async fn key_rotate_keeps_every_secret_readable(db) {
        let mut app = TestApp::start_with_admin(db).await;
        let token = app.api_token().await;
        let ids = connect_both(&app, &token).await;
        let before = app.db.storage.secret_key_ids().await.expect("ids");
        let key_file = app.data_dir.path().join("master.key");
        let old_key = std::fs::read_to_string(&key_file).expect("key");
        app.shutdown().await;

        let output = run_javelin(&app, &["key", "rotate"], None);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let new_key = std::fs::read_to_string(&key_file).expect("key");
        assert_ne!(old_key, new_key);
        let after = app.db.storage.secret_key_ids().await.expect("ids");
        assert_eq!(after.len(), 1);
        assert_ne!(after, before);

        app.restart().await;
        for id in &ids {
            assert_eq!(test_now(&app, &token, *id).await["ok"], true, "connection {id} is readable after rotation");
        }

        // With the key in the environment, the new one is printed and the old one no longer starts.
        app.shutdown().await;
        let env_key = new_key.trim().to_owned();
        let output = run_javelin(&app, &["key", "rotate"], Some(&env_key));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let printed = stdout.lines().last().expect("the new key").trim().to_owned();
        let bytes = STANDARD.decode(&printed).expect("base64 key");
        let mut config = app.config.clone();
        config.master_key = Some(bytes.try_into().expect("32 bytes"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Server::with_listener(&config, listener).await.expect("the printed key starts Javelin");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        assert!(Server::with_listener(&app.config, listener).await.is_err(), "the replaced key file no longer matches");
    }
}
