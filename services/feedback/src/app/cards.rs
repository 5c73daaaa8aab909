//! Performance cards (S3 附件5): one member's year across volunteering and scoring.

use super::*;

impl Feedback {
    pub async fn performance_card(&self, p: &Principal, member_id: &str, year: i32) -> Result<Card> {
        self.require_member_reader(p, member_id).await?;
        let member = self.directory.member(member_id).await?;
        let attendance = self.sources.served(member_id, year).await?;
        let ids: Vec<String> = attendance
            .iter()
            .map(|a| a.activity_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let sources = self.sources.clone();
        let fetched: Vec<Result<ActivityOf>> = stream::iter(ids)
            .map(move |id| {
                let sources = sources.clone();
                async move { sources.activity(&id).await }
            })
            .buffered(FAN_OUT)
            .collect()
            .await;
        let mut activities = HashMap::new();
        for a in fetched {
            let a = a?;
            activities.insert(a.id.clone(), a);
        }
        let mut lines: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        let mut entries = Vec::new();
        for a in &attendance {
            let activity = activities.get(&a.activity_id);
            let kind = activity.map_or_else(|| "UNSPECIFIED".to_owned(), |x| x.kind.clone());
            let way = match kind.as_str() {
                "ORDER" => "order",
                "WISH" => "wish",
                "VISIT" => "visit",
                _ => "activity",
            };
            let minutes = a.minutes;
            let line = lines.entry((kind.clone(), way.to_owned())).or_default();
            line.0 += 1;
            line.1 += minutes;
            entries.push(CardEntry {
                attendance_id: a.attendance_id.clone(),
                activity_id: a.activity_id.clone(),
                title: activity.map(|x| x.title.clone()).unwrap_or_default(),
                activity_kind: kind,
                community_id: a.community_id.clone(),
                minutes,
                confirmed_at: a.confirmed_at,
            });
        }
        Ok(Card {
            member_id: member.id,
            name: member.name,
            year,
            lines: lines
                .into_iter()
                .map(|((activity_kind, way), (services, minutes))| CardLine {
                    activity_kind,
                    way,
                    services,
                    minutes,
                })
                .collect(),
            entries,
        })
    }
}
