//! `dualreport import-members`: a roster file through the registry's
//! `ImportMembers`, a batch at a time.
//!
//! - **Resumable.** Each batch's `request_id` is derived from the file's
//!   contents, the unit and the batch's place in it, so running the same
//!   file again re-sends the same ids: the registry answers the batches it
//!   imported already with their first reply, and imports the rest.
//! - **Per-row errors.** A batch with a bad row is refused whole by the
//!   registry; the refused rows go to the errors file and the rest of the
//!   batch is sent again without them (under an id naming what was left out,
//!   so that is resumable too). Rows the file alone shows to be wrong never
//!   leave this machine.
//! - **Progress** after every batch: done / total, the rate and the time
//!   left, redrawn in place on a terminal, a line each otherwise.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use dualreport_platform::client::{ClientInterceptor, PeerSettings};
use dualreport_proto::registry::v1 as pb;
use sha2::{Digest as _, Sha256};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::roster::{self, Row, RowError};

type Registry = pb::registry_service_client::RegistryServiceClient<InterceptedService<Channel, ClientInterceptor>>;

#[derive(Debug)]
pub struct Args {
    pub file: PathBuf,
    pub unit: String,
    pub errors: PathBuf,
    pub batch_size: usize,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub imported: usize,
    pub refused: usize,
}

pub async fn run(peer: &PeerSettings, token: &str, args: Args) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        (1..=5000).contains(&args.batch_size),
        "--batch-size must be between 1 and 5000"
    );
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let rows = dualreport_tables::read(&bytes).with_context(|| format!("reading {}", args.file.display()))?;
    let (mut good, mut bad) = roster::read(&rows, &args.unit, roster::this_year()).map_err(anyhow::Error::msg)?;
    let channel = dualreport_platform::client::channel(peer)?;
    let interceptor = ClientInterceptor::with_token(token).context("the token is not ASCII")?;
    let mut registry = Registry::new(InterceptedService::new(channel, interceptor));
    resolve_communities(&mut registry, &mut good, &mut bad).await?;

    let prefix = format!("roster-{}", digest(&[args.unit.as_bytes(), &bytes], 16));
    let total = good.len() + bad.len();
    let mut progress = Progress::new(total);
    progress.done = bad.len();
    let mut imported = 0;
    for (b, batch) in good.chunks(args.batch_size).enumerate() {
        let mut rows: Vec<&Row> = batch.iter().collect();
        let mut left_out: Vec<usize> = Vec::new();
        loop {
            let request_id = if left_out.is_empty() {
                format!("{prefix}-{b}")
            } else {
                let lines: Vec<[u8; 8]> = left_out.iter().map(|l| (*l as u64).to_le_bytes()).collect();
                let parts: Vec<&[u8]> = lines.iter().map(|l| l.as_slice()).collect();
                format!("{prefix}-{b}-less-{}", digest(&parts, 8))
            };
            let reply = send(&mut registry, &request_id, &rows).await?;
            if reply.committed {
                imported += reply.member_ids.len();
                break;
            }
            let mut refused_here = Vec::new();
            for e in &reply.errors {
                let Some(row) = usize::try_from(e.row).ok().and_then(|i| rows.get(i)) else {
                    continue;
                };
                refused_here.push(row.line);
                bad.push(RowError {
                    line: row.line,
                    name: row.profile.name.clone(),
                    column: e.field.clone(),
                    description: e.description.clone(),
                });
            }
            anyhow::ensure!(
                !refused_here.is_empty(),
                "the registry refused batch {b} without naming a row: {:?}",
                reply.errors
            );
            left_out.extend(&refused_here);
            left_out.sort_unstable();
            left_out.dedup();
            rows.retain(|r| !refused_here.contains(&r.line));
            if rows.is_empty() {
                break;
            }
        }
        progress.done += batch.len();
        progress.draw();
    }
    progress.finish();
    bad.sort_by_key(|e| e.line);
    let refused = {
        let mut lines: Vec<usize> = bad.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    };
    if !bad.is_empty() {
        write_errors(&args.errors, &bad)?;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "imported {imported} member(s) into {}; {refused} row(s) refused{}",
        args.unit,
        if refused > 0 {
            format!(" (see {})", args.errors.display())
        } else {
            String::new()
        }
    );
    Ok(Outcome { imported, refused })
}

/// The first `n` bytes of the SHA-256 of `parts`, in hex: a request id's
/// stable part (the same file, unit and rows give the same id on a rerun).
fn digest(parts: &[&[u8]], n: usize) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
    }
    hash.finalize().iter().take(n).map(|b| format!("{b:02x}")).collect()
}

async fn send(registry: &mut Registry, request_id: &str, rows: &[&Row]) -> anyhow::Result<pb::ImportMembersResponse> {
    let request = pb::ImportMembersRequest {
        request_id: request_id.to_owned(),
        rows: rows.iter().map(|r| r.profile.clone()).collect(),
    };
    let mut replies = registry
        .import_members(tokio_stream::iter([request]))
        .await
        .context("the registry refused the import")?
        .into_inner();
    replies
        .message()
        .await
        .context("the registry broke off the import")?
        .context("the registry answered no batch")
}

/// Every row's 所属社区 as an org id: an id as written, or the one community
/// of that name (the district's communities, paged once).
async fn resolve_communities(
    registry: &mut Registry,
    good: &mut Vec<Row>,
    bad: &mut Vec<RowError>,
) -> anyhow::Result<()> {
    let mut by_id: HashMap<String, ()> = HashMap::new();
    let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
    let mut page_token = String::new();
    for kind in [pb::OrganizationType::Community, pb::OrganizationType::ServiceCenter] {
        loop {
            let page = registry
                .list_organizations(pb::ListOrganizationsRequest {
                    r#type: kind as i32,
                    page_size: 500,
                    page_token: std::mem::take(&mut page_token),
                    ..Default::default()
                })
                .await
                .context("listing the communities")?
                .into_inner();
            for org in page.organizations {
                by_name.entry(org.name.clone()).or_default().push(org.id.clone());
                by_id.insert(org.id, ());
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    good.retain_mut(|row| {
        let cell = row.community.trim();
        let found = if by_id.contains_key(cell) {
            Ok(cell.to_owned())
        } else {
            match by_name.get(cell).map(Vec::as_slice) {
                Some([id]) => Ok(id.clone()),
                Some(ids) if ids.len() > 1 => Err(format!(
                    "{cell:?} names {} communities; write its id ({})",
                    ids.len(),
                    ids.join(", ")
                )),
                _ => Err(format!("no community is named {cell:?} (write its name or its id)")),
            }
        };
        match found {
            Ok(id) => {
                row.profile.residence_community_id = id;
                true
            }
            Err(description) => {
                bad.push(RowError {
                    line: row.line,
                    name: row.profile.name.clone(),
                    column: "所属社区".into(),
                    description,
                });
                false
            }
        }
    });
    Ok(())
}

fn write_errors(path: &PathBuf, errors: &[RowError]) -> anyhow::Result<()> {
    use dualreport_tables::{Cell, Table};
    let mut table = Table::new("导入错误", &["行号", "姓名", "列", "说明"]);
    for e in errors {
        table.push(vec![
            Cell::Integer(i64::try_from(e.line).unwrap_or(i64::MAX)),
            e.name.as_str().into(),
            e.column.as_str().into(),
            e.description.as_str().into(),
        ]);
    }
    std::fs::write(path, dualreport_tables::csv(&table)).with_context(|| format!("writing {}", path.display()))
}

/// Done / total with the rate and the time left, on standard error.
pub(crate) struct Progress {
    total: usize,
    pub(crate) done: usize,
    started: Instant,
    terminal: bool,
    /// What is counted: "rows", "units".
    what: &'static str,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Self {
        Self::of(total, "rows")
    }

    pub(crate) fn of(total: usize, what: &'static str) -> Self {
        Self {
            total,
            done: 0,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            what,
        }
    }

    fn line(&self) -> String {
        let width = 30;
        let filled = (self.done * width).checked_div(self.total).unwrap_or(width).min(width);
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)]
        let rate = self.done as f64 / seconds;
        #[allow(clippy::cast_precision_loss)]
        let left = if rate > 0.0 {
            (self.total.saturating_sub(self.done)) as f64 / rate
        } else {
            0.0
        };
        format!(
            "[{}{}] {}/{} {what} · {:.0} {what}/s · ETA {:.0}s",
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.done,
            self.total,
            rate,
            left,
            what = self.what,
        )
    }

    pub(crate) fn draw(&self) {
        let mut err = std::io::stderr();
        let _ = if self.terminal {
            write!(err, "\r{}", self.line())
        } else {
            writeln!(err, "{}", self.line())
        };
        let _ = err.flush();
    }

    pub(crate) fn finish(&self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}
