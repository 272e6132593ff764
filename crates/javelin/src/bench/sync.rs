//! `javelin bench sync`: a whole Javelin and an in-process sandbox; one sync of the sandbox's
//! orders into a fresh store, timed, beside the least time Amazon's published rate limit
//! allows for the pages it needed (the burst at once, then one page per refill interval).

use std::time::Duration;

use javelin_marketplaces::amazon::SEARCH_ORDERS;
use javelin_sandbox::{SandboxOptions, operation};
use serde_json::json;

use super::rig::Rig;

pub async fn run(orders: usize, time_scale: f64, url: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(time_scale > 0.0, "--time-scale must be more than 0");
    let options = SandboxOptions {
        orders,
        time_scale,
        ..SandboxOptions::default()
    };
    let rig = Rig::start(options, url, javelin_sync::SyncSettings::default()).await?;
    let id = rig.connect_amazon().await?;
    let (job, elapsed) = rig
        .run_job(&format!("/api/v1/connections/{id}/sync"), &json!({"kind": "orders"}))
        .await?;
    let sandbox = rig.sandbox.clone();
    rig.stop().await?;

    let pages = u32::try_from(job.pages).unwrap_or(u32::MAX);
    let rate = SEARCH_ORDERS.rate * time_scale;
    let least = Duration::from_secs_f64(f64::from(pages.saturating_sub(SEARCH_ORDERS.burst)) / rate);
    println!(
        "javelin bench sync: {orders} sandbox orders, time scale {time_scale}, {}",
        super::backend(url)
    );
    println!("  orders stored      {:>8}", job.created);
    println!(
        "  pages read         {:>8}   (searchOrders: a burst of {}, then {:.3} calls/s)",
        job.pages, SEARCH_ORDERS.burst, rate
    );
    println!("  elapsed            {:>8.2} s", elapsed.as_secs_f64());
    println!(
        "  rate-limit least   {:>8.2} s   (the reference: {} pages at once, the rest one every {:.2} s)",
        least.as_secs_f64(),
        pages.min(SEARCH_ORDERS.burst),
        1.0 / rate
    );
    if least.is_zero() {
        println!("  ratio                   —   (every page fit in the burst; ask for more --orders)");
    } else {
        println!(
            "  ratio              {:>8.3}",
            elapsed.as_secs_f64() / least.as_secs_f64()
        );
    }
    println!(
        "  429s drawn         {:>8}",
        sandbox.throttled(operation::SEARCH_ORDERS)
    );
    Ok(())
}
