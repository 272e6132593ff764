//! The `javelin` binary: command line, configuration, and wiring of the crates into a server.

mod bench;
pub mod cli;
pub mod config;
mod demo;
pub mod edge;
pub mod keys;
mod logging;
pub mod server;
mod users;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, DemoArgs, KeyCommand, UserCommand};
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
    let (job, settings) = match cli.command.unwrap_or(Command::Serve(cli.settings)) {
        Command::Serve(settings) => (Job::Serve, settings),
        Command::Migrate(settings) => (Job::Migrate, settings),
        Command::User(UserCommand::Create { email, role, settings }) => (Job::CreateUser { email, role }, settings),
        Command::Key(KeyCommand::Rotate { new_key, settings }) => (Job::RotateKey { new_key }, settings),
        Command::Demo(DemoArgs {
            sandbox_listen,
            data,
            settings,
        }) => (Job::Demo { sandbox_listen, data }, settings),
        Command::Sandbox(args) => return demo::sandbox_main(args),
        Command::Bench(command) => return bench::main(command),
    };
    let config = match Config::from_settings(settings) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    logging::init(&config.log_filter, config.log_format);
    if master_key_in_arguments() {
        tracing::warn!(
            "--master-key shows the key to every user of this machine in the process list; \
             set JAVELIN_MASTER_KEY (or keep the key file) instead"
        );
    }
    block_on(run(job, config))
}

/// Whether the master key came as a command-line flag, which any user can read with `ps`
/// (the environment of another user's process cannot be).
fn master_key_in_arguments() -> bool {
    std::env::args_os()
        .filter_map(|arg| arg.into_string().ok())
        .any(|arg| arg == "--master-key" || arg.starts_with("--master-key="))
}

/// Runs a future on a new multi-threaded runtime, turning its error into exit code 1.
fn block_on(job: impl Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(job) {
        Ok(code) => code,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

enum Job {
    Serve,
    Migrate,
    CreateUser {
        email: String,
        role: String,
    },
    RotateKey {
        new_key: Option<String>,
    },
    Demo {
        sandbox_listen: String,
        data: cli::SandboxData,
    },
}

async fn run(job: Job, config: Config) -> anyhow::Result<ExitCode> {
    match job {
        Job::Serve => {
            tracing::info!(?config, "starting");
            let server = server::Server::build(&config).await?;
            server.run(server::shutdown_signal()).await?;
        }
        Job::Migrate => {
            server::open_storage(&config, &javelin_core::Clock::system())
                .await?
                .close()
                .await;
            println!("Database migrated.");
        }
        Job::CreateUser { email, role } => return users::create(&config, &email, &role).await,
        Job::RotateKey { new_key } => {
            let storage = server::open_storage(&config, &javelin_core::Clock::system()).await?;
            let rotated = keys::rotate(&config, &storage, new_key.as_deref()).await;
            storage.close().await;
            rotated?;
        }
        Job::Demo { sandbox_listen, data } => return demo::run(config, &sandbox_listen, data).await,
    }
    Ok(ExitCode::SUCCESS)
}
