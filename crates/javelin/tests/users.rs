//! Roles, users, each user's own tokens and password, and the audit log: on SQLite and on
//! PostgreSQL, through the real server.

mod common;

use common::{ADMIN_EMAIL, TestApp, api_client};
use javelin_web::{Access, route_table};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const MEMBER_EMAIL: &str = "staff@example.com";
const MEMBER_PASSWORD: &str = "stock counts daily";

/// Sends `method path` with a bearer token and an empty JSON body where one is taken.
async fn call(app: &TestApp, token: &str, method: Method, path: &str) -> reqwest::Response {
    let mut request = api_client().request(method.clone(), app.url(path)).bearer_auth(token);
    if path.starts_with("/api/") && method != Method::GET && method != Method::DELETE {
        request = request.json(&json!({}));
    }
    request.send().await.expect("request")
}

/// The route with its parameters filled in: a real connection, no real token (revoking the
/// caller's own would end the calls).
fn concrete(path: &str, connection_id: i64) -> String {
    path.replace("tokens/{id}", "tokens/999999")
        .replace("{id}", &connection_id.to_string())
        .replace("{job_id}", "1")
        .replace("{sku}", "SKU-1")
}

/// The call that would end the token making the calls goes last.
fn ends_the_token(method: &Method, path: &str) -> bool {
    *method == Method::DELETE && path == "/api/v1/auth/token"
}

/// A browser signed in as the member with `password`.
async fn sign_in_with(app: &TestApp, password: &str) -> reqwest::Client {
    let browser = common::browser_client();
    let login = browser
        .get(app.url("/login"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    let csrf = common::hidden_field(&login, "csrf_token").expect("token");
    let response = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", MEMBER_EMAIL),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    browser
}

javelin_storage::backend_tests! {
    async fn every_route_answers_each_role_as_the_route_table_declares(db) {
        let app = TestApp::start_with_admin(db).await;
        let admin = app.api_token().await;
        app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        let member = app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        let connection = app.db.connection("flipkart").await.expect("connection");
        let mut routes: Vec<_> = route_table().into_iter().filter(|route| route.access != Access::Public).collect();
        routes.sort_by_key(|route| ends_the_token(&route.method, &route.path));
        let admin_only = routes.iter().filter(|route| matches!(route.access, Access::Admin(_))).count();
        assert!(admin_only >= 18, "connect, disconnect, schedules, users, audit and metrics are admin-only");

        for route in &routes {
            let path = concrete(&route.path, connection);
            let is_api = path.starts_with("/api/");
            let response = call(&app, &member, route.method.clone(), &path).await;
            let status = response.status();
            match route.access {
                Access::Admin(permission) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{} {} as a member", route.method, route.path);
                    let body = response.text().await.expect("body");
                    if is_api {
                        let body: Value = serde_json::from_str(&body).expect("JSON");
                        assert_eq!(body["error"], permission.refusal(), "{} {}", route.method, route.path);
                    } else {
                        assert!(body.contains(permission.refusal()), "{} {}: {body}", route.method, route.path);
                    }
                }
                _ => assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{} {} as a member: {status}", route.method, route.path
                ),
            }
        }
        // The administrator passes every check (the answers are the handlers' own).
        for route in &routes {
            let path = concrete(&route.path, connection);
            let status = call(&app, &admin, route.method.clone(), &path).await.status();
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{} {} as an administrator: {status}", route.method, route.path
            );
        }
    }

    async fn members_are_refused_by_the_services_too(db) {
        // Sync now is open to members, but reading history again from a date is a setting of
        // the connection: the sync service refuses it behind a route members may call.
        let app = TestApp::start_with_admin(db).await;
        let admin = app.api_token().await;
        app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        let member = app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        let connection = app.db.connection("flipkart").await.expect("connection");
        let sync = |token: String, body: Value| {
            let url = app.url(&format!("/api/v1/connections/{connection}/sync"));
            async move { api_client().post(url).bearer_auth(token).json(&body).send().await.expect("POST") }
        };
        let response = sync(member.clone(), json!({"kind": "orders", "from": "2026-01-01"})).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.json::<Value>().await.expect("JSON")["error"], "Only an administrator can change sync schedules.");
        assert_ne!(sync(member, json!({"kind": "orders"})).await.status(), StatusCode::FORBIDDEN);
    }

    async fn administrators_manage_users(db) {
        let app = TestApp::start_with_admin(db).await;
        let admin = app.api_token().await;
        let api = api_client();
        // Weak passwords and bad fields are named.
        for (body, field) in [
            (json!({"email": MEMBER_EMAIL, "role": "member", "password": "password1"}), "password"),
            (json!({"email": MEMBER_EMAIL, "role": "member", "password": "short"}), "password"),
            (json!({"email": MEMBER_EMAIL, "role": "boss", "password": MEMBER_PASSWORD}), "role"),
            (json!({"email": "not-an-email", "role": "member", "password": MEMBER_PASSWORD}), "email"),
            (json!({"email": ADMIN_EMAIL, "role": "member", "password": MEMBER_PASSWORD}), "email"),
        ] {
            let response = api.post(app.url("/api/v1/users")).bearer_auth(&admin).json(&body).send().await.expect("POST");
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let answer: Value = response.json().await.expect("JSON");
            assert!(answer["fields"][field].is_string(), "{body}: {answer}");
        }
        let common_refusal: Value = api.post(app.url("/api/v1/users")).bearer_auth(&admin)
            .json(&json!({"email": MEMBER_EMAIL, "role": "member", "password": "iloveyou"})).send().await.expect("POST").json().await.expect("JSON");
        assert!(common_refusal["fields"]["password"].as_str().expect("reason").contains("most common passwords"));

        let id = app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        let (status, users) = app.api_get(&admin, "/api/v1/users").await;
        assert_eq!(status, 200);
        let emails: Vec<(&str, &str, bool)> = users["users"].as_array().expect("users").iter()
            .map(|u| (u["email"].as_str().expect("email"), u["role"].as_str().expect("role"), u["active"].as_bool().expect("active")))
            .collect();
        assert_eq!(emails, [(ADMIN_EMAIL, "admin", true), (MEMBER_EMAIL, "member", true)]);
        assert!(!users.to_string().contains("password"), "no hash is sent: {users}");

        // A member's session and token; promoting and demoting takes effect on the next request.
        let member = app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        let member_browser = sign_in_with(&app, MEMBER_PASSWORD).await;
        assert_eq!(app.api_get(&member, "/api/v1/users").await.0, 403);
        // A member's pages offer only what they may do.
        let home = member_browser.get(app.url("/")).send().await.expect("GET").text().await.expect("page");
        assert!(home.contains(">Your account</a>") && !home.contains(">Users</a>") && !home.contains(">Audit log</a>"), "{home}");
        let connections = member_browser.get(app.url("/connections")).send().await.expect("GET").text().await.expect("page");
        assert!(connections.contains("An administrator of Javelin connects and disconnects accounts."));
        assert!(!connections.contains("/connections/flipkart\"") && !connections.contains("Connect via OAuth"), "{connections}");
        let patch = |body: Value, user: i64| {
            let url = app.url(&format!("/api/v1/users/{user}"));
            let admin = admin.clone();
            async move { api_client().patch(url).bearer_auth(admin).json(&body).send().await.expect("PATCH") }
        };
        let promoted: Value = patch(json!({"role": "admin"}), id).await.json().await.expect("JSON");
        assert_eq!(promoted["role"], "admin");
        assert_eq!(app.api_get(&member, "/api/v1/users").await.0, 200);
        patch(json!({"role": "member"}), id).await;
        assert_eq!(app.api_get(&member, "/api/v1/users").await.0, 403);
        assert_eq!(patch(json!({"role": "owner"}), id).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(patch(json!({"active": false}), 999_999).await.status(), StatusCode::NOT_FOUND);

        // Deactivating ends the member's token and browser session at once, and sign-in.
        let deactivated = patch(json!({"active": false}), id).await;
        assert_eq!(deactivated.status(), StatusCode::OK);
        assert_eq!(deactivated.json::<Value>().await.expect("JSON")["active"], false);
        assert_eq!(app.api_get(&member, "/api/v1/orders").await.0, 401);
        let page = member_browser.get(app.url("/orders")).send().await.expect("GET");
        assert_eq!(page.status(), StatusCode::SEE_OTHER, "the session has ended");
        let refused = api.post(app.url("/api/v1/auth/token")).json(&json!({"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD})).send().await.expect("POST");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.text().await.expect("body").contains("deactivated"));
        // Reactivated, they sign in again; the old token stays revoked.
        patch(json!({"active": true}), id).await;
        app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        assert_eq!(app.api_get(&member, "/api/v1/orders").await.0, 401);

        // The last active administrator cannot be demoted or deactivated.
        let (_, me) = app.api_get(&admin, "/api/v1/users").await;
        let admin_id = me["users"][0]["id"].as_i64().expect("id");
        for body in [json!({"role": "member"}), json!({"active": false})] {
            let response = patch(body, admin_id).await;
            assert_eq!(response.status(), StatusCode::CONFLICT);
            assert!(response.text().await.expect("body").contains("at least one active administrator"));
        }
        assert_eq!(app.api_get(&admin, "/api/v1/users").await.0, 200, "still an administrator");
    }

    async fn users_see_and_revoke_their_tokens_and_change_their_password(db) {
        let app = TestApp::start_with_admin(db).await;
        let admin = app.api_token().await;
        app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        let member = app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        let second = app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        let api = api_client();

        let (status, tokens) = app.api_get(&member, "/api/v1/me/tokens").await;
        assert_eq!(status, 200);
        let list = tokens["tokens"].as_array().expect("tokens");
        assert_eq!(list.len(), 2, "only the member's own: {tokens}");
        assert_eq!(list[0]["name"], "API token");
        assert!(list[0]["expires_at"].is_string() && list[0]["created_at"].is_string());
        assert!(!tokens.to_string().contains(&member) && !tokens.to_string().contains(&second), "never the tokens");
        // Revoking one: it stops working, the other goes on; another user's id is not found.
        let newest = list[0]["id"].as_i64().expect("id");
        let (_, admin_tokens) = app.api_get(&admin, "/api/v1/me/tokens").await;
        let admins_id = admin_tokens["tokens"][0]["id"].as_i64().expect("id");
        let revoke = |token: String, id: i64| {
            let url = app.url(&format!("/api/v1/me/tokens/{id}"));
            async move { api_client().delete(url).bearer_auth(token).send().await.expect("DELETE").status() }
        };
        assert_eq!(revoke(member.clone(), admins_id).await, StatusCode::NOT_FOUND);
        assert_eq!(app.api_get(&admin, "/api/v1/orders").await.0, 200, "the admin's token still works");
        assert_eq!(revoke(member.clone(), newest).await, StatusCode::NO_CONTENT);
        assert_eq!(app.api_get(&second, "/api/v1/orders").await.0, 401);
        assert_eq!(app.api_get(&member, "/api/v1/orders").await.0, 200);
        assert_eq!(revoke(member.clone(), newest).await, StatusCode::NOT_FOUND, "revoked once");

        // A browser session of the member, to see it end with the password change.
        let browser = sign_in_with(&app, MEMBER_PASSWORD).await;
        assert_eq!(browser.get(app.url("/account")).send().await.expect("GET").status(), StatusCode::OK);

        let change = |current: &str, new: &str| {
            let body = json!({"current_password": current, "new_password": new});
            let (url, token) = (app.url("/api/v1/me/password"), member.clone());
            async move { api_client().post(url).bearer_auth(token).json(&body).send().await.expect("POST") }
        };
        let wrong = change("not my password", "a brand new passphrase").await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.json::<Value>().await.expect("JSON")["fields"]["current_password"].is_string());
        let weak = change(MEMBER_PASSWORD, "qwerty123").await;
        assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(weak.json::<Value>().await.expect("JSON")["fields"]["password"].as_str().expect("reason").contains("common"));
        assert_eq!(change(MEMBER_PASSWORD, "a brand new passphrase").await.status(), StatusCode::NO_CONTENT);
        assert_eq!(browser.get(app.url("/account")).send().await.expect("GET").status(), StatusCode::SEE_OTHER, "other sessions ended");
        let old = api.post(app.url("/api/v1/auth/token")).json(&json!({"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD})).send().await.expect("POST");
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        app.token_for(MEMBER_EMAIL, "a brand new passphrase").await;
    }

    async fn the_account_page_changes_the_password_and_signs_out_everywhere(db) {
        let app = TestApp::start_with_admin(db).await;
        let admin = app.api_token().await;
        app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        let (here, elsewhere) = (sign_in_with(&app, MEMBER_PASSWORD).await, sign_in_with(&app, MEMBER_PASSWORD).await);
        let page = here.get(app.url("/account")).send().await.expect("GET").text().await.expect("page");
        assert!(page.contains("signed in to 2 browser sessions"), "{page}");
        let csrf = common::hidden_field(&page, "csrf_token").expect("token");
        let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
            let (url, client) = (app.url(path), here.clone());
            async move { client.post(url).form(&fields).send().await.expect("POST") }
        };
        let form = |current: &str, new: &str, again: &str| {
            vec![("csrf_token", csrf.clone()), ("current_password", current.to_owned()), ("new_password", new.to_owned()), ("new_password_confirm", again.to_owned())]
        };
        // Refusals are shown with their reason, and change nothing.
        for (fields, reason) in [
            (form(MEMBER_PASSWORD, "one new passphrase", "another passphrase"), "The two new passwords are not the same."),
            (form("not my password", "one new passphrase", "one new passphrase"), "The current password is not correct."),
            (form(MEMBER_PASSWORD, "password123", "password123"), "10,000 most common passwords"),
        ] {
            let response = post("/account/password", fields).await;
            assert_eq!(common::location(&response), "/account");
            let page = here.get(app.url("/account")).send().await.expect("GET").text().await.expect("page");
            assert!(page.contains(reason), "{reason}: {page}");
        }
        assert_eq!(elsewhere.get(app.url("/account")).send().await.expect("GET").status(), StatusCode::OK);
        // The change keeps this session and ends the other.
        post("/account/password", form(MEMBER_PASSWORD, "one new passphrase", "one new passphrase")).await;
        let page = here.get(app.url("/account")).send().await.expect("GET").text().await.expect("page");
        assert!(page.contains("Password changed."), "{page}");
        assert_eq!(elsewhere.get(app.url("/account")).send().await.expect("GET").status(), StatusCode::SEE_OTHER);
        // Sign out everywhere ends this one too.
        let elsewhere = sign_in_with(&app, "one new passphrase").await;
        let response = post("/account/sign-out-everywhere", vec![("csrf_token", csrf.clone())]).await;
        assert_eq!(common::location(&response), "/login");
        assert_eq!(here.get(app.url("/account")).send().await.expect("GET").status(), StatusCode::SEE_OTHER);
        assert_eq!(elsewhere.get(app.url("/account")).send().await.expect("GET").status(), StatusCode::SEE_OTHER);
    }

    async fn every_kind_of_event_is_recorded_and_none_holds_a_secret(db) {
        let options = javelin_sandbox::SandboxOptions { orders: 20, time_scale: 1000.0, ..Default::default() };
        let app = TestApp::start_with_sandbox(db, options, common::with_admin).await;
        app.login_admin().await;
        let admin = app.api_token().await;
        let api = api_client();
        let sync = app.sync.as_ref().expect("sync");
        let mut jobs = sync.subscribe();
        let send = |request: reqwest::RequestBuilder| async move { request.send().await.expect("request").status() };
        let bearer = |method: Method, path: &str, token: &str| api.request(method, app.url(path)).bearer_auth(token);

        assert_eq!(send(api.post(app.url("/api/v1/auth/token")).json(&json!({"email": ADMIN_EMAIL, "password": "a wrong one"}))).await, 401);
        // Accounts: by hand through the API, tested, scheduled, synced; through OAuth, refused.
        let created: Value = bearer(Method::POST, "/api/v1/connections", &admin).json(&app.amazon_connection("")).send().await.expect("POST").json().await.expect("JSON");
        let amazon = created["id"].as_i64().expect("id");
        assert_eq!(send(bearer(Method::POST, &format!("/api/v1/connections/{amazon}/test"), &admin)).await, 200);
        let schedule = json!({"orders": {"interval_minutes": 30, "enabled": true}, "inventory": {"interval_minutes": 60, "enabled": true}});
        assert_eq!(send(bearer(Method::PUT, &format!("/api/v1/connections/{amazon}/schedule"), &admin).json(&schedule)).await, 200);
        assert_eq!(send(bearer(Method::POST, &format!("/api/v1/connections/{amazon}/sync"), &admin).json(&json!({"kind": "all"}))).await, 202);
        app.settle(&mut jobs, amazon).await;
        let csrf = app.csrf_token("/connections").await;
        let marketplaces = app.post_form(&format!("/connections/{amazon}/marketplaces"), &[("csrf_token", &csrf), ("marketplace", "ATVPDKIKX0DER")]).await;
        assert_eq!(marketplaces.status(), StatusCode::SEE_OTHER);
        let secret = common::sample(&app).amazon.client_secret;
        let consent = app.start_oauth(&secret).await;
        let back = app.consent(&consent, "authorize").await;
        assert_eq!(app.client.get(&back).send().await.expect("callback").status(), StatusCode::SEE_OTHER);
        app.client.get(app.url("/connections/amazon/oauth/callback?state=not-one-of-ours")).send().await.expect("callback");
        let credentials = format!("/api/v1/connections/{amazon}/credentials");
        assert_eq!(send(bearer(Method::PUT, &credentials, &admin).json(&json!({"client_secret": "not-the-secret"}))).await, 422);
        assert_eq!(send(bearer(Method::PUT, &credentials, &admin).json(&json!({"client_secret": secret}))).await, 200);
        assert_eq!(send(bearer(Method::DELETE, &format!("/api/v1/connections/{amazon}"), &admin)).await, 204);
        // Users and their own tokens, passwords and sessions.
        let id = app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        for change in [json!({"role": "admin"}), json!({"active": false}), json!({"active": true, "role": "member"})] {
            assert_eq!(send(bearer(Method::PATCH, &format!("/api/v1/users/{id}"), &admin).json(&change)).await, 200);
        }
        let member = app.token_for(MEMBER_EMAIL, MEMBER_PASSWORD).await;
        let (_, tokens) = app.api_get(&member, "/api/v1/me/tokens").await;
        let new_password = "a brand new passphrase";
        let change = json!({"current_password": MEMBER_PASSWORD, "new_password": new_password});
        assert_eq!(send(bearer(Method::POST, "/api/v1/me/password", &member).json(&change)).await, 204);
        assert_eq!(send(bearer(Method::DELETE, &format!("/api/v1/me/tokens/{}", tokens["tokens"][0]["id"]), &member)).await, 204);
        let browser = sign_in_with(&app, new_password).await;
        let page = browser.get(app.url("/account")).send().await.expect("GET").text().await.expect("page");
        let form = [("csrf_token", common::hidden_field(&page, "csrf_token").expect("token"))];
        browser.post(app.url("/account/sign-out-everywhere")).form(&form).send().await.expect("POST");
        let csrf = app.csrf_token("/").await;
        app.post_form("/logout", &[("csrf_token", &csrf)]).await;
        // A key rotation, as `javelin keys rotate` makes it.
        javelin::keys::rotate(&app.config, &app.db.storage, None).await.expect("rotate");

        let (status, log) = app.api_get(&admin, "/api/v1/audit?limit=500").await;
        assert_eq!(status, 200);
        let recorded: std::collections::BTreeSet<&str> = log["events"].as_array().expect("events").iter()
            .map(|e| e["action"].as_str().expect("action")).collect();
        let every: std::collections::BTreeSet<&str> = javelin_core::AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(recorded, every, "every kind of event, once the actions were taken");
        let text = log.to_string();
        let creds = common::sample(&app);
        for secret in [creds.amazon.client_secret.as_str(), creds.amazon.refresh_token.as_str(), MEMBER_PASSWORD, new_password, &admin, &member] {
            assert!(!text.contains(secret), "the audit log holds a secret");
        }
    }

    async fn the_audit_log_records_who_did_what_from_where(db) {
        let app = TestApp::start_with_admin(db).await;
        assert_eq!(app.login(ADMIN_EMAIL, "a wrong password").await.status(), StatusCode::UNAUTHORIZED);
        let admin = app.api_token().await;
        let id = app.add_user(&admin, MEMBER_EMAIL, MEMBER_PASSWORD, "member").await;
        let api = api_client();
        api.patch(app.url(&format!("/api/v1/users/{id}"))).bearer_auth(&admin).json(&json!({"role": "admin"})).send().await.expect("PATCH");
        let created: Value = api.post(app.url("/api/v1/connections")).bearer_auth(&admin)
            .header("user-agent", "audit-test/1.0")
            .json(&json!({"platform": "flipkart", "username": "seller", "password": "a flipkart password"}))
            .send().await.expect("POST").json().await.expect("JSON");
        let connection = created["id"].as_i64().expect("id");
        api.delete(app.url(&format!("/api/v1/connections/{connection}"))).bearer_auth(&admin).send().await.expect("DELETE");

        let (status, log) = app.api_get(&admin, "/api/v1/audit").await;
        assert_eq!(status, 200);
        let events = log["events"].as_array().expect("events");
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().expect("action")).collect();
        assert_eq!(
            actions,
            ["connection_disconnected", "connection_connected", "user_role_changed", "user_created", "token_created", "sign_in", "sign_in_failed", "setup"],
            "newest first: {log}"
        );
        assert_eq!(log["next_cursor"], Value::Null);
        let event = |action: &str| events.iter().find(|e| e["action"] == action).expect("event").clone();
        let connected = event("connection_connected");
        assert_eq!(connected["actor"], ADMIN_EMAIL);
        assert_eq!(connected["target"], format!("connection {connection}"));
        assert_eq!(connected["ip"], "127.0.0.1");
        assert_eq!(connected["user_agent"], "audit-test/1.0");
        assert!(connected["at"].as_str().expect("at").ends_with('Z'));
        assert_eq!(event("user_role_changed")["detail"], "member to admin");
        assert_eq!(event("user_role_changed")["target"], MEMBER_EMAIL);
        let failed = event("sign_in_failed");
        assert_eq!(failed["actor"], "anonymous", "nobody was signed in");
        assert_eq!(failed["target"], ADMIN_EMAIL);
        assert_eq!(event("setup")["actor"], ADMIN_EMAIL, "the first administrator sets Javelin up");

        // Filters, and pages that neither repeat nor lose an event.
        let (_, only) = app.api_get(&admin, "/api/v1/audit?action=sign_in_failed").await;
        assert_eq!(only["events"].as_array().expect("events").len(), 1);
        let (_, by_anonymous) = app.api_get(&admin, "/api/v1/audit?actor=anonymous").await;
        assert_eq!(by_anonymous["events"].as_array().expect("events").len(), 1);
        let (_, future) = app.api_get(&admin, "/api/v1/audit?from=2100-01-01").await;
        assert!(future["events"].as_array().expect("events").is_empty());
        let mut paged = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = app.api_get(&admin, &format!("/api/v1/audit?limit=3&cursor={cursor}")).await;
            assert_eq!(status, 200);
            paged.extend(page["events"].as_array().expect("events").iter().map(|e| e["id"].as_i64().expect("id")));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        let all: Vec<i64> = events.iter().map(|e| e["id"].as_i64().expect("id")).collect();
        assert_eq!(paged[..all.len()], all[..], "pages hold the same events in the same order");
        // Bad parameters are named.
        for (query, param) in [("action=dance", "action"), ("from=yesterday", "from"), ("cursor=x", "cursor"), ("limit=0", "limit")] {
            let (status, body) = app.api_get(&admin, &format!("/api/v1/audit?{query}")).await;
            assert_eq!(status, 422, "{query}");
            assert!(body["fields"][param].is_string(), "{query}: {body}");
        }
        // The page shows the same, to administrators only.
        app.login_admin().await;
        let page = app.get("/audit?action=connection_connected").await.text().await.expect("page");
        assert!(page.contains("audit-test/1.0") && page.contains(&format!("connection {connection}")), "{page}");

        // Append-only in the database itself.
        let count = |log: Value| log["events"].as_array().expect("events").len();
        let before = count(app.api_get(&admin, "/api/v1/audit").await.1);
        for change in ["UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"] {
            let refused = app.db.storage.execute_unprepared(change).await;
            assert!(refused.is_err_and(|err| err.to_string().contains("append-only")), "{change}");
        }
        assert_eq!(count(app.api_get(&admin, "/api/v1/audit").await.1), before, "nothing deleted");

        // Syncs the schedule starts are the system's.
        api.post(app.url("/api/v1/connections")).bearer_auth(&admin).json(&app.flipkart_connection()).send().await.expect("POST");
        let queued = app.sync.as_ref().expect("running").queue_due().await.expect("queue");
        assert!(queued > 0, "the new connection's first runs are due");
        let (_, scheduled) = app.api_get(&admin, "/api/v1/audit?action=sync_started&actor=system").await;
        let scheduled = scheduled["events"].as_array().expect("events");
        assert_eq!(scheduled.len(), queued, "{scheduled:?}");
        assert!(scheduled.iter().all(|e| e["detail"].as_str().expect("detail").starts_with("scheduled ")));
    }
}
