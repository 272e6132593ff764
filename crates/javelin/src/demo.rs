//! `javelin sandbox` and `javelin demo`.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use javelin_sandbox::Sandbox;
use url::Url;

use crate::EXIT_CONFIG;
use crate::cli::{SandboxArgs, SandboxData};
use crate::config::Config;

/// `javelin sandbox`: serves the simulators until Ctrl-C or SIGTERM.
pub fn sandbox_main(args: SandboxArgs) -> ExitCode {
    let listen = match args.listen.parse::<SocketAddr>() {
        Ok(listen) => listen,
        Err(_) => {
            eprintln!(
                "error: --listen: {:?} is not an address and port; expected e.g. 127.0.0.1:8001",
                args.listen
            );
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let mut redirect_uris = Vec::new();
    for uri in &args.redirect_uris {
        match Url::parse(uri) {
            Ok(url) => redirect_uris.push(url),
            Err(err) => {
                eprintln!("error: --redirect-uri: {uri:?} is not a URL ({err})");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    }
    let sandbox = Sandbox::new(args.data.options(redirect_uris, !args.published, false));
    if args.print_credentials {
        // Serialising plain strings cannot fail.
        println!(
            "{}",
            serde_json::to_string_pretty(sandbox.credentials()).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    crate::logging::init(&args.log, crate::config::LogFormat::Pretty);
    crate::block_on(async move {
        let shutdown = crate::server::shutdown_signal();
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let base = format!("http://{}", listener.local_addr()?);
        println!("{}", sandbox_instructions(&sandbox, &base));
        tokio::spawn(print_rotations(sandbox.clone()));
        axum::serve(listener, sandbox.router())
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn sandbox_instructions(sandbox: &Sandbox, base: &str) -> String {
    let creds = sandbox.credentials();
    format!(
        "Javelin marketplace sandbox on {base} (Amazon under /amazon, Flipkart under /flipkart)\n\n\
         Point Javelin at it with:\n  \
         AMAZON_LWA_TOKEN_URL={base}/amazon/auth/o2/token\n  \
         AMAZON_CONSENT_URL={base}/amazon\n  \
         AMAZON_SPAPI_URL={base}/amazon\n  \
         FLIPKART_API_URL={base}/flipkart\n\n\
         Sample Amazon app ({}):\n  \
         Application ID: {}\n  Client ID:      {}\n  Client Secret:  {}\n  \
         Refresh Token:  {} (a ready grant, for Connect Manually)\n  Seller:         {}\n\n\
         Developer Central (rotate the client secret): {base}/amazon/sellingpartner/developerconsole\n\n\
         Sample Flipkart app:\n  API Key:    {}\n  API Secret: {}\n",
        if sandbox.draft_app() {
            "a draft: tick \"My app is still a draft\""
        } else {
            "published"
        },
        creds.amazon.application_id,
        creds.amazon.client_id,
        sandbox.amazon_client_secret(),
        creds.amazon.refresh_token,
        creds.amazon.selling_partner_id,
        creds.flipkart.api_key,
        creds.flipkart.api_secret,
    )
}

/// Prints each new Amazon client secret made in the sandbox's Developer Central, as Amazon
/// hands it to the developer once.
async fn print_rotations(sandbox: Sandbox) {
    let mut rotations = sandbox.client_secret_rotations();
    while rotations.changed().await.is_ok() {
        let Some(rotation) = rotations.borrow_and_update().clone() else {
            continue;
        };
        let until = rotation
            .previous_works_until
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        println!(
            "Amazon client secret rotated in Developer Central.\n  New Client Secret: {}\n  \
             The previous one keeps working until {until}, then Login with Amazon answers invalid_client: \
             put the new one in with Update credentials on the connection's card.\n",
            rotation.client_secret
        );
    }
}

/// `javelin demo`: the sandbox and Javelin, wired to each other.
pub async fn run(config: Config, sandbox_listen: &str, data: SandboxData) -> anyhow::Result<ExitCode> {
    let shutdown = crate::server::shutdown_signal();
    let listen: SocketAddr = sandbox_listen
        .parse()
        .map_err(|_| anyhow::anyhow!("--sandbox-listen: {sandbox_listen:?} is not an address and port"))?;
    // Javelin's port first: the sandbox's app registers the redirect URI that names it.
    let javelin_listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {} (JAVELIN_LISTEN): {err}", config.listen))?;
    let mut config = config.bound_to(javelin_listener.local_addr()?);
    // Published, so that following the guide word by word needs no draft checkbox; live, so
    // that new orders keep arriving while the seller watches.
    let sandbox = Sandbox::new(data.options(vec![config.amazon_oauth_redirect_uri.clone()], false, true));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let base = Url::parse(&format!("http://{}", listener.local_addr()?))?;
    config.amazon.lwa_token_url = base.join("/amazon/auth/o2/token")?;
    config.amazon.consent_base = Some(base.join("/amazon")?);
    config.amazon.spapi_base = Some(base.join("/amazon")?);
    config.flipkart_api_url = base.join("/flipkart")?;
    if !config.database_is_explicit {
        // Demo connections stay out of the real database.
        config.database_url = format!("sqlite://{}", config.data_dir.join("demo.db").display());
    }
    let router = sandbox.router();
    let (stop_sandbox, sandbox_stopped) = tokio::sync::oneshot::channel::<()>();
    let sandbox_task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = sandbox_stopped.await;
            })
            .await
    });
    let server = crate::server::Server::with_listener(&config, javelin_listener).await?;
    tokio::spawn(print_rotations(sandbox.clone()));
    println!(
        "{}",
        sandbox_instructions(&sandbox, base.as_str().trim_end_matches('/'))
    );
    println!(
        "Javelin (demo, wired to the sandbox) on {} — open it and follow the Platform Connection Guide.\n",
        config.frontend_url
    );
    let served = server.run(shutdown).await;
    let _ = stop_sandbox.send(());
    let _ = sandbox_task.await;
    served?;
    Ok(ExitCode::SUCCESS)
}
