//! `javelin bench backfill`: the same sandbox history brought into Javelin twice, through
//! Amazon's order reports (a history import) and through searchOrders alone (an orders sync read
//! from the same date), each timed; the searchOrders route is the reference.

use std::time::Duration;

use javelin_marketplaces::amazon::SEARCH_ORDERS;
use javelin_sandbox::SandboxOptions;
use serde_json::json;

use super::rig::Rig;

/// The sandbox seller's marketplaces per region are a third of its six.
const REGIONS: usize = 3;

pub async fn run(orders: usize, days: u32, time_scale: f64, url: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(time_scale > 0.0, "--time-scale must be more than 0");
    anyhow::ensure!((1..=730).contains(&days), "--days must be from 1 to 730");
    let options = SandboxOptions {
        // As many again in Europe and the Far East: the North American account holds `orders`.
        orders: orders * REGIONS,
        days,
        time_scale,
        ..SandboxOptions::default()
    };
    // Reports are asked about as Amazon advises (every 30 seconds), at the sandbox's speed.
    let sync = javelin_sync::SyncSettings {
        report_poll: Duration::from_secs_f64((30.0 / time_scale).max(0.01)),
        ..javelin_sync::SyncSettings::default()
    };
    let rig = Rig::start(options, url, sync).await?;
    let from = (time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)))
        .date()
        .to_string();
    println!(
        "javelin bench backfill: {days} days of orders from {from}, time scale {time_scale}, {}",
        super::backend(url)
    );

    let by_reports = rig.connect_amazon().await?;
    let (imported, reports_took) = rig
        .run_job(
            &format!("/api/v1/connections/{by_reports}/import"),
            &json!({"from": from}),
        )
        .await?;
    println!(
        "  reports          {:>8} orders  {:>9.2} s  ({} windows of 30 days)",
        imported.created,
        reports_took.as_secs_f64(),
        rig.sandbox.amazon_reports().len()
    );

    let by_search = rig.connect_amazon().await?;
    let (searched, search_took) = rig
        .run_job(
            &format!("/api/v1/connections/{by_search}/sync"),
            &json!({"kind": "orders", "from": from}),
        )
        .await?;
    let rate = SEARCH_ORDERS.rate * time_scale;
    println!(
        "  searchOrders     {:>8} orders  {:>9.2} s  (the reference: {} pages, a burst of {} then one every {:.2} s)",
        searched.created,
        search_took.as_secs_f64(),
        searched.pages,
        SEARCH_ORDERS.burst,
        1.0 / rate
    );
    println!(
        "  reports faster   {:>8.1} ×",
        search_took.as_secs_f64() / reports_took.as_secs_f64().max(f64::EPSILON)
    );
    if imported.created != searched.created {
        // searchOrders keeps the last two minutes back: orders that changed then come with the
        // next sync.
        println!(
            "  ({} orders apart: changed in the last two minutes of the searchOrders read)",
            imported.created.abs_diff(searched.created)
        );
    }
    rig.stop().await
}
