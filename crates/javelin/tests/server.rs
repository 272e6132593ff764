//! The real server on an ephemeral port, on SQLite and on PostgreSQL.

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, browser_client, location};
use javelin_web::{Access, route_table};
use reqwest::StatusCode;
use serde_json::Value;

const SIDEBAR: [&str; 4] = ["Dashboard", "Orders", "Inventory", "Connect Platforms"];

javelin_storage::backend_tests! {
    async fn first_run_setup_login_pages_logout(db) {
        let app = TestApp::start(db).await;

        // Any page sends the first visitor to the setup page.
        let response = app.get("/orders").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/setup");
        let token = app.csrf_token("/setup").await;

        // Field errors keep the other input.
        let response = app
            .post_form("/setup", &[("csrf_token", &token), ("email", "owner@example.com"), ("password", "long enough 1"), ("password_confirm", "different")])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.expect("body");
        assert!(html.contains("The two passwords are not the same."), "{html}");
        assert!(html.contains("value=\"owner@example.com\""), "{html}");
        let response = app
            .post_form("/setup", &[("csrf_token", &token), ("email", "owner@example.com"), ("password", "short"), ("password_confirm", "short")])
            .await;
        assert!(response.text().await.expect("body").contains("at least 8 characters"));

        let response = app
            .post_form("/setup", &[("csrf_token", &token), ("email", " Owner@Example.com "), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/");

        // Signed in straight away, with a welcome message once.
        let html = app.get("/").await.text().await.expect("body");
        assert!(html.contains("Your administrator account is ready."), "{html}");
        for entry in SIDEBAR {
            assert!(html.contains(&format!(">{entry}</a>")), "sidebar lacks {entry}");
        }
        assert!(html.contains("owner@example.com"));
        assert!(!app.get("/").await.text().await.expect("body").contains("Your administrator account is ready."));

        // Honest empty states that point to Connect Platforms.
        for (path, empty) in [("/orders", "No orders yet"), ("/inventory", "No stock levels yet"), ("/", "No data yet")] {
            let response = app.get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let html = response.text().await.expect("body");
            assert!(html.contains(empty), "{path}");
            assert!(html.contains("href=\"/connections\""), "{path}");
        }
        let html = app.get("/connections").await.text().await.expect("body");
        assert!(html.contains(">Amazon</h2>") && html.contains(">Flipkart</h2>"), "{html}");
        assert_eq!(html.matches("badge not_connected\">Not Connected<").count(), 2, "{html}");

        // Setup is closed once an admin exists.
        let response = app.get("/setup").await;
        assert_eq!(location(&response), "/login");

        // Sign out ends the session.
        let token = app.csrf_token("/").await;
        let response = app.post_form("/logout", &[("csrf_token", &token)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/login");
        assert!(app.get("/login").await.text().await.expect("body").contains("You have signed out."));
        let response = app.get("/inventory").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/login?next=%2Finventory");

        // And the next sign-in goes where the visitor was heading.
        let token = app.csrf_token("/login?next=%2Finventory").await;
        let response = app
            .post_form("/login", &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/inventory")])
            .await;
        assert_eq!(location(&response), "/inventory");
    }

    async fn wrong_password_and_unknown_user_look_the_same(db) {
        let app = TestApp::start_with_admin(db).await;
        let wrong = app.login(ADMIN_EMAIL, "not the password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let wrong = wrong.text().await.expect("body");
        assert!(wrong.contains("The email or password is not correct."), "{wrong}");
        assert!(wrong.contains(&format!("value=\"{ADMIN_EMAIL}\"")), "email kept");
        let unknown = app.login("nobody@example.com", "not the password").await;
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        assert!(unknown.text().await.expect("body").contains("The email or password is not correct."));
        let response = app.get("/").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "still signed out");
        app.login_admin().await;
        assert_eq!(app.get("/").await.status(), StatusCode::OK);
    }

    async fn failed_sign_ins_slow_their_address_down_but_never_lock_the_owner_out(db) {
        let app = TestApp::start_with_admin(db).await;
        let token_from = |client: reqwest::Client, password: &'static str| {
            let url = app.url("/api/v1/auth/token");
            async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": password}))
                    .send()
                    .await
                    .expect("POST")
            }
        };
        // Three failures cost nothing; the fourth makes the next try from here wait a second.
        for _ in 0..4 {
            assert_eq!(app.login(ADMIN_EMAIL, "wrong password").await.status(), StatusCode::UNAUTHORIZED);
        }
        let limited = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()["retry-after"], "1");
        assert!(limited.text().await.expect("body").contains("Too many failed sign-ins from here"));
        // The API counts the same failures (they are in the database).
        let response = token_from(common::api_client(), ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        // The owner at another address signs in at once: only failures count, per address.
        let response = token_from(common::api_client_from([127, 0, 0, 2]), ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "the owner elsewhere is not kept out");
        // A wrong password from there counts there only.
        let response = token_from(common::api_client_from([127, 0, 0, 2]), "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // Once the wait is over, the right password works here too, and clears the count.
        app.clock.advance(time::Duration::seconds(1));
        assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(token_from(common::api_client(), "wrong password").await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(token_from(common::api_client(), ADMIN_PASSWORD).await.status(), StatusCode::OK);

        // An address guessing at many accounts is slowed down whatever account it tries next.
        let spraying = "address 127.0.0.3";
        let now = app.clock.clock().now();
        for _ in 0..22 {
            app.db.storage.record_sign_in_failure(&[spraying], now, now - time::Duration::hours(1)).await.expect("failure");
        }
        let response = token_from(common::api_client_from([127, 0, 0, 3]), ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "2");
        // Failures an hour old are forgotten.
        app.clock.advance(time::Duration::hours(1));
        let response = token_from(common::api_client_from([127, 0, 0, 3]), ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    async fn token_api(db) {
        let app = TestApp::start_with_admin(db).await;
        let api = common::api_client();
        let response = api
            .post(app.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": "wrong password"}))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "The email or password is not correct.");
        let response = api.post(app.url("/api/v1/auth/token")).body("{").header("content-type", "application/json").send().await.expect("POST");
        assert!(response.status().is_client_error());
        assert!(response.json::<Value>().await.expect("JSON error")["error"].is_string());

        let token = app.api_token().await;
        assert!(token.starts_with("jvl_"));
        let response = api.get(app.url("/api/v1/platforms")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
        // No API answer is kept by a browser or proxy: data, errors, the token itself.
        assert_eq!(response.headers()["cache-control"], "no-store");
        for (method, path) in [(reqwest::Method::GET, "/api/v1/nothing-here"), (reqwest::Method::GET, "/api/v1/platforms"), (reqwest::Method::POST, "/api/v1/auth/token")] {
            let response = api.request(method, app.url(path)).send().await.expect("request");
            assert_eq!(response.headers().get("cache-control").map(|v| v.to_str().expect("ascii")), Some("no-store"), "{path}: {}", response.status());
        }
        let missing = api.get(app.url("/api/v1/nothing-here")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(missing.json::<Value>().await.expect("JSON")["error"], "There is no such API route.");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(
            body,
            serde_json::json!([
                {"platform": "amazon", "name": "Amazon", "status": "not_connected", "connections": []},
                {"platform": "flipkart", "name": "Flipkart", "status": "not_connected", "connections": []},
            ])
        );
        // The scheme's case does not matter (RFC 9110).
        for scheme in ["bearer", "BEARER"] {
            let response = api.get(app.url("/api/v1/platforms")).header("authorization", format!("{scheme} {token}")).send().await.expect("GET");
            assert_eq!(response.status(), StatusCode::OK, "{scheme}");
        }
        // Pages accept the token too.
        assert_eq!(api.get(app.url("/orders")).bearer_auth(&token).send().await.expect("GET").status(), StatusCode::OK);

        let response = api.delete(app.url("/api/v1/auth/token")).bearer_auth(&token).send().await.expect("DELETE");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let response = api.get(app.url("/api/v1/platforms")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.json::<Value>().await.expect("JSON")["error"], "This API token is not valid or has been revoked.");
        let response = api.get(app.url("/api/v1/platforms")).header("authorization", "Basic abc").send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    async fn every_protected_route_refuses_anonymous_requests(db) {
        let app = TestApp::start_with_admin(db).await;
        let table = route_table();
        let public: Vec<_> = table.iter().filter(|route| route.access == Access::Public).map(|route| (route.method.as_str(), route.path.as_str())).collect();
        assert_eq!(
            public,
            [
                ("GET", "/healthz"),
                ("GET", "/readyz"),
                ("GET", "/static/{file}"),
                ("GET", "/setup"),
                ("POST", "/setup"),
                ("GET", "/login"),
                ("POST", "/login"),
                ("GET", "/connections/amazon/oauth/callback"),
                ("POST", "/api/v1/auth/token"),
                ("GET", "/api/v1/openapi.json"),
            ],
            "only sign-in, setup, health, assets, the token exchange, the OAuth callback and the API's OpenAPI document are public"
        );
        let protected: Vec<_> = table.iter().filter(|route| route.access == Access::SignedIn).collect();
        assert!(protected.len() >= 8);

        // An account worth attacking.
        let token = app.api_token().await;
        let created: Value = common::api_client()
            .post(app.url("/api/v1/connections"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"platform": "flipkart", "username": "seller", "password": "a password"}))
            .send().await.expect("POST").json().await.expect("JSON");
        let id = created["id"].as_i64().expect("id").to_string();

        // The sign-in page's anonymous form token, sent along: the CSRF check passes, so only
        // the sign-in check stands between these requests and the handlers.
        let login = app.get("/login").await.text().await.expect("page");
        let csrf = common::hidden_field(&login, "csrf_token").expect("token");
        let api = common::api_client();
        for route in protected {
            let path = route.path.replace("{id}", &id);
            let is_api = path.starts_with("/api/");
            // A script gets a 401, whatever the route.
            let response = api
                .request(route.method.clone(), app.url(&path))
                .header("cookie", format!("javelin_csrf={csrf}"))
                .header("x-csrf-token", &csrf)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{} {} to an anonymous script", route.method, route.path);
            assert!(response.json::<Value>().await.expect("JSON")["error"].is_string());
            // A browser is sent to sign in, and comes back where it was going; the API says 401.
            let response = app.client.request(route.method.clone(), app.url(&path)).header("x-csrf-token", &csrf).send().await.expect("request");
            if is_api {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{} {} to an anonymous browser", route.method, route.path);
            } else {
                assert_eq!(response.status(), StatusCode::SEE_OTHER, "{} {} to an anonymous browser", route.method, route.path);
                let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
                assert_eq!(location(&response), format!("/login?next={next}"), "{} {}", route.method, route.path);
            }
        }
        let kept = app.db.storage.get_connection(id.parse().expect("id")).await.expect("get").expect("row");
        assert!(kept.active, "nothing anonymous disconnected the account");
        assert_eq!(app.db.storage.connection_secrets(kept.id).await.expect("secrets").len(), 1);
    }

    async fn tokens_expire_and_idle_sessions_end(db) {
        let app = TestApp::start_with_admin(db).await;
        let api = common::api_client();
        let ask = |body: Value| api.post(app.url("/api/v1/auth/token")).json(&body).send();
        let now = app.clock.now();
        // 90 days unless asked otherwise; the expiry is shown with the token.
        let body: Value = ask(serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await.expect("POST").json().await.expect("JSON");
        let default_expiry = time::OffsetDateTime::parse(body["expires_at"].as_str().expect("expires_at"), &time::format_description::well_known::Rfc3339).expect("RFC 3339");
        assert_eq!(default_expiry, (now + time::Duration::days(90)).datetime());
        let body: Value = ask(serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "expires_in_days": 1})).await.expect("POST").json().await.expect("JSON");
        let day_token = body["token"].as_str().expect("token").to_owned();
        for wrong in [serde_json::json!(0), serde_json::json!(3651)] {
            let response = ask(serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "expires_in_days": wrong})).await.expect("POST");
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
            assert!(response.json::<Value>().await.expect("JSON")["fields"]["expires_in_days"].is_string());
        }
        assert_eq!(app.api_get(&day_token, "/api/v1/platforms").await.0, 200);

        // A browser session used every 11 hours lives on; 12 hours unused ends it.
        app.login_admin().await;
        let day = time::Duration::hours(11);
        for _ in 0..2 {
            app.clock.advance(day);
            assert_eq!(app.get("/orders").await.status(), StatusCode::OK, "used within 12 hours");
        }
        assert_eq!(app.api_get(&day_token, "/api/v1/platforms").await.0, 200, "the one-day token at 22 h");
        app.clock.advance(time::Duration::hours(12));
        let response = app.get("/orders").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "idle 12 hours: signed out");
        assert_eq!(location(&response), "/login?next=%2Forders");
        assert_eq!(app.api_get(&day_token, "/api/v1/platforms").await.0, 401, "the one-day token at 34 h");
    }

    async fn signing_out_ends_the_session_on_the_server(db) {
        let app = TestApp::start_with_admin(db).await;
        let token = app.csrf_token("/login").await;
        let response = app.post_form("/login", &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
        let cookie = common::set_cookie(&response, "javelin_session");
        let session = cookie.split(';').next().expect("name=value").to_owned();
        let replay = || common::api_client().get(app.url("/api/v1/platforms")).header("cookie", session.clone()).send();
        assert_eq!(replay().await.expect("GET").status(), StatusCode::OK, "the cookie works");
        let token = app.csrf_token("/").await;
        assert_eq!(location(&app.post_form("/logout", &[("csrf_token", &token)]).await), "/login");
        // A copy of the cookie kept from before (a stolen one) works no more.
        assert_eq!(replay().await.expect("GET").status(), StatusCode::UNAUTHORIZED);
    }

    async fn control_characters_are_refused_alike_on_both_databases(db) {
        // PostgreSQL refuses a NUL in text (a 500 before), SQLite stored it: now both answer 422
        // naming the field, before anything is read or stored.
        let app = TestApp::start_with_admin(db).await;
        let api = common::api_client();
        let refused = |response: reqwest::Response, field: &'static str| async move {
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["fields"][field], "must not contain control characters.", "{body}");
        };
        let sign_in = |email: &str, label: &str| api.post(app.url("/api/v1/auth/token")).json(&serde_json::json!({"email": email, "password": ADMIN_PASSWORD, "label": label})).send();
        refused(sign_in("a\u{0}@x.com", "cli").await.expect("POST"), "email").await;
        refused(sign_in(ADMIN_EMAIL, "cli\u{0}").await.expect("POST"), "label").await;
        let token = app.api_token().await;
        let flipkart = serde_json::json!({"platform": "flipkart", "username": "sel\u{0}ler", "password": "pw"});
        let response = api.post(app.url("/api/v1/connections")).bearer_auth(&token).json(&flipkart).send().await.expect("POST");
        refused(response, "username").await;
        refused(api.get(app.url("/api/v1/orders?q=%00")).bearer_auth(&token).send().await.expect("GET"), "q").await;
        refused(api.get(app.url("/api/v1/orders?status=shipped%1B")).bearer_auth(&token).send().await.expect("GET"), "status").await;
        assert!(app.db.storage.list_connections().await.expect("list").is_empty(), "nothing stored");
        // Anonymous requests are still told to sign in first.
        let response = api.post(app.url("/api/v1/connections")).json(&flipkart).send().await.expect("POST");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

        // Pages: the sign-in form and a search.
        let csrf = app.csrf_token("/login").await;
        let response = app.post_form("/login", &[("csrf_token", &csrf), ("email", "a\u{0}@x.com"), ("password", ADMIN_PASSWORD)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.expect("page");
        assert!(page.contains("The field “email” holds a control character"), "{page}");
        app.login_admin().await;
        assert_eq!(app.get("/orders?q=yoga%00").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Everything else still passes: words, accents, emoji, quotes.
        let response = api.get(app.url("/api/v1/orders?q=%C3%BCn%C3%AF%20%F0%9F%A7%98%20%22mat%22")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
    }

    async fn forms_up_to_a_megabyte_are_read(db) {
        let app = TestApp::start_with_admin(db).await;
        let token = app.csrf_token("/login").await;
        let next = format!("/{}", "a".repeat(900 * 1024));
        let response = app.post_form("/login", &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", "wrong password"), ("next", &next)]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a 900 kB form is read");
        let next = format!("/{}", "a".repeat(1024 * 1024));
        let response = app.post_form("/login", &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", "wrong password"), ("next", &next)]).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "a form over 1 MiB is not");
    }

    async fn state_changing_forms_need_their_csrf_token(db) {
        let app = TestApp::start_with_admin(db).await;
        // Sign-in form without the token of its page.
        let response = app.post_form("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.text().await.expect("body").contains("This form has expired"));
        app.login_admin().await;

        // Sign-out without, or with a wrong, token is refused and the session survives.
        for form in [vec![], vec![("csrf_token", "forged")]] {
            let response = app.post_form("/logout", &form).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            assert_eq!(app.get("/").await.status(), StatusCode::OK);
        }
        // Cookie-authenticated API calls need the header.
        let response = app.client.delete(app.url("/api/v1/auth/token")).send().await.expect("DELETE");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        // A cross-site browser post is refused on its headers alone.
        let token = app.csrf_token("/").await;
        let response = app
            .client
            .post(app.url("/logout"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.get("/").await.status(), StatusCode::OK);
        // The right token works.
        let response = app.post_form("/logout", &[("csrf_token", &token)]).await;
        assert_eq!(location(&response), "/login");
    }

    async fn session_cookie_is_http_only_and_lax(db) {
        let app = TestApp::start_with_admin(db).await;
        let token = app.csrf_token("/login").await;
        let response = app.post_form("/login", &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
        let cookie = common::set_cookie(&response, "javelin_session");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain-HTTP front-end URL: {cookie}");
        assert!(!response.headers().contains_key("strict-transport-security"), "no HSTS over plain HTTP");
    }

    async fn cookies_are_secure_behind_an_https_front_end(db) {
        let app = TestApp::start_with(db, |config| {
            config.frontend_url = "https://oms.example.com".parse().expect("URL");
            config.admin = Some(javelin::config::AdminSeed { email: ADMIN_EMAIL.into(), password: ADMIN_PASSWORD.into() });
        })
        .await;
        let response = app.get("/login").await;
        // __Host- names: browsers take them only from a secure origin, for this host alone.
        let csrf_cookie = common::set_cookie(&response, "__Host-javelin_csrf");
        assert!(csrf_cookie.contains("Secure") && csrf_cookie.contains("Path=/") && !csrf_cookie.contains("Domain"), "{csrf_cookie}");
        assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
        let token = common::hidden_field(&response.text().await.expect("page"), "csrf_token").expect("token");
        // The browser would not send a Secure cookie over plain HTTP; send it by hand.
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let sign_in = |cookie: String| {
            no_redirects
                .post(app.url("/login"))
                .header("cookie", cookie)
                .form(&[("csrf_token", token.as_str()), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
                .send()
        };
        // The plain name is not read behind https (a plain-http page could have planted it).
        let response = sign_in(format!("javelin_csrf={token}")).await.expect("POST");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = sign_in(format!("__Host-javelin_csrf={token}")).await.expect("POST");
        let session = common::set_cookie(&response, "__Host-javelin_session");
        assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
        let removed = common::set_cookie(&response, "__Host-javelin_csrf");
        assert!(removed.contains("Secure") && removed.contains("Max-Age=0"), "a removal a browser accepts: {removed}");
        let cookie = session.split(';').next().expect("name=value").to_owned();
        let response = no_redirects.get(app.url("/orders")).header("cookie", &cookie).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "signed in with the __Host- session");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let response = no_redirects.get(app.url("/orders")).header("cookie", cookie.replace("__Host-", "")).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the plain name is not a session here");
    }

    async fn the_front_end_origin_is_trusted_behind_a_proxy(db) {
        // A proxy for https://oms.example.com that passes requests on to Javelin's own address:
        // the browser's Origin names the front end, the Host does not.
        let app = TestApp::start_with(db, |config| {
            config.frontend_url = "https://oms.example.com".parse().expect("URL");
            config.admin = Some(javelin::config::AdminSeed { email: ADMIN_EMAIL.into(), password: ADMIN_PASSWORD.into() });
        })
        .await;
        let token = common::hidden_field(&app.get("/login").await.text().await.expect("page"), "csrf_token").expect("token");
        let post = |origin: &'static str| {
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
                .post(app.url("/login"))
                .header("cookie", format!("__Host-javelin_csrf={token}"))
                .header("origin", origin)
                .header("sec-fetch-site", "same-site")
                .form(&[("csrf_token", token.as_str()), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
                .send()
        };
        let response = post("https://oms.example.com").await.expect("POST");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in through the front end");
        assert_eq!(post("https://evil.example").await.expect("POST").status(), StatusCode::FORBIDDEN);
    }

    async fn health_readiness_and_metrics(db) {
        let app = TestApp::start_with_admin(db).await;
        let api = common::api_client();
        let response = api.get(app.url("/healthz")).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("x-request-id"));
        // A client's request id is kept when it is a short safe token, replaced otherwise.
        let long = "a".repeat(65);
        for (sent, kept) in [("abc.DEF_1-2", true), ("<script>alert(1)</script>", false), (long.as_str(), false), ("a b", false)] {
            let response = api.get(app.url("/login")).header("x-request-id", sent).send().await.expect("GET");
            let id = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
            assert_eq!(id == sent, kept, "{sent:?} answered with {id:?}");
            assert!(!id.is_empty());
        }
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        assert!(response.headers()["content-security-policy"].to_str().expect("ascii").contains("default-src 'self'"));
        assert_eq!(response.text().await.expect("body"), "ok");
        let response = api.get(app.url("/readyz")).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);

        let response = api.get(app.url("/metrics")).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let token = app.api_token().await;
        let response = api.get(app.url("/metrics")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.expect("body");
        assert!(text.contains(r#"javelin_http_requests_total{method="GET",route="/healthz",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"javelin_http_requests_total{method="GET",route="/metrics",status="401"} 1"#), "{text}");
        assert!(text.contains(r#"javelin_http_request_duration_seconds_count{method="GET",route="/readyz"} 1"#), "{text}");
        // API routes are labelled by their full pattern, unknown ones by one label.
        assert!(text.contains(r#"javelin_http_requests_total{method="POST",route="/api/v1/auth/token",status="200"} 1"#), "{text}");
        api.get(app.url("/api/v1/connections/7/nothing")).bearer_auth(&token).send().await.expect("GET");
        // Invented methods are counted under one label, whatever their names.
        for name in ["FOOBAR", "BAZQUUX"] {
            let method = reqwest::Method::from_bytes(name.as_bytes()).expect("method");
            let response = api.request(method.clone(), app.url("/healthz")).send().await.expect("request");
            assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED, "{name}");
            let response = api.request(method, app.url("/api/v1/orders")).send().await.expect("request");
            assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED, "{name}, before any other check");
            assert_eq!(response.json::<Value>().await.expect("JSON")["error"], "This HTTP method is not supported.");
        }
        let text = api.get(app.url("/metrics")).bearer_auth(&token).send().await.expect("GET").text().await.expect("body");
        assert!(!text.contains("/connections/7"), "{text}");
        assert!(!text.contains("FOOBAR") && !text.contains("BAZQUUX"), "{text}");
        assert!(text.contains(r#"{method="other",route="/healthz",status="#), "{text}");
    }

    async fn platforms_are_present_after_start_and_restart(db) {
        let mut app = TestApp::start_with_admin(db).await;
        let token = app.api_token().await;
        let platforms = |body: Value| -> Vec<String> {
            body.as_array().expect("array").iter().map(|p| p["platform"].as_str().expect("code").to_owned()).collect()
        };
        let api = common::api_client();
        let body = api.get(app.url("/api/v1/platforms")).bearer_auth(&token).send().await.expect("GET").json().await.expect("JSON");
        assert_eq!(platforms(body), ["amazon", "flipkart"]);

        // Even a platform row lost by hand comes back at the next start.
        app.db.storage.execute_unprepared("DELETE FROM platforms WHERE code = 'flipkart'").await.expect("delete");
        app.restart().await;
        let body = api.get(app.url("/api/v1/platforms")).bearer_auth(&token).send().await.expect("GET").json().await.expect("JSON");
        assert_eq!(platforms(body), ["amazon", "flipkart"]);
    }

    async fn admin_from_configuration_is_created_once(db) {
        let mut app = TestApp::start_with_admin(db).await;
        let response = app.get("/setup").await;
        assert_eq!(location(&response), "/login", "setup is closed when the admin comes from the environment");
        app.restart().await;
        assert_eq!(app.db.storage.count_users().await.expect("count"), 1);
        app.login_admin().await;
    }
}

#[tokio::test]
async fn a_fresh_browser_sees_the_setup_page_first() {
    let db = javelin_storage::testing::TestDatabase::sqlite().await;
    let app = TestApp::start(db).await;
    let response = browser_client().get(app.url("/login")).send().await.expect("GET");
    assert_eq!(location(&response), "/setup");
}
