//! The command line. Every setting is a flag and an environment variable of the same meaning.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "javelin",
    version,
    about = "Javelin OMS: orders and stock from every marketplace account in one place.",
    long_about = "Javelin OMS: orders and stock from every marketplace account in one place.\n\n\
                  With no command, `javelin` serves the web app (as `javelin serve`). Settings come \
                  from flags, environment variables, or a .env file in the working directory."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and API (the default).
    Serve,
    /// Apply the database migrations and exit (they also run at every start).
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is asked at a prompt, or read from the first line of
    /// standard input when it is not a terminal.
    Create {
        /// The user's email address, used to sign in.
        #[arg(long)]
        email: String,
        /// `admin` or `member`.
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

/// Settings shared by every command; validated into a [`crate::config::Config`].
#[derive(Debug, Args)]
pub struct Settings {
    /// Database: sqlite://PATH (default: sqlite://$JAVELIN_DATA_DIR/javelin.db) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder for Javelin's own files (the SQLite database, the encryption key file).
    #[arg(
        long,
        env = "JAVELIN_DATA_DIR",
        global = true,
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Address and port to serve on.
    #[arg(
        long,
        env = "JAVELIN_LISTEN",
        global = true,
        default_value = "127.0.0.1:8000"
    )]
    pub listen: String,

    /// The address users reach Javelin at; the base for redirects after OAuth.
    #[arg(
        long,
        env = "FRONTEND_URL",
        global = true,
        default_value = "http://localhost:8000"
    )]
    pub frontend_url: String,

    /// The OAuth redirect URI registered with your Amazon SP-API application.
    #[arg(
        long,
        env = "AMAZON_OAUTH_REDIRECT_URI",
        global = true,
        default_value = "http://localhost:8000/connections/amazon/oauth/callback"
    )]
    pub amazon_oauth_redirect_uri: String,

    /// Email of an administrator to create at start when no user exists (with --admin-password).
    #[arg(long, env = "JAVELIN_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,

    /// Password of that administrator. Prefer the environment variable to the flag.
    #[arg(
        long,
        env = "JAVELIN_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,

    /// Log level filter, e.g. `info` or `javelin=debug,sqlx=warn`.
    #[arg(long, env = "JAVELIN_LOG", global = true, default_value = "info")]
    pub log: String,

    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(
        long,
        env = "JAVELIN_LOG_FORMAT",
        global = true,
        default_value = "pretty"
    )]
    pub log_format: String,
}
