//! Sync as a seller meets it in the pages: each connection's health panel, Sync now, the
//! schedule, reading orders again from a date, the marketplaces switch, and the Orders and
//! Inventory tables.

mod common;

use common::{TestApp, flash_of, location, with_admin};
use javelin_sandbox::SandboxOptions;
use javelin_storage::{JobOrigin, PageProgress, SyncKind};
use reqwest::StatusCode;

/// Orders of every region; about a third are North American, more than two pages of the table.
const ORDERS: usize = 400;

async fn start(db: javelin_storage::testing::TestDatabase) -> TestApp {
    let options = SandboxOptions {
        orders: ORDERS,
        time_scale: 1000.0,
        ..SandboxOptions::default()
    };
    let app = TestApp::start_with_sandbox(db, options, with_admin).await;
    app.login_admin().await;
    app
}

/// Posts a form of a page, with that page's CSRF token; returns where it sent the browser
/// and the message shown there.
async fn submit(app: &TestApp, page: &str, action: &str, fields: &[(&str, &str)]) -> (String, String) {
    let token = app.csrf_token(page).await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    let response = app.post_form(action, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{action}");
    let to = location(&response).to_owned();
    let html = app.get(&to).await.text().await.expect("page");
    (to, flash_of(&html))
}

async fn panel(app: &TestApp, id: i64) -> String {
    let response = app.get(&format!("/connections/{id}/sync-panel")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("panel")
}

/// The row of a kind in a panel, and what follows it up to the next kind.
fn row<'a>(panel: &'a str, kind: &str) -> &'a str {
    let start = panel
        .find(&format!("data-kind=\"{kind}\""))
        .unwrap_or_else(|| panic!("no {kind} row: {panel}"));
    let rest = &panel[start..];
    let end = rest[1..].find("data-kind=").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The query of the "Older →" link, if the page has one.
fn next_page(html: &str) -> Option<String> {
    let (head, _) = html.split_once("\" rel=\"next\"")?;
    let (_, href) = head.rsplit_once("href=\"")?;
    Some(common::unescape(href))
}

javelin_storage::backend_tests! {
    async fn the_card_shows_each_sync_as_it_happens(db) {
        let app = start(db).await;
        let id = app.connect_amazon_manually().await;
        let sync = app.sync.as_ref().expect("sync");
        let mut events = sync.subscribe();

        let card = app.get("/connections").await.text().await.expect("page");
        assert!(card.contains(&format!("action=\"/connections/{id}/sync\"")), "Sync now on the card");
        let first = panel(&app, id).await;
        assert!(row(&first, "orders").contains("Never") && row(&first, "inventory").contains("Never"), "{first}");
        assert!(row(&first, "orders").contains("(every 15 minutes)") && row(&first, "inventory").contains("(every hour)"));

        let (to, message) = submit(&app, "/connections", &format!("/connections/{id}/sync"), &[("kind", "all")]).await;
        assert_eq!((to.as_str(), message.as_str()), (format!("/connections#connection-{id}").as_str(), "Orders and inventory sync started."));
        let jobs = app.settle(&mut events, id).await;
        assert_eq!(jobs.len(), 2, "one job of each kind");
        let done = panel(&app, id).await;
        assert!(!done.contains("data-busy"), "nothing runs: the page stops watching");
        for kind in ["orders", "inventory"] {
            assert!(!row(&done, kind).contains("Never"), "{kind} succeeded: {done}");
        }

        // A job held by another instance, part way: the panel shows it and keeps watching.
        let later = app.clock.now() + time::Duration::days(1);
        let (job, _) = app.db.storage.enqueue_job(id, SyncKind::Inventory, JobOrigin::Seller, later).await.expect("enqueue");
        let claimed = app.db.storage.claim_job("elsewhere", later, later + time::Duration::hours(1)).await.expect("claim");
        assert_eq!(claimed.map(|job| job.id), Some(job.id));
        let mut tx = app.db.storage.begin().await.expect("begin");
        let progress = PageProgress { fetched: 40, updated: 40, ..PageProgress::default() };
        assert!(tx.record_page(job.id, "elsewhere", &progress, None).await.expect("page"));
        tx.commit().await.expect("commit");
        let note = "Amazon is limiting requests; continuing at 1 call every 2 seconds.";
        assert!(app.db.storage.set_job_note(job.id, "elsewhere", note).await.expect("note"));
        let busy = panel(&app, id).await;
        assert!(busy.contains("data-busy"), "{busy}");
        let inventory = row(&busy, "inventory");
        for shown in ["Running", "Page 1 · 40 stock levels read", "<progress", note] {
            assert!(inventory.contains(shown), "{shown} in {inventory}");
        }
        assert!(!row(&busy, "orders").contains("<progress"), "orders are not syncing");

        let mut tx = app.db.storage.begin().await.expect("begin");
        let error = "Amazon is unavailable (503). Javelin tries again at the next scheduled sync.";
        assert!(tx.finish_job(job.id, "elsewhere", Some(error), later).await.expect("finish"));
        tx.commit().await.expect("commit");
        let failed = panel(&app, id).await;
        assert!(!failed.contains("data-busy"));
        assert!(row(&failed, "inventory").contains("Last inventory sync failed") && row(&failed, "inventory").contains(error), "{failed}");
        assert!(!row(&failed, "orders").contains("failed"));
        let succeeded = jobs.iter().find(|job| job.kind == SyncKind::Inventory).and_then(|job| job.finished_at).expect("finished");
        let last_success = row(&failed, "inventory").split("class=\"last-success\">").nth(1).and_then(|cell| cell.split("</td>").next()).expect("cell");
        assert!(last_success.contains(&format!("datetime=\"{succeeded}\"")), "the last success, not the failure: {last_success}");

        let history = app.get(&format!("/connections/{id}/sync")).await.text().await.expect("history");
        assert_eq!(history.matches("data-job=").count(), 3 + 1, "three jobs, and the failure in the panel");
        assert!(history.contains(error));

        let missing = app.get("/connections/9999/sync-panel").await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    async fn schedules_dates_and_marketplaces_are_set_from_the_pages(db) {
        let app = start(db).await;
        let id = app.connect_amazon_manually().await;
        let sync = app.sync.as_ref().expect("sync");
        let mut events = sync.subscribe();
        let page = format!("/connections/{id}/sync");

        let (to, message) = submit(&app, &page, &format!("/connections/{id}/schedule"),
            &[("orders_interval", "30"), ("orders_enabled", "on"), ("inventory_interval", "120")]).await;
        assert_eq!((to.as_str(), message.as_str()), (page.as_str(), "Schedule saved."));
        let schedules: Vec<(SyncKind, i64, bool)> = sync.schedules(id).await.expect("schedules").iter().map(|s| (s.kind, s.interval_minutes, s.enabled)).collect();
        assert_eq!(schedules, [(SyncKind::Orders, 30, true), (SyncKind::Inventory, 120, false)]);
        let shown = panel(&app, id).await;
        assert!(row(&shown, "orders").contains("(every 30 minutes)") && row(&shown, "inventory").contains("Schedule off"), "{shown}");
        for bad in ["0", "10081", "ten", ""] {
            let (_, message) = submit(&app, &page, &format!("/connections/{id}/schedule"),
                &[("orders_interval", bad), ("orders_enabled", "on"), ("inventory_interval", "60"), ("inventory_enabled", "on")]).await;
            assert_eq!(message, "The orders interval must be a whole number of minutes from 1 to 10080 (a week).", "{bad:?}");
        }
        let kept: Vec<(SyncKind, i64, bool)> = sync.schedules(id).await.expect("schedules").iter().map(|s| (s.kind, s.interval_minutes, s.enabled)).collect();
        assert_eq!(kept, schedules, "a refused schedule changes nothing");

        // Reading orders again from a date: the watermark goes back to that day's start and a
        // sync reads everything since, again.
        let from = (app.clock.now() - time::Duration::days(45)).datetime().date();
        let from_text = from.to_string();
        let (_, message) = submit(&app, &page, &format!("/connections/{id}/read-from"), &[("from", &from_text)]).await;
        assert_eq!(message, format!("Orders sync started: it reads every order updated since {from_text}."));
        let jobs = app.settle(&mut events, id).await;
        let job = &jobs[0];
        assert_eq!((job.kind, job.error.as_deref(), job.fetched as usize), (SyncKind::Orders, None, app.db.storage.count_orders(Some(id)).await.expect("count") as usize));
        assert!(job.fetched > 100, "every order of the last 45 days was read: {}", job.fetched);
        for bad in ["yesterday", "2099-01-01", "1999-01-01"] {
            let (_, message) = submit(&app, &page, &format!("/connections/{id}/read-from"), &[("from", bad)]).await;
            assert_eq!(message, "Give the date as YYYY-MM-DD, no later than today and at most two years back.", "{bad}");
        }

        // The marketplaces switch: Canada off.
        let card = app.get("/connections").await.text().await.expect("page");
        assert!(card.contains("Syncs Amazon.ca (CA), Amazon.com (US)") || card.contains("Syncs Amazon.com (US), Amazon.ca (CA)"), "{card}");
        let (_, message) = submit(&app, "/connections", &format!("/connections/{id}/marketplaces"), &[("marketplace", "ATVPDKIKX0DER")]).await;
        assert_eq!(message, "Marketplaces saved. The next sync reads the ones switched on.");
        let switches: Vec<(String, bool)> = app.db.storage.connection_marketplaces(id).await.expect("list").into_iter().map(|m| (m.marketplace_id, m.sync_enabled)).collect();
        assert_eq!(switches, [("A2EUQ1WTGCTBG2".to_owned(), false), ("ATVPDKIKX0DER".to_owned(), true)]);
        let (_, message) = submit(&app, "/connections", &format!("/connections/{id}/marketplaces"), &[]).await;
        assert_eq!(message, "Keep at least one marketplace switched on, or disconnect the account.");
        let unchanged: Vec<(String, bool)> = app.db.storage.connection_marketplaces(id).await.expect("list").into_iter().map(|m| (m.marketplace_id, m.sync_enabled)).collect();
        assert_eq!(unchanged, switches);
        assert!(app.get("/connections").await.text().await.expect("page").contains("Syncs Amazon.com (US)</p>"));
    }

    async fn orders_and_inventory_pages_show_what_was_synced(db) {
        let app = start(db).await;
        let empty = app.get("/orders").await.text().await.expect("page");
        assert!(empty.contains("No orders yet"), "before any connection");
        let id = app.connect_amazon_manually().await;
        let sync = app.sync.as_ref().expect("sync");
        let mut events = sync.subscribe();
        let (to, message) = submit(&app, "/orders", "/orders/sync", &[]).await;
        assert_eq!((to.as_str(), message.as_str()), ("/orders", "Orders sync started for 1 account; new orders appear here as it runs."));
        app.settle(&mut events, id).await;
        let (_, message) = submit(&app, "/inventory", "/inventory/sync", &[]).await;
        assert_eq!(message, "Inventory sync started for 1 account; new stock levels appear here as it runs.");
        app.settle(&mut events, id).await;

        // Every order once, newest first, across pages.
        let total = app.db.storage.count_orders(Some(id)).await.expect("count") as usize;
        assert!(total > 50, "more than a page: {total}");
        let mut seen = Vec::new();
        let mut path = "/orders".to_owned();
        loop {
            let html = app.get(&path).await.text().await.expect("page");
            seen.extend(html.split("data-order=\"").skip(1).map(|rest| rest.split('"').next().expect("id").to_owned()));
            match next_page(&html) {
                Some(next) => path = format!("/orders{next}"),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (total, total), "each order once");
        let newest = app.db.storage.list_orders(&javelin_storage::OrderFilter::connection(None), 1, None).await.expect("list");
        assert_eq!(seen.first(), newest.first().map(|o| &o.external_id));

        let one = app.get(&format!("/orders?connection_id={id}")).await.text().await.expect("page");
        assert!(one.contains(&format!("<option value=\"{id}\" selected>")), "the filter keeps its choice");
        let none = app.get("/orders?connection_id=9999").await.text().await.expect("page");
        assert!(none.contains("No orders match these filters"));
        let stale = app.get("/orders?cursor=not-a-cursor").await;
        assert_eq!(stale.status(), StatusCode::UNPROCESSABLE_ENTITY, "a cursor not given out is named, not ignored");

        let stock = app.get("/inventory").await.text().await.expect("page");
        let rows = stock.matches("data-sku=").count();
        let mut skus: Vec<String> = app.db.storage.list_stock(&javelin_storage::StockFilter::default(), 100_000, None).await.expect("stock").into_iter().map(|row| row.sku).collect();
        skus.dedup();
        assert_eq!(rows, skus.len().min(50), "a row per SKU");
        assert!(stock.contains("Amazon FBA"), "stock per channel");
    }
}
