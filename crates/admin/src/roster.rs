//! A roster spreadsheet (S4 附录B.1 在职党员社区报到证, one member a row) as
//! member profiles: columns found by their Chinese headers, in any order,
//! each cell checked here for what the file alone can tell (a number where a
//! number belongs); the registry checks the rest on import.

use chrono::Datelike as _;
use dualreport_proto::common::v1::Date;
use dualreport_proto::registry::v1 as pb;

/// One row the file itself refuses: its line in the file (the header is line
/// 1), the column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub name: String,
    pub column: String,
    pub description: String,
}

/// A row read into a profile, with its line in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub profile: pb::MemberProfile,
    /// The 所属社区 cell as written: an org id, or a community's name the
    /// caller resolves.
    pub community: String,
}

/// The template's headers and what they fill. `工作单位及职务` is one cell
/// in B.1 ("区卫健委 科员"); files that split it use `工作单位` and `职务`.
const COLUMNS: [&str; 16] = [
    "姓名",
    "性别",
    "年龄",
    "出生年份",
    "学历",
    "入党时间",
    "工作单位及职务",
    "工作单位",
    "职务",
    "联系方式",
    "家庭住址",
    "所属社区",
    "技能特长",
    "服务意向",
    "服务时间",
    "党员类别",
];

/// The column of each known header; `姓名` and `所属社区` are required.
pub fn columns(headers: &[String]) -> Result<Vec<(&'static str, usize)>, String> {
    let found: Vec<(&'static str, usize)> = COLUMNS
        .iter()
        .filter_map(|name| headers.iter().position(|h| h.trim() == *name).map(|i| (*name, i)))
        .collect();
    for required in ["姓名", "所属社区"] {
        if !found.iter().any(|(n, _)| *n == required) {
            return Err(format!(
                "the file has no {required} column (its headers: {})",
                headers.join(", ")
            ));
        }
    }
    Ok(found)
}

/// Items of a multi-choice cell: `写作、摄影` / `写作,摄影` / `写作 摄影` / `写作√ 摄影√`.
fn items(cell: &str) -> Vec<String> {
    cell.split(['、', ',', '，', ';', '；', ' ', '\n', '/'])
        .map(|s| s.trim().trim_end_matches(['√', '☑', '□']).trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `2008-07-01`, `2008-07`, `2008.7`, `2008年7月1日`, `2008/7/1`.
fn party_date(cell: &str) -> Option<Date> {
    let digits: Vec<i32> = cell
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect::<Option<Vec<i32>>>()?;
    let (year, month, day) = match digits.as_slice() {
        [y, m, d] => (*y, *m, *d),
        [y, m] => (*y, *m, 1),
        [y] if *y > 1900 => (*y, 7, 1),
        _ => return None,
    };
    chrono::NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)?;
    Some(Date { year, month, day })
}

/// Reads every data row (the first row is the header); `unit` is the unit
/// party org the whole file is for.
pub fn read(rows: &[Vec<String>], unit: &str, this_year: i32) -> Result<(Vec<Row>, Vec<RowError>), String> {
    let Some((header, data)) = rows.split_first() else {
        return Err("the file is empty".into());
    };
    let columns = columns(header)?;
    let mut good = Vec::with_capacity(data.len());
    let mut bad = Vec::new();
    for (i, cells) in data.iter().enumerate() {
        let line = i + 2;
        let get = |name: &str| -> &str {
            columns
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, at)| cells.get(*at))
                .map_or("", |s| s.trim())
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let name = get("姓名").to_owned();
        let mut errors: Vec<RowError> = Vec::new();
        let mut refuse = |column: &str, description: String| {
            errors.push(RowError {
                line,
                name: name.clone(),
                column: column.to_owned(),
                description,
            });
        };
        let gender = match get("性别") {
            "男" => pb::Gender::Male,
            "女" => pb::Gender::Female,
            "" => pb::Gender::Unspecified,
            other => {
                refuse("性别", format!("{other:?} is neither 男 nor 女"));
                pb::Gender::Unspecified
            }
        };
        let birth_year = match (get("出生年份"), get("年龄")) {
            (year, _) if !year.is_empty() => year.parse::<i32>().unwrap_or_else(|_| {
                refuse("出生年份", format!("{year:?} is not a year"));
                0
            }),
            (_, age) if !age.is_empty() => match age.trim_end_matches('岁').parse::<i32>() {
                Ok(age) if (16..=120).contains(&age) => this_year - age,
                _ => {
                    refuse("年龄", format!("{age:?} is not an age from 16 to 120"));
                    0
                }
            },
            _ => 0,
        };
        let joined = get("入党时间");
        let joined_party_on = if joined.is_empty() {
            None
        } else {
            let day = party_date(joined);
            if day.is_none() {
                refuse("入党时间", format!("{joined:?} is not a date (e.g. 2008-07-01)"));
            }
            day
        };
        let (mut employer, mut position) = (get("工作单位").to_owned(), get("职务").to_owned());
        let both = get("工作单位及职务");
        if employer.is_empty() && !both.is_empty() {
            match both.rsplit_once([' ', '/', '　']) {
                Some((e, p)) => (employer, position) = (e.trim().to_owned(), p.trim().to_owned()),
                None => employer = both.to_owned(),
            }
        }
        let category = match get("党员类别") {
            "" | "在职" => pb::MemberCategory::InService,
            "退休" => pb::MemberCategory::Retired,
            "流动" => pb::MemberCategory::Floating,
            other => {
                refuse("党员类别", format!("{other:?} is not 在职, 退休 or 流动"));
                pb::MemberCategory::InService
            }
        };
        if !errors.is_empty() {
            bad.extend(errors);
            continue;
        }
        good.push(Row {
            line,
            community: get("所属社区").to_owned(),
            profile: pb::MemberProfile {
                name,
                gender: gender as i32,
                birth_year,
                education: get("学历").to_owned(),
                joined_party_on,
                membership_status: pb::MembershipStatus::Full as i32,
                category: category as i32,
                employer,
                position,
                unit_org_id: unit.to_owned(),
                home_address: get("家庭住址").to_owned(),
                residence_community_id: String::new(),
                phone: get("联系方式").to_owned(),
                skills: items(get("技能特长")),
                service_intentions: items(get("服务意向")),
                available_time_slots: items(get("服务时间")),
            },
        });
    }
    Ok((good, bad))
}

/// This year in China Standard Time (ages are counted from it).
pub fn this_year() -> i32 {
    (chrono::Utc::now() + chrono::Duration::hours(8)).year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
            .collect()
    }

    #[test]
    fn the_b1_template_reads_in_any_order_and_bad_cells_are_named() {
        let rows = sheet(&[
            &[
                "所属社区",
                "姓名",
                "性别",
                "年龄",
                "入党时间",
                "工作单位及职务",
                "技能特长",
                "服务意向",
                "联系方式",
            ],
            &[
                "花园社区",
                "张三",
                "男",
                "41",
                "2008年7月1日",
                "区卫健委 科员",
                "医疗保健、摄影",
                "医疗卫生服务岗，文体活动服务岗",
                "13812345678",
            ],
            &["", "", "", "", "", "", "", "", ""],
            &["花园社区", "李四", "未知", "二十", "2008-13-01", "", "", "", ""],
        ]);
        let (good, bad) = read(&rows, "unit-1", 2026).unwrap();
        assert_eq!(good.len(), 1);
        let p = &good[0].profile;
        assert_eq!((good[0].line, p.name.as_str(), p.birth_year), (2, "张三", 1985));
        assert_eq!((p.employer.as_str(), p.position.as_str()), ("区卫健委", "科员"));
        assert_eq!(p.skills, vec!["医疗保健", "摄影"]);
        assert_eq!(p.service_intentions, vec!["医疗卫生服务岗", "文体活动服务岗"]);
        assert_eq!(
            p.joined_party_on.as_ref().map(|d| (d.year, d.month, d.day)),
            Some((2008, 7, 1))
        );
        assert_eq!(good[0].community, "花园社区");
        let named: Vec<(usize, &str)> = bad.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(named, vec![(4, "性别"), (4, "年龄"), (4, "入党时间")]);
        assert!(columns(&["姓名".to_owned()]).unwrap_err().contains("所属社区"));
    }
}
