use dualreport_platform::{cli, server};
use feedback::settings::{DEFAULTS, Settings};
use feedback::startup::{Application, migrate};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::run::<Settings, _, _>(
        "feedback",
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
