//! The demo city: the org tree of two districts (streets, communities, the
//! district committees and resident units), built through the registry, and
//! the names the seed draws from.

use anyhow::Context as _;
use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_policy::{Date, china_today};
use dualreport_proto::registry::v1 as reg;

use crate::client::{As, Demo, Registry};

pub struct Community {
    pub id: String,
    pub name: String,
}

pub struct Unit {
    pub id: String,
    /// The community it is paired with (an index into `City::communities`).
    pub community: usize,
}

/// What the seed has built so far; each step reads it.
pub struct City {
    /// Id and name.
    pub districts: Vec<(String, String)>,
    pub communities: Vec<Community>,
    pub units: Vec<Unit>,
    /// Reported members: id and the index of the community they serve in.
    pub members: Vec<(String, usize)>,
    pub today: Date,
    pub year: i32,
}

impl City {
    /// Creates (or, on a re-run, finds again) the org tree under `city`:
    /// both districts of the layout, or only the `only`-th (one district
    /// release of `make run-city`).
    pub async fn build(demo: &Demo, city: &str, only: Option<usize>) -> anyhow::Result<City> {
        let mut admin = demo.registry(As::Admin(Role::CityAdmin, city))?;
        use reg::OrganizationType as T;
        let layout = [
            (
                "金水区",
                [
                    ("花园路街道", ["农科路社区", "文化路社区"]),
                    ("经八路街道", ["纬五路社区", "省军区社区"]),
                ],
            ),
            (
                "二七区",
                [
                    ("建中街街道", ["建中街社区", "陇海社区"]),
                    ("五里堡街道", ["五里堡社区", "京广路社区"]),
                ],
            ),
            (
                "中原区",
                [
                    ("林山寨街道", ["百花社区", "桐柏社区"]),
                    ("绿东村街道", ["绿东社区", "友爱社区"]),
                ],
            ),
        ];
        anyhow::ensure!(
            only.is_none_or(|n| n < layout.len()),
            "--district-layout must be below {}",
            layout.len()
        );
        let mut communities = Vec::new();
        let mut units = Vec::new();
        let mut districts = Vec::new();
        for (d, (district_name, streets)) in layout.iter().enumerate() {
            // The whole demo (no `only`) keeps its two districts.
            if only.map_or(d >= 2, |n| n != d) {
                continue;
            }
            let district = org(&mut admin, &format!("d{d}"), district_name, T::District, city, 0).await?;
            districts.push((district.clone(), district_name.to_string()));
            let first_community = communities.len();
            for (s, (street_name, names)) in streets.iter().enumerate() {
                let street = org(&mut admin, &format!("d{d}s{s}"), street_name, T::Street, &district, 0).await?;
                for (c, name) in names.iter().enumerate() {
                    let id = org(&mut admin, &format!("d{d}s{s}c{c}"), name, T::Community, &street, 0).await?;
                    communities.push(Community {
                        id,
                        name: name.to_string(),
                    });
                }
            }
            let committee = org(
                &mut admin,
                &format!("d{d}w"),
                &format!("{district_name}直机关工委"),
                T::Organ,
                &district,
                0,
            )
            .await?;
            let unit_names = [
                (format!("{district_name}卫健委机关党委"), T::Organ, committee.as_str()),
                (format!("{district_name}教育局机关党委"), T::Organ, committee.as_str()),
                (
                    format!("{district_name}人民医院党委"),
                    T::Institution,
                    district.as_str(),
                ),
                (format!("{district_name}供电公司党委"), T::Enterprise, district.as_str()),
            ];
            for (u, (name, kind, parent)) in unit_names.iter().enumerate() {
                let id = org(&mut admin, &format!("d{d}u{u}"), name, *kind, parent, 40).await?;
                units.push(Unit {
                    id,
                    community: first_community + u,
                });
            }
        }
        let today = china_today();
        Ok(City {
            districts,
            communities,
            units,
            members: Vec::new(),
            today,
            year: today.year(),
        })
    }

    /// The first day of the half-year today is in.
    pub fn first_of_current_half(&self) -> anyhow::Result<Date> {
        let first_month = if self.today.month() <= 6 { 1 } else { 7 };
        Date::from_ymd_opt(self.year, first_month, 1).context("date")
    }

    /// The half-year of this year that has ended, if one has: its first and last day.
    pub fn settled_half(&self) -> Option<(Date, Date)> {
        (self.today.month() > 6).then(|| {
            (
                Date::from_ymd_opt(self.year, 1, 1).expect("1 Jan"),
                Date::from_ymd_opt(self.year, 6, 30).expect("30 Jun"),
            )
        })
    }
}

async fn org(
    client: &mut Registry,
    key: &str,
    name: &str,
    kind: reg::OrganizationType,
    parent: &str,
    members: i32,
) -> anyhow::Result<String> {
    let response = client
        .create_organization(reg::CreateOrganizationRequest {
            request_id: format!("demo-org-{key}"),
            organization: Some(reg::OrganizationInput {
                name: name.into(),
                r#type: kind as i32,
                parent_id: parent.into(),
                address: format!("河南省郑州市{name}"),
                postcode: "450000".into(),
                leader: "王书记".into(),
                contact_person: "李干事".into(),
                contact_phone: "0371-66668888".into(),
                in_service_member_count: members,
            }),
        })
        .await
        .with_context(|| format!("creating {name}"))?;
    Ok(response.into_inner().organization.context("organization")?.id)
}

pub const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗",
];
pub const GIVEN: [&str; 16] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
];
pub const SKILLS: [&str; 8] = [
    "写作",
    "法律",
    "医疗保健",
    "摄影",
    "财会",
    "心理辅导",
    "电脑操作",
    "便民服务",
];
pub const POSTS: [&str; 6] = [
    "环境卫生保洁岗",
    "政策法规宣传岗",
    "医疗卫生服务岗",
    "文体活动服务岗",
    "民事纠纷调解岗",
    "扶贫帮困助残岗",
];
pub const SERVICES: [&str; 8] = [
    "社区环境卫生保洁",
    "垃圾分类督导",
    "政策法规宣传",
    "义诊与健康咨询",
    "重阳节慰问空巢老人",
    "文明交通劝导",
    "民事纠纷调解",
    "七一主题党日共建活动",
];

/// A day of the half-year `h` that is not after today: spread by `n`.
pub fn day_in(first: Date, last: Date, n: usize) -> Date {
    let span = (last - first).num_days().max(0) as usize + 1;
    first + chrono::Days::new((n * 37 % span) as u64)
}
