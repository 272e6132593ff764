//! Sync on the pages: each connection's health panel (it reloads itself while a job runs), Sync
//! now, the marketplaces switch, and a connection's sync page (its jobs, its schedule, reading
//! orders again from a date).

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use javelin_core::Actor;
use javelin_core::connections::ConnectionView;
use javelin_storage::{JobOrigin, JobState, StorageError, SyncJob, SyncKind, Timestamp};
use javelin_sync::{Health, MAX_HISTORY_DAYS, StartError};
use serde::Deserialize;

use crate::AppState;
use crate::api::sync::{MAX_INTERVAL_MINUTES, kinds};
use crate::auth::{Acting, Identity};
use crate::error::PageError;
use crate::extract::ConnectionId;
use crate::flash::{self, Flash, FlashKind};
use crate::pages::connections::done;
use crate::pages::{Layout, Section};

/// A connection's sync at a glance: per kind the last success, the next run, the job under way
/// and the last error. Rendered inside the connection's card and, while a job runs, fetched
/// again every few seconds by the page's script.
#[derive(Template, WebTemplate)]
#[template(path = "sync_panel.html")]
pub(crate) struct SyncPanel {
    pub(crate) id: i64,
    pub(crate) health: Health,
}

impl SyncPanel {
    pub(crate) async fn load(state: &AppState, id: i64) -> Result<Self, StorageError> {
        Ok(Self {
            id,
            health: state.sync.health(id).await?,
        })
    }

    /// The marketplaces synced, by name.
    pub(crate) fn synced_marketplaces(&self) -> String {
        let names: Vec<&str> = self
            .health
            .marketplaces
            .iter()
            .filter(|m| m.sync_enabled)
            .map(|m| m.name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// What sync kind a row is about, for people.
pub(crate) fn kind_label(kind: &SyncKind) -> &'static str {
    match kind {
        SyncKind::Orders => "Orders",
        SyncKind::Inventory => "Inventory",
        SyncKind::History => "History import",
        SyncKind::Reconcile => "Reconciliation",
    }
}

/// A job's state as a badge: its CSS class and its word.
pub(crate) fn state_badge(state: &JobState) -> (&'static str, &'static str) {
    match state {
        JobState::Queued => ("queued", "Queued"),
        JobState::Running => ("running", "Running"),
        JobState::Succeeded => ("connected", "Succeeded"),
        JobState::Failed => ("error", "Failed"),
    }
}

/// A job's counts in words: "Page 3 · 250 fetched · 240 new · 10 updated · 1 skipped" (stock
/// levels are stored whole, neither new nor updated).
pub(crate) fn progress(job: &SyncJob) -> String {
    let mut text = match job.kind {
        SyncKind::Orders => format!(
            "Page {} · {} fetched · {} new · {} updated",
            job.pages, job.fetched, job.created, job.updated
        ),
        SyncKind::Inventory => format!("Page {} · {} stock levels read", job.pages, job.fetched),
        SyncKind::History => format!(
            "{} orders read from Amazon's reports · {} new · {} updated",
            job.fetched, job.created, job.updated
        ),
        SyncKind::Reconcile => format!(
            "{} orders compared · {} missing and {} out of date fetched again",
            job.fetched, job.created, job.updated
        ),
    };
    if job.skipped > 0 {
        text.push_str(&format!(" · {} skipped", job.skipped));
    }
    text
}

/// "every 15 minutes", "every hour", "every 2 hours", "every day".
pub(crate) fn every(minutes: &i64) -> String {
    let minutes = *minutes;
    match minutes {
        1 => "every minute".to_owned(),
        1440 => "every day".to_owned(),
        60 => "every hour".to_owned(),
        m if m % 1440 == 0 => format!("every {} days", m / 1440),
        m if m % 60 == 0 => format!("every {} hours", m / 60),
        m => format!("every {m} minutes"),
    }
}

/// `GET /connections/{id}/sync-panel`: the panel alone, for the page's script.
pub(crate) async fn panel(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId,
) -> Result<SyncPanel, PageError> {
    state.connections.get(id).await?.ok_or(PageError::NotFound)?;
    Ok(SyncPanel::load(&state, id).await?)
}

#[derive(Deserialize)]
pub(crate) struct SyncNowForm {
    kind: String,
}

/// What a seller reads when a sync could not start.
fn start_error(err: StartError) -> Result<String, PageError> {
    match err {
        StartError::NoSuchConnection => Err(PageError::NotFound),
        StartError::Forbidden(forbidden) => Err(forbidden.into()),
        StartError::Storage(err) => Err(err.into()),
        other => Ok(other.to_string()),
    }
}

/// What was started, in words.
fn started(kinds: &[SyncKind]) -> &'static str {
    match kinds {
        [SyncKind::Orders] => "Orders sync started.",
        [SyncKind::Inventory] => "Inventory sync started.",
        _ => "Orders and inventory sync started.",
    }
}

/// `POST /connections/{id}/sync`: Sync now, from the connection's card or sync page.
pub(crate) async fn sync_now(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
    Form(form): Form<SyncNowForm>,
) -> Result<Response, PageError> {
    let Some(kinds) = kinds(&form.kind) else {
        return Ok(done(&state, jar, FlashKind::Error, "Choose what to sync.", Some(id)));
    };
    Ok(match state.sync.start(&actor, id, kinds).await {
        Ok(_) => done(&state, jar, FlashKind::Success, started(kinds), Some(id)),
        Err(err) => done(&state, jar, FlashKind::Error, &start_error(err)?, Some(id)),
    })
}

/// `POST /orders/sync` and `POST /inventory/sync`: Sync now for every connection that can.
async fn sync_all(
    state: &AppState,
    actor: &Actor,
    jar: CookieJar,
    kind: SyncKind,
    back: &str,
) -> Result<Response, PageError> {
    let mut accounts = 0;
    for connection in state.connections.list().await? {
        match state.sync.start(actor, connection.id, &[kind]).await {
            Ok(_) => accounts += 1,
            Err(err) => {
                start_error(err)?;
            }
        }
    }
    let (flash, message) = match accounts {
        0 => (
            FlashKind::Error,
            "No connected account can sync yet. Connect an account on Connect Platforms first.".to_owned(),
        ),
        n => (
            FlashKind::Success,
            format!(
                "{} for {n} account{}; new {} appear here as it runs.",
                started(&[kind]).trim_end_matches('.'),
                if n == 1 { "" } else { "s" },
                match kind {
                    SyncKind::Inventory => "stock levels",
                    SyncKind::Orders | SyncKind::History | SyncKind::Reconcile => "orders",
                }
            ),
        ),
    };
    Ok(flash::redirect(state, jar, flash, &message, back))
}

pub(crate) async fn sync_all_orders(
    State(state): State<AppState>,
    Acting(actor): Acting,
    jar: CookieJar,
) -> Result<Response, PageError> {
    sync_all(&state, &actor, jar, SyncKind::Orders, "/orders").await
}

pub(crate) async fn sync_all_inventory(
    State(state): State<AppState>,
    Acting(actor): Acting,
    jar: CookieJar,
) -> Result<Response, PageError> {
    sync_all(&state, &actor, jar, SyncKind::Inventory, "/inventory").await
}

/// `POST /connections/{id}/marketplaces`: the marketplaces to sync, as checked boxes named
/// `marketplace`.
pub(crate) async fn set_marketplaces(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    state.connections.get(id).await?.ok_or(PageError::NotFound)?;
    let wanted: Vec<&str> = fields
        .iter()
        .filter(|(name, _)| name == "marketplace")
        .map(|(_, value)| value.as_str())
        .collect();
    Ok(match state.sync.set_marketplaces(&actor, id, &wanted).await {
        Ok(()) => {
            let message = "Marketplaces saved. The next sync reads the ones switched on.";
            done(&state, jar, FlashKind::Success, message, Some(id))
        }
        Err(err) => done(&state, jar, FlashKind::Error, &start_error(err)?, Some(id)),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "sync.html")]
pub(crate) struct SyncPage {
    layout: Layout,
    connection: ConnectionView,
    panel: SyncPanel,
    jobs: Vec<SyncJob>,
    /// The date the read-from form offers: the default history of a first sync.
    default_from: String,
    max_interval: i64,
    max_history_days: i64,
}

impl SyncPage {
    fn origin(&self, origin: &JobOrigin) -> &'static str {
        match origin {
            JobOrigin::Seller => "Sync now",
            JobOrigin::Schedule => "Schedule",
        }
    }

    fn reasons<'a>(&self, job: &'a SyncJob) -> Vec<&'a str> {
        job.skipped_reasons.lines().collect()
    }
}

/// Jobs shown on a connection's sync page.
const HISTORY: u32 = 50;

/// `GET /connections/{id}/sync`: a connection's recent jobs, its schedule, and reading orders
/// again from a date.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
    ConnectionId(id, _): ConnectionId,
) -> Result<SyncPage, PageError> {
    let connection = state.connections.get(id).await?.ok_or(PageError::NotFound)?;
    let from = Timestamp::now() - time::Duration::days(30);
    Ok(SyncPage {
        layout: Layout::new(Section::Connections, identity, flash),
        connection,
        panel: SyncPanel::load(&state, id).await?,
        jobs: state.storage.list_jobs(id, HISTORY).await?,
        default_from: from.to_display().chars().take(10).collect(),
        max_interval: MAX_INTERVAL_MINUTES,
        max_history_days: MAX_HISTORY_DAYS,
    })
}

#[derive(Deserialize)]
pub(crate) struct ScheduleForm {
    orders_interval: String,
    orders_enabled: Option<String>,
    inventory_interval: String,
    inventory_enabled: Option<String>,
}

/// `POST /connections/{id}/schedule`.
pub(crate) async fn set_schedule(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    state.connections.get(id).await?.ok_or(PageError::NotFound)?;
    let back = format!("/connections/{id}/sync");
    let wanted = [
        (SyncKind::Orders, &form.orders_interval, form.orders_enabled.is_some()),
        (
            SyncKind::Inventory,
            &form.inventory_interval,
            form.inventory_enabled.is_some(),
        ),
    ];
    let mut intervals = Vec::new();
    for (kind, interval, _) in &wanted {
        match interval.trim().parse::<i64>() {
            Ok(minutes) if (1..=MAX_INTERVAL_MINUTES).contains(&minutes) => intervals.push(minutes),
            _ => {
                let message = format!(
                    "The {} interval must be a whole number of minutes from 1 to {MAX_INTERVAL_MINUTES} (a week).",
                    kind_label(kind).to_lowercase()
                );
                return Ok(flash::redirect(&state, jar, FlashKind::Error, &message, &back));
            }
        }
    }
    for ((kind, _, enabled), minutes) in wanted.into_iter().zip(intervals) {
        if let Err(err) = state.sync.set_schedule(&actor, id, kind, minutes, enabled).await {
            let message = start_error(err)?;
            return Ok(flash::redirect(&state, jar, FlashKind::Error, &message, &back));
        }
    }
    Ok(flash::redirect(
        &state,
        jar,
        FlashKind::Success,
        "Schedule saved.",
        &back,
    ))
}

/// A form that gives a date: read orders again from it, or import the history since it.
#[derive(Deserialize)]
pub(crate) struct DateForm {
    from: String,
}

/// `POST /connections/{id}/import`: "Import history from" on an Amazon connection's card.
pub(crate) async fn import_history(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
    Form(form): Form<DateForm>,
) -> Result<Response, PageError> {
    let (kind, message) = match state.sync.import_history(&actor, id, &form.from).await {
        Ok((_, false)) => (
            FlashKind::Success,
            "A history import is already under way for this account; its progress is on the card.".to_owned(),
        ),
        Ok((_, true)) => (
            FlashKind::Success,
            format!(
                "History import started: Amazon prepares a report per 30 days of orders since {}, which takes \
                 minutes to an hour; the orders appear as each report arrives.",
                form.from.trim()
            ),
        ),
        Err(err) => (FlashKind::Error, start_error(err)?),
    };
    Ok(flash::redirect(&state, jar, kind, &message, "/connections"))
}

/// `POST /connections/{id}/read-from`: read every order updated since a date again.
pub(crate) async fn read_from(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
    Form(form): Form<DateForm>,
) -> Result<Response, PageError> {
    let back = format!("/connections/{id}/sync");
    let (kind, message) = match state.sync.read_orders_from(&actor, id, &form.from).await {
        Ok(job) if job.state == JobState::Running => (
            FlashKind::Success,
            format!(
                "An orders sync is running; when it ends, another reads every order updated since {}.",
                form.from.trim()
            ),
        ),
        Ok(_) => (
            FlashKind::Success,
            format!(
                "Orders sync started: it reads every order updated since {}.",
                form.from.trim()
            ),
        ),
        Err(err) => (FlashKind::Error, start_error(err)?),
    };
    Ok(flash::redirect(&state, jar, kind, &message, &back))
}
