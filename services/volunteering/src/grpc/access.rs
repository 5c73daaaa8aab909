//! Who may call what in volunteering: the role gate's table and the README's.

use dualreport_platform::access::{AccessTable, INSIDERS, Rule};
use dualreport_platform::auth::Role;

pub static ACCESS: AccessTable = AccessTable {
    service: crate::startup::SERVICE_NAME,
    rules: &[
        Rule {
            rpcs: &[
                "CreatePost",
                "CreateTeam",
                "CreateStudio",
                "CreateActivity",
                "IssueCheckInCode",
                "ConfirmAttendance",
                "BatchConfirmAttendance",
                "PlaceOrder",
                "DispatchOrder",
                "RateOrder",
                "PostWish",
                "AssignHouseholds",
                "RecordUnitService",
            ],
            roles: &[Role::CommunityAdmin],
            scope: "the admin of that community",
        },
        Rule {
            rpcs: &[
                "ClaimPost",
                "WithdrawClaim",
                "JoinTeam",
                "LeaveTeam",
                "SetPledge",
                "SignUp",
                "CheckIn",
                "AcceptOrder",
                "CompleteOrder",
                "LogVisit",
            ],
            roles: &[Role::Member],
            scope: "the member themself, where registered",
        },
        Rule {
            rpcs: &["ClaimWish", "FulfilWish"],
            roles: &[Role::Member, Role::UnitAdmin],
            scope: "a member registered at the community; a paired unit's admin for a collective wish",
        },
        Rule {
            rpcs: &["CreateAgreement"],
            roles: &[Role::UnitAdmin],
            scope: "the unit's admin, with a received report at the community",
        },
        Rule {
            rpcs: &["UpdateProjectStatus"],
            roles: &[Role::UnitAdmin, Role::CommunityAdmin],
            scope: "the agreement's unit or community admin",
        },
        Rule {
            rpcs: &["UploadEvidence"],
            roles: &[Role::CommunityAdmin, Role::Member],
            scope: "the community's admin, or a member registered there this year",
        },
        Rule {
            rpcs: &[
                "ListPosts",
                "ListTeams",
                "ListStudios",
                "ListPledges",
                "GetAgreement",
                "ListAgreements",
                "GetActivity",
                "ListActivities",
                "GetOrder",
                "ListOrders",
                "ListWishes",
                "GetEvidence",
            ],
            roles: INSIDERS,
            scope: "admins at or above the community, members registered there (this year or last), paired unit admins, `service`; ListOrders and ListWishes of an `org_id` subtree: its admins and `service`",
        },
        Rule {
            rpcs: &["ListClaims", "GetPledge", "ListHouseholds", "ListAttendance"],
            roles: INSIDERS,
            scope: "a member's: the member, admins over their unit or residence community, `service`; an activity's, a community's or a subtree's attendance: admins at or above the community (or `org_id`), `service`",
        },
        Rule {
            rpcs: &["IssueServiceCertificate"],
            roles: &[Role::CommunityAdmin],
            scope: "the admin of the community that recorded the services (谁组织谁记录): token org = `community_id`",
        },
        Rule {
            rpcs: &["ExportVolunteerRecords", "MarkVolunteerRecords"],
            roles: dualreport_platform::access::ADMINS_AND_SERVICES,
            scope: "admins at or above the community that organised the services (谁组织谁记录), `service` (a district's uploader to the national system)",
        },
        Rule {
            rpcs: &["ListUnitRecords"],
            roles: dualreport_platform::access::ADMINS_AND_SERVICES,
            scope: "the unit's admins and those above",
        },
    ],
};
