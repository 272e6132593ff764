//! The `javelin` binary: command line, configuration, and wiring of the crates into a server.

pub mod cli;
pub mod config;
mod logging;
pub mod server;
mod users;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// Exit code for a configuration that cannot be used (as for command-line usage errors).
pub const EXIT_CONFIG: u8 = 2;

/// Runs the command line.
pub fn main() -> ExitCode {
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("error: .env: {err}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let cli = Cli::parse();
    let config = match Config::from_settings(cli.settings) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    logging::init(&config.log_filter, config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(code) => code,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            tracing::info!(?config, "starting");
            let server = server::Server::build(&config).await?;
            server.run(server::shutdown_signal()).await?;
        }
        Command::Migrate => {
            server::open_storage(&config).await?.close().await;
            println!("Database migrated.");
        }
        Command::User(cli::UserCommand::Create { email, role }) => {
            return users::create(&config, &email, &role).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
