//! The exported tables with their templates' Chinese headers.

use dualreport_platform::wire::date_from_pb;
use dualreport_proto::scoring::v1::RegistrationTable;

use crate::domain::model::{Objection, SummaryTable};
use dualreport_platform::table::Table;

/// 附录F 在职党员到社区报到情况汇总表.
pub fn summary(t: &SummaryTable) -> Table {
    Table {
        sheet: "报到情况汇总表".into(),
        headers: vec!["序号", "姓名", "是否报到", "积分", "星级", "社区评价", "备注"],
        rows: t
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.number.to_string(),
                    r.name.clone(),
                    if r.reported { "是" } else { "否" }.into(),
                    r.points.to_string(),
                    r.stars.to_string(),
                    r.comment.clone(),
                    if r.missing.is_empty() {
                        String::new()
                    } else {
                        format!("数据不完整（{} 未响应）", r.missing.join("、"))
                    },
                ]
            })
            .collect(),
    }
}

/// 附录G 异议处理登记表.
pub fn objections(list: &[Objection]) -> Table {
    Table {
        sheet: "异议处理登记表".into(),
        headers: vec!["序号", "提出人", "异议内容", "执行部门", "处理结果"],
        rows: list
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let result = if o.status.decided() {
                    format!("{}：{}", o.status.chinese(), o.result)
                } else {
                    o.status.chinese().to_owned()
                };
                vec![
                    (i + 1).to_string(),
                    o.raised_by.clone(),
                    o.content.clone(),
                    o.department.clone(),
                    result,
                ]
            })
            .collect(),
    }
}

/// 附录A 在职党员服务登记表 (from scoring).
pub fn registration(t: &RegistrationTable) -> Table {
    let mut rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            vec![
                r.number.to_string(),
                r.served_on
                    .as_ref()
                    .and_then(date_from_pb)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                r.content.clone(),
                r.points.to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        "合计".into(),
        String::new(),
        format!("半年积分 {}，星级 {}", t.total_points, t.stars),
        t.total_points.to_string(),
    ]);
    Table {
        sheet: "服务登记表".into(),
        headers: vec!["序号", "服务日期", "服务内容", "积分"],
        rows,
    }
}
