//! The storage contract: every test runs on SQLite and on PostgreSQL.

use javelin_storage::{
    ConnectionStatus, NewConnection, NewPlatform, NewSession, NewUser, OAuthState, Role, StateLookup, Storage,
    StorageError, StoredSecret, Timestamp,
};
use time::Duration;

async fn seeded(storage: &Storage) -> i64 {
    let now = Timestamp::now();
    let seed = [NewPlatform {
        code: "amazon",
        name: "Amazon",
        sort_order: 1,
    }];
    storage.ensure_platforms(&seed, now).await.expect("seed");
    storage.create_user(&user("a@example.com", now)).await.expect("user").id
}

fn secret(connection_id: i64, field: &str, byte: u8) -> StoredSecret {
    StoredSecret {
        connection_id,
        field: field.into(),
        key_id: "k1".into(),
        nonce: vec![byte; 24],
        ciphertext: vec![byte; 40],
        expires_at: None,
    }
}

fn amazon(created_by: i64, now: Timestamp) -> NewConnection<'static> {
    NewConnection {
        platform: "amazon",
        status: ConnectionStatus::Connected,
        status_message: "",
        label: "Store",
        region: Some("NA"),
        marketplace_id: Some("ATVPDKIKX0DER"),
        selling_partner_id: Some("A3SELLER"),
        application_id: None,
        created_by,
        now,
    }
}

fn user<'a>(email: &'a str, now: Timestamp) -> NewUser<'a> {
    NewUser {
        email,
        password_hash: "$argon2id$fake",
        role: Role::Admin,
        now,
    }
}

javelin_storage::backend_tests! {
    async fn migrations_are_idempotent(db) {
        db.storage.migrate().await.expect("second migration run is a no-op");
        db.storage.ping().await.expect("database answers");
    }

    async fn concurrent_migrations_agree(db) {
        let again = javelin_storage::Storage::connect(&db.url).await.expect("second pool");
        let (a, b) = tokio::join!(db.storage.migrate(), again.migrate());
        a.expect("first migrator");
        b.expect("second migrator");
    }

    async fn users_are_unique_by_email(db) {
        let now = Timestamp::now();
        let created = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        assert_eq!(created.email, "a@example.com");
        assert_eq!(created.role, Role::Admin);
        assert_eq!(created.created_at, now);
        let again = db.storage.create_user(&user("a@example.com", now)).await;
        assert!(matches!(again, Err(StorageError::Conflict("email"))), "{again:?}");
        assert_eq!(db.storage.count_users().await.expect("count"), 1);
        let login = db.storage.find_user_login("a@example.com").await.expect("find").expect("exists");
        assert_eq!(login.user, created);
        assert_eq!(login.password_hash, "$argon2id$fake");
        assert!(db.storage.find_user_login("b@example.com").await.expect("find").is_none());
    }

    async fn only_one_first_user(db) {
        let now = Timestamp::now();
        let (first, second) = (user("a@example.com", now), user("b@example.com", now));
        let (a, b) = tokio::join!(
            db.storage.create_first_user(&first),
            db.storage.create_first_user(&second),
        );
        let winners = [a.expect("first"), b.expect("second")].into_iter().flatten().count();
        assert_eq!(winners, 1);
        assert!(db.storage.create_first_user(&user("c@example.com", now)).await.expect("third").is_none());
        assert_eq!(db.storage.count_users().await.expect("count"), 1);
    }

    async fn sessions_expire(db) {
        let now = Timestamp::now();
        let owner = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        let session = NewSession {
            token_hash: &[1; 32],
            user_id: owner.id,
            csrf_token: "csrf",
            created_at: now,
            expires_at: now + Duration::hours(1),
        };
        db.storage.create_session(&session).await.expect("create session");
        let found = db.storage.find_session(&[1; 32], now).await.expect("find").expect("live");
        assert_eq!(found.user, owner);
        assert_eq!(found.csrf_token, "csrf");
        let later = now + Duration::hours(2);
        assert!(db.storage.find_session(&[1; 32], later).await.expect("find").is_none());
        assert_eq!(db.storage.delete_expired_sessions(later).await.expect("purge"), 1);
    }

    async fn api_tokens_can_be_revoked(db) {
        let now = Timestamp::now();
        let owner = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        db.storage.create_api_token(owner.id, &[7; 32], "script", now).await.expect("token");
        let found = db.storage.use_api_token(&[7; 32], now).await.expect("use");
        assert_eq!(found, Some(owner));
        assert!(db.storage.revoke_api_token(&[7; 32], now).await.expect("revoke"));
        assert!(!db.storage.revoke_api_token(&[7; 32], now).await.expect("revoke twice"));
        assert_eq!(db.storage.use_api_token(&[7; 32], now).await.expect("use"), None);
    }

    async fn platforms_are_upserted(db) {
        let now = Timestamp::now();
        let seed = [
            NewPlatform { code: "flipkart", name: "Flipkart", sort_order: 2 },
            NewPlatform { code: "amazon", name: "Amazon", sort_order: 1 },
        ];
        db.storage.ensure_platforms(&seed, now).await.expect("seed");
        db.storage.ensure_platforms(&seed, now).await.expect("seed again");
        let codes: Vec<_> = db.storage.list_platforms().await.expect("list").into_iter().map(|p| p.code).collect();
        assert_eq!(codes, ["amazon", "flipkart"]);
    }

    async fn timestamps_order_below_one_second(db) {
        // Text timestamps would sort .5 after .59; integer micros and TIMESTAMPTZ must not.
        let base = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").expect("valid");
        let times = [base + Duration::milliseconds(590), base, base + Duration::milliseconds(500)];
        for (i, at) in times.iter().enumerate() {
            db.storage.create_user(&user(&format!("u{i}@example.com"), *at)).await.expect("create");
        }
        let logins = ["u0@example.com", "u1@example.com", "u2@example.com"];
        let mut seen = Vec::new();
        for email in logins {
            seen.push(db.storage.find_user_login(email).await.expect("find").expect("exists").user.created_at);
        }
        assert_eq!(seen, times);
        let mut sorted = times;
        sorted.sort();
        assert_eq!(sorted, [base, base + Duration::milliseconds(500), base + Duration::milliseconds(590)]);
    }

    async fn connections_keep_secrets_with_their_row(db) {
        let owner = seeded(&db.storage).await;
        let now = Timestamp::now();
        let created = db
            .storage
            .create_connection(&amazon(owner, now), |id| vec![secret(id, "client_secret", 1), secret(id, "refresh_token", 2)])
            .await
            .expect("create");
        assert!(created.active);
        assert_eq!(created.status, ConnectionStatus::Connected);
        let secrets = db.storage.connection_secrets(created.id).await.expect("secrets");
        assert_eq!(secrets, [secret(created.id, "client_secret", 1), secret(created.id, "refresh_token", 2)]);
        assert_eq!(db.storage.secret_key_ids().await.expect("ids"), ["k1"]);
        assert_eq!(db.storage.active_connection_secrets().await.expect("active"), secrets);

        let mut token = secret(created.id, "access_token", 3);
        token.expires_at = Some(now + Duration::hours(1));
        db.storage.put_secret(&token, now).await.expect("put");
        token.ciphertext = vec![4; 40];
        db.storage.put_secret(&token, now).await.expect("replace");
        assert_eq!(db.storage.connection_secrets(created.id).await.expect("secrets").len(), 3);

        db.storage.record_connection_test(created.id, ConnectionStatus::Error, "boom", Some("New name"), now).await.expect("test");
        let tested = db.storage.get_connection(created.id).await.expect("get").expect("exists");
        assert_eq!((tested.status, tested.status_message.as_str(), tested.label.as_str()), (ConnectionStatus::Error, "boom", "New name"));
        assert_eq!(tested.last_tested_at, Some(now));

        assert!(db.storage.deactivate_connection(created.id, now).await.expect("deactivate"));
        assert!(!db.storage.deactivate_connection(created.id, now).await.expect("again"));
        assert!(db.storage.connection_secrets(created.id).await.expect("secrets").is_empty(), "rows gone");
        assert!(db.storage.list_connections().await.expect("list").is_empty());
        assert!(db.storage.active_connection_secrets().await.expect("active").is_empty());
        assert!(!db.storage.get_connection(created.id).await.expect("get").expect("row kept").active);
    }

    async fn resealing_replaces_every_ciphertext(db) {
        let owner = seeded(&db.storage).await;
        let now = Timestamp::now();
        let created = db.storage.create_connection(&amazon(owner, now), |id| vec![secret(id, "client_secret", 1)]).await.expect("create");
        let mut all = db.storage.all_secrets().await.expect("all");
        all[0].key_id = "k2".into();
        all[0].ciphertext = vec![9; 40];
        db.storage.reseal_secrets(&all, now).await.expect("reseal");
        assert_eq!(db.storage.connection_secrets(created.id).await.expect("secrets"), all);
        assert_eq!(db.storage.secret_key_ids().await.expect("ids"), ["k2"]);
    }

    async fn oauth_states_are_single_use(db) {
        let owner = seeded(&db.storage).await;
        let now = Timestamp::now();
        let state = OAuthState {
            user_id: owner,
            binding_hash: vec![5; 32],
            platform: "amazon".into(),
            region: "NA".into(),
            marketplace_id: "ATVPDKIKX0DER".into(),
            application_id: "amzn1.sp.solution.x".into(),
            draft: true,
            key_id: "k1".into(),
            nonce: vec![1; 24],
            ciphertext: vec![2; 40],
            created_at: now,
            expires_at: now + Duration::minutes(10),
            used_at: None,
        };
        db.storage.create_oauth_state(&[8; 32], &state).await.expect("create");
        assert_eq!(db.storage.secret_key_ids().await.expect("ids"), ["k1"]);
        let (a, b) = tokio::join!(db.storage.take_oauth_state(&[8; 32], now), db.storage.take_oauth_state(&[8; 32], now));
        let results = [a.expect("first"), b.expect("second")];
        assert_eq!(results.iter().filter(|r| matches!(r, StateLookup::Taken(s) if *s == OAuthState { used_at: Some(now), ..state.clone() })).count(), 1, "{results:?}");
        assert_eq!(results.iter().filter(|r| matches!(r, StateLookup::AlreadyUsed(_))).count(), 1, "{results:?}");
        assert!(matches!(db.storage.take_oauth_state(&[9; 32], now).await.expect("take"), StateLookup::Unknown));
        assert_eq!(db.storage.delete_old_oauth_states(now + Duration::days(2)).await.expect("purge"), 1);
    }
}
