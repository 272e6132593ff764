//! The HTTP edge with real sockets: clients that send nothing, send slowly or idle are cut off,
//! connections beyond the cap wait, and a stop ends within its grace period whatever clients do.
//! The limits are shortened for the tests; each wait is bounded by `WITHIN`, which only a broken
//! edge reaches.

mod common;

use std::time::Duration;

use common::TestApp;
use javelin::edge::EdgeLimits;
use javelin_storage::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far beyond every shortened limit below: reaching it means the edge did not act.
const WITHIN: Duration = Duration::from_secs(20);

async fn app(limits: EdgeLimits) -> TestApp {
    TestApp::start_with(TestDatabase::sqlite().await, |config| config.edge = limits).await
}

fn short() -> EdgeLimits {
    EdgeLimits {
        max_connections: 64,
        header_read: Duration::from_millis(300),
        request: Duration::from_millis(300),
        shutdown_grace: Duration::from_millis(300),
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.base.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connect")
}

/// Everything the server sends until it closes the connection.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(WITHIN, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&received).into_owned()
}

/// One answer's head and body, read until its `Content-Length` is in.
async fn one_answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|length| length.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let read = tokio::time::timeout(WITHIN, stream.read(&mut buffer))
            .await
            .expect("an answer")
            .expect("read");
        assert!(read > 0, "closed before answering: {text:?}");
        received.extend_from_slice(&buffer[..read]);
    }
}

#[tokio::test]
async fn silent_slow_and_idle_clients_are_cut_off() {
    let app = app(short()).await;

    // Connects and sends nothing.
    let mut silent = connect(&app).await;
    assert_eq!(until_closed(&mut silent).await, "");

    // Sends half its headers, then nothing more.
    let mut slow_headers = connect(&app).await;
    slow_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    assert!(!until_closed(&mut slow_headers).await.contains("200 OK"));

    // Sends its headers, then a tenth of its body: 408 once the request's time is up.
    let mut slow_body = connect(&app).await;
    slow_body
        .write_all(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
        .await
        .expect("write");
    let answer = until_closed(&mut slow_body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // Kept alive after an answer, then idle: closed like a silent one.
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let answer = one_answer(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "{answer}");
    assert_eq!(until_closed(&mut idle).await, "");

    // None of it kept anyone else out.
    let response = common::api_client().get(app.url("/healthz")).send().await.expect("GET");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let app = app(EdgeLimits {
        max_connections: 1,
        header_read: Duration::from_secs(60),
        ..EdgeLimits::default()
    })
    .await;
    let mut first = connect(&app).await;
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    assert!(one_answer(&mut first).await.starts_with("HTTP/1.1 200"));

    // The one slot is held by the kept-alive first connection: the second is not served...
    let mut second = connect(&app).await;
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut byte = [0; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), second.read(&mut byte)).await;
    assert!(waited.is_err(), "answered beyond the cap");
    // ...until the first ends.
    drop(first);
    assert!(until_closed(&mut second).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_stop_ends_within_its_grace_whatever_clients_do() {
    let mut app = app(EdgeLimits {
        request: Duration::from_secs(3600),
        header_read: Duration::from_secs(3600),
        shutdown_grace: Duration::from_millis(300),
        ..EdgeLimits::default()
    })
    .await;
    // A request in flight that will never complete its body, and a silent connection.
    let mut in_flight = connect(&app).await;
    in_flight
        .write_all(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .expect("write");
    let mut silent = connect(&app).await;
    // Connections are accepted in the order they arrive: once a later one is answered, both
    // are being served.
    let probe = common::api_client().get(app.url("/healthz")).send().await.expect("GET");
    assert_eq!(probe.status(), reqwest::StatusCode::OK);

    tokio::time::timeout(WITHIN, app.shutdown())
        .await
        .expect("the server stops within its grace");
    until_closed(&mut in_flight).await;
    until_closed(&mut silent).await;
}
