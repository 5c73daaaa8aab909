use dualreport_platform::{cli, server};
use portal::settings::{DEFAULTS, Settings};
use portal::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::run::<Settings, _, _>(
        "portal",
        DEFAULTS,
        |settings| async move {
            Application::build(settings)
                .await?
                .run_until_stopped(server::shutdown_signal())
                .await
        },
        // The portal keeps no database: nothing to migrate.
        |_| async { Ok(()) },
    )
    .await
}
