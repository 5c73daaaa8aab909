use clap::Parser as _;
use dualreport_platform::cli::{Cli, Command};
use dualreport_platform::{server, settings, telemetry};
use scoring::settings::{DEFAULTS, Settings};
use scoring::startup::{Application, migrate};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings: Settings = settings::load(DEFAULTS, cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = telemetry::init("scoring", &settings.telemetry)?;
            tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting scoring");
            tracing::debug!(?settings, "effective settings");
            Application::build(settings)
                .await?
                .run_until_stopped(server::shutdown_signal())
                .await
        }
        Command::Migrate => migrate(&settings).await,
        Command::Token(args) => {
            println!("{}", args.mint(&settings.auth)?);
            Ok(())
        }
        Command::Config => {
            println!("{settings:#?}");
            Ok(())
        }
    }
}
