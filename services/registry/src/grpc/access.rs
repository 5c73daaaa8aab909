//! Who may call what in the registry: the role gate's table and the README's.

use dualreport_platform::access::{ADMINS, ADMINS_AND_SERVICES, AccessTable, INSIDERS, PEOPLE, Rule};
use dualreport_platform::auth::Role;

pub static ACCESS: AccessTable = AccessTable {
    service: crate::startup::SERVICE_NAME,
    rules: &[
        Rule {
            rpcs: &["ResealPersonalInformation"],
            roles: &[Role::CityAdmin, Role::DistrictAdmin],
            scope: "the city's admins, and the admins of a district this registry holds: key rotation of the personal information it seals",
        },
        Rule {
            rpcs: &["GetOrganization", "ListOrganizations", "GetPolicy"],
            roles: INSIDERS,
            scope: "everyone in the suite: the directory and the policy are public inside it",
        },
        Rule {
            rpcs: &["CreateOrganization"],
            roles: ADMINS,
            scope: "an admin over the parent",
        },
        Rule {
            rpcs: &["UpdateOrganization"],
            roles: ADMINS,
            scope: "an admin over the org (and over the new parent when moving it)",
        },
        Rule {
            rpcs: &["CreateMember", "ImportMembers"],
            roles: ADMINS,
            scope: "an admin over the member's unit org (its unit admin or above)",
        },
        Rule {
            rpcs: &["GetMember"],
            roles: INSIDERS,
            scope: "the member; admins over its unit or residence community; `service` (masked view only). The full view is logged",
        },
        Rule {
            rpcs: &["ListMembers"],
            roles: ADMINS_AND_SERVICES,
            scope: "admins over the unit or community filtered on",
        },
        Rule {
            rpcs: &["UpdateMember", "DeclareRelocation"],
            roles: PEOPLE,
            scope: "the member; admins over its unit or residence community",
        },
        Rule {
            rpcs: &["GetRelocationTransfer", "AdmitRelocatedMember", "FulfilRelocation"],
            roles: &[Role::Service],
            scope: "the city tier's relocation saga between districts (the transfer's personal-information read is logged)",
        },
        Rule {
            rpcs: &["ListPersonalInfoAccesses"],
            roles: ADMINS,
            scope: "rows of members whose unit or community is in the admin's subtree",
        },
        Rule {
            rpcs: &["SubmitUnitReport"],
            roles: ADMINS,
            scope: "the unit's admin or an admin above it; a street admin for a community in its street",
        },
        Rule {
            rpcs: &["ReceiveUnitReport", "ConfirmMemberReport", "BatchConfirmMemberReports"],
            roles: ADMINS,
            scope: "an admin over the community (another community's admin is refused)",
        },
        Rule {
            rpcs: &[
                "IssueIntroductionLetter",
                "BatchIssueIntroductionLetters",
                "RecordNonReportReason",
            ],
            roles: ADMINS,
            scope: "an admin over the member's unit",
        },
        Rule {
            rpcs: &["SubmitMemberReport"],
            roles: PEOPLE,
            scope: "the member; an admin over the community or over the member's unit",
        },
        Rule {
            rpcs: &["GetUnitReport", "GetMemberReport", "ListMemberReports", "GetReceipt"],
            roles: INSIDERS,
            scope: "admins over the unit or the community; the member for its own",
        },
        Rule {
            rpcs: &[
                "ListRegister",
                "ListUnitReports",
                "ListRelocations",
                "GetReportStatistics",
                "ListNotReportedMembers",
            ],
            roles: ADMINS_AND_SERVICES,
            scope: "admins over the org filtered on",
        },
    ],
};
