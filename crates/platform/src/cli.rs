//! The command line every service binary shares:
//! `serve` (default), `migrate`, `token` and `config`.

use std::path::PathBuf;

use crate::auth::{Authenticator, Role, claims};
use crate::settings::AuthSettings;

#[derive(Debug, clap::Parser)]
pub struct Cli<E: clap::Subcommand = NoExtra> {
    /// A TOML settings file layered over the defaults; repeat it to layer
    /// several, a later one winning (env `DUALREPORT_CONFIG`, comma-separated).
    #[arg(long, short, env = "DUALREPORT_CONFIG", global = true, value_delimiter = ',')]
    pub config: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command<E>>,
}

/// A service's own subcommands beside the shared ones (e.g. the registry's
/// `reseal`); [`NoExtra`] for a service without any.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command<E: clap::Subcommand = NoExtra> {
    /// Apply migrations, then serve gRPC until SIGTERM (the default).
    Serve,
    /// Apply the database migrations and exit (the Helm hook Job runs this).
    Migrate,
    /// Mint a development token; works only with `auth.dev_hs256_secret` set.
    Token(TokenArgs),
    /// Print the effective settings as TOML (defaults, file and environment
    /// merged; secrets redacted; `[policy]` resolved from its preset) and exit.
    Config,
    /// Ask a server's `grpc.health.v1` whether a service is SERVING; exit 0 if
    /// so, 1 otherwise (the Helm test pod and container health checks use it).
    Probe(ProbeArgs),
    #[command(flatten)]
    Extra(E),
}

/// No subcommands of a service's own.
#[derive(Debug, Clone)]
pub enum NoExtra {}

impl clap::FromArgMatches for NoExtra {
    fn from_arg_matches(_: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))
    }

    fn update_from_arg_matches(&mut self, _: &clap::ArgMatches) -> Result<(), clap::Error> {
        match *self {}
    }
}

impl clap::Subcommand for NoExtra {
    fn augment_subcommands(command: clap::Command) -> clap::Command {
        command
    }

    fn augment_subcommands_for_update(command: clap::Command) -> clap::Command {
        command
    }

    fn has_subcommand(_: &str) -> bool {
        false
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// `http://host:port` of the server; default: this service on its own
    /// `server.port` at 127.0.0.1 (https when `server.tls` is set).
    #[arg(long)]
    pub url: Option<String>,
    /// The service to ask about; empty asks about the server as a whole.
    #[arg(long, default_value = "")]
    pub service: String,
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
    /// With an `https://` URL: the CA that signed the server's certificate.
    #[arg(long)]
    pub ca_file: Option<String>,
    /// A client certificate and key, for servers that require mutual TLS.
    #[arg(long, requires = "key_file")]
    pub cert_file: Option<String>,
    #[arg(long, requires = "cert_file")]
    pub key_file: Option<String>,
    /// The name the server's certificate carries, when not the URL's host.
    #[arg(long)]
    pub domain: Option<String>,
}

impl ProbeArgs {
    /// True when the service answers SERVING within the timeout.
    pub async fn serving(&self, server: &crate::settings::ServerSettings) -> anyhow::Result<bool> {
        use tonic_health::pb::health_check_response::ServingStatus;
        let timeout = std::time::Duration::from_secs(self.timeout_secs);
        let url = self.url.clone().unwrap_or_else(|| {
            let scheme = if server.tls.is_some() { "https" } else { "http" };
            format!("{scheme}://127.0.0.1:{}", server.port)
        });
        let mut endpoint = tonic::transport::Endpoint::from_shared(url)?
            .connect_timeout(timeout)
            .timeout(timeout);
        if let Some(ca_file) = &self.ca_file {
            endpoint = endpoint.tls_config(crate::tls::client_config(&crate::tls::ClientTls {
                ca_file: ca_file.clone(),
                cert_file: self.cert_file.clone(),
                key_file: self.key_file.clone(),
                domain: self.domain.clone(),
            })?)?;
        }
        let channel = endpoint.connect().await?;
        let reply = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest {
                service: self.service.clone(),
            })
            .await?
            .into_inner();
        Ok(reply.status() == ServingStatus::Serving)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    #[arg(long, value_enum)]
    pub role: Role,
    /// The org an admin role is scoped to.
    #[arg(long)]
    pub org: Option<String>,
    /// The member id of a member role.
    #[arg(long)]
    pub member: Option<String>,
    /// The subject; defaults to `<role>@<org or member>`.
    #[arg(long)]
    pub sub: Option<String>,
    #[arg(long, default_value_t = 24)]
    pub ttl_hours: u64,
}

impl TokenArgs {
    pub fn mint(&self, settings: &AuthSettings) -> anyhow::Result<String> {
        anyhow::ensure!(
            settings.dev_hs256_secret.is_some(),
            "refusing to mint: no development key (auth.dev_hs256_secret) is configured"
        );
        // A token every call would refuse is no token: say so now.
        let role = self.role.as_str();
        if self.role.is_admin() {
            anyhow::ensure!(
                self.org.is_some(),
                "role {role} is scoped to an org: add --org <org id>"
            );
        }
        if self.role == Role::Member {
            anyhow::ensure!(
                self.member.is_some(),
                "role member is one member: add --member <member id>"
            );
        }
        let authenticator = Authenticator::from_settings(settings)?;
        let subject = self.sub.clone().unwrap_or_else(|| {
            let scope = self.org.as_deref().or(self.member.as_deref()).unwrap_or("suite");
            format!("{}@{scope}", self.role.as_str())
        });
        let claims = claims(
            &subject,
            self.role,
            self.org.as_deref(),
            self.member.as_deref(),
            self.ttl_hours * 3600,
        );
        authenticator.mint(&claims)
    }
}

/// The sections `main` needs from a service's settings.
pub trait ServiceSettings: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug {
    fn auth(&self) -> &AuthSettings;
    fn telemetry(&self) -> &crate::settings::TelemetrySettings;
    fn server(&self) -> &crate::settings::ServerSettings;
    /// The `[policy]` section, for services that read one.
    fn policy(&self) -> Option<&dualreport_policy::PolicySettings> {
        None
    }
}

/// [`ServiceSettings`] for a settings struct with the usual `auth`,
/// `telemetry`, `server` and `policy` fields: one line per service.
#[macro_export]
macro_rules! service_settings {
    ($settings:ty) => {
        impl $crate::cli::ServiceSettings for $settings {
            fn auth(&self) -> &$crate::settings::AuthSettings {
                &self.auth
            }
            fn telemetry(&self) -> &$crate::settings::TelemetrySettings {
                &self.telemetry
            }
            fn server(&self) -> &$crate::settings::ServerSettings {
                &self.server
            }
            fn policy(&self) -> Option<&dualreport_policy::PolicySettings> {
                Some(&self.policy)
            }
        }
    };
}

/// The settings as the `config` subcommand prints them: TOML, secrets
/// redacted, the policy resolved (every key, from the preset and overrides).
pub fn effective_toml<S: ServiceSettings>(settings: &S) -> anyhow::Result<String> {
    let mut table = toml::Table::try_from(settings)?;
    if let Some(policy) = settings.policy() {
        let resolved = policy.resolve()?.as_settings();
        table.insert("policy".to_owned(), toml::Value::try_from(resolved)?);
    }
    Ok(toml::to_string(&table)?)
}

/// The whole `main` of a service binary: parses the command line, loads the
/// settings (`defaults` → file → environment) and runs the subcommand; `serve`
/// starts telemetry first.
pub async fn run<S, Serve, Migrate>(
    name: &'static str,
    defaults: &str,
    serve: impl FnOnce(S) -> Serve,
    migrate: impl FnOnce(S) -> Migrate,
) -> anyhow::Result<()>
where
    S: ServiceSettings,
    Serve: std::future::Future<Output = anyhow::Result<()>>,
    Migrate: std::future::Future<Output = anyhow::Result<()>>,
{
    run_with::<S, NoExtra, _, _, std::future::Ready<anyhow::Result<()>>>(name, defaults, serve, migrate, |_, extra| {
        match extra {}
    })
    .await
}

/// [`run`] for a service with subcommands of its own (`E`), run by `extra`.
pub async fn run_with<S, E, Serve, Migrate, Extra>(
    name: &'static str,
    defaults: &str,
    serve: impl FnOnce(S) -> Serve,
    migrate: impl FnOnce(S) -> Migrate,
    extra: impl FnOnce(S, E) -> Extra,
) -> anyhow::Result<()>
where
    S: ServiceSettings,
    E: clap::Subcommand + Clone + std::fmt::Debug,
    Serve: std::future::Future<Output = anyhow::Result<()>>,
    Migrate: std::future::Future<Output = anyhow::Result<()>>,
    Extra: std::future::Future<Output = anyhow::Result<()>>,
{
    use clap::Parser as _;
    let cli = Cli::<E>::parse();
    let settings: S = crate::settings::load(defaults, &cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = crate::telemetry::init(name, settings.telemetry())?;
            tracing::info!(service = name, version = env!("CARGO_PKG_VERSION"), "starting");
            tracing::debug!(?settings, "effective settings");
            serve(settings).await
        }
        Command::Migrate => migrate(settings).await,
        Command::Token(args) => {
            println!("{}", args.mint(settings.auth())?);
            Ok(())
        }
        Command::Config => {
            print!("{}", effective_toml(&settings)?);
            Ok(())
        }
        Command::Extra(command) => extra(settings, command).await,
        Command::Probe(args) => match args.serving(settings.server()).await {
            Ok(true) => {
                println!("SERVING");
                Ok(())
            }
            Ok(false) => {
                println!("NOT_SERVING");
                std::process::exit(1)
            }
            Err(error) => {
                eprintln!("probe failed: {error:#}");
                std::process::exit(1)
            }
        },
    }
}
