//! Who may call what in scoring: the role gate's table and the README's.

use dualreport_platform::access::{AccessTable, INSIDERS, NOTICE_READERS, Rule};
use dualreport_platform::auth::Role;

const COMMUNITY_ADMIN: &[Role] = &[Role::CommunityAdmin];
const COMMUNITY_ADMIN_OR_SERVICE: &[Role] = &[Role::CommunityAdmin, Role::Service];

pub static ACCESS: AccessTable = AccessTable {
    service: crate::startup::SERVICE_NAME,
    rules: &[
        Rule {
            rpcs: &["RecordService", "BatchRecordServices", "RecordProjectScore"],
            roles: COMMUNITY_ADMIN_OR_SERVICE,
            scope: "the community's admin (token org = that community); `service` (volunteering pays confirmed attendance)",
        },
        Rule {
            rpcs: &["RecordSpecial"],
            roles: COMMUNITY_ADMIN,
            scope: "the community's admin (the approver)",
        },
        Rule {
            rpcs: &["RecordCorrection"],
            roles: COMMUNITY_ADMIN_OR_SERVICE,
            scope: "the admin of the corrected entry's community; `service` (feedback, for an upheld objection)",
        },
        Rule {
            rpcs: &[
                "GetEntry",
                "ListEntries",
                "GetBalance",
                "GetRegistrationTable",
                "ListRedemptions",
            ],
            roles: INSIDERS,
            scope: "the member itself; admins at or above the member's unit or residence community, or over the community a read is limited to (`community_id`); `service`. A unit org's card: admins at or above the unit",
        },
        Rule {
            rpcs: &["ListMemberTotals"],
            roles: &[Role::Service],
            scope: "the suite's services (feedback's summary tables and warnings)",
        },
        Rule {
            rpcs: &["SettlePeriod", "ReviewSettlement", "PublishSettlement"],
            roles: COMMUNITY_ADMIN,
            scope: "the community's admin",
        },
        Rule {
            rpcs: &["GetSettlement", "ListSettlementLines", "ListSettlements"],
            roles: INSIDERS,
            scope: "published versions: everyone; drafts and reviewed versions: admins at or above the community (or the `org_id` listed), `service`",
        },
        Rule {
            rpcs: &["GetBoard", "GetBoardStatistics"],
            roles: NOTICE_READERS,
            scope: "everyone in the suite and the portal's `public` pages: the board is a public notice (公示) of published settlements",
        },
        Rule {
            rpcs: &["GetScoringRules", "ListItems"],
            roles: INSIDERS,
            scope: "everyone in the suite (`include_inactive`: admins over the community)",
        },
        Rule {
            rpcs: &["CreateItem", "UpdateItem", "CancelRedemption"],
            roles: COMMUNITY_ADMIN,
            scope: "the community's admin",
        },
        Rule {
            rpcs: &["Redeem"],
            roles: &[Role::Member, Role::CommunityAdmin],
            scope: "the member for itself; the item's community admin at the counter",
        },
    ],
};
