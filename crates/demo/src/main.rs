//! `make demo`: fills a running suite (`make run`) with a believable city —
//! two districts, streets, communities, resident units, a few hundred members
//! reported and confirmed, posts claimed and pledges made, today's activities
//! with check-ins confirmed on evidence (paid to scoring by volunteering's
//! outbox), a half-year of earlier service records, special records and
//! project scores, a settlement reviewed and published, a supermarket with
//! redemptions, feedback notices to the units, unit ratings, an objection
//! upheld and the laggards warned — through the public gRPC APIs only, then
//! prints what to try.
//!
//! Every call carries a deterministic `request_id` or source key, so running
//! it again adds nothing. Tokens are minted with the development key of the
//! config file (`config/dev.toml`).

mod city;
mod client;
mod feedback;
mod reporting;
mod scoring;
mod serving;
mod try_it;

use clap::Parser;
use dualreport_platform::auth::Authenticator;
use dualreport_platform::settings::AuthSettings;
use serde::Deserialize;

use crate::city::City;
use crate::client::{Demo, connect};
use crate::try_it::Tally;

#[derive(Debug, Parser)]
struct Args {
    /// Settings with the development key (`auth.dev_hs256_secret`).
    #[arg(long, default_value = "config/dev.toml")]
    config: std::path::PathBuf,
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    registry_url: String,
    #[arg(long, default_value = "http://127.0.0.1:50052")]
    volunteering_url: String,
    #[arg(long, default_value = "http://127.0.0.1:50053")]
    scoring_url: String,
    #[arg(long, default_value = "http://127.0.0.1:50054")]
    feedback_url: String,
    /// Members in all (spread over the units and communities).
    #[arg(long, default_value_t = 300)]
    members: usize,
    /// The root org the registry was started with (`registry.city_id`).
    #[arg(long, default_value = "city")]
    city_id: String,
    /// Build only this district of the layout (0 金水区, 1 二七区, 2 中原区):
    /// one district release of a city (`make demo-city`).
    #[arg(long)]
    district_layout: Option<usize>,
}

/// The demo reads only `[auth]` (to mint tokens) from a service's config
/// file; the file's other sections are the services' and are not checked here.
#[derive(Debug, Deserialize)]
struct Settings {
    auth: AuthSettings,
    #[serde(flatten)]
    _services: std::collections::HashMap<String, serde_json::Value>,
}

const DEFAULTS: &str = r#"
[auth]
leeway_secs = 30
public_key_files = []
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings: Settings = dualreport_platform::settings::load(DEFAULTS, std::slice::from_ref(&args.config))?;
    let demo = Demo {
        authenticator: Authenticator::from_settings(&settings.auth)?,
        registry: connect(&args.registry_url, "the registry").await?,
        volunteering: connect(&args.volunteering_url, "volunteering").await?,
        scoring: connect(&args.scoring_url, "scoring").await?,
        feedback: connect(&args.feedback_url, "feedback").await?,
    };
    let mut city = City::build(&demo, &args.city_id, args.district_layout).await?;
    reporting::report_units(&demo, &city).await?;
    reporting::report_members(&demo, &mut city, args.members).await?;
    let (claimed, attended) = serving::serve_today(&demo, &city).await?;
    let awards = scoring::record_half_year(&demo, &city).await?;
    let published = scoring::settle(&demo, &city).await?;
    scoring::stock_supermarket(&demo, &city).await?;
    let feedback = feedback::feed_back(&demo, &city).await?;
    let tally = Tally {
        claimed,
        attended,
        awards,
        published,
        feedback,
    };
    try_it::print(&demo, &city, &args.city_id, &tally)
}
