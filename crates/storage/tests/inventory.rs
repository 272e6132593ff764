//! Stock as the Inventory page and API read it, on SQLite and PostgreSQL: sums per SKU across
//! connections and channels, thresholds, the low-stock filter, search, and paging through it all.

use std::collections::BTreeSet;

use javelin_model::StockLevel;
use javelin_storage::testing::TestDatabase;
use javelin_storage::{DEFAULT_THRESHOLD, SkuStock, StockCursor, StockFilter, Storage, StoredStock, Timestamp};
use time::Duration;

mod common;

/// A stock level of `sku` at `location` (`fba`, `fbm` or a Flipkart location id).
fn level(sku: &str, location: &str, available: i64, reserved: i64, inbound: i64) -> StockLevel {
    let flipkart = !matches!(location, "fba" | "fbm");
    StockLevel {
        marketplace_id: (!flipkart).then(|| "ATVPDKIKX0DER".into()),
        sku: sku.into(),
        location: location.into(),
        product_id: None,
        title: None,
        available,
        reserved,
        inbound,
        unfulfillable: 0,
        updated_at: None,
    }
}

fn titled(mut level: StockLevel, product_id: &str, title: &str) -> StockLevel {
    level.product_id = Some(product_id.into());
    level.title = Some(title.into());
    level
}

async fn store(storage: &Storage, connection_id: i64, levels: &[StockLevel], at: Timestamp) {
    let mut tx = storage.begin().await.expect("begin");
    tx.upsert_stock(connection_id, levels, at).await.expect("stock");
    tx.commit().await.expect("commit");
}

async fn skus(storage: &Storage, filter: &StockFilter) -> Vec<SkuStock> {
    storage.list_skus(filter, 500, None).await.expect("skus")
}

fn names(skus: &[SkuStock]) -> Vec<&str> {
    skus.iter().map(|sku| sku.sku.as_str()).collect()
}

/// Every page of SKUs, `limit` at a time.
async fn all_sku_pages(storage: &Storage, filter: &StockFilter, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = storage.list_skus(filter, limit, after.as_deref()).await.expect("page");
        assert!(page.len() <= limit as usize);
        seen.extend(page.iter().map(|sku| sku.sku.clone()));
        assert!(seen.len() <= 10_000, "the pages never end");
        match page.last() {
            Some(last) if page.len() == limit as usize => after = Some(last.sku.clone()),
            _ => return seen,
        }
    }
}

/// Every page of stock rows, `limit` at a time.
async fn all_row_pages(storage: &Storage, filter: &StockFilter, limit: u32) -> Vec<StoredStock> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = storage.list_stock(filter, limit, after).await.expect("page");
        assert!(page.len() <= limit as usize);
        after = page.last().map(|last| StockCursor {
            sku: last.sku.clone(),
            id: last.id,
        });
        let full = page.len() == limit as usize;
        seen.extend(page);
        assert!(seen.len() <= 10_000, "the pages never end");
        if !full {
            return seen;
        }
    }
}

/// Three accounts (two Amazon, one Flipkart); returns their ids.
async fn accounts(db: &TestDatabase) -> (i64, i64, i64) {
    let a = db.connection("amazon").await.expect("connection");
    let b = db.connection("amazon").await.expect("connection");
    let f = db.connection("flipkart").await.expect("connection");
    (a, b, f)
}

javelin_storage::backend_tests! {
    async fn each_sku_sums_its_channels_across_connections(db) {
        let (a, b, f) = accounts(&db).await;
        let early = Timestamp::now();
        let late = early + Duration::minutes(90);
        let a_levels = [
            titled(level("MUG-1", "fba", 3, 1, 10), "B0MUG", "Blue Mug"),
            level("MUG-1", "fbm", 2, 0, 0),
            level("PEN-2", "fbm", 20, 0, 0),
        ];
        let b_levels = [level("MUG-1", "fba", 4, 2, 0)];
        let f_levels = [titled(level("MUG-1", "LOC1", 5, 1, 0), "FSNMUG", "Blue Mug"), level("MUG-1", "LOC2", 1, 0, 0)];
        store(&db.storage, a, &a_levels, early).await;
        store(&db.storage, b, &b_levels, late).await;
        store(&db.storage, f, &f_levels, early).await;

        let listed = skus(&db.storage, &StockFilter::default()).await;
        assert_eq!(names(&listed), ["MUG-1", "PEN-2"]);
        // Figures computed here from what was stored, channel by channel.
        let all: Vec<&StockLevel> = a_levels.iter().chain(&b_levels).chain(&f_levels).collect();
        let sum = |sku: &str, place: &dyn Fn(&str) -> bool, figure: fn(&StockLevel) -> i64| {
            let held: Vec<i64> = all.iter().filter(|l| l.sku == sku && place(&l.location)).map(|l| figure(l)).collect();
            (!held.is_empty()).then(|| held.iter().sum::<i64>())
        };
        let fba = |place: &str| place == "fba";
        let fbm = |place: &str| place == "fbm";
        let flipkart = |place: &str| place.starts_with("LOC");
        let anywhere = |_: &str| true;
        for sku in &listed {
            let name = sku.sku.as_str();
            assert_eq!(sku.fba_available, sum(name, &fba, |l| l.available), "{name}");
            assert_eq!(sku.fba_reserved, sum(name, &fba, |l| l.reserved), "{name}");
            assert_eq!(sku.fba_inbound, sum(name, &fba, |l| l.inbound), "{name}");
            assert_eq!(sku.fbm_available, sum(name, &fbm, |l| l.available), "{name}");
            assert_eq!(sku.flipkart_available, sum(name, &flipkart, |l| l.available), "{name}");
            assert_eq!(Some(sku.total_available), sum(name, &anywhere, |l| l.available), "{name}");
            assert_eq!(sku.threshold, DEFAULT_THRESHOLD);
        }
        let mug = &listed[0];
        assert_eq!((mug.fba_available, mug.fba_reserved, mug.fba_inbound), (Some(7), Some(3), Some(10)));
        assert_eq!((mug.fbm_available, mug.flipkart_available, mug.total_available), (Some(2), Some(6), 15));
        assert_eq!((mug.asin.as_deref(), mug.fsn.as_deref(), mug.title.as_deref()), (Some("B0MUG"), Some("FSNMUG"), Some("Blue Mug")));
        assert_eq!((mug.oldest_read, mug.newest_read), (early, late), "when its rows were read");
        let pen = &listed[1];
        assert_eq!((pen.fba_available, pen.fbm_available, pen.flipkart_available, pen.total_available), (None, Some(20), None, 20), "not held is not zero");
        assert_eq!((pen.oldest_read, pen.newest_read), (early, early));

        // One account's SKUs keep the figures of every account.
        let of_b = skus(&db.storage, &StockFilter::connection(Some(b))).await;
        assert_eq!(of_b, listed[..1], "account B holds MUG-1 only");
        // A disconnected account's stock counts no more.
        let mut tx = db.storage.begin().await.expect("begin");
        tx.deactivate_connection(b, late).await.expect("deactivate");
        tx.commit().await.expect("commit");
        let after = skus(&db.storage, &StockFilter::default()).await;
        assert_eq!((after[0].fba_available, after[0].total_available), (Some(3), 11));
        assert!(skus(&db.storage, &StockFilter::connection(Some(b))).await.is_empty());
        let rows = db.storage.list_stock(&StockFilter::default(), 500, None).await.expect("rows");
        assert!(rows.iter().all(|row| row.connection_id != b));
        assert!(rows.iter().filter(|row| row.sku == "MUG-1").all(|row| row.sku_available == 11));
    }

    async fn sku_totals_follow_every_read_prune_and_disconnection(db) {
        let (a, b, f) = accounts(&db).await;
        let start = Timestamp::now();
        // What the low-stock filter reads, beside the sum of the stock rows the lists show.
        let check = |step: &'static str| {
            let storage = db.storage.clone();
            async move {
                let kept = storage.query_texts("SELECT sku || ' ' || CAST(available AS TEXT) FROM sku_stock ORDER BY sku").await.expect("totals");
                let rows = storage.list_stock(&StockFilter::default(), 500, None).await.expect("rows");
                let mut sums: std::collections::BTreeMap<String, i64> = Default::default();
                for row in rows {
                    *sums.entry(row.sku).or_default() += row.available;
                }
                let summed: Vec<String> = sums.into_iter().map(|(sku, available)| format!("{sku} {available}")).collect();
                assert_eq!(kept, summed, "after {step}");
            }
        };
        let mut seed = 5u64;
        let mut next = move |below: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % below
        };
        for round in 0..6i64 {
            let at = start + Duration::minutes(round);
            for (connection, location) in [(a, "fba"), (b, "fbm"), (f, "LOC1")] {
                // One level per SKU and place, as a read reports them.
                let mut levels = std::collections::BTreeMap::new();
                for _ in 0..next(12) {
                    let sku = format!("SKU-{}", next(9));
                    levels.insert(sku.clone(), level(&sku, location, next(20) as i64, 0, 0));
                }
                let levels: Vec<StockLevel> = levels.into_values().collect();
                store(&db.storage, connection, &levels, at).await;
            }
            check("a read").await;
            // A complete read of A's FBA that did not report some SKUs: they are gone.
            let mut tx = db.storage.begin().await.expect("begin");
            tx.prune_stock(a, "ATVPDKIKX0DER", Some("fba"), at).await.expect("prune");
            tx.commit().await.expect("commit");
            check("a prune").await;
        }
        let mut tx = db.storage.begin().await.expect("begin");
        tx.deactivate_connection(b, start).await.expect("deactivate");
        tx.commit().await.expect("commit");
        check("a disconnection").await;
        // Stock stored before the table existed: the migration sums it the same way.
        common::refill(
            &db,
            "sku_stock",
            include_str!("../migrations/sqlite/0007_sku_stock.sql"),
            include_str!("../migrations/postgres/0007_sku_stock.sql"),
        )
        .await;
        check("the migration").await;
    }

    async fn thresholds_default_to_five_and_can_be_changed(db) {
        let (a, _, f) = accounts(&db).await;
        let now = Timestamp::now();
        store(&db.storage, a, &[level("CUP-1", "fba", 3, 0, 0)], now).await;
        store(&db.storage, f, &[level("CUP-1", "LOC1", 2, 0, 0), level("JAR-1", "LOC1", 6, 0, 0)], now).await;

        let low = |skus: &[SkuStock]| skus.iter().map(|s| (s.sku.clone(), s.threshold, s.low_stock())).collect::<Vec<_>>();
        let listed = skus(&db.storage, &StockFilter::default()).await;
        assert_eq!(low(&listed), [("CUP-1".to_owned(), 5, true), ("JAR-1".to_owned(), 5, false)], "5 is the default; at it is low");
        for row in db.storage.list_stock(&StockFilter::default(), 500, None).await.expect("rows") {
            assert_eq!((row.threshold, row.low_stock()), (5, row.sku == "CUP-1"), "{row:?}");
        }

        db.storage.set_threshold("CUP-1", 4, now).await.expect("set");
        db.storage.set_threshold("JAR-1", 6, now).await.expect("set");
        let listed = skus(&db.storage, &StockFilter::default()).await;
        assert_eq!(low(&listed), [("CUP-1".to_owned(), 4, false), ("JAR-1".to_owned(), 6, true)]);
        db.storage.set_threshold("JAR-1", 0, now).await.expect("set again");
        let rows = db.storage.list_stock(&StockFilter::default(), 500, None).await.expect("rows");
        let jar: Vec<(i64, bool)> = rows.iter().filter(|r| r.sku == "JAR-1").map(|r| (r.threshold, r.low_stock())).collect();
        assert_eq!(jar, [(0, false)]);

        assert!(db.storage.set_threshold("JAR-1", 1_000_001, now).await.is_err(), "the schema holds the bound");
        assert!(db.storage.sku_is_stocked("CUP-1").await.expect("stocked"));
        assert!(!db.storage.sku_is_stocked("cup-1").await.expect("stocked"), "SKUs are case-sensitive");
        assert!(!db.storage.sku_is_stocked("NOPE").await.expect("stocked"));
    }

    async fn the_low_stock_filter_holds_exactly_the_low_skus(db) {
        let (a, b, f) = accounts(&db).await;
        let now = Timestamp::now();
        // SKU n: n units at A's FBA, and 1 more at Flipkart when n is even; every third SKU has
        // a threshold of n.
        let mut expected_low = BTreeSet::new();
        let (mut at_a, mut at_f) = (Vec::new(), Vec::new());
        for n in 0..40i64 {
            let sku = format!("SKU-{n:03}");
            at_a.push(level(&sku, "fba", n, 0, 0));
            let mut total = n;
            if n % 2 == 0 {
                at_f.push(level(&sku, "LOC1", 1, 0, 0));
                total += 1;
            }
            let threshold = if n % 3 == 0 {
                db.storage.set_threshold(&sku, n, now).await.expect("threshold");
                n
            } else {
                DEFAULT_THRESHOLD
            };
            if total <= threshold {
                expected_low.insert(sku);
            }
        }
        store(&db.storage, a, &at_a, now).await;
        store(&db.storage, f, &at_f, now).await;
        store(&db.storage, b, &[level("SKU-039", "fba", 0, 0, 0)], now).await;

        let low_filter = StockFilter { low_stock: true, ..StockFilter::default() };
        let low: BTreeSet<String> = skus(&db.storage, &low_filter).await.into_iter().map(|s| s.sku).collect();
        assert_eq!(low, expected_low);
        assert!(low.contains("SKU-003") && !low.contains("SKU-006"), "3 of 3 is low; 6 + 1 of 6 is not");
        let stored: Vec<(i64, &StockLevel)> = at_a.iter().map(|l| (a, l)).chain(at_f.iter().map(|l| (f, l))).collect();
        let key = |connection: i64, sku: &str, location: &str| (connection, sku.to_owned(), location.to_owned());
        let low_rows = |connection: Option<i64>| -> BTreeSet<(i64, String, String)> {
            stored.iter()
                .filter(|(c, l)| expected_low.contains(&l.sku) && connection.is_none_or(|only| only == *c))
                .map(|(c, l)| key(*c, &l.sku, &l.location))
                .chain((connection.is_none_or(|only| only == b) && expected_low.contains("SKU-039")).then(|| key(b, "SKU-039", "fba")))
                .collect()
        };
        let rows = db.storage.list_stock(&low_filter, 500, None).await.expect("rows");
        let found: BTreeSet<_> = rows.iter().map(|r| key(r.connection_id, &r.sku, &r.location)).collect();
        assert_eq!((found.len(), found), (rows.len(), low_rows(None)), "every row of each low SKU");
        assert!(rows.iter().all(StoredStock::low_stock));

        // Of one account: its rows of low SKUs, low by the total of every account (SKU-006 has
        // 6 at A and 1 at Flipkart, threshold 6: the Flipkart row alone would be low, the SKU is not).
        assert!(!expected_low.contains("SKU-006"));
        let of_f = StockFilter { connection_id: Some(f), low_stock: true, ..StockFilter::default() };
        let rows = db.storage.list_stock(&of_f, 500, None).await.expect("rows");
        let found: BTreeSet<_> = rows.iter().map(|r| key(r.connection_id, &r.sku, &r.location)).collect();
        assert_eq!((found.len(), &found), (rows.len(), &low_rows(Some(f))));
        let of_f_skus: BTreeSet<String> = skus(&db.storage, &of_f).await.into_iter().map(|s| s.sku).collect();
        assert_eq!(of_f_skus, found.into_iter().map(|(_, sku, _)| sku).collect::<BTreeSet<_>>());
    }

    async fn search_finds_skus_by_sku_asin_fsn_or_title(db) {
        let (a, _, f) = accounts(&db).await;
        let now = Timestamp::now();
        store(&db.storage, a, &[
            titled(level("TEA-1", "fba", 1, 0, 0), "B0TEAPOT", "Cast Iron Teapot"),
            level("TEA-1", "fbm", 2, 0, 0),
            titled(level("MUG_RED", "fba", 1, 0, 0), "B0RED", "Red mug 50% off"),
            titled(level("CUP-9", "fba", 1, 0, 0), "B0CUP", "Espresso cup"),
        ], now).await;
        store(&db.storage, f, &[titled(level("FK-77", "LOC1", 4, 0, 0), "FSNKETTLE9", "Steel kettle")], now).await;

        let search = |text: &str| StockFilter { search: Some(text.into()), ..StockFilter::default() };
        for (text, expected) in [
            ("teapot", vec!["TEA-1"]),
            ("CAST iron", vec!["TEA-1"]),
            ("iron  cast", vec!["TEA-1"]),
            ("teapot fba", vec![]),
            ("mug b0red", vec!["MUG_RED"]),
            ("b0tea", vec!["TEA-1"]),
            ("mug", vec!["MUG_RED"]),
            ("fsnkettle", vec!["FK-77"]),
            ("fk-7", vec!["FK-77"]),
            ("cup", vec!["CUP-9"]),
            ("50%", vec!["MUG_RED"]),
            ("g_r", vec!["MUG_RED"]),
            ("_", vec!["MUG_RED"]),
            ("%", vec!["MUG_RED"]),
            ("e", vec!["CUP-9", "FK-77", "MUG_RED", "TEA-1"]),
            ("nothing like it", vec![]),
        ] {
            assert_eq!(names(&skus(&db.storage, &search(text)).await), expected, "{text:?}");
            let rows: BTreeSet<String> = db.storage.list_stock(&search(text), 500, None).await.expect("rows").into_iter().map(|r| r.sku).collect();
            assert_eq!(rows.into_iter().collect::<Vec<_>>(), expected, "{text:?}, rows");
        }
        // A word of one row's title finds every row of its SKU.
        let teapot = db.storage.list_stock(&search("teapot"), 500, None).await.expect("rows");
        let places: Vec<&str> = teapot.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(places, ["fba", "fbm"]);
        // Search and the other filters narrow together.
        let narrowed = StockFilter { connection_id: Some(f), search: Some("e".into()), low_stock: true };
        assert_eq!(names(&skus(&db.storage, &narrowed).await), ["FK-77"]);
    }

    async fn pages_hold_every_sku_and_row_once(db) {
        let (a, b, f) = accounts(&db).await;
        let now = Timestamp::now();
        let (mut at_a, mut at_b, mut at_f) = (Vec::new(), Vec::new(), Vec::new());
        for n in 0..130i64 {
            let sku = format!("P-{n:04}");
            at_a.push(level(&sku, "fba", n % 9, 0, 0));
            if n % 2 == 0 { at_a.push(level(&sku, "fbm", 1, 0, 0)); }
            if n % 3 == 0 { at_b.push(level(&sku, "fba", 2, 0, 0)); }
            if n % 5 == 0 { at_f.push(titled(level(&sku, "LOC1", 1, 0, 0), &format!("FSN{n}"), "Notebook")); at_f.push(level(&sku, "LOC2", 0, 0, 0)); }
        }
        store(&db.storage, a, &at_a, now).await;
        store(&db.storage, b, &at_b, now).await;
        store(&db.storage, f, &at_f, now).await;

        for filter in [
            StockFilter::default(),
            StockFilter { low_stock: true, ..StockFilter::default() },
            StockFilter { search: Some("notebook".into()), ..StockFilter::default() },
            StockFilter::connection(Some(b)),
        ] {
            let whole = skus(&db.storage, &filter).await;
            assert!(!whole.is_empty(), "{filter:?}");
            for limit in [1, 7, 50] {
                let paged = all_sku_pages(&db.storage, &filter, limit).await;
                assert_eq!(paged, names(&whole), "{filter:?}, {limit} a page: each SKU once, in order");
            }
            let rows = db.storage.list_stock(&filter, 500, None).await.expect("rows");
            let ids = |rows: &[StoredStock]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
            for limit in [1, 7, 50] {
                let paged = all_row_pages(&db.storage, &filter, limit).await;
                assert_eq!(ids(&paged), ids(&rows), "{filter:?}, {limit} a page: each row once, in order");
            }
            let mut sorted = rows.iter().map(|r| (r.sku.clone(), r.id)).collect::<Vec<_>>();
            sorted.sort();
            assert_eq!(sorted, rows.iter().map(|r| (r.sku.clone(), r.id)).collect::<Vec<_>>(), "by SKU then id");
        }
        let everything = all_row_pages(&db.storage, &StockFilter::default(), 11).await;
        assert_eq!(everything.len(), at_a.len() + at_b.len() + at_f.len(), "every row");
        assert_eq!(all_sku_pages(&db.storage, &StockFilter::default(), 11).await.len(), 130, "every SKU");

        // The export reads the same rows in the same order, in batches.
        let mut streamed = Vec::new();
        let mut stream = std::pin::pin!(db.storage.stream_stock(StockFilter::default(), 100));
        while let Some(batch) = futures_util::StreamExt::next(&mut stream).await {
            let batch = batch.expect("batch");
            assert!(batch.len() <= 100);
            streamed.extend(batch);
        }
        assert_eq!(streamed, everything);
    }
}
