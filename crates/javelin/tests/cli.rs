//! The `javelin` binary as an operator meets it.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::Process;

/// Every variable Javelin reads, so that the caller's environment does not leak into a test.
const VARS: [&str; 19] = [
    "DATABASE_URL",
    "JAVELIN_DATA_DIR",
    "JAVELIN_LISTEN",
    "FRONTEND_URL",
    "AMAZON_OAUTH_REDIRECT_URI",
    "JAVELIN_ADMIN_EMAIL",
    "JAVELIN_ADMIN_PASSWORD",
    "JAVELIN_LOG",
    "JAVELIN_LOG_FORMAT",
    "JAVELIN_MASTER_KEY",
    "AMAZON_LWA_TOKEN_URL",
    "AMAZON_CONSENT_URL",
    "AMAZON_SPAPI_URL",
    "FLIPKART_API_URL",
    "JAVELIN_NEW_MASTER_KEY",
    "JAVELIN_SYNC_WORKERS",
    "JAVELIN_SYNC_LEASE_SECONDS",
    "JAVELIN_MAX_CONNECTIONS",
    "JAVELIN_HISTORY_DAYS",
];

fn javelin(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_javelin"));
    command.current_dir(dir).stdin(Stdio::null());
    for var in VARS {
        command.env_remove(var);
    }
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_configuration_is_one_line_naming_the_variable_and_exit_code_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("JAVELIN_LISTEN", "not-an-address"),
        ("DATABASE_URL", "mysql://root@localhost/javelin"),
        ("DATABASE_URL", "no scheme at all"),
        ("FRONTEND_URL", "localhost:8000"),
        ("AMAZON_OAUTH_REDIRECT_URI", "ftp://example.com/callback"),
        ("JAVELIN_LOG", "javelin=loud"),
        ("JAVELIN_LOG_FORMAT", "xml"),
        ("JAVELIN_ADMIN_EMAIL", "not-an-email"),
        ("JAVELIN_SYNC_WORKERS", "0"),
        ("JAVELIN_SYNC_LEASE_SECONDS", "1"),
        ("JAVELIN_HISTORY_DAYS", "731"),
    ];
    for (var, value) in cases {
        let mut command = javelin(dir.path());
        command.arg("migrate").env(var, value);
        if var == "JAVELIN_ADMIN_EMAIL" {
            command.env("JAVELIN_ADMIN_PASSWORD", "long enough password");
        }
        let output = command.output().expect("run javelin");
        assert_eq!(output.status.code(), Some(2), "{var}={value}: {}", stderr(&output));
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{var}={value}: {message}");
        assert!(
            message.starts_with("error: ") && message.contains(var),
            "{var}={value}: {message}"
        );
    }
    // A password is never echoed back.
    let output = javelin(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "mysql://root:hunter2secret@localhost/javelin")
        .output()
        .expect("run javelin");
    assert!(!stderr(&output).contains("hunter2secret"));
    // Half an admin is a mistake, not a silent no-op.
    let output = javelin(dir.path())
        .arg("migrate")
        .env("JAVELIN_ADMIN_EMAIL", "a@example.com")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("JAVELIN_ADMIN_PASSWORD"));
}

#[test]
fn a_dotenv_file_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".env"), "JAVELIN_LOG_FORMAT=xml\n").expect("write .env");
    let output = javelin(dir.path()).arg("migrate").output().expect("run javelin");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("JAVELIN_LOG_FORMAT"));
}

#[test]
fn help_explains_commands_and_variables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = javelin(dir.path()).arg("--help").output().expect("run javelin");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for word in [
        "serve",
        "migrate",
        "user",
        "DATABASE_URL",
        "JAVELIN_LISTEN",
        "FRONTEND_URL",
        "AMAZON_OAUTH_REDIRECT_URI",
        "JAVELIN_LOG_FORMAT",
    ] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
    }
    let output = javelin(dir.path())
        .args(["user", "create", "--help"])
        .output()
        .expect("run javelin");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--email") && help.contains("standard input"), "{help}");
}

fn create_user(dir: &Path, email: &str, password: &str) -> Output {
    create_user_with(dir, &["--email", email], password)
}

fn create_user_with(dir: &Path, args: &[&str], password: &str) -> Output {
    let mut child = javelin(dir)
        .args(["user", "create"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run javelin");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("write password");
    drop(stdin);
    child.wait_with_output().expect("javelin exits")
}

#[test]
fn migrate_and_user_create_on_a_fresh_data_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = javelin(dir.path()).arg("migrate").output().expect("run javelin");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        dir.path().join("data/javelin.db").exists(),
        "default database in ./data"
    );

    let output = create_user(dir.path(), "Ops@Example.com", "a long password");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Created user ops@example.com (member).",
        "a member unless asked otherwise"
    );
    let output = create_user_with(
        dir.path(),
        &["--email", "boss@example.com", "--role", "admin"],
        "a long password",
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Created user boss@example.com (admin)."
    );

    let output = create_user(dir.path(), "ops@example.com", "another long password");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("exists already"), "{}", stderr(&output));

    let output = create_user(dir.path(), "new@example.com", "short");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("at least 8 characters"));
    let output = create_user(dir.path(), "new@example.com", "password1");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("10,000 most common passwords"),
        "{}",
        stderr(&output)
    );

    let output = javelin(dir.path())
        .args(["user", "create", "--email", "x@example.com", "--role", "boss"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn files_are_their_owners_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut serving = Process::spawn(
        javelin(dir.path())
            .env("JAVELIN_LISTEN", "127.0.0.1:0")
            .env("JAVELIN_LOG_FORMAT", "json"),
    );
    serving.wait_for_log("Javelin is serving");
    assert_eq!(mode(&data), 0o700, "the data folder");
    for file in ["javelin.db", "javelin.db-wal", "javelin.db-shm", "master.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let (status, said) = serving.terminate();
    assert!(status.success(), "{said:?}");

    // A key file others may read is refused, with the command that fixes it.
    let key = data.join("master.key");
    set_mode(&key, 0o640);
    let output = javelin(dir.path())
        .env("JAVELIN_LISTEN", "127.0.0.1:0")
        .output()
        .expect("run javelin");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("(mode 640)") && stderr(&output).contains("Run: chmod 600 ./data/master.key"),
        "{}",
        stderr(&output)
    );
    set_mode(&key, 0o600);

    // A database file left readable by others is made its owner's only.
    set_mode(&data.join("javelin.db"), 0o644);
    let output = javelin(dir.path()).arg("migrate").output().expect("run javelin");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&data.join("javelin.db")), 0o600);
    assert!(!stderr(&output).contains("--master-key"), "no warning without the flag");

    // The key as a flag works, with a warning: any user sees it in the process list.
    let other = tempfile::tempdir().expect("temp dir");
    let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let output = javelin(other.path())
        .args(["migrate", "--master-key", key])
        .output()
        .expect("run javelin");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--master-key shows the key to every user of this machine"),
        "{}",
        stderr(&output)
    );
    let output = javelin(other.path())
        .arg("migrate")
        .env("JAVELIN_MASTER_KEY", key)
        .output()
        .expect("run javelin");
    assert!(
        output.status.success() && !stderr(&output).contains("--master-key shows"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn serves_until_sigterm_then_stops_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut javelin = Process::spawn(
        javelin(dir.path())
            .env("JAVELIN_LISTEN", "127.0.0.1:0")
            .env("JAVELIN_LOG_FORMAT", "json"),
    );
    let serving = javelin.wait_for_log("Javelin is serving");
    let address = serving["address"].as_str().expect("address field").to_owned();
    let port = address.rsplit(':').next().expect("port");
    assert_eq!(
        serving["frontend_url"],
        format!("http://localhost:{port}/"),
        "the default front-end URL follows the port"
    );
    let health = std::net::TcpStream::connect(&address).expect("the server accepts connections");
    drop(health);
    let (status, said) = javelin.terminate();
    assert!(status.success(), "exit status {status}; log: {said:?}");
    assert!(said.iter().any(|line| line.contains("Javelin has stopped")), "{said:?}");
}

#[test]
fn sandbox_prints_the_same_credentials_unless_the_seed_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let print = |seed: Option<&str>| {
        let mut command = javelin(dir.path());
        command.args(["sandbox", "--print-credentials"]);
        if let Some(seed) = seed {
            command.args(["--seed", seed]);
        }
        let output = command.output().expect("run javelin");
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON")
    };
    let first = print(None);
    let keys =
        |value: &serde_json::Value| -> Vec<String> { value.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(keys(&first), ["amazon", "flipkart"]);
    assert_eq!(
        keys(&first["amazon"]),
        [
            "application_id",
            "client_id",
            "client_secret",
            "refresh_token",
            "selling_partner_id"
        ]
    );
    assert_eq!(keys(&first["flipkart"]), ["api_key", "api_secret"]);
    assert_eq!(print(None), first, "the same values on every run");
    assert_ne!(
        print(Some("7"))["amazon"]["client_secret"],
        first["amazon"]["client_secret"]
    );
}

#[test]
fn demo_serves_javelin_wired_to_the_sandbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut demo = Process::spawn(
        javelin(dir.path())
            .args(["demo", "--sandbox-listen", "127.0.0.1:0"])
            .env("JAVELIN_LISTEN", "127.0.0.1:0")
            .env("JAVELIN_LOG_FORMAT", "json")
            .stdout(Stdio::piped()),
    );
    let address = demo.wait_for_log("Javelin is serving")["address"]
        .as_str()
        .expect("address")
        .to_owned();
    assert!(std::net::TcpStream::connect(&address).is_ok());
    let mut stdout = demo.child().stdout.take().expect("stdout");
    let (status, said) = demo.terminate();
    assert!(status.success(), "{status}: {said:?}");
    let mut printed = String::new();
    stdout.read_to_string(&mut printed).expect("printed instructions");
    for expected in [
        "AMAZON_LWA_TOKEN_URL=http://127.0.0.1:",
        "/amazon/auth/o2/token",
        "FLIPKART_API_URL=",
        "Client Secret:",
        "API Secret:",
    ] {
        assert!(printed.contains(expected), "{expected} in {printed}");
    }
    assert!(
        dir.path().join("data/demo.db").exists(),
        "demo data stays out of the real database"
    );
}

/// The guide, followed against `javelin demo` as a newcomer would: OAuth (no draft checkbox:
/// the demo's app is published) and Flipkart with the printed sample credentials.
#[tokio::test]
async fn the_guide_works_against_javelin_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = javelin(dir.path())
        .args(["sandbox", "--print-credentials"])
        .output()
        .expect("credentials");
    assert!(output.status.success(), "{}", stderr(&output));
    let creds: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let text = |pointer: &str| {
        creds
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .expect(pointer)
            .to_owned()
    };

    // Any free port: the front-end URL and the redirect URI the sandbox registers follow it.
    let mut demo = Process::spawn(
        javelin(dir.path())
            .args(["demo", "--sandbox-listen", "127.0.0.1:0"])
            .env("JAVELIN_LISTEN", "127.0.0.1:0")
            .env("JAVELIN_ADMIN_EMAIL", common::ADMIN_EMAIL)
            .env("JAVELIN_ADMIN_PASSWORD", common::ADMIN_PASSWORD)
            .env("JAVELIN_LOG_FORMAT", "json")
            .stdout(Stdio::null()),
    );
    let serving = demo.wait_for_log("Javelin is serving");
    let base = serving["frontend_url"]
        .as_str()
        .expect("front-end URL")
        .trim_end_matches('/')
        .to_owned();

    let browser = common::browser_client();
    let page = |path: &str| browser.get(format!("{base}{path}")).send();
    let html = page("/login").await.expect("GET").text().await.expect("page");
    let token = common::hidden_field(&html, "csrf_token").expect("token");
    let form = [
        ("csrf_token", token.as_str()),
        ("email", common::ADMIN_EMAIL),
        ("password", common::ADMIN_PASSWORD),
    ];
    browser
        .post(format!("{base}/login"))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    let html = page("/connections").await.expect("GET").text().await.expect("page");
    let token = common::hidden_field(&html, "csrf_token").expect("token");

    let start = [
        ("csrf_token", token.clone()),
        ("client_id", text("/amazon/client_id")),
        ("client_secret", text("/amazon/client_secret")),
        ("marketplace_id", "ATVPDKIKX0DER".into()),
        ("region", "NA".into()),
        ("application_id", text("/amazon/application_id")),
    ];
    let response = browser
        .post(format!("{base}/connections/amazon/oauth/start"))
        .form(&start)
        .send()
        .await
        .expect("start");
    let consent = common::location(&response).to_owned();
    let consent_page = browser
        .get(&consent)
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("page");
    let field =
        |name: &str| common::hidden_field(&consent_page, name).unwrap_or_else(|| panic!("{name}: {consent_page}"));
    let confirm = url::Url::parse(&consent).expect("URL").join("confirm").expect("URL");
    let decision = [
        ("application_id", field("application_id")),
        ("state", field("state")),
        ("redirect_uri", field("redirect_uri")),
        ("decision", "authorize".into()),
    ];
    let response = browser
        .post(confirm.as_str())
        .form(&decision)
        .send()
        .await
        .expect("authorize");
    let back = common::location(&response).to_owned();
    browser.get(&back).send().await.expect("callback");
    let html = page("/connections").await.expect("GET").text().await.expect("page");
    assert!(
        common::flash_of(&html).contains("Connected to Amazon store"),
        "{}",
        common::flash_of(&html)
    );

    let flipkart = [
        ("csrf_token", token.clone()),
        ("username", "demo-seller".into()),
        ("password", "demo password".into()),
        ("api_key", text("/flipkart/api_key")),
        ("api_secret", text("/flipkart/api_secret")),
    ];
    browser
        .post(format!("{base}/connections/flipkart"))
        .form(&flipkart)
        .send()
        .await
        .expect("connect");
    let html = page("/connections").await.expect("GET").text().await.expect("page");
    assert!(
        common::flash_of(&html).starts_with("Connected to the Flipkart Seller API"),
        "{}",
        common::flash_of(&html)
    );

    let (status, said) = demo.terminate();
    assert!(status.success(), "{status}: {said:?}");
}

/// Amazon makes developers rotate their client secret: the sandbox's Developer Central does, and
/// `javelin sandbox` prints the new one, as Amazon shows it once, for the seller to give Javelin.
#[tokio::test]
async fn sandbox_prints_each_rotated_client_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sandbox = Process::spawn_reading_stdout(javelin(dir.path()).args([
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--client-secret-overlap-minutes",
        "30",
    ]));
    let intro = "Javelin marketplace sandbox on ";
    let line = sandbox.wait_for_line("the sandbox's address", |line| line.starts_with(intro));
    let base = line[intro.len()..]
        .split_whitespace()
        .next()
        .expect("address")
        .to_owned();
    let console = sandbox.wait_for_line("Developer Central", |line| line.starts_with("Developer Central"));
    assert!(
        console.ends_with(&format!("{base}/amazon/sellingpartner/developerconsole")),
        "{console}"
    );

    let rotation: serde_json::Value = common::api_client()
        .post(format!("{base}/_sandbox/amazon/rotate-client-secret"))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("JSON");
    let printed = sandbox.wait_for_line("the new secret", |line| line.contains("New Client Secret:"));
    assert_eq!(
        printed.trim(),
        format!(
            "New Client Secret: {}",
            rotation["client_secret"].as_str().expect("secret")
        )
    );
    let until = rotation["previous_works_until"].as_str().expect("until");
    sandbox.wait_for_line("until when the old one works", |line| {
        line.contains(&format!("keeps working until {until}, then"))
    });
}
