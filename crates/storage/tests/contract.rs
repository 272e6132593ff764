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
        // Given long before it is stored: put_secret keeps the time it is told.
        set_at: Timestamp::from_unix_micros(1_700_000_000_000_000).expect("a time"),
    }
}

/// A connection with the given secrets, created in one transaction as the service does.
async fn create(storage: &Storage, owner: i64, now: Timestamp, fields: &[&str]) -> javelin_storage::Connection {
    let mut tx = storage.begin().await.expect("begin");
    let created = tx.insert_connection(&amazon(owner, now)).await.expect("insert");
    for (i, field) in fields.iter().enumerate() {
        tx.put_secret(&secret(created.id, field, i as u8 + 1), now)
            .await
            .expect("secret");
    }
    tx.commit().await.expect("commit");
    created
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
        created_by: Some(created_by),
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

    async fn sessions_expire_and_end(db) {
        let now = Timestamp::now();
        let owner = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        let session = |hash: &'static [u8], hours: i64| NewSession {
            token_hash: hash,
            user_id: owner.id,
            csrf_token: "csrf",
            created_at: now,
            expires_at: now + Duration::hours(hours),
        };
        for (hash, hours) in [(&[1u8; 32], 1), (&[2; 32], 1), (&[3; 32], 3), (&[4; 32], 3)] {
            db.storage.create_session(&session(hash, hours)).await.expect("create session");
        }
        // Idle since long ago: only expiry counts.
        let never = now - Duration::days(365);
        let find = |hash: &'static [u8], at: Timestamp, idle_since: Timestamp| db.storage.use_session(hash, at, idle_since);
        let found = find(&[1; 32], now, never).await.expect("find").expect("live");
        assert_eq!(found.user, owner);
        assert_eq!(found.csrf_token, "csrf");
        let later = now + Duration::hours(2);
        assert!(find(&[1; 32], later, never).await.expect("find").is_none(), "expired");

        // The purge removes exactly the expired rows.
        assert_eq!(db.storage.delete_expired_sessions(later, never).await.expect("purge"), 2);
        assert!(find(&[1; 32], now, never).await.expect("find").is_none(), "row gone");
        assert!(find(&[3; 32], later, never).await.expect("find").is_some(), "live row kept");
        assert_eq!(db.storage.delete_expired_sessions(later, never).await.expect("purge again"), 0);

        // Signing out deletes that one session only.
        db.storage.delete_session(&[3; 32]).await.expect("delete");
        assert!(find(&[3; 32], now, never).await.expect("find").is_none());
        assert!(find(&[4; 32], now, never).await.expect("find").is_some());
    }

    async fn sessions_end_when_idle_and_each_use_keeps_them(db) {
        let now = Timestamp::now();
        let owner = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        for hash in [[1u8; 32], [2; 32]] {
            let new = NewSession { token_hash: &hash, user_id: owner.id, csrf_token: "csrf", created_at: now, expires_at: now + Duration::days(14) };
            db.storage.create_session(&new).await.expect("create session");
        }
        let idle = Duration::hours(12);
        let storage = &db.storage;
        let use_at = |hash: [u8; 32], at: Timestamp| async move { storage.use_session(&hash, at, at - idle).await.expect("use").is_some() };
        // Used every 11 hours, the first lives on; a use records itself (to the minute).
        for hours in [11, 22, 33] {
            assert!(use_at([1; 32], now + Duration::hours(hours)).await, "used at {hours} h");
        }
        assert!(!use_at([2; 32], now + Duration::hours(12)).await, "12 hours unused: ended");
        assert!(use_at([1; 32], now + Duration::hours(45) - Duration::seconds(1)).await, "seen at 33 h");
        assert!(!use_at([1; 32], now + Duration::hours(57)).await, "12 hours after its last use");
        // The purge takes idle sessions too.
        let at = now + Duration::hours(12);
        assert_eq!(db.storage.delete_expired_sessions(at, at - idle).await.expect("purge"), 1, "the unused one");
    }

    async fn api_tokens_can_be_revoked(db) {
        let now = Timestamp::now();
        let owner = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        db.storage.create_api_token(owner.id, &[7; 32], "script", now, None).await.expect("token");
        let found = db.storage.use_api_token(&[7; 32], now).await.expect("use");
        assert_eq!(found.as_ref(), Some(&owner));
        assert!(db.storage.revoke_api_token(&[7; 32], now).await.expect("revoke"));
        assert!(!db.storage.revoke_api_token(&[7; 32], now).await.expect("revoke twice"));
        assert_eq!(db.storage.use_api_token(&[7; 32], now).await.expect("use"), None);

        // One with an expiry works until then, not a microsecond after.
        let expires_at = now + Duration::days(90);
        db.storage.create_api_token(owner.id, &[8; 32], "expiring", now, Some(expires_at)).await.expect("token");
        let found = db.storage.use_api_token(&[8; 32], expires_at - Duration::microseconds(1)).await.expect("use");
        assert_eq!(found, Some(owner));
        assert_eq!(db.storage.use_api_token(&[8; 32], expires_at).await.expect("use"), None);
    }

    async fn api_token_use_is_recorded_once_a_minute(db) {
        let now = Timestamp::now();
        let owner = db.storage.create_user(&user("a@example.com", now)).await.expect("create");
        db.storage.create_api_token(owner.id, &[7; 32], "script", now, None).await.expect("token");
        let last_used = || db.storage.query_texts("SELECT COALESCE(CAST(last_used_at AS TEXT), 'never') FROM api_tokens");
        assert_eq!(last_used().await.expect("read"), ["never"]);
        let mut seen = Vec::new();
        for seconds in [0, 30, 59, 61, 90, 200] {
            let found = db.storage.use_api_token(&[7; 32], now + Duration::seconds(seconds)).await.expect("use");
            assert_eq!(found.as_ref(), Some(&owner));
            seen.push(last_used().await.expect("read").remove(0));
        }
        // Recorded at 0 s, then not before a minute has passed since: at 61 s and 200 s.
        assert_eq!(seen[0], seen[1]);
        assert_eq!(seen[1], seen[2]);
        assert_ne!(seen[2], seen[3]);
        assert_eq!(seen[3], seen[4]);
        assert_ne!(seen[4], seen[5]);
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
        // Inserted out of order, listed by the database in time order.
        let owner = seeded(&db.storage).await;
        let base = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").expect("valid");
        let times = [base + Duration::milliseconds(590), base, base + Duration::milliseconds(500), base - Duration::microseconds(1)];
        let mut ids = Vec::new();
        for at in times {
            let mut tx = db.storage.begin().await.expect("begin");
            ids.push(tx.insert_connection(&amazon(owner, at)).await.expect("insert").id);
            tx.commit().await.expect("commit");
        }
        let listed: Vec<(i64, Timestamp)> = db.storage.list_connections().await.expect("list").into_iter().map(|c| (c.id, c.created_at)).collect();
        assert_eq!(listed, [(ids[3], times[3]), (ids[1], times[1]), (ids[2], times[2]), (ids[0], times[0])]);
    }

    async fn connections_keep_secrets_with_their_row(db) {
        let owner = seeded(&db.storage).await;
        let now = Timestamp::now();
        let created = create(&db.storage, owner, now, &["client_secret", "refresh_token"]).await;
        assert!(created.active);
        assert_eq!(created.status, ConnectionStatus::Connected);
        let secrets = db.storage.connection_secrets(created.id).await.expect("secrets");
        assert_eq!(secrets, [secret(created.id, "client_secret", 1), secret(created.id, "refresh_token", 2)]);
        assert_eq!(db.storage.secret_key_ids().await.expect("ids"), ["k1"]);
        assert_eq!(db.storage.active_connection_secrets().await.expect("active"), secrets);

        let mut token = secret(created.id, "access_token", 3);
        token.expires_at = Some(now + Duration::hours(1));
        let mut tx = db.storage.begin().await.expect("begin");
        tx.put_secret(&token, now).await.expect("put");
        token.ciphertext = vec![4; 40];
        tx.put_secret(&token, now).await.expect("replace");
        tx.record_connection_test(created.id, ConnectionStatus::Error, "boom", Some("New name"), now).await.expect("test");
        tx.commit().await.expect("commit");
        let secrets = db.storage.connection_secrets(created.id).await.expect("secrets");
        assert_eq!(secrets.len(), 3);
        assert!(secrets.contains(&token), "replaced in place: {secrets:?}");
        let tested = db.storage.get_connection(created.id).await.expect("get").expect("exists");
        assert_eq!((tested.status, tested.status_message.as_str(), tested.label.as_str()), (ConnectionStatus::Error, "boom", "New name"));
        assert_eq!(tested.last_tested_at, Some(now));

        // Dropped without a commit, a transaction leaves nothing behind.
        let mut tx = db.storage.begin().await.expect("begin");
        tx.record_connection_test(created.id, ConnectionStatus::Connected, "fine", None, now).await.expect("test");
        assert!(tx.deactivate_connection(created.id, now).await.expect("deactivate"));
        drop(tx);
        let kept = db.storage.get_connection(created.id).await.expect("get").expect("exists");
        assert_eq!((kept.status, kept.active), (ConnectionStatus::Error, true));
        assert_eq!(db.storage.connection_secrets(created.id).await.expect("secrets").len(), 3);

        let mut tx = db.storage.begin().await.expect("begin");
        assert!(tx.deactivate_connection(created.id, now).await.expect("deactivate"));
        assert!(!tx.deactivate_connection(created.id, now).await.expect("again"));
        tx.commit().await.expect("commit");
        assert!(db.storage.connection_secrets(created.id).await.expect("secrets").is_empty(), "rows gone");
        assert!(db.storage.list_connections().await.expect("list").is_empty());
        assert!(db.storage.active_connection_secrets().await.expect("active").is_empty());
        assert!(!db.storage.get_connection(created.id).await.expect("get").expect("row kept").active);
    }

    async fn resealing_replaces_every_ciphertext(db) {
        let owner = seeded(&db.storage).await;
        let now = Timestamp::now();
        let created = create(&db.storage, owner, now, &["client_secret"]).await;
        let mut all = db.storage.all_secrets().await.expect("all");
        all[0].key_id = "k2".into();
        all[0].ciphertext = vec![9; 40];
        let mut tx = db.storage.begin().await.expect("begin");
        tx.reseal_secrets(&all, now + Duration::days(1)).await.expect("reseal");
        tx.commit().await.expect("commit");
        // Sealed again, but set when it was: a rotation of the key is not a new secret.
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
        let owner_binding = Some(&[5; 32][..]);
        // Someone else's callback, or one without a session, spends nothing.
        for binding in [None, Some(&[6; 32][..])] {
            let lookup = db.storage.take_oauth_state(&[8; 32], binding, now).await.expect("take");
            assert!(matches!(&lookup, StateLookup::NotTheOwner(s) if *s == state), "{lookup:?}");
        }
        let (a, b) = tokio::join!(db.storage.take_oauth_state(&[8; 32], owner_binding, now), db.storage.take_oauth_state(&[8; 32], owner_binding, now));
        let results = [a.expect("first"), b.expect("second")];
        assert_eq!(results.iter().filter(|r| matches!(r, StateLookup::Taken(s) if *s == OAuthState { used_at: Some(now), ..state.clone() })).count(), 1, "{results:?}");
        assert_eq!(results.iter().filter(|r| matches!(r, StateLookup::AlreadyUsed(_))).count(), 1, "{results:?}");
        assert!(matches!(db.storage.take_oauth_state(&[9; 32], owner_binding, now).await.expect("take"), StateLookup::Unknown));

        // States are kept a day past their expiry (to recognise replays), then purged; only those.
        let later = now + Duration::days(1) + Duration::minutes(5);
        let fresh = OAuthState { created_at: later, expires_at: later + Duration::minutes(10), ..state.clone() };
        db.storage.create_oauth_state(&[10; 32], &fresh).await.expect("create");
        assert_eq!(db.storage.delete_old_oauth_states(later).await.expect("too early"), 0);
        let later = later + Duration::minutes(10);
        assert_eq!(db.storage.delete_old_oauth_states(later).await.expect("purge"), 1);
        assert!(matches!(db.storage.take_oauth_state(&[8; 32], owner_binding, later).await.expect("take"), StateLookup::Unknown), "purged");
        assert!(matches!(db.storage.take_oauth_state(&[10; 32], owner_binding, later).await.expect("take"), StateLookup::Taken(_)), "kept");
        assert_eq!(db.storage.delete_old_oauth_states(later).await.expect("purge again"), 0);
    }
}
