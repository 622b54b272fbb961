use std::process::ExitCode;

use clap::Parser;
use kraftd::cli::{Cli, Command};
use kraftd::{commands, operator};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::init_logging();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve_command().await.map(|()| ExitCode::SUCCESS),
        Command::Keys { action } => operator::keys_command(action).await,
        Command::Secrets { action } => operator::secrets_command(action),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "kraftd failed");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
