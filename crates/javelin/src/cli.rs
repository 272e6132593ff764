//! The command line. Every setting is a flag and an environment variable of the same meaning.
//! No `Debug` on these types: they carry passwords and keys.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "javelin",
    version,
    about = "Javelin OMS: orders and stock from every marketplace account in one place.",
    long_about = "Javelin OMS: orders and stock from every marketplace account in one place.\n\n\
                  With no command, `javelin` serves the web app (as `javelin serve`). Settings come \
                  from flags, environment variables, or a .env file in the working directory."
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The settings of `serve`, when no command is given.
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the web app and API (the default).
    Serve(Settings),
    /// Apply the database migrations and exit (they also run at every start).
    Migrate(Settings),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the master key that encrypts stored credentials.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Serve the local marketplace sandbox: simulators of Amazon (Login with Amazon, the
    /// Seller Central consent page, SP-API) and of the Flipkart Seller API.
    Sandbox(SandboxArgs),
    /// Run Javelin and the sandbox together, wired to each other, to try every connection flow
    /// without a real marketplace account.
    Demo(DemoArgs),
    /// Measure Javelin against the limits it works within; each figure is printed beside a
    /// reference measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// The same sandbox history imported through Amazon's order reports and through
    /// searchOrders alone: the wall time of each and their ratio.
    Backfill {
        /// Orders in the North American account's marketplaces (the sandbox holds as many
        /// again in Europe and in the Far East).
        #[arg(long, default_value_t = 50_000)]
        orders: usize,
        /// How far back the orders go, and the import reads.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Let calls through, and build reports, this many times faster than Amazon.
        #[arg(long, default_value_t = 100.0)]
        time_scale: f64,
        /// The database to measure on (a new schema of PostgreSQL); a temporary SQLite file
        /// when not given.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// An all-orders report document of about --megabytes read and stored as a history import
    /// does it, beside the same document only read and the same orders plainly inserted, with
    /// resident memory as it goes.
    Report {
        #[arg(long, default_value_t = 100)]
        megabytes: u64,
        /// The database to measure on (a new schema of PostgreSQL); a temporary SQLite file
        /// when not given.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// One sync of an in-process sandbox's orders into a fresh store: the time it took beside
    /// the least Amazon's published rate limit allows for the pages it read, and the 429s drawn.
    Sync {
        /// Orders the sandbox holds (about a third in the North American marketplaces synced).
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        /// Let calls through this many times faster than Amazon's published rate limits.
        #[arg(long, default_value_t = 100.0)]
        time_scale: f64,
        /// The database to measure on (a new schema of PostgreSQL); a temporary SQLite file
        /// when not given.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Fill the store `serve` uses (DATABASE_URL or JAVELIN_DATA_DIR) with sample orders and
    /// stock through the sync path: three accounts (Amazon North America and Europe, Flipkart),
    /// five currencies, 1–5 items an order, two years of every status, 3,000 SKUs.
    Seed {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// The same seed gives the same orders.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// The Orders, Inventory and Dashboard answers of the store `serve` uses (fill it with
    /// `bench seed` first), served on loopback: each view's latency beside `/healthz`, the CSV
    /// export beside a plain SELECT, many clients at once beside the same on `/healthz`. Signs in
    /// as JAVELIN_ADMIN_EMAIL (created with JAVELIN_ADMIN_PASSWORD when the store has no user).
    Views {
        /// Timed requests per view.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Clients sending requests at once in the load test.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds each load test lasts.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Orders of 3 items stored through the sync path, beside a plain INSERT of the same rows
    /// in one transaction on the same kind of database.
    Ingest {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// The database to measure on (a new schema of PostgreSQL); a temporary SQLite file
        /// when not given.
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is asked at a prompt, or read from the first line of
    /// standard input when it is not a terminal.
    Create {
        /// The user's email address, used to sign in.
        #[arg(long)]
        email: String,
        /// `member` (sees every page, syncs, exports) or `admin` (also connects accounts and
        /// manages users).
        #[arg(long, default_value = "member")]
        role: String,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Re-encrypt every stored secret under a new master key, in one transaction. With a key
    /// file, the file is replaced; with JAVELIN_MASTER_KEY, the new key is printed. Stop every
    /// Javelin instance first: a running one would keep sealing with the old key.
    Rotate {
        /// The new key (base64 of 32 bytes); a random one when omitted.
        #[arg(long, env = "JAVELIN_NEW_MASTER_KEY", hide_env_values = true)]
        new_key: Option<String>,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Args)]
pub struct SandboxArgs {
    /// Address and port of the sandbox (Amazon under /amazon, Flipkart under /flipkart).
    #[arg(long, default_value = "127.0.0.1:8001")]
    pub listen: String,
    #[command(flatten)]
    pub data: SandboxData,
    /// Print the sample credentials as JSON and exit.
    #[arg(long)]
    pub print_credentials: bool,
    /// An OAuth redirect URI registered for the sample Amazon app (repeatable).
    #[arg(
        long = "redirect-uri",
        default_value = "http://localhost:8000/connections/amazon/oauth/callback"
    )]
    pub redirect_uris: Vec<String>,
    /// Make the sample Amazon app a published one (no `version=beta` needed).
    #[arg(long)]
    pub published: bool,
    /// Log level filter.
    #[arg(long, env = "JAVELIN_LOG", default_value = "info")]
    pub log: String,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Address and port of the sandbox.
    #[arg(long, default_value = "127.0.0.1:8001")]
    pub sandbox_listen: String,
    #[command(flatten)]
    pub data: SandboxData,
    #[command(flatten)]
    pub settings: Settings,
}

/// What the sandbox's marketplaces hold and how hard they are to deal with.
#[derive(Args, Clone)]
pub struct SandboxData {
    /// Changes the sample credentials and the generated data; the same seed gives the same
    /// values on every run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Amazon orders placed over the last `--days` days (Flipkart gets half as many, over 30).
    #[arg(long, default_value_t = 300)]
    pub orders: usize,
    /// How many days back the Amazon orders go (at most two years).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=730))]
    pub days: u32,
    /// How long Amazon takes to build one report, in minutes (divided by --time-scale).
    #[arg(long, default_value_t = 10)]
    pub report_minutes: u32,
    /// Let calls through this many times faster than Amazon's published rate limits (and say
    /// so in x-amzn-RateLimit-Limit).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// The share of calls (0 to 1) answered with a fault: 429, 500, 503, a slow answer, a
    /// connection cut off, malformed JSON.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// How long the Amazon app's previous client secret keeps working after a rotation in the
    /// sandbox's Developer Central (Amazon: 7 days).
    #[arg(long, default_value_t = 7 * 24 * 60)]
    pub client_secret_overlap_minutes: u32,
}

impl SandboxData {
    /// The sandbox's options with these data; `live` keeps new orders coming.
    pub fn options(
        &self,
        redirect_uris: Vec<url::Url>,
        draft_app: bool,
        live: bool,
    ) -> javelin_sandbox::SandboxOptions {
        javelin_sandbox::SandboxOptions {
            seed: self.seed,
            redirect_uris,
            draft_app,
            orders: self.orders,
            days: self.days,
            report_processing: time::Duration::minutes(i64::from(self.report_minutes)),
            live,
            time_scale: self.time_scale,
            fault_rate: self.fault_rate,
            client_secret_overlap: time::Duration::minutes(i64::from(self.client_secret_overlap_minutes)),
            ..javelin_sandbox::SandboxOptions::default()
        }
    }
}

/// Settings shared by every command; validated into a [`crate::config::Config`].
#[derive(Args)]
pub struct Settings {
    /// Database: sqlite://PATH (default: sqlite://$JAVELIN_DATA_DIR/javelin.db) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder for Javelin's own files (the SQLite database, the encryption key file).
    #[arg(long, env = "JAVELIN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Address and port to serve on.
    #[arg(long, env = "JAVELIN_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: String,

    /// The address users reach Javelin at; the base for redirects after OAuth
    /// [default: http://localhost:PORT, PORT being the one Javelin listens on].
    #[arg(long, env = "FRONTEND_URL")]
    pub frontend_url: Option<String>,

    /// The OAuth redirect URI registered with your Amazon SP-API application
    /// [default: FRONTEND_URL/connections/amazon/oauth/callback]. When set, the consent URL
    /// names it; when not, Amazon uses the app's first registered redirect URI.
    #[arg(long, env = "AMAZON_OAUTH_REDIRECT_URI")]
    pub amazon_oauth_redirect_uri: Option<String>,

    /// Key that encrypts stored credentials: base64 of 32 bytes. When unset, a key file is
    /// created in the data folder on first start.
    #[arg(long, env = "JAVELIN_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// Login with Amazon's token endpoint.
    #[arg(
        long,
        env = "AMAZON_LWA_TOKEN_URL",
        default_value = "https://api.amazon.com/auth/o2/token"
    )]
    pub amazon_lwa_token_url: String,

    /// Replaces the Seller Central base URL of Amazon's consent page (e.g. the local sandbox).
    #[arg(long, env = "AMAZON_CONSENT_URL")]
    pub amazon_consent_url: Option<String>,

    /// Replaces the regional SP-API host (e.g. the local sandbox).
    #[arg(long, env = "AMAZON_SPAPI_URL")]
    pub amazon_spapi_url: Option<String>,

    /// The Flipkart Seller API.
    #[arg(long, env = "FLIPKART_API_URL", default_value = "https://api.flipkart.net")]
    pub flipkart_api_url: String,

    /// Email of an administrator to create at start when no user exists (with --admin-password).
    #[arg(long, env = "JAVELIN_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// Password of that administrator. Prefer the environment variable to the flag.
    #[arg(long, env = "JAVELIN_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Log level filter, e.g. `info` or `javelin=debug,sqlx=warn`.
    #[arg(long, env = "JAVELIN_LOG", default_value = "info")]
    pub log: String,

    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(long, env = "JAVELIN_LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,

    /// Sync jobs this instance runs at once.
    #[arg(long, env = "JAVELIN_SYNC_WORKERS", default_value_t = 4)]
    pub sync_workers: u32,

    /// Seconds a sync job stays with an instance that stopped answering before another
    /// instance takes it over.
    #[arg(long, env = "JAVELIN_SYNC_LEASE_SECONDS", default_value_t = 120)]
    pub sync_lease_seconds: u64,

    /// Days of history a new Amazon connection imports through Amazon's order reports (its
    /// open orders first; its first orders sync then reads only the last two hours). 0: none,
    /// the first sync reads 30 days through searchOrders.
    #[arg(long, env = "JAVELIN_HISTORY_DAYS", default_value_t = 90)]
    pub history_days: u32,

    /// HTTP connections served at once; more wait until one ends. Keep it below the open-file
    /// limit (`ulimit -n`), which the database and log files share.
    #[arg(long, env = "JAVELIN_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: u32,
}
