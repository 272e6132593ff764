//! Walks the app in headless Chromium (Debian's `chromium` and `chromium-driver`).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use javelin_storage::testing::TestDatabase;

/// A chromedriver process of this test's own, with a browser session on it.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (apt-get install chromium chromium-driver)");
        // chromedriver says when it accepts sessions.
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines.next().expect("chromedriver starts").expect("chromedriver output");
            if line.contains("started successfully") {
                break;
            }
        }
        let profile = tempfile::tempdir().expect("profile folder");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("browser session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .text()
            .await
            .expect("text")
    }

    /// Saves a screenshot when `JAVELIN_SCREENSHOT_DIR` is set, to look at the pages.
    async fn snapshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("JAVELIN_SCREENSHOT_DIR") {
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).expect("write screenshot");
        }
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn sign_in_see_the_shell_and_the_platform_cards() {
    let app = TestApp::start_with_admin(TestDatabase::sqlite().await).await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&app.url("/")).await.expect("open Javelin");
    assert!(c.current_url().await.expect("url").path().starts_with("/login"));
    browser.snapshot("login").await;
    c.find(Locator::Css("#email"))
        .await
        .expect("email field")
        .send_keys(ADMIN_EMAIL)
        .await
        .expect("type");
    c.find(Locator::Css("#password"))
        .await
        .expect("password field")
        .send_keys(ADMIN_PASSWORD)
        .await
        .expect("type");
    c.find(Locator::Css("button[type=submit]"))
        .await
        .expect("Sign in")
        .click()
        .await
        .expect("click");

    c.wait()
        .for_element(Locator::Css("nav.sidebar"))
        .await
        .expect("the app shell");
    let entries = c.find_all(Locator::Css(".nav a")).await.expect("sidebar links");
    let mut labels = Vec::new();
    for entry in &entries {
        labels.push(entry.text().await.expect("label"));
    }
    assert_eq!(labels, ["Dashboard", "Orders", "Inventory", "Connect Platforms"]);
    assert_eq!(browser.text(".nav a[aria-current=page]").await, "Dashboard");
    browser.snapshot("dashboard").await;

    c.find(Locator::LinkText("Connect Platforms"))
        .await
        .expect("sidebar entry")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("[data-platform=amazon]"))
        .await
        .expect("Amazon card");
    assert_eq!(browser.text("h1").await, "Connect Platforms");
    for platform in ["amazon", "flipkart"] {
        let badge = browser.text(&format!("[data-platform={platform}] .badge")).await;
        assert_eq!(badge, "Not Connected", "{platform}");
    }
    assert_eq!(browser.text("[data-platform=amazon] h2").await, "Amazon");
    assert_eq!(browser.text("[data-platform=flipkart] h2").await, "Flipkart");
    browser.snapshot("connections").await;

    c.find(Locator::Css(".account button"))
        .await
        .expect("Sign out")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("#email"))
        .await
        .expect("back at sign-in");
    assert!(browser.text(".flash").await.contains("You have signed out."));
    browser.close().await;
}
