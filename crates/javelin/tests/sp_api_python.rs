//! The sandbox against a real SP-API client that Javelin did not write: python-amazon-sp-api
//! (`tests/python/sp_api_client.py`) exchanges the refresh token with LWA, reads every page of
//! Orders v2026-01-01 searchOrders, gets one order, and reads every page of FBA
//! getInventorySummaries, and must see exactly what the sandbox holds.
//!
//! Needs python3 with the client installed: `pip install python-amazon-sp-api`. Without it the
//! test fails (it is never skipped).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use javelin_sandbox::{SandboxOptions, operation};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The North American marketplaces the script searches, and the one its inventory is read in.
const NA: [&str; 2] = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];
const US: &str = "ATVPDKIKX0DER";
/// searchOrders' default `maxResultsPerPage`, which the script leaves as it is.
const ORDERS_PAGE: usize = 100;
const INSTALL: &str = "run `pip install python-amazon-sp-api` (see .ci/run)";

fn python3(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new("python3");
    command.args(args).envs(envs.iter().copied());
    // The library lets this variable override the marketplace it is given.
    command.env_remove("SP_API_DEFAULT_MARKETPLACE");
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run python3 ({error}): install Python 3 and {INSTALL}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn python_sp_api_client_reads_exactly_what_the_sandbox_holds() {
    let check = python3(&["-c", "import sp_api"], &[]);
    assert!(
        check.status.success(),
        "the Python module sp_api is missing: {INSTALL}\n{}",
        text(&check.stderr)
    );

    let (sandbox, base) = common::start_sandbox(SandboxOptions {
        orders: 900,
        products: 150,
        time_scale: 1000.0,
        ..SandboxOptions::default()
    })
    .await;
    let amazon = sandbox.credentials().amazon.clone();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/sp_api_client.py");
    // The sandbox serves on this runtime's thread: the client runs off it.
    let output = tokio::task::spawn_blocking(move || {
        python3(
            &[script, &base],
            &[
                ("LWA_APP_ID", &amazon.client_id),
                ("LWA_CLIENT_SECRET", &amazon.client_secret),
                ("SP_API_REFRESH_TOKEN", &amazon.refresh_token),
            ],
        )
    })
    .await
    .expect("the client's thread");
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n{}{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("one JSON line expected ({error}): {}", text(&output.stdout)));

    // (1) One refresh-token exchange, whose access token served every call after it.
    assert_eq!(seen["token_type"], "bearer", "{seen}");
    assert_eq!(seen["expires_in"], 3600, "{seen}");
    assert_eq!(sandbox.calls(operation::LWA_TOKEN), 1, "one LWA exchange");

    // (2) Every order placed by the createdBefore that Amazon picked (two minutes before the
    // request, as it must be), on as many pages of 100 as they fill, each listed once.
    let before = seen["created_before"].as_str().expect("createdBefore");
    let before = OffsetDateTime::parse(before, &Rfc3339).expect("createdBefore is RFC 3339");
    assert!(
        before <= sandbox.clock().now() - time::Duration::minutes(2),
        "createdBefore {before} is not two minutes in the past"
    );
    let listed: Vec<&str> = seen["order_ids"]
        .as_array()
        .expect("order ids")
        .iter()
        .map(|id| id.as_str().expect("order id"))
        .collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(listed.len(), listed_set.len(), "an order listed twice");
    let placed = sandbox.amazon_orders_at(&NA, before);
    let expected: BTreeSet<&str> = placed.iter().map(|order| order.id.as_str()).collect();
    assert!(expected.len() > ORDERS_PAGE, "too few orders for several pages");
    let missing: Vec<_> = expected.difference(&listed_set).take(3).collect();
    let extra: Vec<_> = listed_set.difference(&expected).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "searchOrders gave {} orders, the sandbox has {}: missing {missing:?}, unexpected {extra:?}",
        listed_set.len(),
        expected.len()
    );
    let pages = seen["order_pages"].as_u64().expect("pages");
    assert_eq!(pages, expected.len().div_ceil(ORDERS_PAGE) as u64, "pages of 100");
    assert_eq!(sandbox.calls(operation::SEARCH_ORDERS), pages, "one call a page");
    assert!(
        seen["rate_limit"].as_str().is_some(),
        "x-amzn-RateLimit-Limit read: {seen}"
    );

    // (3) getOrder answered with the order asked for, items and all.
    let asked = seen["asked_order"].as_str().expect("asked order");
    assert_eq!(seen["got_order"], asked);
    let order = placed.iter().find(|order| order.id == asked).expect("a sandbox order");
    let items: BTreeSet<&str> = order.items.iter().map(|(id, _)| id.as_str()).collect();
    let got_items: BTreeSet<&str> = seen["got_items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|id| id.as_str().expect("item id"))
        .collect();
    assert_eq!(got_items, items, "the items of {asked}");
    assert_eq!(sandbox.calls(operation::GET_ORDER), 1);

    // (4) Every FBA SKU of the marketplace, with its quantities, over several pages.
    assert_eq!(seen["inventory_marketplace"], US);
    let rows = seen["inventory"].as_array().expect("inventory");
    let reported: BTreeMap<&str, (i64, i64)> = rows
        .iter()
        .map(|row| {
            let sku = row[0].as_str().expect("SKU");
            (
                sku,
                (row[1].as_i64().expect("fulfillable"), row[2].as_i64().expect("total")),
            )
        })
        .collect();
    assert_eq!(reported.len(), rows.len(), "a SKU listed twice");
    let stock = sandbox.amazon_stock();
    let held: BTreeMap<&str, (i64, i64)> = stock
        .iter()
        .filter(|s| s.marketplace_id == US)
        .map(|s| {
            let total = s.fba_available + s.fba_reserved + s.fba_inbound + s.fba_unfulfillable;
            (s.sku.as_str(), (s.fba_available, total))
        })
        .collect();
    for (sku, quantities) in &reported {
        assert_eq!(held.get(sku), Some(quantities), "{sku}'s FBA stock");
    }
    let at_fba: Vec<&&str> = held
        .iter()
        .filter(|(_, (_, total))| *total > 0)
        .map(|(sku, _)| sku)
        .collect();
    let unreported: Vec<&&&str> = at_fba.iter().filter(|sku| !reported.contains_key(**sku)).collect();
    assert!(unreported.is_empty(), "FBA stock not reported: {unreported:?}");
    let inventory_pages = seen["inventory_pages"].as_u64().expect("inventory pages");
    assert!(
        inventory_pages > 1,
        "one inventory page only: nextToken was not followed"
    );
    assert_eq!(sandbox.calls(operation::GET_INVENTORY_SUMMARIES), inventory_pages);
}
