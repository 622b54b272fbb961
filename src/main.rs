use std::process::ExitCode;

use clap::Parser;
use kraftd::cli::{AuditAction, Cli, Command};
use kraftd::{commands, operator, verify};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::init_logging();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve_command().await.map(|()| ExitCode::SUCCESS),
        Command::Verify { url, origin } => match verify::verify_command(&url, &origin).await {
            Ok(true) => Ok(ExitCode::SUCCESS),
            Ok(false) => Ok(ExitCode::FAILURE),
            Err(message) => Err(anyhow::anyhow!(message)),
        },
        Command::Audit { action: AuditAction::Verify { path } } => operator::audit_verify_command(path),
        Command::Keys { action } => operator::keys_command(action).await,
        Command::Secrets { action } => operator::secrets_command(action),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            // 1 is kept for "ran, and found a problem" (a failed check, an
            // overdue secret, a broken chain); 2 means the command could not run.
            ExitCode::from(2)
        }
    }
}
