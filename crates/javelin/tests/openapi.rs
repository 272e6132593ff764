//! The OpenAPI document at `GET /api/v1/openapi.json`: it names every API route of the route
//! table and no other, and every answer the routes really give, success or error, is one the
//! document lists for its route, of the content type and JSON schema it gives.

mod common;

use std::collections::BTreeSet;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, api_client, sample, with_admin};
use javelin_model::{Order, OrderItem, OrderStatus, ShipTo};
use javelin_sandbox::SandboxOptions;
use javelin_storage::Timestamp;
use reqwest::Method;
use serde_json::{Map, Value, json};

const PREFIX: &str = "/api/v1";

async fn start(db: javelin_storage::testing::TestDatabase) -> TestApp {
    // A sandbox a thousand times faster than the marketplaces' limits: syncs take moments.
    let options = SandboxOptions {
        orders: 60,
        time_scale: 1000.0,
        ..SandboxOptions::default()
    };
    TestApp::start_with_sandbox(db, options, with_admin).await
}

/// The document, as the server gives it to anyone.
async fn document(app: &TestApp) -> Value {
    let response = api_client()
        .get(app.url(&format!("{PREFIX}/openapi.json")))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

/// The API's routes in the route table, as (method, path) the document names them.
fn api_routes() -> BTreeSet<(String, String)> {
    javelin_web::route_table()
        .into_iter()
        .filter(|route| route.path.starts_with(&format!("{PREFIX}/")))
        .map(|route| (route.method.as_str().to_lowercase(), route.path))
        .collect()
}

/// `schema` with every object closed to the properties it names (`unevaluatedProperties:
/// false`), so that an answer with a field the document does not have fails as one without a
/// field it requires does. The members of an `allOf` (a flattened struct) stay open and a
/// `$ref` among them is inlined, so that the schema holding them sees all their properties.
fn closed(schema: &Value, components: &Map<String, Value>, in_all_of: bool) -> Value {
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    if in_all_of && let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return closed(&components[name], components, true);
    }
    let each = |value: &Value, in_all_of: bool| match value {
        Value::Array(members) => Value::Array(members.iter().map(|m| closed(m, components, in_all_of)).collect()),
        other => closed(other, components, in_all_of),
    };
    let mut out: Map<String, Value> = object
        .iter()
        .map(|(key, value)| {
            let value = match key.as_str() {
                "allOf" => each(value, true),
                "oneOf" | "anyOf" | "items" | "additionalProperties" => each(value, false),
                "properties" => Value::Object(
                    value
                        .as_object()
                        .expect("properties")
                        .iter()
                        .map(|(name, property)| (name.clone(), closed(property, components, false)))
                        .collect(),
                ),
                _ => value.clone(),
            };
            (key.clone(), value)
        })
        .collect();
    let is_object = object.contains_key("properties") || object.contains_key("allOf");
    if is_object && !in_all_of && !object.contains_key("additionalProperties") {
        out.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// A JSON Schema 2020-12 validator of `schema`, whose `#/components/schemas/…` are the
/// document's, closed.
fn validator(schema: &Value, components: &Map<String, Value>) -> jsonschema::Validator {
    let mut root = closed(schema, components, false);
    let closed_components: Map<String, Value> = components
        .iter()
        .map(|(name, schema)| (name.clone(), closed(schema, components, false)))
        .collect();
    root["components"] = json!({ "schemas": closed_components });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|err| panic!("the document's schema {schema} does not compile: {err}"))
}

/// The document's path that `path` is of: the one whose segments are the
/// same, `{…}` standing for any, with the most fixed segments.
fn template_of(doc: &Value, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let fixed = |template: &str| -> Option<usize> {
        let parts: Vec<&str> = template.split('/').collect();
        let same = parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(part, segment)| part.starts_with('{') || part == segment);
        same.then(|| parts.iter().filter(|part| !part.starts_with('{')).count())
    };
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .keys()
        .filter_map(|template| Some((fixed(template)?, template)))
        .max()
        .map(|(_, template)| template.clone())
        .unwrap_or_else(|| panic!("the document has no path for {path}"))
}

/// Calls the API as a script does and checks each answer against the document.
struct Checker<'a> {
    app: &'a TestApp,
    doc: Value,
    /// Each answer checked: method, the document's path, status.
    seen: BTreeSet<(String, String, u16)>,
}

impl Checker<'_> {
    /// `method path` with `token`, for [`Checker::send`].
    fn request(&self, token: Option<&str>, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = api_client().request(method, self.app.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `method path` with `token` and, if any, a JSON `body`, sent.
    async fn call(&mut self, token: Option<&str>, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = self.request(token, method, path);
        self.send(match body {
            Some(body) => request.json(&body),
            None => request,
        })
        .await
    }

    async fn get(&mut self, token: &str, path: &str) -> (u16, Value) {
        self.call(Some(token), Method::GET, path, None).await
    }

    /// Sends `request`: its status and answer (JSON, the text of another content type, or null
    /// when empty), once checked against the document.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let (client, request) = request.build_split();
        let request = request.expect("a request");
        let method = request.method().as_str().to_lowercase();
        let path = request.url().path().to_owned();
        let response = client.execute(request).await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(';').next().unwrap_or(value).trim().to_owned());
        let text = response.text().await.expect("body");
        let template = template_of(&self.doc, &path);
        let what = format!("{} {path} answered {status}", method.to_uppercase());
        let operation = &self.doc["paths"][&template][&method];
        assert!(
            operation.is_object(),
            "{what}: the document has no operation {method} {template}"
        );
        let answer = &operation["responses"][status.to_string()];
        assert!(answer.is_object(), "{what}, which the document does not list: {text}");
        let value = match answer["content"].as_object() {
            None => {
                assert!(text.is_empty(), "{what} with a body the document does not have: {text}");
                Value::Null
            }
            Some(content) => {
                let content_type = content_type.unwrap_or_else(|| panic!("{what} without a content type"));
                let media = content
                    .get(&content_type)
                    .unwrap_or_else(|| panic!("{what} in {content_type}, which the document does not list"));
                let value = if content_type == "application/json" {
                    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{what} with no JSON ({err}): {text}"))
                } else {
                    Value::String(text)
                };
                let components = self.doc["components"]["schemas"].as_object().expect("schemas");
                let validator = validator(&media["schema"], components);
                let errors = validator.iter_errors(&value).into_errors();
                assert!(
                    errors.is_empty(),
                    "{what}, not as the document says: {errors}\n{value:#}"
                );
                value
            }
        };
        self.seen.insert((method, template, status));
        (status, value)
    }
}

/// Each of `pointers` into `body` is an array with something in it: the schema of its items
/// was checked.
fn filled(body: &Value, pointers: &[&str]) {
    for pointer in pointers {
        let items = body.pointer(pointer).and_then(Value::as_array);
        assert!(
            items.is_some_and(|items| !items.is_empty()),
            "{pointer} is empty: {body:#}"
        );
    }
}

/// An order of the Amazon account that must ship within the hour: the dashboard's at-risk list.
fn at_risk_order() -> Order {
    let now = Timestamp::now().datetime();
    Order {
        external_id: "111-0000001-AT-RISK".into(),
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        status: OrderStatus::Unshipped,
        platform_status: "Unshipped".into(),
        fulfillment_channel: Some("MFN".into()),
        purchased_at: now - time::Duration::days(1),
        updated_at: now - time::Duration::days(1),
        ship_by: Some(now + time::Duration::hours(1)),
        total: None,
        ship_to: ShipTo::default(),
        items: vec![OrderItem {
            external_id: "1".into(),
            sku: Some("AT-RISK".into()),
            product_id: None,
            title: None,
            quantity: 1,
            quantity_shipped: 0,
            unit_price: None,
            line_total: None,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_of_every_api_route_and_no_other() {
    let db = javelin_storage::testing::TestDatabase::sqlite().await;
    let app = start(db).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|version| version.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );

    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            methods
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(move |method| ((*method).to_owned(), path.clone()))
        })
        .collect();
    let routes = api_routes();
    let missing: Vec<_> = routes.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(missing.is_empty(), "routes the document does not have: {missing:?}");
    assert!(extra.is_empty(), "operations that are no route: {extra:?}");

    // Every reference resolves, and every schema compiles as JSON Schema 2020-12.
    fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    found.push(reference);
                }
                object.values().for_each(|value| references(value, found));
            }
            Value::Array(values) => values.iter().for_each(|value| references(value, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    references(&doc, &mut found);
    for reference in found {
        let pointer = reference.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{reference} resolves to nothing");
    }
    let components = doc["components"]["schemas"].as_object().expect("schemas");
    for schema in components.values() {
        validator(schema, components);
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

javelin_storage::backend_tests! {
    async fn every_answer_is_one_the_document_lists_with_its_schema(db) {
        let app = start(db).await;
        let doc = document(&app).await;
        let mut api = Checker { app: &app, doc, seen: BTreeSet::new() };
        let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
        api.call(None, get.clone(), "/api/v1/openapi.json", None).await;

        // Signing in, and calls without it.
        let credentials = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "label": "openapi test"});
        let (status, body) = api.call(None, post.clone(), "/api/v1/auth/token", Some(credentials.clone())).await;
        assert_eq!(status, 200);
        let token = body["token"].as_str().expect("token").to_owned();
        let auth = Some(token.as_str());
        let wrong = json!({"email": ADMIN_EMAIL, "password": "not it"});
        assert_eq!(api.call(None, post.clone(), "/api/v1/auth/token", Some(wrong)).await.0, 401);
        assert_eq!(api.call(None, get.clone(), "/api/v1/orders", None).await.0, 401);

        // Connections: tested at once, or incomplete and untested; and bodies refused.
        let amazon = app.amazon_connection("");
        let (status, body) = api.call(auth, post.clone(), "/api/v1/connections", Some(amazon)).await;
        assert_eq!((status, body["status"].as_str(), body["test"]["ok"].as_bool()), (201, Some("connected"), Some(true)), "{body}");
        let amazon = body["id"].as_i64().expect("id");
        let (_, body) = api.call(auth, post.clone(), "/api/v1/connections", Some(app.flipkart_connection())).await;
        let flipkart = body["id"].as_i64().expect("id");
        let incomplete = json!({"platform": "flipkart", "username": "second", "password": "a password"});
        let (status, body) = api.call(auth, post.clone(), "/api/v1/connections", Some(incomplete)).await;
        assert_eq!((status, body["status"].as_str(), body.get("test")), (201, Some("incomplete"), None), "{body}");
        let incomplete = body["id"].as_i64().expect("id");
        let (status, body) = api.call(auth, post.clone(), "/api/v1/connections", Some(json!({"platform": "ebay"}))).await;
        assert_eq!((status, body["fields"]["platform"].is_string()), (422, true), "{body}");
        for (content_type, text, expected) in [("application/json", "{not JSON", 400), ("text/plain", "{}", 415)] {
            let request = api.request(auth, post.clone(), "/api/v1/connections").header("content-type", content_type).body(text);
            assert_eq!(api.send(request).await.0, expected);
        }
        let creds = sample(&app).amazon;
        let oauth = json!({"client_id": creds.client_id, "client_secret": creds.client_secret, "marketplace_id": "ATVPDKIKX0DER",
            "region": "NA", "application_id": creds.application_id, "draft": true});
        let (status, body) = api.call(auth, post.clone(), "/api/v1/connections/amazon/oauth/start", Some(oauth)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(api.call(auth, post.clone(), &format!("/api/v1/connections/{amazon}/test"), None).await.0, 200);
        let update = format!("/api/v1/connections/{amazon}/credentials");
        let (status, body) = api.call(auth, put.clone(), &update, Some(json!({"client_secret": creds.client_secret}))).await;
        assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
        let (status, body) = api.call(auth, put.clone(), &update, Some(json!({"client_secret": "not-the-secret"}))).await;
        assert_eq!((status, body["ok"].as_bool()), (422, Some(false)), "{body}");
        assert_eq!(api.call(auth, post.clone(), "/api/v1/connections/999999/test", None).await.0, 404);
        let (_, cards) = api.get(&token, "/api/v1/platforms").await;
        filled(&cards, &["/0/connections", "/1/connections"]);

        // Sync both accounts; their jobs and schedules.
        let mut events = app.sync.as_ref().expect("running").subscribe();
        let mut job = 0;
        for id in [amazon, flipkart] {
            let (status, body) = api.call(auth, post.clone(), &format!("/api/v1/connections/{id}/sync"), Some(json!({"kind": "all"}))).await;
            assert_eq!(status, 202, "{body}");
            job = body["job_id"].as_i64().expect("job id");
        }
        let wrong_kind = Some(json!({"kind": "everything"}));
        assert_eq!(api.call(auth, post.clone(), &format!("/api/v1/connections/{amazon}/sync"), wrong_kind).await.0, 422);
        assert_eq!(api.call(auth, post.clone(), "/api/v1/connections/999999/sync", Some(json!({"kind": "all"}))).await.0, 404);
        for id in [amazon, flipkart] {
            let jobs = app.settle(&mut events, id).await;
            assert!(jobs.iter().all(|job| job.error.is_none()), "{jobs:?}");
        }
        let (status, body) = api.get(&token, &format!("/api/v1/sync-jobs/{job}")).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("succeeded")), "{body}");
        assert_eq!(api.get(&token, "/api/v1/sync-jobs/999999").await.0, 404);
        let (_, jobs) = api.get(&token, &format!("/api/v1/connections/{amazon}/sync-jobs")).await;
        filled(&jobs, &[""]);
        // A history import is queued (Amazon's reports take minutes; it is not waited for).
        let import = format!("/api/v1/connections/{amazon}/import");
        let today = app.clock.clock().now().datetime().date().to_string();
        let (status, body) = api.call(auth, post.clone(), &import, Some(json!({"from": today}))).await;
        assert_eq!((status, body["job_id"].is_i64()), (202, true), "{body}");
        assert_eq!(api.call(auth, post.clone(), &import, Some(json!({"from": "2001-01-01"}))).await.0, 422);
        let reconcile = format!("/api/v1/connections/{flipkart}/reconcile");
        let (status, body) = api.call(auth, post.clone(), &reconcile, None).await;
        assert_eq!((status, body["job_id"].is_i64()), (202, true), "{body}");
        let schedule = format!("/api/v1/connections/{amazon}/schedule");
        assert_eq!(api.get(&token, &schedule).await.0, 200);
        let wanted = json!({"orders": {"interval_minutes": 30, "enabled": true}, "inventory": {"interval_minutes": 60, "enabled": false}});
        let (status, body) = api.call(auth, put.clone(), &schedule, Some(wanted)).await;
        assert_eq!((status, body["orders"]["next_run_at"].is_string()), (200, true), "{body}");
        let too_long = json!({"orders": {"interval_minutes": 0, "enabled": true}, "inventory": {"interval_minutes": 60, "enabled": false}});
        assert_eq!(api.call(auth, put.clone(), &schedule, Some(too_long)).await.0, 422);
        assert_eq!(api.call(auth, put.clone(), &schedule, Some(json!({"orders": 5}))).await.0, 422);

        // Orders: a page with items, one with its history, the CSV; wrong parameters.
        let (status, page) = api.get(&token, "/api/v1/orders?limit=5").await;
        assert_eq!(status, 200);
        filled(&page, &["/orders", "/orders/0/items"]);
        let (status, body) = api.get(&token, "/api/v1/orders?status=bogus").await;
        assert_eq!((status, body["fields"]["status"].is_string()), (422, true), "{body}");
        let (_, order) = api.get(&token, &format!("/api/v1/orders/{}", page["orders"][0]["id"])).await;
        filled(&order, &["/items", "/history"]);
        assert_eq!(api.get(&token, "/api/v1/orders/999999999").await.0, 404);
        let (status, csv) = api.get(&token, "/api/v1/orders.csv?platform=amazon").await;
        assert!(status == 200 && csv.as_str().is_some_and(|csv| csv.lines().count() > 1), "{csv}");
        assert_eq!(api.get(&token, "/api/v1/orders.csv?status=bogus").await.0, 422);

        // Stock, its CSV and a threshold.
        let (status, stock) = api.get(&token, "/api/v1/inventory?limit=5").await;
        assert_eq!(status, 200);
        filled(&stock, &["/items"]);
        assert_eq!(api.get(&token, "/api/v1/inventory?low_stock=bogus").await.0, 422);
        let (status, csv) = api.get(&token, "/api/v1/inventory.csv").await;
        assert!(status == 200 && csv.as_str().is_some_and(|csv| csv.lines().count() > 1), "{csv}");
        let sku = stock["items"][0]["sku"].as_str().expect("sku");
        let threshold = |sku: &str| format!("/api/v1/inventory/{}/threshold", sku.replace('/', "%2F"));
        let (status, body) = api.call(auth, put.clone(), &threshold(sku), Some(json!({"threshold": 1_000_000}))).await;
        assert_eq!((status, body["threshold"].as_i64()), (200, Some(1_000_000)), "{body}");
        assert_eq!(api.call(auth, put.clone(), &threshold(sku), Some(json!({"threshold": -1}))).await.0, 422);
        assert_eq!(api.call(auth, put.clone(), &threshold("NO-SUCH-SKU"), Some(json!({"threshold": 3}))).await.0, 404);

        // The dashboard, with an order at risk and the SKU now low.
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_orders(amazon, "amazon", &[at_risk_order()], Timestamp::now()).await.expect("upsert");
        tx.commit().await.expect("commit");
        let (status, body) = api.get(&token, "/api/v1/dashboard").await;
        assert_eq!(status, 200);
        let lists = ["/revenue", "/by_platform", "/by_status", "/by_day", "/top_skus", "/low_stock"];
        filled(&body, &lists);
        filled(&body, &["/open/at_risk_orders", "/connections", "/connections/0/sync"]);
        assert_eq!(api.get(&token, "/api/v1/dashboard?period=bogus").await.0, 422);

        // Users, the caller's own tokens and password, and the audit log; a member refused.
        let member = json!({"email": "staff@example.com", "role": "member", "password": "stock counts daily"});
        let (status, user) = api.call(auth, post.clone(), "/api/v1/users", Some(member)).await;
        assert_eq!(status, 201, "{user}");
        let weak = json!({"email": "weak@example.com", "role": "member", "password": "password"});
        assert_eq!(api.call(auth, post.clone(), "/api/v1/users", Some(weak)).await.0, 422);
        let (status, users) = api.get(&token, "/api/v1/users").await;
        assert_eq!(status, 200);
        filled(&users, &["/users"]);
        let user = format!("/api/v1/users/{}", user["id"]);
        let patch = Method::PATCH;
        assert_eq!(api.call(auth, patch.clone(), &user, Some(json!({"role": "member", "active": true}))).await.0, 200);
        assert_eq!(api.call(auth, patch.clone(), "/api/v1/users/999999", Some(json!({"active": false}))).await.0, 404);
        let member_login = json!({"email": "staff@example.com", "password": "stock counts daily"});
        let (_, body) = api.call(None, post.clone(), "/api/v1/auth/token", Some(member_login)).await;
        let member = body["token"].as_str().expect("token").to_owned();
        assert_eq!(api.get(&member, "/api/v1/users").await.0, 403);
        let (status, tokens) = api.get(&member, "/api/v1/me/tokens").await;
        assert_eq!(status, 200);
        filled(&tokens, &["/tokens"]);
        let change = json!({"current_password": "stock counts daily", "new_password": "counts stock nightly"});
        assert_eq!(api.call(Some(&member), post.clone(), "/api/v1/me/password", Some(change.clone())).await.0, 204);
        assert_eq!(api.call(Some(&member), post.clone(), "/api/v1/me/password", Some(change)).await.0, 422);
        let revoke = format!("/api/v1/me/tokens/{}", tokens["tokens"][0]["id"]);
        assert_eq!(api.call(Some(&member), delete.clone(), &revoke, None).await.0, 204);
        assert_eq!(api.call(auth, delete.clone(), "/api/v1/me/tokens/999999", None).await.0, 404);
        let (status, audit) = api.get(&token, "/api/v1/audit?limit=2").await;
        assert_eq!(status, 200);
        filled(&audit, &["/events"]);
        let (status, body) = api.get(&token, "/api/v1/audit?action=bogus").await;
        assert_eq!((status, body["fields"]["action"].is_string()), (422, true), "{body}");

        // Ending: a connection, then a token.
        let delete_incomplete = format!("/api/v1/connections/{incomplete}");
        assert_eq!(api.call(auth, delete.clone(), &delete_incomplete, None).await.0, 204);
        assert_eq!(api.call(auth, delete.clone(), &delete_incomplete, None).await.0, 404);
        let (_, body) = api.call(None, post, "/api/v1/auth/token", Some(credentials)).await;
        let second = body["token"].as_str().expect("token");
        assert_eq!(api.call(Some(second), delete.clone(), "/api/v1/auth/token", None).await.0, 204);
        assert_eq!(api.call(Some(second), get, "/api/v1/platforms", None).await.0, 401);

        // Every route answered with success, and errors of each kind were checked.
        let succeeded: BTreeSet<(String, String)> = api.seen.iter()
            .filter(|(_, _, status)| (200..300).contains(status))
            .map(|(method, path, _)| (method.clone(), path.clone()))
            .collect();
        let untried: Vec<_> = api_routes().difference(&succeeded).cloned().collect();
        assert!(untried.is_empty(), "routes never checked with a success: {untried:?}");
        for status in [401, 404, 422] {
            assert!(api.seen.iter().any(|(_, _, seen)| *seen == status), "no {status} checked");
        }
    }
}
