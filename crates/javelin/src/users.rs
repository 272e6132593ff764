//! `javelin user create`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use javelin_core::{AccountError, Accounts, Actor, Clock};

use crate::EXIT_CONFIG;
use crate::config::Config;

pub async fn create(config: &Config, email: &str, role: &str) -> anyhow::Result<ExitCode> {
    let Some(role) = javelin_core::accounts::role_named(role) else {
        eprintln!("error: --role {role:?} is not one of: admin, member");
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let password = read_password()?;
    let clock = Clock::system();
    let storage = crate::server::open_storage(config, &clock).await?;
    let accounts = Accounts::new(storage.clone(), clock)?;
    // The operator at the server's console acts as the system.
    let result = accounts.create_user(&Actor::system(), email, &password, role).await;
    storage.close().await;
    match result {
        Ok(user) => {
            println!(
                "Created user {} ({}).",
                user.email,
                javelin_core::accounts::role_name(role)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ (AccountError::InvalidEmail | AccountError::Password(_) | AccountError::EmailTaken)) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
        Err(err) => Err(err.into()),
    }
}

/// From a prompt (asked twice) on a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(password == again, "the two passwords are not the same");
        Ok(password)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
