use dualreport_platform::{cli, server};
use registry::reseal::RegistryCommand;
use registry::settings::{DEFAULTS, Settings};
use registry::startup::{Application, migrate};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::run_with::<Settings, RegistryCommand, _, _, _>(
        "registry",
        DEFAULTS,
        |settings| async move {
            Application::build(settings)
                .await?
                .run_until_stopped(server::shutdown_signal())
                .await
        },
        |settings| async move { migrate(&settings).await },
        registry::reseal::run,
    )
    .await
}
