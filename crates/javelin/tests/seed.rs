//! `javelin bench seed`: sample data that looks like a seller's, stored as sync stores it; and
//! `javelin bench views` measuring the pages' answers on it.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use javelin_model::OrderStatus;
use javelin_storage::testing::TestDatabase;
use javelin_storage::{ConnectionStatus, Timestamp};

fn seed(db: &TestDatabase, orders: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_javelin"))
        .args(["bench", "seed", "--orders", &orders.to_string(), "--seed", "7"])
        .env("DATABASE_URL", &db.url)
        .env("JAVELIN_DATA_DIR", dir.path())
        .env_remove("JAVELIN_MASTER_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("run javelin");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("{orders} orders")), "{stdout}");
}

fn bench_views(db: &TestDatabase, admin: Option<(&str, &str)>) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_javelin"));
    command
        .args(["bench", "views", "--requests", "3", "--clients", "4", "--seconds", "1"])
        .env("DATABASE_URL", &db.url)
        .env("JAVELIN_DATA_DIR", dir.path())
        .env_remove("JAVELIN_MASTER_KEY")
        .env_remove("JAVELIN_ADMIN_EMAIL")
        .env_remove("JAVELIN_ADMIN_PASSWORD")
        .stdin(Stdio::null());
    if let Some((email, password)) = admin {
        command
            .env("JAVELIN_ADMIN_EMAIL", email)
            .env("JAVELIN_ADMIN_PASSWORD", password);
    }
    command.output().expect("run javelin")
}

javelin_storage::backend_tests! {
    async fn seeded_orders_look_like_a_sellers_and_seeding_again_doubles_nothing(db) {
        seed(&db, 3000);
        let storage = &db.storage;
        let connections = storage.list_connections().await.expect("connections");
        let labels: BTreeSet<&str> = connections.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, BTreeSet::from(["Sample Amazon Europe", "Sample Amazon North America", "Sample Flipkart"]));
        assert!(connections.iter().all(|c| c.status == ConnectionStatus::Incomplete), "never synced");

        let orders = storage.list_orders(&javelin_storage::OrderFilter::connection(None), 5000, None).await.expect("orders");
        assert_eq!(orders.len(), 3000);
        let now = Timestamp::now();
        let two_years_ago = now - time::Duration::days(731);
        let mut statuses = BTreeSet::new();
        let mut currencies = BTreeSet::new();
        for order in &orders {
            assert!((1..=5).contains(&order.items.len()), "{order:?}");
            assert!(order.purchased_at > two_years_ago && order.purchased_at < now, "{order:?}");
            assert!(order.remote_updated_at >= order.purchased_at && order.remote_updated_at < now);
            let total = order.total.expect("a total");
            let lines: i64 = order.items.iter().map(|item| item.line_total.expect("line total").minor()).sum();
            assert_eq!(total.minor(), lines, "the total is its lines' sum: {order:?}");
            assert!(order.items.iter().all(|item| item.unit_price.map(|p| p.currency()) == Some(total.currency())));
            statuses.insert(order.status);
            currencies.insert(total.currency());
        }
        for status in [OrderStatus::Unshipped, OrderStatus::Shipped, OrderStatus::Delivered, OrderStatus::Cancelled] {
            assert!(statuses.contains(&status), "{status:?} among {statuses:?}");
        }
        assert_eq!(currencies, BTreeSet::from(["CAD", "EUR", "GBP", "INR", "MXN", "USD"]));
        let stock = storage.list_stock(&javelin_storage::StockFilter::default(), 100_000, None).await.expect("stock");
        let skus: BTreeSet<&str> = stock.iter().map(|level| level.sku.as_str()).collect();
        assert!(skus.len() > 2_500, "{} SKUs", skus.len());

        if !db.url.starts_with("sqlite") {
            // Analysed after the bulk load: the planner knows how many items an order has.
            let analysed = storage
                .query_texts("SELECT CAST(COUNT(*) AS TEXT) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'order_items'")
                .await
                .expect("statistics");
            assert_ne!(analysed, ["0"]);
        }

        seed(&db, 3000);
        assert_eq!(storage.count_orders(None).await.expect("count"), 3000, "the same orders, not new ones");
        assert_eq!(storage.list_connections().await.expect("connections").len(), 3);
        assert_eq!(storage.list_stock(&javelin_storage::StockFilter::default(), 100_000, None).await.expect("stock").len(), stock.len());
    }

    async fn bench_views_measures_every_view_and_leaves_no_token(db) {
        let refused = bench_views(&db, None);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("JAVELIN_ADMIN_EMAIL"));

        seed(&db, 500);
        let output = bench_views(&db, Some(("bench@example.com", "correct-horse-battery")));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        for view in ["orders, page 4,001", "search two title words", "dashboard, 30 days", "dashboard, two years", "inventory, low stock", "page: dashboard, 30 days", "page: an order", "GET /api/v1/orders "] {
            assert!(stdout.contains(view), "{view} in {stdout}");
        }
        // The export and the plain read of the same rows both count every order.
        assert_eq!(stdout.matches("(500 rows in").count(), 2, "{stdout}");
        let tokens = db.storage.query_texts("SELECT label || ' ' || CASE WHEN revoked_at IS NULL THEN 'live' ELSE 'revoked' END FROM api_tokens").await.expect("tokens");
        assert_eq!(tokens, ["javelin bench views revoked"]);
        let sessions = db.storage.query_texts("SELECT CAST(COUNT(*) AS TEXT) FROM sessions").await.expect("sessions");
        assert_eq!(sessions, ["0"], "the page session was signed out");
    }
}
