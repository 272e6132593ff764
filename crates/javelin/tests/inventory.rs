//! Stock as a script reads it (`GET /api/v1/inventory`, its CSV, thresholds by `PUT`) and as a
//! seller does on the Inventory page: one row per SKU, search, low stock, thresholds.

mod common;

use std::collections::BTreeSet;

use common::{TestApp, api_client, flash_of, location};
use javelin_model::StockLevel;
use javelin_storage::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn level(sku: &str, location: &str, available: i64) -> StockLevel {
    let flipkart = !matches!(location, "fba" | "fbm");
    StockLevel {
        marketplace_id: (!flipkart).then(|| "ATVPDKIKX0DER".into()),
        sku: sku.into(),
        location: location.into(),
        product_id: Some(format!("{}{sku}", if flipkart { "FSN" } else { "B0" })),
        title: Some(format!("Title of {sku}")),
        available,
        reserved: 1,
        inbound: 2,
        unfulfillable: 0,
        updated_at: None,
    }
}

/// A server whose stock is 60 SKUs `S-000`…`S-059`: SKU n has n % 8 units at the Amazon
/// account's FBA, 2 at its FBM when n is a multiple of 3, and 1 at Flipkart's LOC1 when n is
/// even; `MUG-RED` ("Red coffee mug") has 3 at FBA and 1 at Flipkart. Returns the server and the
/// two accounts' ids.
async fn start(db: javelin_storage::testing::TestDatabase) -> (TestApp, i64, i64) {
    let app = TestApp::start_with_admin(db).await;
    let amazon = app.db.connection("amazon").await.expect("connection");
    let flipkart = app.db.connection("flipkart").await.expect("connection");
    let (mut at_amazon, mut at_flipkart) = (Vec::new(), Vec::new());
    for n in 0..60 {
        let sku = format!("S-{n:03}");
        at_amazon.push(level(&sku, "fba", n % 8));
        if n % 3 == 0 {
            at_amazon.push(level(&sku, "fbm", 2));
        }
        if n % 2 == 0 {
            at_flipkart.push(level(&sku, "LOC1", 1));
        }
    }
    let mut mug = level("MUG-RED", "fba", 3);
    mug.title = Some("Red coffee mug".into());
    at_amazon.push(mug);
    at_flipkart.push(level("MUG-RED", "LOC1", 1));
    let now = Timestamp::now();
    let mut tx = app.db.storage.begin().await.expect("begin");
    tx.upsert_stock(amazon, &at_amazon, now).await.expect("stock");
    tx.upsert_stock(flipkart, &at_flipkart, now).await.expect("stock");
    tx.commit().await.expect("commit");
    (app, amazon, flipkart)
}

/// SKU n's total available, as `start` stored it.
fn total(n: i64) -> i64 {
    n % 8 + if n % 3 == 0 { 2 } else { 0 } + if n % 2 == 0 { 1 } else { 0 }
}

/// Every row of `GET /api/v1/inventory?{query}`, `limit` at a time.
async fn all_rows(app: &TestApp, token: &str, query: &str, limit: u32) -> Vec<Value> {
    let (mut rows, mut next) = (Vec::new(), Some(String::new()));
    while let Some(cursor) = next {
        let (status, body) = app
            .api_get(
                token,
                &format!("/api/v1/inventory?{query}&limit={limit}&cursor={cursor}"),
            )
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        let items = body["items"].as_array().expect("items");
        assert!(items.len() <= limit as usize);
        rows.extend(items.iter().cloned());
        assert!(rows.len() <= 10_000, "the pages never end");
        next = body["next_cursor"].as_str().map(str::to_owned);
    }
    rows
}

async fn put_threshold(app: &TestApp, token: &str, sku_path: &str, body: Value) -> (u16, Value) {
    let response = api_client()
        .put(app.url(&format!("/api/v1/inventory/{sku_path}/threshold")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("PUT");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

fn skus_of(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|row| row["sku"].as_str().expect("sku").to_owned())
        .collect()
}

/// The SKUs a page of the Inventory page shows, top to bottom.
fn shown(html: &str) -> Vec<String> {
    html.split("<tr data-sku=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("sku").to_owned())
        .collect()
}

/// The low SKUs a page shows: rows marked low, with the badge that says so.
fn shown_low(html: &str) -> Vec<String> {
    html.split("<tr data-sku=\"")
        .skip(1)
        .filter(|row| {
            let row = row.split("</tr>").next().expect("row");
            let marked = row.contains("class=\"low\"");
            assert_eq!(
                marked,
                row.contains("Low stock</span>"),
                "the class and the badge agree: {row}"
            );
            marked
        })
        .map(|rest| rest.split('"').next().expect("sku").to_owned())
        .collect()
}

/// The `href` of the link with `rel="next"`, unescaped.
fn next_link(html: &str) -> Option<String> {
    let head = html
        .split(" rel=\"next\"")
        .next()
        .filter(|head| head.len() < html.len())?;
    let href = head.rsplit("href=\"").next()?.trim_end_matches('"');
    Some(common::unescape(href))
}

javelin_storage::backend_tests! {
    async fn the_api_filters_pages_and_flags_low_skus(db) {
        let (app, amazon, flipkart) = start(db).await;
        let token = app.api_token().await;

        let rows = all_rows(&app, &token, "", 7).await;
        assert_eq!(rows.len(), 60 + 20 + 30 + 2, "every stock row once");
        let keys: BTreeSet<(String, i64, String)> = rows.iter().map(|r| (r["sku"].as_str().expect("sku").to_owned(), r["connection_id"].as_i64().expect("id"), r["location"].as_str().expect("location").to_owned())).collect();
        assert_eq!(keys.len(), rows.len(), "no row twice");
        let mug = rows.iter().find(|r| r["sku"] == "MUG-RED" && r["location"] == "fba").expect("the mug at FBA");
        let names: BTreeSet<&str> = mug.as_object().expect("object").keys().map(String::as_str).collect();
        let contract = ["connection_id", "platform", "marketplace_id", "sku", "asin_or_fsn", "title", "location", "available", "reserved", "inbound", "unfulfillable", "updated_at"];
        assert!(contract.iter().all(|name| names.contains(name)), "the contract's fields: {mug}");
        assert_eq!((&mug["connection_id"], &mug["platform"], &mug["marketplace_id"], &mug["available"]), (&json!(amazon), &json!("amazon"), &json!("ATVPDKIKX0DER"), &json!(3)));
        assert_eq!((&mug["threshold"], &mug["low_stock"]), (&json!(5), &json!(true)), "3 + 1 is at most 5");
        for row in &rows {
            let sku = row["sku"].as_str().expect("sku");
            if let Some(n) = sku.strip_prefix("S-").and_then(|n| n.parse::<i64>().ok()) {
                assert_eq!(row["low_stock"], json!(total(n) <= 5), "{row}");
            }
        }

        // Low stock only: every row of the low SKUs.
        let low = all_rows(&app, &token, "low_stock=true", 500).await;
        let expected: BTreeSet<String> = (0..60).filter(|n| total(*n) <= 5).map(|n| format!("S-{n:03}")).chain(["MUG-RED".to_owned()]).collect();
        assert_eq!(skus_of(&low), expected);
        assert_eq!(low.len(), rows.iter().filter(|r| expected.contains(r["sku"].as_str().expect("sku"))).count());
        assert!(low.iter().all(|r| r["low_stock"] == json!(true)));
        assert_eq!(all_rows(&app, &token, "low_stock=false", 500).await.len(), rows.len());

        // Search: a title word, any case; an FSN; with the other filters.
        let mugs = all_rows(&app, &token, "q=COFFEE", 500).await;
        assert_eq!((skus_of(&mugs).into_iter().collect::<Vec<_>>(), mugs.len()), (vec!["MUG-RED".to_owned()], 2));
        assert_eq!(skus_of(&all_rows(&app, &token, "q=fsns-012", 500).await).into_iter().collect::<Vec<_>>(), ["S-012"]);
        let of_flipkart = all_rows(&app, &token, &format!("connection_id={flipkart}&low_stock=true&q=s-0"), 3).await;
        assert!(of_flipkart.iter().all(|r| r["connection_id"] == json!(flipkart) && r["low_stock"] == json!(true)));
        let expected: BTreeSet<String> = (0..60).filter(|n| n % 2 == 0 && total(*n) <= 5).map(|n| format!("S-{n:03}")).collect();
        assert_eq!(skus_of(&of_flipkart), expected);

        for (name, value) in [
            ("connection_id", "abc"),
            ("low_stock", "yes"),
            ("limit", "0"),
            ("limit", "501"),
            ("q", &"x".repeat(201)),
            ("cursor", "not-ours"),
        ] {
            let (status, body) = app.api_get(&token, &format!("/api/v1/inventory?{name}={value}")).await;
            assert_eq!(status, 422, "{name}={value}: {body}");
            assert!(body["fields"][name].as_str().is_some_and(|m| m.contains(name)), "{name}={value}: {body}");
        }
    }

    async fn a_threshold_is_set_by_put_and_checked(db) {
        let (app, amazon, _) = start(db).await;
        let token = app.api_token().await;
        let mug = |rows: Vec<Value>| rows.into_iter().filter(|r| r["sku"] == "MUG-RED").map(|r| (r["threshold"].as_i64(), r["low_stock"].as_bool())).collect::<Vec<_>>();
        assert_eq!(mug(all_rows(&app, &token, "q=mug", 50).await), [(Some(5), Some(true)); 2]);

        let (status, body) = put_threshold(&app, &token, "MUG-RED", json!({"threshold": 3})).await;
        assert_eq!((status, body), (200, json!({"sku": "MUG-RED", "threshold": 3})));
        assert_eq!(mug(all_rows(&app, &token, "q=mug", 50).await), [(Some(3), Some(false)); 2], "4 is above 3");
        assert!(!skus_of(&all_rows(&app, &token, "low_stock=true", 500).await).contains("MUG-RED"));
        let (status, _) = put_threshold(&app, &token, "MUG-RED", json!({"threshold": 1_000_000})).await;
        assert_eq!(status, 200);
        assert_eq!(mug(all_rows(&app, &token, "q=mug", 50).await), [(Some(1_000_000), Some(true)); 2]);

        for bad in [json!({"threshold": -1}), json!({"threshold": 1_000_001}), json!({"threshold": "7"}), json!({"threshold": 2.5}), json!({})] {
            let (status, body) = put_threshold(&app, &token, "MUG-RED", bad.clone()).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert!(body["fields"]["threshold"].as_str().is_some_and(|m| m.contains("threshold")), "{bad}: {body}");
        }
        assert_eq!(mug(all_rows(&app, &token, "q=mug", 50).await), [(Some(1_000_000), Some(true)); 2], "unchanged");
        let (status, _) = put_threshold(&app, &token, "NO-SUCH-SKU", json!({"threshold": 3})).await;
        assert_eq!(status, 404);

        // A SKU with a slash and a space, percent-encoded in the path.
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_stock(amazon, &[level("BOX/2 L", "fbm", 9)], Timestamp::now()).await.expect("stock");
        tx.commit().await.expect("commit");
        let (status, body) = put_threshold(&app, &token, "BOX%2F2%20L", json!({"threshold": 10})).await;
        assert_eq!((status, &body["sku"]), (200, &json!("BOX/2 L")), "{body}");
        let rows = all_rows(&app, &token, "q=box%2F2", 50).await;
        assert_eq!((rows.len(), &rows[0]["low_stock"]), (1, &json!(true)));
    }

    async fn the_csv_export_holds_exactly_the_filtered_rows(db) {
        let (app, amazon, flipkart) = start(db).await;
        let token = app.api_token().await;
        // More than one batch of the export (1000 rows), with a title that needs quoting.
        let many: Vec<StockLevel> = (0..1100).map(|n| {
            let mut level = level(&format!("T-{n:04}"), "fbm", n % 10);
            level.title = Some(format!("Tin {n}, \"large\""));
            level
        }).collect();
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_stock(amazon, &many, Timestamp::now()).await.expect("stock");
        tx.commit().await.expect("commit");

        for query in ["", "low_stock=true", "q=coffee", &format!("connection_id={flipkart}&low_stock=true"), "q=tin&low_stock=true&limit=3"] {
            let response = api_client().get(app.url(&format!("/api/v1/inventory.csv?{query}"))).bearer_auth(&token).send().await.expect("GET");
            assert_eq!(response.status(), 200, "{query}");
            assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
            assert!(response.headers()["content-disposition"].to_str().expect("header").contains("inventory.csv"));
            let text = response.text().await.expect("CSV");
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
            assert_eq!(header, ["sku", "title", "connection_id", "platform", "marketplace_id", "location", "available", "reserved", "inbound", "unfulfillable", "threshold", "low_stock", "updated_at"]);
            let exported: Vec<Vec<String>> = reader.records().map(|r| r.expect("record").iter().map(str::to_owned).collect()).collect();
            let filters = query.split("&limit").next().unwrap_or_default();
            let listed: Vec<Vec<String>> = all_rows(&app, &token, filters, 500).await.iter().map(|r| {
                let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| if v.is_null() { String::new() } else { v.to_string() });
                ["sku", "title", "connection_id", "platform", "marketplace_id", "location", "available", "reserved", "inbound", "unfulfillable", "threshold", "low_stock", "updated_at"].iter().map(|name| text(&r[*name])).collect()
            }).collect();
            assert!(!listed.is_empty(), "{query}");
            assert_eq!(exported.len(), listed.len(), "{query}: as many rows as the list");
            for (exported, listed) in exported.iter().zip(&listed) {
                assert_eq!(exported, listed, "{query}: the export is the list, in its order");
            }
        }
        let response = api_client().get(app.url("/api/v1/inventory.csv?low_stock=maybe")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.expect("JSON");
        assert!(body["fields"]["low_stock"].is_string(), "{body}");
    }

    async fn the_inventory_page_shows_a_row_per_sku_filters_and_sets_thresholds(db) {
        let (app, _, flipkart) = start(db).await;
        app.login_admin().await;

        // 61 SKUs: a page of 50, then the rest, each once, with the low ones marked.
        let first = app.get("/inventory").await.text().await.expect("page");
        let mut seen = shown(&first);
        assert_eq!(seen.len(), 50);
        let mut low = shown_low(&first);
        let next = next_link(&first).expect("a next page");
        assert!(next.starts_with("/inventory?cursor="), "{next}");
        let second = app.get(&next).await.text().await.expect("page");
        seen.extend(shown(&second));
        low.extend(shown_low(&second));
        assert!(next_link(&second).is_none());
        let mut all: Vec<String> = (0..60).map(|n| format!("S-{n:03}")).chain(["MUG-RED".to_owned()]).collect();
        all.sort();
        assert_eq!(seen, all, "each SKU once, in order");
        let expected_low: Vec<String> = all.iter().filter(|sku| sku.as_str() == "MUG-RED" || total(sku[2..].parse().expect("n")) <= 5).cloned().collect();
        assert_eq!(low, expected_low);
        // S-012: 4 at FBA (reserved 1, inbound 2), 2 at FBM, 1 at Flipkart: 7 in all, not low.
        let row = first.split("<tr data-sku=\"S-012\"").nth(1).and_then(|rest| rest.split("</tr>").next()).expect("S-012");
        let figures: Vec<&str> = row.split("<td class=\"num").skip(1).map(|cell| cell.split('>').nth(1).and_then(|text| text.split('<').next()).expect("figure").trim()).collect();
        assert_eq!(figures, ["4", "1", "2", "2", "1", "7"], "FBA available, reserved, inbound; FBM; Flipkart; total");
        assert!(first.contains("href=\"/api/v1/inventory.csv\""), "Export CSV");

        // Low stock only, and a search; the filters stay in the export link.
        let html = app.get("/inventory?low_stock=true").await.text().await.expect("page");
        assert_eq!(shown(&html), expected_low);
        assert_eq!(shown_low(&html), expected_low);
        assert!(html.contains(r#"name="low_stock" type="checkbox" value="true" checked"#));
        assert!(html.contains("href=\"/api/v1/inventory.csv?low_stock=true\""));
        let html = app.get("/inventory?q=Coffee").await.text().await.expect("page");
        assert_eq!(shown(&html), ["MUG-RED"]);
        assert!(html.contains(r#"value="Coffee""#), "the search is shown again");
        let html = app.get(&format!("/inventory?q=s-01&connection_id={flipkart}")).await.text().await.expect("page");
        assert_eq!(shown(&html), ["S-010", "S-012", "S-014", "S-016", "S-018"]);
        let html = app.get("/inventory?q=nothing+like+it").await.text().await.expect("page");
        assert!(html.contains("No SKU matches these filters"));

        for (query, param) in [("low_stock=maybe", "low_stock"), ("cursor=bogus", "cursor"), ("connection_id=x", "connection_id"), (&format!("q={}", "y".repeat(201)), "q")] {
            let page = app.get(&format!("/inventory?{query}")).await;
            assert_eq!(page.status(), 422, "{query}");
            let html = page.text().await.expect("page");
            assert!(html.contains(&format!(r#"<li data-param="{param}">"#)), "{query}: {html}");
            assert!(shown(&html).is_empty());
            assert!(!html.contains("inventory.csv"), "no export of filters that cannot be used");
        }

        // The threshold form of a row: saved, and back to the same view.
        let token = app.csrf_token("/inventory?q=mug").await;
        let back = "?q=mug&low_stock=true";
        let response = app.post_form("/inventory/thresholds", &[("csrf_token", &token), ("sku", "MUG-RED"), ("threshold", "2"), ("back", back)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/inventory?q=mug&low_stock=true");
        let html = app.get(location(&response)).await.text().await.expect("page");
        assert_eq!(flash_of(&html), "Low-stock threshold of MUG-RED set to 2.");
        assert!(shown(&html).is_empty(), "4 is no longer low");
        let html = app.get("/inventory?q=mug").await.text().await.expect("page");
        assert!(html.contains(r#"name="threshold" type="number" min="0" max="1000000" step="1" required value="2""#), "{html}");
        assert!(shown_low(&html).is_empty());

        for bad in ["-1", "1000001", "lots", ""] {
            let response = app.post_form("/inventory/thresholds", &[("csrf_token", &token), ("sku", "MUG-RED"), ("threshold", bad), ("back", "?q=mug")]).await;
            assert_eq!(location(&response), "/inventory?q=mug");
            let html = app.get("/inventory?q=mug").await.text().await.expect("page");
            assert_eq!(flash_of(&html), "The low-stock threshold of MUG-RED must be a whole number from 0 to 1000000.", "{bad:?}");
            assert!(html.contains(r#"required value="2""#), "unchanged");
        }
        // Only the page's own parameters go back into the address.
        let response = app.post_form("/inventory/thresholds", &[("csrf_token", &token), ("sku", "MUG-RED"), ("threshold", "6"), ("back", "?q=a&next=https://evil.example/")]).await;
        assert_eq!(location(&response), "/inventory?q=a");
        let response = app.post_form("/inventory/thresholds", &[("csrf_token", &token), ("sku", "MUG-RED"), ("threshold", "6"), ("back", "https://evil.example/")]).await;
        assert_eq!(location(&response), "/inventory");
        let response = app.post_form("/inventory/thresholds", &[("sku", "MUG-RED"), ("threshold", "1")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "no form token, no change");
        let html = app.get("/inventory?low_stock=true&q=mug").await.text().await.expect("page");
        assert_eq!(shown_low(&html), ["MUG-RED"], "threshold 6 from the last good form");
    }
}
