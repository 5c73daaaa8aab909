use city::settings::{DEFAULTS, Settings};
use city::startup::{Application, migrate};
use dualreport_platform::{cli, server};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::run::<Settings, _, _>(
        "city",
        DEFAULTS,
        |settings| async move {
            Application::build(settings)
                .await?
                .run_until_stopped(server::shutdown_signal())
                .await
        },
        |settings| async move { migrate(&settings).await },
    )
    .await
}
