//! Search and the dashboard's rollups, on SQLite and PostgreSQL: what the upsert keeps beside
//! the orders must always agree with the orders themselves.

use std::collections::BTreeMap;

use javelin_model::{Money, Order, OrderItem, OrderStatus};
use javelin_storage::{Figures, OrderFilter, SearchTerms, Span, Storage, StoredOrder, day_of, day_start, month_of};

mod common;
use common::{order, upsert};

fn titled(mut order: Order, items: &[(&str, &str)]) -> Order {
    let template = order.items[0].clone();
    order.items = items
        .iter()
        .enumerate()
        .map(|(n, (sku, title))| OrderItem {
            external_id: format!("item-{n}"),
            sku: Some((*sku).into()),
            title: Some((*title).into()),
            ..template.clone()
        })
        .collect();
    order
}

async fn search(storage: &Storage, q: &str, filter: OrderFilter) -> Vec<String> {
    let filter = OrderFilter {
        search: Some(SearchTerms::parse(q).expect("terms")),
        ..filter
    };
    let orders = storage.list_orders(&filter, 50, None).await.expect("search");
    orders.into_iter().map(|order| order.external_id).collect()
}

/// Every order of the store, with its items.
async fn all_orders(storage: &Storage) -> Vec<StoredOrder> {
    let mut all: Vec<StoredOrder> = Vec::new();
    loop {
        let after = all.last().map(|last| javelin_storage::OrderCursor {
            purchased_at: last.purchased_at,
            id: last.id,
        });
        let page = storage
            .list_orders(&OrderFilter::default(), 500, after)
            .await
            .expect("orders");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// A small deterministic generator: the same orders on every run and backend.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const STATUSES: [OrderStatus; 5] = [
    OrderStatus::Unshipped,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
    OrderStatus::Returned,
];

/// An order of the generator: purchased within ~100 days (across month ends), in USD or CAD or
/// without a total yet, one to three items of six SKUs.
fn random_order(rng: &mut Lcg, id: u64, updated: i64) -> Order {
    let purchased = rng.below(100 * 1440) as i64 - 50 * 1440;
    let items: Vec<(String, u32)> = (0..=rng.below(3))
        .map(|n| (n.to_string(), 1 + rng.below(4) as u32))
        .collect();
    let items: Vec<(&str, u32)> = items
        .iter()
        .map(|(item, quantity)| (item.as_str(), *quantity))
        .collect();
    let mut order = order(
        &format!("R-{id}"),
        STATUSES[rng.below(5) as usize],
        purchased,
        updated.max(purchased + 1),
        &items,
    );
    for item in &mut order.items {
        item.sku = Some(format!("SKU-{}", rng.below(6)));
    }
    order.total = match rng.below(3) {
        0 => Some(Money::from_minor(rng.below(100_000) as i64, "USD").expect("USD")),
        1 => Some(Money::from_minor(rng.below(100_000) as i64, "CAD").expect("CAD")),
        _ => None,
    };
    order
}

/// `(day, platform, currency)` → orders, units, totals of the orders not cancelled.
type Days = BTreeMap<(i64, String, String), (i64, i64, i64)>;
type Statuses = BTreeMap<(i64, String), i64>;
type SkuDays = BTreeMap<(i64, String), i64>;

/// The rollups recomputed from the orders, the way a reader would expect them.
fn recompute(orders: &[StoredOrder]) -> (Days, Statuses, SkuDays) {
    let mut days = Days::new();
    let mut statuses = Statuses::new();
    let mut skus = SkuDays::new();
    for order in orders {
        let day = day_of(order.purchased_at);
        let currency = order.total.map(|total| total.currency().to_owned()).unwrap_or_default();
        let entry = days.entry((day, order.platform.clone(), currency)).or_default();
        entry.0 += 1;
        entry.1 += order.items.iter().map(|item| item.quantity).sum::<i64>();
        *statuses.entry((day, order.status.code().to_owned())).or_default() += 1;
        if order.status != OrderStatus::Cancelled {
            entry.2 += order.total.map_or(0, |total| total.minor());
            for item in &order.items {
                *skus.entry((day, item.sku.clone().unwrap_or_default())).or_default() += item.quantity;
            }
        }
    }
    (days, statuses, skus)
}

/// A span's figures in the shape of [`recompute`]'s, for the day `day` when the span is within one.
fn figures(read: Figures, day: Option<i64>) -> (Days, Statuses) {
    let days = read
        .days
        .into_iter()
        .map(|row| {
            (
                (row.day, row.platform, row.currency),
                (row.orders, row.units, row.revenue_minor),
            )
        })
        .collect();
    let statuses = read
        .statuses
        .into_iter()
        .map(|(status, orders)| ((day.unwrap_or(0), status), orders))
        .collect();
    (days, statuses)
}

javelin_storage::backend_tests! {
    async fn an_export_whose_reader_stops_taking_rows_is_let_go(db) {
        let id = db.connection("amazon").await.expect("connection");
        let orders: Vec<Order> = (0..10)
            .map(|n| order(&format!("111-0000000-{n:07}"), OrderStatus::Shipped, n, n + 1, &[("a", 1)]))
            .collect();
        upsert(&db.storage, id, &orders).await;
        let storage = db.storage.clone().with_reader_patience(std::time::Duration::from_millis(50));
        let mut stream = std::pin::pin!(storage.stream_orders(OrderFilter::default(), 1));
        let first = futures_util::StreamExt::next(&mut stream).await.expect("a batch").expect("rows");
        // The reader takes nothing for longer than the storage waits: the read, and the
        // connection it holds, are given up; the reader learns it when it comes back.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let (mut rest, mut stopped) = (0, None);
        while let Some(batch) = futures_util::StreamExt::next(&mut stream).await {
            match batch {
                Ok(rows) => rest += rows.len(),
                Err(err) => stopped = Some(err),
            }
        }
        assert!(
            matches!(stopped, Some(javelin_storage::StorageError::ReaderStalled)),
            "{stopped:?}"
        );
        assert!(first.len() + rest < orders.len(), "given up before the end");
        // A reader that keeps up gets every order.
        let mut whole = 0;
        let mut stream = std::pin::pin!(storage.stream_orders(OrderFilter::default(), 3));
        while let Some(batch) = futures_util::StreamExt::next(&mut stream).await {
            whole += batch.expect("rows").len();
        }
        assert_eq!(whole, orders.len());
    }

    async fn search_finds_orders_by_id_sku_and_title_words(db) {
        let id = db.connection("amazon").await.expect("connection");
        let mat = titled(order("111-2223334-5556667", OrderStatus::Unshipped, 0, 1, &[("a", 1)]),
            &[("JV-MAT-01", "Organic Cotton Yoga Mat, Blue")]);
        let bottle = titled(order("111-9998887-7776665", OrderStatus::Shipped, 10, 11, &[("a", 1)]),
            &[("JV-BOTTLE-01", "Classic Steel Water Bottle")]);
        let both = titled(order("402-0000001-0000002", OrderStatus::Shipped, 20, 21, &[("a", 1)]),
            &[("JV-BLOCK-02", "Yoga Block"), ("JV-CAP-03", "Water Bottle Cap")]);
        upsert(&db.storage, id, &[mat.clone(), bottle, both]).await;
        let all = OrderFilter::default;

        assert_eq!(search(&db.storage, "111-2223334-5556667", all()).await, ["111-2223334-5556667"]);
        assert_eq!(search(&db.storage, "5556667", all()).await, ["111-2223334-5556667"], "a part of the id");
        assert_eq!(search(&db.storage, "jv-bottle-01", all()).await, ["111-9998887-7776665"], "a SKU, any case");
        assert_eq!(search(&db.storage, "yoga", all()).await, ["402-0000001-0000002", "111-2223334-5556667"]);
        assert_eq!(search(&db.storage, "yoga mat", all()).await, ["111-2223334-5556667"], "every word");
        assert_eq!(search(&db.storage, "Bottle", all()).await, ["402-0000001-0000002", "111-9998887-7776665"],
            "an order with two matching items is listed once");
        assert_eq!(search(&db.storage, "mat-yoga", all()).await, Vec::<String>::new(), "a word's parts in order");
        assert_eq!(search(&db.storage, "yog", all()).await, Vec::<String>::new(), "whole words");
        let shipped = OrderFilter { status: Some(OrderStatus::Shipped), ..all() };
        assert_eq!(search(&db.storage, "yoga", shipped).await, ["402-0000001-0000002"], "with the other filters");

        // New items and, as a marketplace may correct it, a new purchase time.
        let mut changed = titled(mat, &[("JV-BOARD-04", "Bamboo Cutting Board")]);
        changed.updated_at += time::Duration::minutes(5);
        changed.purchased_at += time::Duration::minutes(30);
        upsert(&db.storage, id, &[changed]).await;
        assert_eq!(search(&db.storage, "yoga", all()).await, ["402-0000001-0000002"], "the old items are gone");
        assert_eq!(search(&db.storage, "bamboo board", all()).await, ["111-2223334-5556667"]);
        assert_eq!(search(&db.storage, "5556667", all()).await, ["111-2223334-5556667"], "indexed once");
        assert_eq!(search(&db.storage, "jv", all()).await, ["111-2223334-5556667", "402-0000001-0000002", "111-9998887-7776665"],
            "newest first by the new purchase time");
    }

    async fn a_search_pages_through_every_match_once(db) {
        let id = db.connection("amazon").await.expect("connection");
        // Several orders in the same second, and others between them that do not match.
        let orders: Vec<Order> = (0..23)
            .map(|n| {
                let title = if n % 3 == 2 { "Steel Bottle" } else { "Yoga Mat" };
                titled(order(&format!("P-{n}"), OrderStatus::Shipped, n / 4, 100, &[("a", 1)]), &[("S", title)])
            })
            .collect();
        upsert(&db.storage, id, &orders).await;
        let filter = OrderFilter { search: SearchTerms::parse("yoga"), ..OrderFilter::default() };
        let mut seen: Vec<String> = Vec::new();
        let mut after = None;
        for _ in 0..orders.len() {
            let page = db.storage.list_orders(&filter, 4, after).await.expect("page");
            let Some(last) = page.last() else { break };
            after = Some(javelin_storage::OrderCursor { purchased_at: last.purchased_at, id: last.id });
            seen.extend(page.iter().map(|order| order.external_id.clone()));
        }
        let mut expected: Vec<&Order> = orders.iter().filter(|order| order.items[0].title.as_deref() == Some("Yoga Mat")).collect();
        expected.sort_by_key(|order| std::cmp::Reverse(order.purchased_at));
        assert_eq!(seen.len(), expected.len(), "{seen:?}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no order twice: {seen:?}");
        let minutes: Vec<i64> = seen.iter().map(|id| id[2..].parse::<i64>().expect("n") / 4).collect();
        assert!(minutes.windows(2).all(|pair| pair[0] >= pair[1]), "newest first: {seen:?}");
    }

    async fn rollups_equal_a_recomputation_after_updates_and_cancellations(db) {
        let amazon = db.connection("amazon").await.expect("connection");
        let other = db.connection("amazon").await.expect("connection");
        let mut rng = Lcg(7);
        for round in 0..4_i64 {
            let mut pages: [Vec<Order>; 2] = [Vec::new(), Vec::new()];
            for n in 0..150 {
                let id = if round == 0 || n % 3 == 0 { round as u64 * 1000 + n } else { rng.below(150) };
                let connection = id % 2;
                // Round 3 sends some states older than stored ones: they must change nothing.
                let updated = if round == 3 && n % 2 == 0 { -100 * 1440 } else { 100 * 1440 + round * 60 };
                let order = random_order(&mut rng, id, updated);
                pages[connection as usize].push(order);
            }
            for (connection, page) in [(amazon, &pages[0]), (other, &pages[1])] {
                upsert(&db.storage, connection, page).await;
            }
        }
        let orders = all_orders(&db.storage).await;
        assert!(orders.iter().any(|order| order.status == OrderStatus::Cancelled));
        let (days, statuses, skus) = recompute(&orders);
        let first = days.keys().map(|key| key.0).min().expect("days");
        let end = days.keys().map(|key| key.0).max().expect("days") + 1;

        let (read, _) = figures(db.storage.order_figures(Span::Days(first, end)).await.expect("figures"), None);
        assert_eq!(read, days);

        let mut read_skus: BTreeMap<(i64, String), i64> = BTreeMap::new();
        let mut months: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
        for day in first..end {
            for (sku, units) in db.storage.sku_units(Span::Days(day, day + 1)).await.expect("skus") {
                read_skus.insert((day, sku), units);
            }
            // The part-day reader, given the whole day, reads the orders themselves.
            let (from, before) = (day_start(day).expect("day"), day_start(day + 1).expect("day"));
            let within = figures(db.storage.order_figures(Span::Within(from, before)).await.expect("within"), Some(day));
            let daily = figures(db.storage.order_figures(Span::Days(day, day + 1)).await.expect("daily"), Some(day));
            assert_eq!(within, daily, "day {day}");
            let expected: Statuses = statuses.iter().filter(|((at, _), _)| *at == day).map(|(key, n)| (key.clone(), *n)).collect();
            assert_eq!(daily.1, expected, "day {day}");
            let mut within_skus = db.storage.sku_units(Span::Within(from, before)).await.expect("within");
            within_skus.sort();
            let mut daily_skus = db.storage.sku_units(Span::Days(day, day + 1)).await.expect("daily");
            daily_skus.sort();
            assert_eq!(within_skus, daily_skus, "day {day}");
            let mut best_of_day: Vec<(String, i64)> = daily_skus.into_iter().filter(|(_, units)| *units > 0).collect();
            best_of_day.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            assert_eq!(db.storage.top_skus(&[Span::Days(day, day + 1)], None).await.expect("top"), best_of_day, "day {day}");
        }
        assert_eq!(read_skus, skus);
        for ((day, sku), units) in &skus {
            *months.entry(month_of(*day).expect("month")).or_default().entry(sku.clone()).or_default() += units;
        }
        // Best sellers over whole days and months, as the dashboard asks: every SKU's sum.
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for ((_, sku), units) in &skus {
            *totals.entry(sku.clone()).or_default() += units;
        }
        let mut best: Vec<(String, i64)> = totals.into_iter().filter(|(_, units)| *units > 0).collect();
        best.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(db.storage.top_skus(&[Span::Days(first, end)], None).await.expect("top"), best);
        // Periods of every length from a week to two months, from every weekday: read from the
        // weekly rollups, with days added or taken back at either end.
        for start in (first..end).step_by(5) {
            for length in [7, 8, 11, 13, 30, 31, 45, 60] {
                let mut sums: BTreeMap<String, i64> = BTreeMap::new();
                for ((day, sku), units) in &skus {
                    if (start..start + length).contains(day) {
                        *sums.entry(sku.clone()).or_default() += units;
                    }
                }
                let mut expected: Vec<(String, i64)> = sums.into_iter().filter(|(_, units)| *units > 0).collect();
                expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let read = db.storage.top_skus(&[Span::Days(start, start + length)], None).await.expect("top");
                assert_eq!(read, expected, "days {start}..{}", start + length);
            }
        }
        let (first_month, end_month) = (month_of(first).expect("month"), month_of(end).expect("month") + 1);
        let whole = [Span::Months(first_month, end_month)];
        assert_eq!(db.storage.top_skus(&whole, Some(3)).await.expect("top"), best[..3]);
        for (month, expected) in months {
            let read: BTreeMap<String, i64> =
                db.storage.sku_units(Span::Months(month, month + 1)).await.expect("months").into_iter().collect();
            let expected: BTreeMap<String, i64> = expected.into_iter().filter(|(_, units)| *units != 0).collect();
            assert_eq!(read, expected, "month {month}");
        }
    }
    async fn the_weekly_rollup_migration_fills_what_the_upserts_keep(db) {
        let connection = db.connection("amazon").await.expect("connection");
        let mut rng = Lcg(11);
        let page: Vec<Order> = (0..300).map(|id| random_order(&mut rng, id, 100 * 1440)).collect();
        upsert(&db.storage, connection, &page).await;
        let weeks = || db.storage.query_texts(
            "SELECT CAST(week AS TEXT) || ' ' || sku || ' ' || CAST(units AS TEXT) FROM sku_weekly ORDER BY week, sku",
        );
        let kept = weeks().await.expect("weeks");
        assert!(kept.len() > 20, "{kept:?}");
        // Orders stored before the migration: their weeks come from the daily rollups.
        common::refill(
            &db,
            "sku_weekly",
            include_str!("../migrations/sqlite/0006_weekly_skus.sql"),
            include_str!("../migrations/postgres/0006_weekly_skus.sql"),
        )
        .await;
        assert_eq!(weeks().await.expect("weeks"), kept);
    }
}
