//! `javelin bench …`: Javelin measured against the limits it works within, each figure printed
//! beside a reference measured in the same run (absolute times vary from machine to machine
//! and run to run; the ratios much less).

mod backfill;
mod ingest;
mod report;
mod rig;
mod seed;
mod sync;
mod views;

use std::process::ExitCode;

use javelin_model::Order;
use javelin_storage::{JobOrigin, PageProgress, Storage, SyncKind, Timestamp};

use crate::cli::BenchCommand;
use crate::config::Config;

pub fn main(command: BenchCommand) -> ExitCode {
    // Slow statements are what the views benchmark measures, not warnings.
    crate::logging::init("warn,sqlx::query=error", crate::config::LogFormat::Pretty);
    crate::block_on(async move {
        match command {
            BenchCommand::Backfill {
                orders,
                days,
                time_scale,
                database_url,
            } => backfill::run(orders, days, time_scale, database_url.as_deref()).await?,
            BenchCommand::Sync {
                orders,
                time_scale,
                database_url,
            } => sync::run(orders, time_scale, database_url.as_deref()).await?,
            BenchCommand::Report {
                megabytes,
                database_url,
            } => report::run(megabytes, database_url.as_deref()).await?,
            BenchCommand::Ingest { orders, database_url } => ingest::run(orders, database_url.as_deref()).await?,
            BenchCommand::Seed { orders, seed, settings } => {
                let config = match Config::from_settings(*settings) {
                    Ok(config) => config,
                    Err(err) => {
                        eprintln!("error: {err}");
                        return Ok(ExitCode::from(crate::EXIT_CONFIG));
                    }
                };
                seed::run(orders, seed, &config).await?
            }
            BenchCommand::Views {
                requests,
                clients,
                seconds,
                settings,
            } => {
                let config = match Config::from_settings(*settings) {
                    Ok(config) => config,
                    Err(err) => {
                        eprintln!("error: {err}");
                        return Ok(ExitCode::from(crate::EXIT_CONFIG));
                    }
                };
                let options = views::Options {
                    requests,
                    clients,
                    seconds,
                };
                views::run(options, &config).await?
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A fresh database of the kind `url` names (SQLite when none), of the benchmark's own.
async fn scratch(url: Option<&str>) -> anyhow::Result<javelin_storage::testing::TestDatabase> {
    let url = url.unwrap_or("sqlite:");
    javelin_storage::testing::TestDatabase::scratch(url)
        .await
        .map_err(|err| anyhow::anyhow!("cannot prepare a database at {url}: {err}"))
}

/// What kind of database a URL names, for the report.
fn backend(url: Option<&str>) -> &'static str {
    match url {
        Some(url) if !url.starts_with("sqlite:") => "PostgreSQL",
        _ => "SQLite",
    }
}

/// A line of `/proc/self/status` in megabytes (Linux; NaN elsewhere).
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A job of `kind` on `connection`, enqueued and claimed, as the sync runner holds one while it
/// stores pages; returns its id.
pub(super) async fn claimed_job(
    storage: &Storage,
    connection: i64,
    kind: SyncKind,
    now: Timestamp,
) -> anyhow::Result<i64> {
    let (job, _) = storage.enqueue_job(connection, kind, JobOrigin::Seller, now).await?;
    storage.claim_job("bench", now, now + time::Duration::hours(1)).await?;
    Ok(job.id)
}

/// Stores a page of orders as a sync does: upserted, with the page recorded on the job, in one
/// transaction.
pub(super) async fn store_page(
    storage: &Storage,
    connection: i64,
    job: i64,
    orders: &[Order],
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut tx = storage.begin().await?;
    let summary = tx.upsert_orders(connection, "amazon", orders, now).await?;
    let progress = PageProgress {
        fetched: orders.len() as u64,
        created: summary.created,
        updated: summary.updated,
        ..PageProgress::default()
    };
    anyhow::ensure!(tx.record_page(job, "bench", &progress, None).await?, "the job was lost");
    tx.commit().await?;
    Ok(())
}

/// Starts the peak of resident memory (VmHWM) afresh (Linux 4.0 and later; a no-op elsewhere).
pub(super) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub(super) fn rss_mb_now() -> f64 {
    status_mb("VmRSS:")
}

pub(super) fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}
