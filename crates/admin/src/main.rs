//! `dualreport`: the admin CLI against a running suite, local or remote,
//! with a bearer token. `dualreport --help` lists what it does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

mod import;
mod maintenance;
mod roster;
mod tables;

#[derive(Debug, Parser)]
#[command(
    name = "dualreport",
    version,
    about = "Admin tasks against a running dualreport suite"
)]
struct Cli {
    /// The registry's gRPC address.
    #[arg(
        long,
        env = "DUALREPORT_REGISTRY_URL",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    registry_url: String,
    /// The feedback service's gRPC address (tables, warnings).
    #[arg(
        long,
        env = "DUALREPORT_FEEDBACK_URL",
        default_value = "http://127.0.0.1:50054",
        global = true
    )]
    feedback_url: String,
    /// The volunteering service's gRPC address (volunteer records).
    #[arg(
        long,
        env = "DUALREPORT_VOLUNTEERING_URL",
        default_value = "http://127.0.0.1:50052",
        global = true
    )]
    volunteering_url: String,
    /// The scoring service's gRPC address (its audit trail).
    #[arg(
        long,
        env = "DUALREPORT_SCORING_URL",
        default_value = "http://127.0.0.1:50053",
        global = true
    )]
    scoring_url: String,
    /// A CA certificate (PEM) for `https://` addresses.
    #[arg(long, env = "DUALREPORT_CA_FILE", global = true)]
    ca_file: Option<String>,
    /// The bearer token to call with (e.g. the unit admin's, for its roster).
    #[arg(long, env = "DUALREPORT_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Import a unit's roster from an XLSX or CSV file with the S4 附录B.1
    /// headers (姓名, 性别, 年龄, 学历, 入党时间, 工作单位及职务, 联系方式,
    /// 家庭住址, 所属社区, 技能特长, 服务意向, …), in batches; rows refused
    /// are written to the errors file. Running it again with the same file
    /// resumes: batches already imported are not imported twice.
    ImportMembers {
        /// The roster: .xlsx (its first sheet) or .csv (UTF-8), one member a row.
        file: PathBuf,
        /// The unit party org every member belongs to.
        #[arg(long)]
        unit: String,
        /// Where the refused rows go (CSV: 行号, 姓名, 列, 说明).
        #[arg(long, default_value = "import-errors.csv")]
        errors: PathBuf,
        /// Rows per batch (1 to 5000).
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
    },
    /// Download a table into a file: feedback's (附录F summary, 附录G
    /// objections, 附录A registration) as XLSX or CSV, or a community's
    /// national volunteer-service records as CSV or JSON Lines.
    ExportTable(tables::TableArgs),
    /// Judge compliance warnings (预警) for a year as of today — one unit's,
    /// or every resident unit's of a district in turn with progress — and
    /// print every warning, a tab-separated line each. Exit 3 when some unit
    /// could not be judged.
    EvaluateWarnings {
        #[arg(long, required_unless_present = "district", conflicts_with = "district")]
        unit: Option<String>,
        /// Every resident unit (驻区单位) of this district.
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        year: i32,
    },
    /// Re-encrypt members' personal information under the registry's active
    /// key (key rotation), a batch per call until nothing is left under an
    /// old key; resumable. Needs a city or district admin's token.
    Reseal {
        /// Members per call (1 to 500).
        #[arg(long, default_value_t = 200)]
        batch_size: i32,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(token) = cli.token.clone() else {
        eprintln!("dualreport: a token is required (--token or DUALREPORT_TOKEN)");
        return ExitCode::from(2);
    };
    let peer_at = |url: &str| dualreport_platform::client::PeerSettings {
        url: url.to_owned(),
        connect_timeout_ms: 5_000,
        timeout_ms: 120_000,
        tls: cli.ca_file.clone().map(|ca_file| dualreport_platform::tls::ClientTls {
            ca_file,
            cert_file: None,
            key_file: None,
            domain: None,
        }),
    };
    let peer = peer_at(&cli.registry_url);
    let outcome = match cli.command {
        Command::ExportTable(args) if args.kind == "volunteer-records" => {
            return done(
                tables::export_volunteer_records(&peer_at(&cli.volunteering_url), &token, args)
                    .await
                    .map(|_| ()),
            );
        }
        Command::ExportTable(args) if args.kind == "audit" => {
            let url = match args.service.as_str() {
                "volunteering" => &cli.volunteering_url,
                "scoring" => &cli.scoring_url,
                "feedback" => &cli.feedback_url,
                _ => &cli.registry_url,
            };
            return done(tables::export_audit(&peer_at(url), &token, args).await.map(|_| ()));
        }
        Command::ExportTable(args) => {
            return done(
                tables::export(&peer_at(&cli.feedback_url), &token, args)
                    .await
                    .map(|_| ()),
            );
        }
        Command::EvaluateWarnings {
            unit: Some(unit), year, ..
        } => {
            return done(
                tables::evaluate_warnings(&peer_at(&cli.feedback_url), &token, &unit, year)
                    .await
                    .map(|_| ()),
            );
        }
        Command::EvaluateWarnings {
            district: Some(district),
            year,
            ..
        } => {
            return match maintenance::evaluate_district(&peer, &peer_at(&cli.feedback_url), &token, &district, year)
                .await
            {
                Ok(outcome) if outcome.failed == 0 => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(3),
                Err(error) => done(Err(error)),
            };
        }
        Command::EvaluateWarnings { .. } => {
            return done(Err(anyhow::anyhow!("name a --unit or a --district")));
        }
        Command::Reseal { batch_size } => {
            return done(maintenance::reseal(&peer, &token, batch_size).await.map(|_| ()));
        }
        Command::ImportMembers {
            file,
            unit,
            errors,
            batch_size,
        } => {
            import::run(
                &peer,
                &token,
                import::Args {
                    file,
                    unit,
                    errors,
                    batch_size,
                },
            )
            .await
        }
    };
    match outcome {
        Ok(import::Outcome { refused: 0, .. }) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(3),
        Err(error) => {
            eprintln!("dualreport: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// 0, or 1 with the error on standard error.
fn done(outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dualreport: {error:#}");
            ExitCode::FAILURE
        }
    }
}
