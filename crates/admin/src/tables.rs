//! `dualreport export-table` and `dualreport evaluate-warnings`: feedback's
//! tables as files, and a unit's compliance warnings judged now.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use dualreport_platform::client::{ClientInterceptor, PeerSettings};
use dualreport_proto::common::v1 as common;
use dualreport_proto::feedback::v1 as fpb;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Feedback = fpb::feedback_service_client::FeedbackServiceClient<InterceptedService<Channel, ClientInterceptor>>;

fn feedback(peer: &PeerSettings, token: &str) -> anyhow::Result<Feedback> {
    let channel = dualreport_platform::client::channel(peer)?;
    let interceptor = ClientInterceptor::with_token(token).context("the token is not ASCII")?;
    Ok(Feedback::new(InterceptedService::new(channel, interceptor)))
}

/// Which table, for which org, person and period.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArgs {
    /// summary (附录F), objections (附录G) or registration (附录A), from
    /// feedback; volunteer-records (the national volunteer-service record of
    /// a community's confirmed services, --from/--to days), from volunteering;
    /// audit (a service's audit trail of --org's subtree, CSV), from --service.
    #[arg(long, value_parser = ["summary", "objections", "registration", "volunteer-records", "audit"])]
    pub kind: String,
    /// With audit: whose trail (registry, volunteering, scoring or feedback).
    #[arg(long, default_value = "registry", value_parser = ["registry", "volunteering", "scoring", "feedback"])]
    pub service: String,
    /// The unit (summary).
    #[arg(long, default_value = "")]
    pub unit: String,
    /// The community (summary: only its rows; registration: the one recording).
    #[arg(long, default_value = "")]
    pub community: String,
    /// The member (registration).
    #[arg(long, default_value = "")]
    pub member: String,
    /// The org whose subtree's objections (objections).
    #[arg(long, default_value = "")]
    pub org: String,
    /// The year (feedback's tables).
    #[arg(long, default_value_t = 0)]
    pub year: i32,
    /// The first and last service day, `YYYY-MM-DD` (volunteer-records).
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// With volunteer-records: also those already marked sent.
    #[arg(long)]
    pub include_sent: bool,
    /// 1 or 2 for a half-year; the whole year when left out.
    #[arg(long)]
    pub half: Option<i32>,
    /// csv or xlsx (feedback's tables); csv or jsonl (volunteer-records).
    #[arg(long, default_value = "xlsx", value_parser = ["csv", "xlsx", "jsonl"])]
    pub format: String,
    /// Where to write it; the server's file name in the current directory when left out.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Downloads the national volunteer-service records of a community (streamed,
/// 500 records a message) into a file; the path written.
pub async fn export_volunteer_records(peer: &PeerSettings, token: &str, args: TableArgs) -> anyhow::Result<PathBuf> {
    use dualreport_proto::volunteering::v1 as vpb;
    let (Some(from), Some(to)) = (args.from, args.to) else {
        anyhow::bail!("volunteer-records needs --from and --to (the service days)");
    };
    anyhow::ensure!(!args.community.is_empty(), "volunteer-records needs --community");
    let format = match args.format.as_str() {
        "jsonl" => vpb::RecordFormat::JsonLines,
        "csv" | "xlsx" => vpb::RecordFormat::Csv,
        other => anyhow::bail!("volunteer-records are csv or jsonl, not {other}"),
    };
    let channel = dualreport_platform::client::channel(peer)?;
    let interceptor = ClientInterceptor::with_token(token).context("the token is not ASCII")?;
    let mut client =
        vpb::volunteering_service_client::VolunteeringServiceClient::new(InterceptedService::new(channel, interceptor));
    let mut stream = client
        .export_volunteer_records(vpb::ExportVolunteerRecordsRequest {
            community_id: args.community,
            served: Some(common::DateRange {
                first: Some(dualreport_platform::wire::date_to_pb(from)),
                last: Some(dualreport_platform::wire::date_to_pb(to)),
            }),
            include_sent: args.include_sent,
            format: format as i32,
        })
        .await
        .map_err(|s| anyhow::anyhow!("volunteering refused the export: {:?}: {}", s.code(), s.message()))?
        .into_inner();
    let (mut bytes, mut name) = (Vec::new(), String::new());
    drain(&mut stream, |part| {
        if name.is_empty() {
            name = part.file_name;
        }
        bytes.extend(part.chunk);
    })
    .await?;
    save(args.output, name, &bytes)
}

/// Downloads a service's audit trail of `--org`'s subtree (CSV, streamed,
/// optionally `--from`/`--to` days in China time) into a file; the path written.
pub async fn export_audit(peer: &PeerSettings, token: &str, args: TableArgs) -> anyhow::Result<PathBuf> {
    use dualreport_proto::common::v1::audit_log_service_client::AuditLogServiceClient;
    anyhow::ensure!(!args.org.is_empty(), "audit needs --org (the subtree whose trail)");
    // A China Standard Time day's start, as the trail's instants are kept.
    let start_of = |day: chrono::NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .map(|t| dualreport_platform::wire::timestamp(t.and_utc().timestamp_millis() - 8 * 3_600_000))
    };
    let channel = dualreport_platform::client::channel(peer)?;
    let interceptor = ClientInterceptor::with_token(token).context("the token is not ASCII")?;
    let mut stream = AuditLogServiceClient::new(InterceptedService::new(channel, interceptor))
        .export_audit_records(common::ExportAuditRecordsRequest {
            query: Some(common::ListAuditRecordsRequest {
                org_id: args.org,
                start_time: args.from.and_then(start_of),
                end_time: args.to.and_then(|d| d.succ_opt()).and_then(start_of),
                ..Default::default()
            }),
        })
        .await
        .map_err(|s| {
            anyhow::anyhow!(
                "{} refused the audit export: {:?}: {}",
                args.service,
                s.code(),
                s.message()
            )
        })?
        .into_inner();
    let (mut bytes, mut name) = (Vec::new(), String::new());
    drain(&mut stream, |part| {
        if name.is_empty() {
            name = part.file_name;
        }
        bytes.extend(part.chunk);
    })
    .await?;
    save(args.output, name, &bytes)
}

/// Every message of a download stream, in order, to `take`.
async fn drain<M>(stream: &mut tonic::Streaming<M>, mut take: impl FnMut(M)) -> anyhow::Result<()> {
    while let Some(part) = stream
        .message()
        .await
        .map_err(|s| anyhow::anyhow!("the download broke off: {:?}: {}", s.code(), s.message()))?
    {
        take(part);
    }
    Ok(())
}

/// Writes a download to `output`, else to the server's file name here; says so on stderr.
fn save(output: Option<PathBuf>, name: String, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let path = output.unwrap_or_else(|| PathBuf::from(name));
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    let _ = writeln!(std::io::stderr(), "wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(path)
}

/// Downloads the table (streamed in chunks) into a file; the path written.
pub async fn export(peer: &PeerSettings, token: &str, args: TableArgs) -> anyhow::Result<PathBuf> {
    let kind = match args.kind.as_str() {
        "summary" => fpb::TableKind::Summary,
        "objections" => fpb::TableKind::Objections,
        _ => fpb::TableKind::Registration,
    };
    let format = if args.format == "csv" {
        fpb::ExportFormat::Csv
    } else {
        fpb::ExportFormat::Xlsx
    };
    let mut stream = feedback(peer, token)?
        .download_table(fpb::DownloadTableRequest {
            table: Some(fpb::ExportTableRequest {
                kind: kind as i32,
                format: format as i32,
                unit_org_id: args.unit,
                community_id: args.community,
                member_id: args.member,
                org_id: args.org,
                period: Some(common::Period {
                    year: args.year,
                    half: args.half.unwrap_or(0),
                }),
            }),
        })
        .await
        .map_err(|s| anyhow::anyhow!("feedback refused the table: {:?}: {}", s.code(), s.message()))?
        .into_inner();
    let (mut bytes, mut name, mut incomplete) = (Vec::new(), String::new(), false);
    drain(&mut stream, |part| {
        if name.is_empty() {
            name = part.file_name;
            incomplete = part.incomplete;
        }
        bytes.extend(part.chunk);
    })
    .await?;
    let path = save(args.output, name, &bytes)?;
    let mut err = std::io::stderr();
    if incomplete {
        let _ = writeln!(
            err,
            "warning: a source did not answer: the table is incomplete (its rows say which)"
        );
    }
    Ok(path)
}

/// Judges `unit`'s warnings for `year` as of today and prints them, a line each.
pub async fn evaluate_warnings(peer: &PeerSettings, token: &str, unit: &str, year: i32) -> anyhow::Result<usize> {
    let reply = feedback(peer, token)?
        .evaluate_warnings(fpb::EvaluateWarningsRequest {
            unit_org_id: unit.to_owned(),
            year,
            as_of: None,
        })
        .await
        .map_err(|s| anyhow::anyhow!("feedback refused: {:?}: {}", s.code(), s.message()))?
        .into_inner();
    let mut out = std::io::stdout();
    let mut standing = 0;
    for w in &reply.warnings {
        let rule = fpb::WarningRule::try_from(w.rule).map_or("unknown", |r| r.as_str_name());
        let state = if w.withdraw_time.is_some() {
            "withdrawn"
        } else {
            "in force"
        };
        if w.withdraw_time.is_none() {
            standing += 1;
        }
        let _ = writeln!(
            out,
            "{rule}\t{}\t{}\t{state}\t{}",
            w.subject_kind, w.subject_name, w.evidence
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "{unit} {year}: {} raised, {} withdrawn now; {standing} in force",
        reply.raised,
        reply.withdrawn
    );
    Ok(standing)
}
