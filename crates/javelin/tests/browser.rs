//! Walks the app in headless Chromium (Debian's `chromium` and `chromium-driver`).

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Process, TestApp, sample};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use javelin_storage::testing::TestDatabase;

/// A chromedriver process of this test's own (killed with the Chromium it started when the
/// test ends, however it ends), with a browser session on it.
struct Browser {
    client: Client,
    driver: Process,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium outlives a killed chromedriver: end the whole process group they share.
        let group = format!("-{}", self.driver.child().id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
}

impl Browser {
    async fn start() -> Self {
        // Port 0: chromedriver picks a free port and says which when it accepts sessions.
        let mut driver = Process::spawn_reading_stdout(
            Command::new("chromedriver")
                .arg("--port=0")
                .stderr(Stdio::null())
                .process_group(0),
        );
        let started = driver.wait_for_line(
            "chromedriver start (apt-get install chromium chromium-driver)",
            |line| line.contains("started successfully on port"),
        );
        let port: u16 = started
            .trim_end_matches('.')
            .rsplit(' ')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("a port in {started:?}"));
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

    async fn fill(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .send_keys(value)
            .await
            .expect("type");
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .click()
            .await
            .expect("click");
    }

    /// Clicks a `<details>` summary by its text, to open the form inside.
    async fn open(&self, summary: &str) {
        let xpath = format!("//summary[normalize-space()='{summary}']");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .expect(summary)
            .click()
            .await
            .expect("open");
    }

    /// Clicks a button by its text within `scope`.
    async fn press(&self, scope: &str, label: &str) {
        // Any flash on the page now is old news: only the next page's counts.
        self.client
            .execute("document.querySelectorAll('.flash').forEach(f => f.remove())", vec![])
            .await
            .expect("script");
        let scope = self.client.find(Locator::Css(scope)).await.expect(scope);
        let xpath = format!(".//*[self::button or self::a][normalize-space()='{label}']");
        scope
            .find(Locator::XPath(&xpath))
            .await
            .expect(label)
            .click()
            .await
            .expect("press");
    }

    /// Waits for the page to show a flash message, and returns it.
    async fn flash(&self) -> String {
        self.client
            .wait()
            .for_element(Locator::Css(".flash span"))
            .await
            .expect("a flash message")
            .text()
            .await
            .expect("text")
    }

    async fn sign_in(&self, app: &TestApp) {
        self.client.goto(&app.url("/login")).await.expect("open Javelin");
        self.fill("#email", ADMIN_EMAIL).await;
        self.fill("#password", ADMIN_PASSWORD).await;
        self.click("button[type=submit]").await;
        self.client
            .wait()
            .for_element(Locator::Css("nav.sidebar"))
            .await
            .expect("the app shell");
        self.client
            .find(Locator::LinkText("Connect Platforms"))
            .await
            .expect("sidebar")
            .click()
            .await
            .expect("click");
        self.client
            .wait()
            .for_element(Locator::Css("[data-platform=amazon]"))
            .await
            .expect("Amazon card");
    }

    /// "Connect Manually" with the sandbox's seller in Amazon.com, checking it connected.
    async fn connect_amazon_manually(&self, creds: &javelin_sandbox::AmazonCredentials) {
        self.open("Connect Manually (Enter Credentials)").await;
        self.fill("#amazon_manual-client_id", &creds.client_id).await;
        self.fill("#amazon_manual-client_secret", &creds.client_secret).await;
        self.fill("#amazon_manual-refresh_token", &creds.refresh_token).await;
        self.client
            .find(Locator::Css("#amazon_manual-marketplace_id"))
            .await
            .expect("marketplace")
            .select_by_value("ATVPDKIKX0DER")
            .await
            .expect("US");
        self.press("[data-platform=amazon]", "Connect Amazon").await;
        assert!(self.flash().await.contains("Connected to Amazon store"));
    }

    /// Saves a screenshot when `JAVELIN_SCREENSHOT_DIR` is set, to look at the pages.
    async fn snapshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("JAVELIN_SCREENSHOT_DIR") {
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).expect("write screenshot");
        }
    }

    async fn close(self) {
        let _ = self.client.clone().close().await;
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
    // An administrator's sidebar: a member's has no Users and no Audit log (tests/server.rs).
    assert_eq!(
        labels,
        [
            "Dashboard",
            "Orders",
            "Inventory",
            "Connect Platforms",
            "Users",
            "Audit log",
            "Your account"
        ]
    );
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

    // On a phone the sidebar becomes a top bar whose menu opens on demand.
    c.set_window_size(390, 844).await.expect("resize");
    let toggle = c.find(Locator::Css(".menu-toggle")).await.expect("menu button");
    let first_link = c.find(Locator::Css(".nav a")).await.expect("nav link");
    assert!(toggle.is_displayed().await.expect("displayed"));
    assert!(
        !first_link.is_displayed().await.expect("displayed"),
        "the menu starts closed"
    );
    toggle.click().await.expect("open the menu");
    assert!(first_link.is_displayed().await.expect("displayed"));
    assert_eq!(
        toggle.attr("aria-expanded").await.expect("attr").as_deref(),
        Some("true")
    );
    browser.snapshot("mobile-menu").await;
    c.set_window_size(1280, 900).await.expect("resize");

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

#[tokio::test]
async fn amazon_oauth_manual_test_and_disconnect_in_the_browser() {
    let app = TestApp::start_with_admin(TestDatabase::sqlite().await).await;
    let creds = sample(&app).amazon;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app).await;

    // Option 1: OAuth through the sandbox's consent page.
    browser.open("Connect via OAuth (Recommended)").await;
    browser.fill("#amazon_oauth-client_id", &creds.client_id).await;
    browser.fill("#amazon_oauth-client_secret", &creds.client_secret).await;
    c.find(Locator::Css("#amazon_oauth-marketplace_id"))
        .await
        .expect("marketplace")
        .select_by_value("A21TJRUUN4KGV")
        .await
        .expect("India");
    let region = c
        .find(Locator::Css("#amazon_oauth-region"))
        .await
        .expect("region")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(region.as_deref(), Some("EU"), "the region follows the marketplace");
    browser
        .fill("#amazon_oauth-application_id", &creds.application_id)
        .await;
    browser.click("#amazon_oauth-draft").await;
    browser.snapshot("oauth-form").await;
    browser.press("[data-platform=amazon]", "Start OAuth Flow").await;
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Authorize']"))
        .await
        .expect("Amazon's consent page");
    browser.snapshot("consent").await;
    c.find(Locator::XPath("//button[normalize-space()='Authorize']"))
        .await
        .expect("Authorize")
        .click()
        .await
        .expect("click");
    let flash = browser.flash().await;
    assert!(
        flash.contains("Connected to Amazon store “Javelin Sandbox Store”"),
        "{flash}"
    );
    assert_eq!(
        browser.text("[data-platform=amazon] .card-head .badge").await,
        "Connected"
    );
    browser.snapshot("connected").await;

    // Option 2: manual, with the sandbox's ready refresh token.
    browser.connect_amazon_manually(&creds).await;
    assert_eq!(
        c.find_all(Locator::Css("[data-platform=amazon] .connection"))
            .await
            .expect("rows")
            .len(),
        2
    );

    // Test Connection on the first account.
    browser
        .press("[data-platform=amazon] .connection", "Test Connection")
        .await;
    assert!(browser.flash().await.contains("Javelin Sandbox Store"));

    // Disconnect both, confirming the dialog.
    for remaining in [1, 0] {
        browser.press("[data-platform=amazon] .connection", "Disconnect").await;
        let question = c.get_alert_text().await.expect("a confirm dialog");
        assert!(
            question.contains("All stored credentials will be removed"),
            "{question}"
        );
        c.accept_alert().await.expect("confirm");
        assert!(browser.flash().await.starts_with("Disconnected."));
        assert_eq!(
            c.find_all(Locator::Css("[data-platform=amazon] .connection"))
                .await
                .expect("rows")
                .len(),
            remaining
        );
    }
    assert_eq!(
        browser.text("[data-platform=amazon] .card-head .badge").await,
        "Not Connected"
    );
    browser.close().await;
}

#[tokio::test]
async fn flipkart_with_and_without_api_keys_in_the_browser() {
    let app = TestApp::start_with_admin(TestDatabase::sqlite().await).await;
    let creds = sample(&app).flipkart;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app).await;

    browser.open("Connect Flipkart (Enter Credentials)").await;
    browser.fill("#flipkart-username", "my-flipkart-seller").await;
    browser.fill("#flipkart-password", "seller hub password").await;
    browser.press("[data-platform=flipkart]", "Connect Flipkart").await;
    assert!(browser.flash().await.contains("Incomplete Configuration"));
    let badge = c
        .find(Locator::Css("[data-platform=flipkart] .card-head .badge"))
        .await
        .expect("badge");
    assert_eq!(badge.text().await.expect("text"), "Incomplete Configuration");
    let colour = badge.css_value("background-color").await.expect("colour");
    assert_eq!(colour, "rgba(254, 249, 195, 1)", "yellow: #fef9c3");
    browser.snapshot("flipkart-incomplete").await;

    browser.open("Connect Flipkart (Enter Credentials)").await;
    browser.fill("#flipkart-username", "my-flipkart-seller").await;
    browser.fill("#flipkart-password", "seller hub password").await;
    browser.fill("#flipkart-api_key", &creds.api_key).await;
    browser.fill("#flipkart-api_secret", &creds.api_secret).await;
    browser.press("[data-platform=flipkart]", "Connect Flipkart").await;
    assert!(
        browser
            .flash()
            .await
            .starts_with("Connected to the Flipkart Seller API")
    );

    // Without JavaScript, Disconnect leads to a confirmation page: the same page, reached by its link.
    let href = c
        .find(Locator::XPath("//a[normalize-space()='Disconnect']"))
        .await
        .expect("Disconnect")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    c.goto(&app.url(&href)).await.expect("confirmation page");
    assert!(browser.text("h2").await.starts_with("Disconnect “my-flipkart-seller”?"));
    browser.snapshot("disconnect-confirm").await;
    browser.press("main", "Disconnect").await;
    assert!(browser.flash().await.starts_with("Disconnected."));
    browser.close().await;
}

/// A client secret rotated in Amazon's Developer Central and not given to Javelin: the card turns
/// to Connection Error; "Update credentials" refuses a mistyped secret without changing anything,
/// then takes the new one in place.
#[tokio::test]
async fn a_rotated_client_secret_is_updated_from_the_card() {
    let app = TestApp::start_with_admin(TestDatabase::sqlite().await).await;
    let creds = sample(&app).amazon;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app).await;
    browser.connect_amazon_manually(&creds).await;
    let row = "[data-platform=amazon] .connection";
    let badge = format!("{row} .badge");

    // The card leads to Developer Central (the sandbox's), where the seller rotates the secret.
    browser.open("Update credentials").await;
    let console = c
        .find(Locator::XPath(
            "//details[@class='update-credentials']//a[normalize-space()='Developer Central']",
        ))
        .await
        .expect("a link to Developer Central")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    assert_eq!(
        console,
        format!("{}/amazon/sellingpartner/developerconsole", app.sandbox_base)
    );
    c.goto(&console).await.expect("Developer Central");
    assert_eq!(browser.text("#client-secret").await, creds.client_secret);
    browser.press("main", "Rotate secret").await;
    let rotated = c
        .wait()
        .for_element(Locator::XPath(&format!(
            "//code[@id='client-secret'][normalize-space()!='{}']",
            creds.client_secret
        )))
        .await
        .expect("a new secret")
        .text()
        .await
        .expect("text");
    assert_eq!(rotated, app.sandbox.amazon_client_secret());
    c.goto(&app.url("/connections")).await.expect("back to Javelin");
    app.sandbox.clock().advance(time::Duration::days(8));
    // Past the minute in which a test result is reused.
    app.clock.advance(time::Duration::minutes(2));
    browser.press(row, "Test Connection").await;
    assert!(
        browser
            .flash()
            .await
            .contains("The client secret was rotated or has expired — update it")
    );
    assert_eq!(browser.text(&badge).await, "Connection Error");

    let tail = |secret: &str| format!("••••{}", &secret[secret.len() - 4..]);
    browser.open("Update credentials").await;
    let field = c
        .find(Locator::Css("[id$=-client_secret][id^=u-]"))
        .await
        .expect("new client secret");
    let placeholder = field.attr("placeholder").await.expect("placeholder");
    assert_eq!(
        placeholder,
        Some(format!("now {}", tail(&creds.client_secret))),
        "the stored one, masked"
    );
    assert_eq!(field.attr("type").await.expect("type").as_deref(), Some("password"));
    field.send_keys("amzn1.oa2-cs.v1.mistyped").await.expect("type");
    browser.press(row, "Test and save").await;
    let refused = browser.flash().await;
    assert!(
        refused.starts_with("The new credentials were not saved:") && refused.ends_with("Nothing was changed."),
        "{refused}"
    );
    assert_eq!(
        browser.text(&badge).await,
        "Connection Error",
        "the status is unchanged"
    );

    browser.open("Update credentials").await;
    browser.fill("[id$=-client_secret][id^=u-]", &rotated).await;
    browser.snapshot("update-credentials").await;
    browser.press(row, "Test and save").await;
    let saved = browser.flash().await;
    assert!(saved.starts_with("Credentials updated."), "{saved}");
    assert_eq!(browser.text(&badge).await, "Connected");
    let shown = browser.text(&format!("{row} .credentials")).await;
    assert!(
        shown.contains(&tail(&rotated)) && !shown.contains(&tail(&creds.client_secret)),
        "{shown}"
    );
    assert!(
        !c.source().await.expect("page").contains(&rotated),
        "never shown back in full"
    );
    browser.close().await;
}

/// The SKUs the Inventory table shows, top to bottom, and which of them carry the low badge.
async fn inventory_rows(browser: &Browser) -> (Vec<String>, Vec<String>) {
    let (mut skus, mut low) = (Vec::new(), Vec::new());
    for row in browser
        .client
        .find_all(Locator::Css("table.inventory tbody tr"))
        .await
        .expect("rows")
    {
        let sku = row.attr("data-sku").await.expect("attr").expect("a SKU");
        let badges = row.find_all(Locator::Css(".badge")).await.expect("badges");
        if let Some(badge) = badges.first() {
            assert_eq!(badge.text().await.expect("text"), "Low stock");
            low.push(sku.clone());
        }
        skus.push(sku);
    }
    (skus, low)
}

#[tokio::test]
async fn inventory_highlights_low_stock_filters_searches_and_sets_thresholds() {
    let app = TestApp::start_with_admin(TestDatabase::sqlite().await).await;
    let amazon = app.db.connection("amazon").await.expect("connection");
    let flipkart = app.db.connection("flipkart").await.expect("connection");
    let level = |sku: &str, location: &str, available: i64, title: &str| javelin_model::StockLevel {
        marketplace_id: None,
        sku: sku.into(),
        location: location.into(),
        product_id: None,
        title: Some(title.into()),
        available,
        reserved: 0,
        inbound: 0,
        unfulfillable: 0,
        updated_at: None,
    };
    let now = javelin_storage::Timestamp::now();
    let mut tx = app.db.storage.begin().await.expect("begin");
    tx.upsert_stock(
        amazon,
        &[
            level("CHAIR-3", "fba", 4, "Folding chair"),
            level("DESK-2", "fba", 30, "Standing desk"),
            level("LAMP-1", "fbm", 1, "Desk lamp"),
        ],
        now,
    )
    .await
    .expect("stock");
    tx.upsert_stock(
        flipkart,
        &[
            level("CHAIR-3", "LOC1", 2, "Folding chair"),
            level("DESK-2", "LOC1", 10, "Standing desk"),
        ],
        now,
    )
    .await
    .expect("stock");
    tx.commit().await.expect("commit");
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app).await;

    c.find(Locator::LinkText("Inventory"))
        .await
        .expect("sidebar")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("table.inventory tbody tr"))
        .await
        .expect("the stock table");
    let (skus, low) = inventory_rows(&browser).await;
    assert_eq!(skus, ["CHAIR-3", "DESK-2", "LAMP-1"], "a row per SKU across accounts");
    assert_eq!(low, ["LAMP-1"], "1 is at most 5; 4 + 2 is not");
    assert_eq!(browser.text("tr[data-sku='CHAIR-3'] td.total").await, "6");
    let tint = c
        .find(Locator::Css("tr[data-sku='LAMP-1'] td"))
        .await
        .expect("cell")
        .css_value("background-color")
        .await
        .expect("colour");
    assert_eq!(
        tint, "rgba(254, 242, 242, 1)",
        "the low row is tinted as well as badged"
    );
    browser.snapshot("inventory-low").await;

    // Low stock only: the address keeps the filter, and so does the export.
    browser.click("#f-low").await;
    browser.press("form.filters", "Show").await;
    c.wait()
        .for_element(Locator::LinkText("Clear filters"))
        .await
        .expect("the filtered view");
    let address = c.current_url().await.expect("url");
    assert!(
        address.query().is_some_and(|q| q.contains("low_stock=true")),
        "the filter in the address: {address}"
    );
    assert_eq!(inventory_rows(&browser).await.0, ["LAMP-1"]);
    let export = c
        .find(Locator::LinkText("Export CSV"))
        .await
        .expect("export link")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(export.as_deref(), Some("/api/v1/inventory.csv?low_stock=true"));

    // Search by a title word: the lamp's title and the desk's both say "desk".
    browser.press("form.filters", "Clear filters").await;
    c.wait()
        .for_element(Locator::Css("tr[data-sku='CHAIR-3']"))
        .await
        .expect("every SKU again");
    browser.fill("#f-q", "DESK").await;
    browser.press("form.filters", "Show").await;
    c.wait()
        .for_element(Locator::LinkText("Clear filters"))
        .await
        .expect("the search");
    assert_eq!(inventory_rows(&browser).await.0, ["DESK-2", "LAMP-1"]);
    let address = c.current_url().await.expect("url");
    assert!(
        address.query().is_some_and(|q| q.contains("q=DESK")),
        "the search in the address: {address}"
    );

    // A higher threshold makes the desk low; the search stays.
    let field = c
        .find(Locator::Css("tr[data-sku='DESK-2'] input[name=threshold]"))
        .await
        .expect("the desk's threshold");
    field.clear().await.expect("clear");
    field.send_keys("40").await.expect("type");
    browser.click("tr[data-sku='DESK-2'] form.threshold button").await;
    assert_eq!(browser.flash().await, "Low-stock threshold of DESK-2 set to 40.");
    assert_eq!(c.current_url().await.expect("url").query(), Some("q=DESK"));
    assert_eq!(
        inventory_rows(&browser).await.1,
        ["DESK-2", "LAMP-1"],
        "40 is at most 40"
    );
    let kept = c
        .find(Locator::Css("tr[data-sku='DESK-2'] input[name=threshold]"))
        .await
        .expect("the desk's threshold")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("40"));
    browser.snapshot("inventory-threshold").await;
    browser.close().await;
}

#[tokio::test]
async fn sync_now_shows_progress_then_the_orders_and_stock() {
    // Twenty-two pages of North American orders: the burst, then two pages 3.6 s apart.
    let options = javelin_sandbox::SandboxOptions {
        orders: 6600,
        time_scale: 50.0,
        ..javelin_sandbox::SandboxOptions::default()
    };
    let app = TestApp::start_with_sandbox(TestDatabase::sqlite().await, options, |config| {
        config.admin = Some(javelin::config::AdminSeed {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
        });
    })
    .await;
    let creds = sample(&app).amazon;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app).await;
    browser.connect_amazon_manually(&creds).await;
    assert_eq!(
        browser.text("[data-sync-panel] [data-kind=orders] .last-success").await,
        "Never"
    );

    browser.press("[data-platform=amazon] .connection", "Sync now").await;
    assert_eq!(browser.flash().await, "Orders and inventory sync started.");
    let progress = c
        .wait()
        .for_element(Locator::Css("[data-sync-panel][data-busy] .job-row progress"))
        .await
        .expect("a progress bar while the sync runs");
    assert!(progress.is_displayed().await.expect("displayed"));
    browser.snapshot("sync-running").await;
    // The page is not reloaded: the panel updates itself until the sync ends.
    c.execute("window.stillHere = true", vec![]).await.expect("script");
    c.wait()
        .at_most(std::time::Duration::from_secs(90))
        .for_element(Locator::Css("[data-sync-panel]:not([data-busy])"))
        .await
        .expect("the panel shows the sync ended");
    let same_page = c
        .execute("return window.stillHere === true", vec![])
        .await
        .expect("script");
    assert_eq!(same_page, serde_json::Value::Bool(true), "no reload");
    let last = browser.text("[data-sync-panel] [data-kind=orders] .last-success").await;
    assert_ne!(last, "Never", "the orders sync succeeded");
    browser.snapshot("sync-done").await;

    let stored = app.db.storage.count_orders(None).await.expect("count");
    assert!(stored > 2000, "{stored}");
    c.find(Locator::LinkText("Orders"))
        .await
        .expect("sidebar")
        .click()
        .await
        .expect("click");
    let rows = c.wait().for_element(Locator::Css("table.orders tbody tr")).await;
    assert!(rows.is_ok(), "the orders table");
    let shown = c
        .find_all(Locator::Css("table.orders tbody tr"))
        .await
        .expect("rows")
        .len();
    assert_eq!(shown, 50, "a page of the newest orders");
    let newest = app
        .db
        .storage
        .list_orders(&javelin_storage::OrderFilter::connection(None), 1, None)
        .await
        .expect("newest");
    let first = browser.text("table.orders tbody tr td.mono").await;
    assert_eq!(Some(first.as_str()), newest.first().map(|o| o.external_id.as_str()));
    browser.snapshot("orders").await;

    // Filter to shipped orders: the address keeps the filter, every row is shipped, the export
    // link carries it, and an order opens on its own page.
    c.find(Locator::Css("#f-status"))
        .await
        .expect("status filter")
        .select_by_value("shipped")
        .await
        .expect("choose shipped");
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .expect("Show")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::LinkText("Clear filters"))
        .await
        .expect("the filtered view");
    let address = c.current_url().await.expect("url");
    assert!(
        address.query().is_some_and(|q| q.contains("status=shipped")),
        "the filter in the address: {address}"
    );
    let badges = c
        .find_all(Locator::Css("table.orders tbody .badge"))
        .await
        .expect("rows");
    assert!(!badges.is_empty(), "shipped orders were synced");
    for badge in &badges {
        assert_eq!(badge.text().await.expect("text"), "Shipped");
    }
    let export = c
        .find(Locator::LinkText("Export CSV"))
        .await
        .expect("export link")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(export.as_deref(), Some("/api/v1/orders.csv?status=shipped"));
    c.find(Locator::Css("table.orders tbody td.mono a"))
        .await
        .expect("an order link")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("table.items tbody tr"))
        .await
        .expect("the order's items");
    assert!(browser.text("h1").await.starts_with("Order "));
    assert_eq!(browser.text("dl.facts .badge").await, "Shipped");
    assert!(
        !c.find_all(Locator::Css("ol.history li"))
            .await
            .expect("history")
            .is_empty()
    );
    browser.snapshot("order").await;

    c.find(Locator::LinkText("Inventory"))
        .await
        .expect("sidebar")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("table.inventory tbody tr"))
        .await
        .expect("the stock table");
    let mut held: Vec<String> = app
        .db
        .storage
        .list_stock(&javelin_storage::StockFilter::default(), 100_000, None)
        .await
        .expect("stock")
        .into_iter()
        .map(|row| row.sku)
        .collect();
    held.dedup();
    let shown = c
        .find_all(Locator::Css("table.inventory tbody tr"))
        .await
        .expect("rows")
        .len();
    assert_eq!(shown, held.len().min(50), "a row per SKU");
    browser.snapshot("inventory").await;

    // Search the orders for the newest one's id: that order alone.
    let newest_id = newest.first().map(|o| o.external_id.clone()).expect("an order");
    c.find(Locator::LinkText("Orders"))
        .await
        .expect("sidebar")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("#f-q"))
        .await
        .expect("the search box");
    browser.fill("#f-q", &newest_id).await;
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .expect("Show")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::LinkText("Clear filters"))
        .await
        .expect("the search");
    let found: Vec<String> = {
        let mut ids = Vec::new();
        for cell in c
            .find_all(Locator::Css("table.orders tbody tr td.mono"))
            .await
            .expect("rows")
        {
            ids.push(cell.text().await.expect("text"));
        }
        ids
    };
    assert_eq!(
        found,
        std::slice::from_ref(&newest_id),
        "the search finds the order by its id"
    );
    // The export link downloads exactly what the page shows, as an attachment.
    let download = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const link = document.querySelector('a.export');
             fetch(link.href).then(async r => done([r.headers.get('content-disposition'), await r.text()]));",
            vec![],
        )
        .await
        .expect("download");
    assert!(
        download[0].as_str().is_some_and(|d| d.starts_with("attachment")),
        "{download}"
    );
    let csv = download[1].as_str().expect("CSV");
    assert_eq!(csv.lines().count(), 2, "the header and the one order: {csv}");
    assert!(csv.contains(&newest_id));

    // The dashboard draws its charts, with the same figures as its tables.
    c.find(Locator::LinkText("Dashboard"))
        .await
        .expect("sidebar")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("figure.chart svg"))
        .await
        .expect("a chart");
    let charts = c
        .find_all(Locator::Css("figure.chart svg"))
        .await
        .expect("charts")
        .len();
    assert!(charts >= 3, "orders, revenue, statuses: {charts}");
    let total: i64 = browser.text("#stat-orders").await.parse().expect("a number");
    let by_status = c
        .execute(
            "return [...document.querySelectorAll('#by-status tbody td.num')].reduce((sum, td) => sum + Number(td.textContent), 0)",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(by_status.as_i64(), Some(total), "the statuses add up to the orders");
    assert!(total > 0, "synced orders fall in the last 30 days");
    browser.snapshot("dashboard").await;

    // On a phone: nothing wider than the screen, the charts shrink to fit.
    c.set_window_size(390, 844).await.expect("phone size");
    c.refresh().await.expect("reload");
    c.wait()
        .for_element(Locator::Css("figure.chart svg"))
        .await
        .expect("a chart");
    let fits = c
        .execute(
            "const w = document.documentElement.clientWidth;
             return document.documentElement.scrollWidth <= w
                 && [...document.querySelectorAll('figure.chart svg')].every(svg => svg.getBoundingClientRect().width <= w);",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(fits, serde_json::Value::Bool(true), "the dashboard fits a phone");
    browser.snapshot("dashboard-phone").await;
    browser.close().await;
}
