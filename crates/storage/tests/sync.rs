//! The storage of sync, on SQLite and PostgreSQL: orders, stock, jobs and their leases,
//! schedules and watermarks.

use javelin_model::{Money, Order, OrderItem, OrderStatus, StockLevel};
use javelin_storage::{
    JobOrigin, JobState, OrderCursor, OrderFilter, PageProgress, Schedule, SearchTerms, StockCursor, StockFilter,
    StoredItem, SyncKind, Timestamp, UpsertSummary,
};
use time::Duration;

mod common;
use common::{at, order, upsert, usd};

fn level(sku: &str, location: &str, available: i64) -> StockLevel {
    StockLevel {
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        sku: sku.into(),
        location: location.into(),
        product_id: Some("B0ASIN".into()),
        title: Some("A thing".into()),
        available,
        reserved: 1,
        inbound: 2,
        unfulfillable: 3,
        updated_at: Some(at(0)),
    }
}

javelin_storage::backend_tests! {
    async fn items_come_back_exactly_as_stored_by_every_read(db) {
        // Items travel back as JSON inside the order's row: text JSON must escape, missing
        // values, a currency without minor units, and the marketplace's item order.
        let id = db.connection("amazon").await.expect("connection");
        let mut awkward = order("111-9", OrderStatus::Unshipped, 0, 1, &[("z", 2), ("a", 1), ("m", 3)]);
        awkward.total = Some(Money::parse("1500", "JPY").expect("money"));
        awkward.items[0].title = Some("\"Quoted\" \\ back\tslash\nline — ünïcödé 🧘 [1,2]".into());
        awkward.items[0].quantity_shipped = 1;
        awkward.items[0].unit_price = Some(Money::parse("500", "JPY").expect("money"));
        awkward.items[0].line_total = Some(Money::parse("1000", "JPY").expect("money"));
        awkward.items[1] = OrderItem { sku: None, product_id: None, title: None, unit_price: None, line_total: None, ..awkward.items[1].clone() };
        awkward.items[2].sku = Some("null".into());
        awkward.items[2].unit_price = Some(Money::parse("500", "JPY").expect("money"));
        awkward.items[2].line_total = Some(Money::parse("1500", "JPY").expect("money"));
        let bare = order("111-8", OrderStatus::Pending, 1, 1, &[]);
        upsert(&db.storage, id, &[awkward.clone(), bare]).await;
        let expected: Vec<StoredItem> = awkward
            .items
            .iter()
            .map(|item| StoredItem {
                external_id: item.external_id.clone(),
                sku: item.sku.clone(),
                product_id: item.product_id.clone(),
                title: item.title.clone(),
                quantity: i64::from(item.quantity),
                quantity_shipped: i64::from(item.quantity_shipped),
                unit_price: item.unit_price,
                line_total: item.line_total,
            })
            .collect();

        let found = db.storage.find_order(id, "111-9").await.expect("find").expect("stored");
        assert_eq!(found.items, expected, "find_order");
        assert_eq!(db.storage.get_order(found.id).await.expect("get").expect("stored").items, expected, "get_order");
        let listed = db.storage.list_orders(&OrderFilter::default(), 50, None).await.expect("list");
        let items: Vec<_> = listed.iter().map(|order| (order.external_id.as_str(), order.items.clone())).collect();
        assert_eq!(items, [("111-8", vec![]), ("111-9", expected.clone())], "list_orders");
        let searched = OrderFilter { search: SearchTerms::parse("111-9"), ..OrderFilter::default() };
        let found = db.storage.list_orders(&searched, 50, None).await.expect("search");
        assert_eq!(found.into_iter().map(|order| order.items).collect::<Vec<_>>(), [expected], "a search");
    }

    async fn orders_are_stored_once_in_their_newest_state(db) {
        let id = db.connection("amazon").await.expect("connection");
        let page = [
            order("111-1", OrderStatus::Unshipped, 0, 10, &[("a", 1), ("b", 2)]),
            order("111-2", OrderStatus::Pending, 5, 5, &[("c", 1)]),
            order("111-3", OrderStatus::Shipped, 1, 30, &[]),
        ];
        assert_eq!(upsert(&db.storage, id, &page).await, UpsertSummary { created: 3, updated: 0, unchanged: 0 });
        assert_eq!(upsert(&db.storage, id, &page).await, UpsertSummary { created: 0, updated: 0, unchanged: 3 }, "a re-sync changes nothing");
        assert_eq!(db.storage.count_orders(Some(id)).await.expect("count"), 3);

        let stored = db.storage.find_order(id, "111-1").await.expect("find").expect("stored");
        assert_eq!((stored.status, stored.platform_status.as_str()), (OrderStatus::Unshipped, "UNSHIPPED"));
        assert_eq!(stored.total, usd("25.98"));
        assert_eq!(stored.purchased_at, Timestamp::from_datetime(at(0)));
        assert_eq!(stored.ship_by_at, Some(Timestamp::from_datetime(at(2880))));
        assert_eq!((stored.ship_city.as_deref(), stored.ship_postal_code.as_deref()), (Some("Seattle"), Some("98101")));
        let items: Vec<_> = stored.items.iter().map(|i| (i.external_id.as_str(), i.quantity, i.line_total)).collect();
        assert_eq!(items, [("a", 1, usd("12.99")), ("b", 2, usd("25.98"))]);

        // A newer state replaces the order and its items and is recorded; an older one is ignored.
        let mut shipped = order("111-1", OrderStatus::Shipped, 0, 20, &[("a", 1)]);
        shipped.items[0].quantity_shipped = 1;
        let stale = order("111-2", OrderStatus::Cancelled, 5, 4, &[]);
        let twice = [order("111-4", OrderStatus::Pending, 2, 2, &[]), order("111-4", OrderStatus::Unshipped, 2, 3, &[])];
        let page = [shipped, stale, twice[0].clone(), twice[1].clone()];
        assert_eq!(upsert(&db.storage, id, &page).await, UpsertSummary { created: 1, updated: 1, unchanged: 2 });
        let stored = db.storage.find_order(id, "111-1").await.expect("find").expect("stored");
        assert_eq!(stored.status, OrderStatus::Shipped);
        assert_eq!(stored.items.len(), 1, "items replaced");
        assert_eq!(stored.items[0].quantity_shipped, 1);
        assert_eq!(db.storage.find_order(id, "111-2").await.expect("find").expect("stored").status, OrderStatus::Pending, "the older state lost");
        assert_eq!(db.storage.find_order(id, "111-4").await.expect("find").expect("stored").status, OrderStatus::Unshipped, "the newer of two in a page");
        let history: Vec<String> = db.storage.order_status_changes(stored.id).await.expect("history").into_iter().map(|c| c.status).collect();
        assert_eq!(history, ["unshipped", "shipped"]);

        // A newer state without a ship-by time (Amazon's reports have none) keeps the one stored.
        let mut from_report = order("111-1", OrderStatus::Delivered, 0, 25, &[("a", 1)]);
        from_report.ship_by = None;
        assert_eq!(upsert(&db.storage, id, &[from_report]).await.updated, 1);
        let stored = db.storage.find_order(id, "111-1").await.expect("find").expect("stored");
        assert_eq!((stored.status, stored.ship_by_at), (OrderStatus::Delivered, Some(Timestamp::from_datetime(at(2880)))));

        // A change of items alone is an update without a new history entry.
        let more = order("111-3", OrderStatus::Shipped, 1, 31, &[("d", 4)]);
        assert_eq!(upsert(&db.storage, id, &[more]).await.updated, 1);
        let stored = db.storage.find_order(id, "111-3").await.expect("find").expect("stored");
        assert_eq!(db.storage.order_status_changes(stored.id).await.expect("history").len(), 1);
    }

    async fn orders_page_newest_first_without_gaps(db) {
        let id = db.connection("amazon").await.expect("connection");
        // Several orders share a purchase time: the id breaks the tie.
        let page: Vec<Order> = (0..25).map(|n| order(&format!("o-{n}"), OrderStatus::Unshipped, n / 3, n, &[("x", 1)])).collect();
        upsert(&db.storage, id, &page).await;
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let orders = db.storage.list_orders(&javelin_storage::OrderFilter::connection(Some(id)), 4, cursor).await.expect("page");
            let Some(last) = orders.last() else { break };
            cursor = Some(OrderCursor { purchased_at: last.purchased_at, id: last.id });
            assert!(orders.iter().all(|o| o.items.len() == 1));
            seen.extend(orders.into_iter().map(|o| (o.purchased_at, o.id)));
        }
        assert_eq!(seen.len(), 25);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first, each once");
        assert!(db.storage.list_orders(&javelin_storage::OrderFilter::connection(Some(id + 1)), 10, None).await.expect("none").is_empty());
    }

    async fn filters_narrow_the_list_and_pages_cover_it_exactly(db) {
        let amazon = db.connection("amazon").await.expect("connection");
        let flipkart = db.connection("flipkart").await.expect("connection");
        let statuses = [OrderStatus::Unshipped, OrderStatus::Shipped, OrderStatus::Cancelled];
        let mut all = Vec::new();
        for (connection, platform, channels) in [(amazon, "amazon", ["AFN", "MFN"]), (flipkart, "flipkart", ["SELLER", "FBF"])] {
            let orders: Vec<Order> = (0..40)
                .map(|n| {
                    let mut order = order(&format!("{platform}-{n}"), statuses[n as usize % 3], n / 2, n, &[("x", 1)]);
                    order.fulfillment_channel = Some(channels[n as usize % 2].into());
                    order
                })
                .collect();
            let mut tx = db.storage.begin().await.expect("begin");
            tx.upsert_orders(connection, platform, &orders, Timestamp::now()).await.expect("upsert");
            tx.commit().await.expect("commit");
            all.extend(orders.into_iter().map(|order| (connection, platform, order)));
        }
        let since = Timestamp::from_datetime(at(5));
        let before = Timestamp::from_datetime(at(15));
        let filters = [
            OrderFilter::default(),
            OrderFilter { platform: Some("flipkart".into()), ..OrderFilter::default() },
            OrderFilter::connection(Some(amazon)),
            OrderFilter { status: Some(OrderStatus::Cancelled), ..OrderFilter::default() },
            OrderFilter { fulfillment_channel: Some("AFN".into()), ..OrderFilter::default() },
            OrderFilter { from: Some(since), before: Some(before), ..OrderFilter::default() },
            OrderFilter { platform: Some("amazon".into()), status: Some(OrderStatus::Shipped), from: Some(since), ..OrderFilter::default() },
        ];
        for filter in filters {
            let mut expected: Vec<&str> = all
                .iter()
                .filter(|(connection, platform, order)| {
                    let purchased = Timestamp::from_datetime(order.purchased_at);
                    filter.platform.as_deref().is_none_or(|p| p == *platform)
                        && filter.connection_id.is_none_or(|c| c == *connection)
                        && filter.status.is_none_or(|s| s == order.status)
                        && filter.fulfillment_channel.as_deref().is_none_or(|c| Some(c) == order.fulfillment_channel.as_deref())
                        && filter.from.is_none_or(|from| purchased >= from)
                        && filter.before.is_none_or(|before| purchased < before)
                })
                .map(|(_, _, order)| order.external_id.as_str())
                .collect();
            assert!(!expected.is_empty() && expected.len() < all.len() || filter == OrderFilter::default(), "{filter:?}");
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let orders = db.storage.list_orders(&filter, 7, cursor).await.expect("page");
                let Some(last) = orders.last() else { break };
                cursor = Some(OrderCursor { purchased_at: last.purchased_at, id: last.id });
                seen.extend(orders.into_iter().map(|o| (o.purchased_at, o.id, o.external_id)));
            }
            assert!(seen.windows(2).all(|w| (w[0].0, w[0].1) > (w[1].0, w[1].1)), "newest first: {filter:?}");
            let mut seen: Vec<&str> = seen.iter().map(|(_, _, id)| id.as_str()).collect();
            seen.sort_unstable();
            expected.sort_unstable();
            assert_eq!(seen, expected, "{filter:?}");
        }
    }

    async fn one_worker_holds_a_job_until_its_lease_runs_out(db) {
        let id = db.connection("amazon").await.expect("connection");
        let now = Timestamp::now();
        let (job, new) = db.storage.enqueue_job(id, SyncKind::Orders, JobOrigin::Seller, now).await.expect("enqueue");
        assert!(new);
        assert_eq!(job.state, JobState::Queued);
        let (again, new) = db.storage.enqueue_job(id, SyncKind::Orders, JobOrigin::Schedule, now).await.expect("enqueue");
        assert_eq!((again.id, new), (job.id, false), "one active job per connection and kind");
        let (inventory, new) = db.storage.enqueue_job(id, SyncKind::Inventory, JobOrigin::Seller, now).await.expect("enqueue");
        assert!(new && inventory.id != job.id);

        let lease = now + Duration::minutes(1);
        let (a, b) = tokio::join!(db.storage.claim_job("a", now, lease), db.storage.claim_job("b", now, lease));
        let (a, b) = (a.expect("claim"), b.expect("claim"));
        let claimed: Vec<i64> = a.iter().chain(b.iter()).map(|j| j.id).collect();
        assert!(claimed.len() <= 2);
        let mut unique = claimed.clone();
        unique.dedup();
        assert_eq!(unique.len(), claimed.len(), "no job went to two workers: {claimed:?}");
        // Whatever the race left, each job now has exactly one holder.
        while db.storage.claim_job("c", now, lease).await.expect("claim").is_some() {}
        assert!(db.storage.claim_job("d", now, lease).await.expect("claim").is_none(), "nothing left to claim");
        let held = db.storage.get_job(job.id).await.expect("get").expect("job");
        let owner = held.lease_owner.clone().expect("held");
        assert_eq!((held.state, held.attempts), (JobState::Running, 1));

        let progress = PageProgress { fetched: 100, created: 90, updated: 5, skipped: 1, skipped_reasons: vec!["111-9: no items".into()] };
        let mut tx = db.storage.begin().await.expect("begin");
        assert!(!tx.record_page(job.id, "intruder", &progress, Some("next")).await.expect("page"), "only the holder writes");
        assert!(tx.record_page(job.id, &owner, &progress, Some("page2")).await.expect("page"));
        let clean = PageProgress { fetched: 10, ..PageProgress::default() };
        assert!(!tx.record_page(job.id, "intruder", &clean, Some("wrong")).await.expect("page"), "only the holder writes");
        assert!(tx.record_page(job.id, &owner, &clean, Some("next")).await.expect("page"), "a page with nothing skipped");
        tx.commit().await.expect("commit");
        assert!(db.storage.renew_lease(job.id, &owner, now + Duration::minutes(2)).await.expect("renew"));
        assert!(!db.storage.renew_lease(job.id, "intruder", now + Duration::minutes(2)).await.expect("renew"));

        // The holder dies: once its lease runs out another worker takes the job over, and the
        // old holder can write nothing more.
        let later = now + Duration::minutes(3);
        let taken = db.storage.claim_job("e", later, later + Duration::minutes(1)).await.expect("claim");
        let taken = taken.into_iter().find(|j| j.id == job.id).expect("taken over");
        assert_eq!((taken.attempts, taken.cursor.as_deref(), taken.fetched, taken.pages), (2, Some("next"), 110, 2));
        assert_eq!((taken.skipped, taken.skipped_reasons.as_str()), (1, "111-9: no items"), "kept by a clean page");
        let mut tx = db.storage.begin().await.expect("begin");
        assert!(!tx.finish_job(job.id, &owner, None, later).await.expect("finish"));
        assert!(tx.finish_job(job.id, "e", Some("Amazon refused"), later).await.expect("finish"));
        tx.commit().await.expect("commit");
        let done = db.storage.get_job(job.id).await.expect("get").expect("job");
        assert_eq!((done.state, done.error.as_deref(), done.finished_at, done.lease_owner), (JobState::Failed, Some("Amazon refused"), Some(later), None));
        let (next, new) = db.storage.enqueue_job(id, SyncKind::Orders, JobOrigin::Seller, later).await.expect("enqueue");
        assert!(new && next.id != job.id, "a finished job makes room for the next");
        assert_eq!(db.storage.list_jobs(id, 10).await.expect("list").iter().map(|j| j.id).collect::<Vec<_>>(), [next.id, inventory.id, job.id]);
        assert_eq!(db.storage.last_jobs(JobState::Failed).await.expect("last").len(), 1);
        assert_eq!(db.storage.fail_active_jobs(id, "Disconnected", later).await.expect("fail"), 2);
    }

    async fn old_jobs_are_forgotten_but_each_kind_keeps_its_last_outcomes(db) {
        let id = db.connection("amazon").await.expect("connection");
        let start = Timestamp::now() - Duration::days(200);
        // Per kind, days 0..4: orders succeed, then fail; stock only succeeds.
        let mut ids = Vec::new();
        for day in 0..4 {
            for (kind, error) in [(SyncKind::Orders, (day == 3).then_some("Amazon refused")), (SyncKind::Inventory, None)] {
                let at = start + Duration::days(day);
                let (job, _) = db.storage.enqueue_job(id, kind, JobOrigin::Schedule, at).await.expect("enqueue");
                db.storage.claim_job("w", at, at + Duration::minutes(1)).await.expect("claim").expect("claimed");
                let mut tx = db.storage.begin().await.expect("begin");
                assert!(tx.finish_job(job.id, "w", error, at).await.expect("finish"));
                tx.commit().await.expect("commit");
                ids.push(job.id);
            }
        }
        let (queued, _) = db.storage.enqueue_job(id, SyncKind::Orders, JobOrigin::Seller, start).await.expect("enqueue");
        let deleted = db.storage.delete_old_jobs(start + Duration::days(10)).await.expect("prune");
        let kept: Vec<i64> = db.storage.list_jobs(id, 50).await.expect("list").iter().map(|j| j.id).collect();
        // Kept: the queued job, orders' last success (day 2) and last failure (day 3), stock's last success.
        assert_eq!(kept, [queued.id, ids[7], ids[6], ids[4]]);
        assert_eq!(deleted, 5);
        assert_eq!(db.storage.delete_old_jobs(start).await.expect("prune"), 0, "nothing run before that");
    }

    async fn a_watermark_moves_only_with_its_orders(db) {
        let id = db.connection("amazon").await.expect("connection");
        let now = Timestamp::now();
        let mut tx = db.storage.begin().await.expect("begin");
        tx.upsert_orders(id, "amazon", &[order("w-1", OrderStatus::Shipped, 0, 0, &[])], now).await.expect("upsert");
        tx.set_watermark(id, SyncKind::Orders, "", now, now, now).await.expect("watermark");
        drop(tx);
        assert_eq!(db.storage.watermark(id, SyncKind::Orders, "").await.expect("read"), None);
        assert_eq!(db.storage.count_orders(Some(id)).await.expect("count"), 0);
        let mut tx = db.storage.begin().await.expect("begin");
        assert!(tx.set_watermark(id, SyncKind::Orders, "", now, now, now).await.expect("watermark"));
        assert!(tx.set_watermark(id, SyncKind::Orders, "", now, now + Duration::minutes(5), now).await.expect("watermark"));
        tx.commit().await.expect("commit");
        assert_eq!(db.storage.watermark(id, SyncKind::Orders, "").await.expect("read"), Some(now + Duration::minutes(5)));
        assert_eq!(db.storage.watermark(id, SyncKind::Inventory, "").await.expect("read"), None);
    }

    async fn a_watermark_rewound_by_the_seller_outlives_a_running_sync(db) {
        let id = db.connection("amazon").await.expect("connection");
        let now = Timestamp::now();
        let streams = ["a".to_owned(), "b".to_owned()];
        let month_ago = now - Duration::days(30);
        let mut tx = db.storage.begin().await.expect("begin");
        tx.set_watermark(id, SyncKind::Orders, "a", month_ago, now, now).await.expect("watermark");
        tx.commit().await.expect("commit");
        // The seller asks for 90 days while a sync that began from 30 days ago runs.
        db.storage.rewind_watermarks(id, SyncKind::Orders, &streams, now - Duration::days(90), now).await.expect("rewind");
        db.storage.rewind_watermarks(id, SyncKind::Orders, &streams, now - Duration::days(60), now).await.expect("never forward");
        let mut tx = db.storage.begin().await.expect("begin");
        let moved = tx.set_watermark(id, SyncKind::Orders, "b", month_ago, now + Duration::minutes(1), now).await.expect("watermark");
        tx.commit().await.expect("commit");
        assert!(!moved, "the sync is told its watermark stayed back, to run again");
        for stream in &streams {
            assert_eq!(db.storage.watermark(id, SyncKind::Orders, stream).await.expect("read"), Some(now - Duration::days(90)), "{stream}");
        }
    }

    async fn schedules_fire_once_across_instances(db) {
        let id = db.connection("amazon").await.expect("connection");
        let now = Timestamp::now();
        let schedule = |kind, minutes| Schedule { connection_id: id, kind, interval_minutes: minutes, enabled: true, next_run_at: now };
        db.storage.ensure_schedules(&[schedule(SyncKind::Orders, 15), schedule(SyncKind::Inventory, 60)]).await.expect("ensure");
        db.storage.ensure_schedules(&[schedule(SyncKind::Orders, 99)]).await.expect("ensure again");
        let kinds: Vec<(SyncKind, i64)> = db.storage.schedules(id).await.expect("list").iter().map(|s| (s.kind, s.interval_minutes)).collect();
        assert_eq!(kinds, [(SyncKind::Orders, 15), (SyncKind::Inventory, 60)], "ensure keeps what is there");
        assert_eq!(db.storage.due_schedules(now - Duration::seconds(1)).await.expect("due").len(), 0);
        let due = db.storage.due_schedules(now).await.expect("due");
        assert_eq!(due.len(), 2);
        let next = now + Duration::minutes(15);
        let (a, b) = tokio::join!(
            db.storage.advance_schedule(id, SyncKind::Orders, now, next),
            db.storage.advance_schedule(id, SyncKind::Orders, now, next)
        );
        assert_eq!([a.expect("a"), b.expect("b")].iter().filter(|won| **won).count(), 1, "one instance queues the run");
        db.storage.put_schedule(&Schedule { enabled: false, ..schedule(SyncKind::Inventory, 30) }).await.expect("put");
        assert!(db.storage.due_schedules(next).await.expect("due").iter().all(|s| s.kind == SyncKind::Orders));
    }

    async fn stock_is_replaced_by_each_read(db) {
        let id = db.connection("amazon").await.expect("connection");
        let first = Timestamp::now();
        let mut tx = db.storage.begin().await.expect("begin");
        tx.upsert_stock(id, &[level("A", "fba", 5), level("B", "fba", 0), level("A", "fbm", 7)], first).await.expect("stock");
        tx.commit().await.expect("commit");
        // The next complete FBA read no longer reports B.
        let second = first + Duration::minutes(60);
        let mut tx = db.storage.begin().await.expect("begin");
        tx.upsert_stock(id, &[level("A", "fba", 4)], second).await.expect("stock");
        assert_eq!(tx.prune_stock(id, "ATVPDKIKX0DER", Some("fba"), second).await.expect("prune"), 1);
        tx.commit().await.expect("commit");
        let rows: Vec<(String, String, i64)> = db.storage.list_stock(&StockFilter::connection(Some(id)), 10, None).await.expect("list").into_iter().map(|s| (s.sku, s.location, s.available)).collect();
        assert_eq!(rows, [("A".to_owned(), "fba".to_owned(), 4), ("A".to_owned(), "fbm".to_owned(), 7)]);
        let first_page = db.storage.list_stock(&StockFilter::connection(Some(id)), 1, None).await.expect("page");
        let rest = db.storage.list_stock(&StockFilter::connection(Some(id)), 10, Some(StockCursor { sku: first_page[0].sku.clone(), id: first_page[0].id })).await.expect("page");
        assert_eq!((first_page.len(), rest.len()), (1, 1));
        assert_eq!(first_page[0].platform, "amazon");
    }

    async fn marketplaces_keep_their_switch(db) {
        let id = db.connection("amazon").await.expect("connection");
        let now = Timestamp::now();
        let found = |names: &[&str]| names.iter().map(|n| (format!("M-{n}"), n.to_string())).collect::<Vec<_>>();
        db.storage.set_connection_marketplaces(id, &found(&["US", "CA"]), now).await.expect("set");
        assert!(db.storage.set_marketplace_sync(id, "M-CA", false).await.expect("switch"));
        assert!(!db.storage.set_marketplace_sync(id, "M-JP", false).await.expect("unknown"));
        db.storage.set_connection_marketplaces(id, &found(&["US", "CA", "MX"]), now).await.expect("set again");
        let listed: Vec<(String, bool)> = db.storage.connection_marketplaces(id).await.expect("list").into_iter().map(|m| (m.marketplace_id, m.sync_enabled)).collect();
        assert_eq!(listed, [("M-CA".to_owned(), false), ("M-MX".to_owned(), true), ("M-US".to_owned(), true)]);
    }
}
