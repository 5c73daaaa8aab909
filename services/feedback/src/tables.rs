//! The exported tables with their templates' Chinese headers, as typed
//! cells (numbers stay numbers and dates dates in XLSX).

use chrono::Datelike as _;
use dualreport_platform::wire::date_from_pb;
use dualreport_proto::scoring::v1::RegistrationTable;
use dualreport_tables::{Cell, Table};

use crate::domain::model::{Objection, SummaryTable};

/// 附录F 在职党员到社区报到情况汇总表.
pub fn summary(t: &SummaryTable) -> Table {
    let mut table = Table::new(
        "报到情况汇总表",
        &["序号", "姓名", "是否报到", "积分", "星级", "社区评价", "备注"],
    );
    for r in &t.rows {
        table.push(vec![
            r.number.into(),
            r.name.as_str().into(),
            if r.reported { "是" } else { "否" }.into(),
            r.points.into(),
            r.stars.into(),
            r.comment.as_str().into(),
            if r.missing.is_empty() {
                Cell::Empty
            } else {
                format!("数据不完整（{} 未响应）", r.missing.join("、")).into()
            },
        ]);
    }
    table
}

/// 附录G 异议处理登记表.
pub fn objections(list: &[Objection]) -> Table {
    let mut table = Table::new(
        "异议处理登记表",
        &["序号", "提出人", "异议内容", "执行部门", "处理结果"],
    );
    for (i, o) in list.iter().enumerate() {
        let result = if o.status.decided() {
            format!("{}：{}", o.status.chinese(), o.result)
        } else {
            o.status.chinese().to_owned()
        };
        table.push(vec![
            Cell::Integer(i64::try_from(i + 1).unwrap_or(i64::MAX)),
            o.raised_by.as_str().into(),
            o.content.as_str().into(),
            o.department.as_str().into(),
            result.into(),
        ]);
    }
    table
}

/// 附录A 在职党员服务登记表 (from scoring).
pub fn registration(t: &RegistrationTable) -> Table {
    let mut table = Table::new("服务登记表", &["序号", "服务日期", "服务内容", "积分"]);
    for r in &t.rows {
        let day = r
            .served_on
            .as_ref()
            .and_then(date_from_pb)
            .map_or(Cell::Empty, |d| Cell::Date {
                year: d.year(),
                month: d.month(),
                day: d.day(),
            });
        table.push(vec![r.number.into(), day, r.content.as_str().into(), r.points.into()]);
    }
    table.push(vec![
        "合计".into(),
        Cell::Empty,
        format!("半年积分 {}，星级 {}", t.total_points, t.stars).into(),
        t.total_points.into(),
    ]);
    table
}
