//! The HTTP edge: how connections are accepted, bounded in number and time, and ended. A client
//! that connects and sends nothing, sends its headers or body a byte at a time, or idles on a
//! kept-alive connection is cut off, and a stop never waits on clients for long.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower_http::timeout::TimeoutLayer;

/// How long and how many: the limits of the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeLimits {
    /// The most connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// From the moment a connection is ready for a request (new, or idle after an answer) until
    /// its headers have all arrived; then it is closed.
    pub header_read: Duration,
    /// For a request with a body, from its headers until the handler has answered, the body
    /// read included: 408 after.
    pub request: Duration,
    /// How long a stop waits for the requests in flight before closing their connections.
    pub shutdown_grace: Duration,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read: Duration::from_secs(30),
            request: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish within the grace period, and closes what is left.
pub async fn serve(listener: TcpListener, app: Router, limits: EdgeLimits, shutdown: impl Future<Output = ()> + Send) {
    // Only requests that carry a body get the deadline: reading one slowly is what it stops, and
    // a timer per request cost a tenth of the throughput of small GETs.
    let with_body = app.clone().layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let stopping = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            // Finished connections are reaped as they end, so the set stays as small as the load.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => tokio::select! {
                    () = &mut shutdown => break,
                    accepted = listener.accept() => accepted.map(|connection| (connection, slot)),
                },
                // The semaphore is never closed.
                Err(_) => break,
            },
        };
        let ((stream, remote), slot) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, most likely: wait for a connection to end.
                tracing::warn!(error = %err, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (app, with_body) = (app.clone(), with_body.clone());
        let stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let router = if request.body().is_end_stream() {
                    &app
                } else {
                    &with_body
                };
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(remote));
                router.clone().oneshot(request)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    stopping.cancel();
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace_secs = limits.shutdown_grace.as_secs(),
            "closing connections still open after the grace period"
        );
        connections.shutdown().await;
    }
}
