//! Who may call what in feedback: the role gate's table and the README's.

use dualreport_platform::access::{ADMINS, AccessTable, PEOPLE, Rule};
use dualreport_platform::auth::Role;

pub static ACCESS: AccessTable = AccessTable {
    service: crate::startup::SERVICE_NAME,
    rules: &[
        Rule {
            rpcs: &["GetSummaryTable"],
            roles: ADMINS,
            scope: "admins over the unit org; a community's admin for its own view (`community_id`) of a unit paired with it",
        },
        Rule {
            rpcs: &["ExportTable", "DownloadTable"],
            roles: PEOPLE,
            scope: "as the table exported: the summary as GetSummaryTable, objections as ListObjections, the registration table as admins over the community",
        },
        Rule {
            rpcs: &["CommentOnMember", "SendNotice", "RateUnit"],
            roles: &[Role::CommunityAdmin],
            scope: "the community's own admin; comments on members reported there, notices and ratings to paired units",
        },
        Rule {
            rpcs: &["GetNotice", "ListNotices", "ListUnitRatings"],
            roles: ADMINS,
            scope: "admins over either end (the community, the unit — so district and city admins too)",
        },
        Rule {
            rpcs: &["AcknowledgeNotice", "BatchAcknowledgeNotices"],
            roles: &[Role::UnitAdmin],
            scope: "the addressed unit org's admin",
        },
        Rule {
            rpcs: &["GetPerformanceCard", "ListWarnings", "GetEligibility"],
            roles: PEOPLE,
            scope: "the member; admins over the member's unit or home community, or over the org listed",
        },
        Rule {
            rpcs: &["RaiseObjection"],
            roles: &[Role::Member, Role::UnitAdmin],
            scope: "the member whose card holds the entry; a unit admin for the unit's card",
        },
        Rule {
            rpcs: &["AssignObjection", "AddInvestigationNote", "DecideObjection"],
            roles: ADMINS,
            scope: "admins over the community where the entry was recorded",
        },
        Rule {
            rpcs: &["GetObjection", "ListObjections"],
            roles: PEOPLE,
            scope: "whoever raised it; admins over its community (lists: a member's or unit's own without `org_id`)",
        },
        Rule {
            rpcs: &[
                "DrawSpotCheck",
                "RecordSpotCheckOutcome",
                "GetSpotCheck",
                "EvaluateWarnings",
            ],
            roles: ADMINS,
            scope: "admins over the unit org (its own admin, and above)",
        },
        Rule {
            rpcs: &["WatchEvents"],
            roles: &[Role::Cloud, Role::CityAdmin, Role::DistrictAdmin],
            scope: "`cloud` and city admins: every event; a district admin: the events of its district",
        },
        Rule {
            rpcs: &["SetWebhook", "GetWebhook", "ListFailedDeliveries", "ReplayDelivery"],
            roles: &[Role::Cloud, Role::CityAdmin],
            scope: "the city (or the cloud itself): the webhook is the city's single delivery to the cloud",
        },
    ],
};
