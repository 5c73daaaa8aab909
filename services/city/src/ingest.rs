//! Ingest: one task per (district, journal), beside the server until
//! shutdown. Each round, the replica holding the stream's lease reads the
//! journal after the stored cursor, fetches what a fact names but does not
//! carry (a published settlement's lines), and applies the batch — feed
//! events, board — in the transaction that moves the cursor. A district that
//! does not answer is marked down and retried next round; the others go on.

use std::sync::OnceLock;
use std::time::Duration;

use dualreport_platform::server::Stopping;
use prometheus::IntGaugeVec;

use crate::app::City;
use crate::districts::District;
use crate::domain::{
    CityRelocation, CityWarning, Journal, MEMBER_CREATED, MEMBER_UPDATED, PublishedSettlement, RELOCATION_DECLARED,
    REPORT_CONFIRMED, RelocationStatus, Result, SETTLEMENT_PUBLISHED, now_millis,
};
use crate::settings::CitySettings;
use crate::storage::{self as db, Read};

struct Metrics {
    lag: IntGaugeVec,
    up: IntGaugeVec,
    ingested: prometheus::IntCounterVec,
}

fn metrics() -> &'static Metrics {
    use dualreport_platform::metrics::{counter_vec, gauge_vec};
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics {
        lag: gauge_vec(
            "city_ingest_lag_seconds",
            "Seconds since the city last read this district journal to its end (every replica reports it from the database: take the min).",
            &["district", "journal"],
        ),
        up: gauge_vec(
            "city_district_up",
            "1 when the last read of this district journal answered, 0 when it failed.",
            &["district", "journal"],
        ),
        ingested: counter_vec(
            "city_facts_ingested_total",
            "Journal facts applied to the city's read model, by district and journal.",
            &["district", "journal"],
        ),
    })
}

/// Every ingest stream, until shutdown.
pub async fn run(city: City, settings: CitySettings, stopping: Stopping) {
    let holder = dualreport_platform::lease::holder_id();
    let mut tasks = tokio::task::JoinSet::new();
    for district in city.districts.iter() {
        for journal in Journal::ALL {
            let stream = Stream {
                city: city.clone(),
                district: district.clone(),
                journal,
                holder: holder.clone(),
                batch: settings.batch_size,
                lease_ms: i64::try_from(settings.lease_ms).unwrap_or(i64::MAX),
            };
            let every = Duration::from_millis(settings.poll_interval_ms.max(10));
            let stopping = stopping.clone();
            tasks.spawn(async move {
                let stop = stopping.wait();
                tokio::pin!(stop);
                loop {
                    let caught_up = match stream.round().await {
                        Ok(caught_up) => caught_up,
                        Err(error) => {
                            tracing::warn!(district = %stream.district.name, journal = stream.journal.as_str(), %error, "ingest round failed");
                            true
                        }
                    };
                    if let Err(error) = stream.report().await {
                        tracing::debug!(%error, "ingest state not read");
                    }
                    // A backlog is read at once; a stream at its end waits a poll.
                    let pause = if caught_up { every } else { Duration::ZERO };
                    tokio::select! {
                        biased;
                        () = &mut stop => return,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    // Shutting down: the other replicas take these streams at once.
    match city.pool.acquire().await {
        Ok(mut conn) => {
            if let Err(error) = dualreport_platform::lease::release_all(&mut conn, &holder).await {
                tracing::warn!(%error, "ingest leases not released; they expire by themselves");
            }
        }
        Err(error) => tracing::warn!(%error, "ingest leases not released; they expire by themselves"),
    }
}

/// One (district, journal).
pub struct Stream {
    pub city: City,
    pub district: District,
    pub journal: Journal,
    pub holder: String,
    pub batch: i32,
    pub lease_ms: i64,
}

impl Stream {
    fn lease_name(&self) -> String {
        format!("ingest.{}.{}", self.district.name, self.journal.as_str())
    }

    /// Reads and applies one batch when this replica holds the stream's
    /// lease; true when the journal has nothing more for now.
    pub async fn round(&self) -> Result<bool> {
        let pool = &self.city.pool;
        let mut conn = pool.acquire().await?;
        let held = dualreport_platform::lease::try_take(
            &mut conn,
            &self.lease_name(),
            &self.holder,
            now_millis(),
            self.lease_ms,
        )
        .await?;
        if !held {
            return Ok(true);
        }
        let (district, journal) = (self.district.name.as_str(), self.journal.as_str());
        let from = db::cursor(&mut conn, district, journal).await?;
        drop(conn);
        let events = match self.district.journal(self.journal, from, self.batch).await {
            Ok(events) => events,
            Err(error) => {
                db::mark_down(pool, district, journal, &error.to_string()).await?;
                return Ok(true);
            }
        };
        // What the facts name but do not carry, fetched before the
        // transaction: a district that fails here leaves the batch unread.
        let mut settlements: Vec<PublishedSettlement> = Vec::new();
        for event in events.iter().filter(|e| e.kind == SETTLEMENT_PUBLISHED) {
            match self.district.published_settlement(&event.subject_id).await {
                Ok(s) => settlements.push(s),
                Err(error) => {
                    db::mark_down(pool, district, journal, &error.to_string()).await?;
                    return Ok(true);
                }
            }
        }
        let read = Read {
            from,
            to: events.last().map_or(from, |e| e.source_sequence),
            newest_occur_ms: events.iter().map(|e| e.occur_time).max().unwrap_or(0),
            now: now_millis(),
            caught_up: events.len() < usize::try_from(self.batch).unwrap_or(usize::MAX),
        };
        let mut tx = pool.begin().await?;
        let mut added = 0u64;
        // Roster facts feed the roster (below), not the cloud's feed.
        for event in events
            .iter()
            .filter(|e| !dualreport_platform::journal::is_roster(&e.kind))
        {
            if db::append_event(&mut tx, event).await? {
                added += 1;
            }
        }
        for settlement in &settlements {
            db::replace_board(&mut tx, settlement).await?;
        }
        if self.journal == Journal::Registry {
            for event in &events {
                self.relocation_fact(&mut tx, event, read.now).await?;
            }
        }
        let mut district_orgs: Vec<&str> = events
            .iter()
            .map(|e| e.district_id.as_str())
            .filter(|id| !id.is_empty())
            .collect();
        district_orgs.sort_unstable();
        district_orgs.dedup();
        for org_id in district_orgs {
            db::remember_district_org(&mut tx, org_id, district).await?;
        }
        for warning in events.iter().filter_map(CityWarning::from_fact) {
            db::upsert_warning(&mut tx, &warning).await?;
        }
        if !db::advance(&mut tx, district, journal, read).await? {
            // Another replica applied this batch first (this one's lease had lapsed).
            tx.rollback().await?;
            return Ok(true);
        }
        tx.commit().await?;
        metrics().ingested.with_label_values(&[district, journal]).inc_by(added);
        if added > 0 {
            self.city.appended.notify_waiters();
        }
        Ok(read.caught_up)
    }

    /// What a registry fact tells the roster and the relocation saga: a
    /// member joined or moved within the district, a report was confirmed
    /// here (also the end of a move to this district), or a move to
    /// another district was declared here (the member leaves this roster).
    async fn relocation_fact(
        &self,
        conn: &mut sqlx::AnyConnection,
        event: &crate::domain::Event,
        now: i64,
    ) -> Result<()> {
        match event.kind.as_str() {
            RELOCATION_DECLARED => {
                db::remove_member(conn, &self.district.name, &event.member_id).await?;
                db::insert_relocation(
                    conn,
                    &CityRelocation {
                        from_district: self.district.name.clone(),
                        relocation_id: event.subject_id.clone(),
                        member_id: event.member_id.clone(),
                        to_district: String::new(),
                        to_community_id: String::new(),
                        declared_at: event.occur_time,
                        due_on: String::new(),
                        status: RelocationStatus::Declared,
                        attempts: 0,
                        next_attempt_at: 0,
                        last_error: String::new(),
                        updated_at: now,
                    },
                )
                .await
            }
            REPORT_CONFIRMED => {
                if event.year > 0 {
                    db::insert_report(conn, &self.district.name, &event.member_id, event.year).await?;
                }
                db::mark_reported(conn, &event.member_id, &self.district.name, now)
                    .await
                    .map(|_| ())
            }
            MEMBER_CREATED | MEMBER_UPDATED => db::upsert_member(conn, &self.district.name, event).await,
            _ => Ok(()),
        }
    }

    /// Sets this stream's lag and up gauges from the stored state, on every
    /// replica (so any replica's figures are the stream's).
    async fn report(&self) -> Result<()> {
        let (district, journal) = (self.district.name.as_str(), self.journal.as_str());
        let Some(c) = db::cursor_state(&self.city.pool, district, journal).await? else {
            return Ok(());
        };
        let lag = if c.caught_up_at_ms == 0 {
            -1
        } else {
            (now_millis() - c.caught_up_at_ms) / 1000
        };
        metrics().lag.with_label_values(&[district, journal]).set(lag);
        metrics()
            .up
            .with_label_values(&[district, journal])
            .set(i64::from(c.up));
        Ok(())
    }
}
