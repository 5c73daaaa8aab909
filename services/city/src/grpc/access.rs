//! Who may call what at the city tier: the role gate's table and the README's.

use dualreport_platform::access::{AccessTable, INSIDERS, NOTICE_READERS, Rule};
use dualreport_platform::auth::Role;

pub static ACCESS: AccessTable = AccessTable {
    service: crate::startup::SERVICE_NAME,
    rules: &[
        Rule {
            rpcs: &["ListDistricts", "ListCityRelocations", "GetCityStatistics"],
            roles: &[Role::CityAdmin, Role::DistrictAdmin],
            scope: "the city's admins (token org = `city.city_id`); a district's admins (token org = the district org its facts name), about their district only",
        },
        Rule {
            rpcs: &["ListMunicipalUnitStatistics"],
            roles: &[Role::CityAdmin],
            scope: "the city's admins (token org = `city.city_id`)",
        },
        Rule {
            rpcs: &["WatchEvents"],
            roles: &[Role::Cloud, Role::CityAdmin, Role::DistrictAdmin],
            scope: "the party-building cloud; the city's admins; a district's admins, their district's events only",
        },
        Rule {
            rpcs: &["SetWebhook", "GetWebhook", "ListFailedDeliveries", "ReplayDelivery"],
            roles: &[Role::Cloud, Role::CityAdmin],
            scope: "the party-building cloud; the city's admins: the webhook is the city's one delivery to the cloud",
        },
        Rule {
            rpcs: &["ListCityBoard"],
            roles: NOTICE_READERS,
            scope: "everyone in the suite and the portal's `public` pages: the board is a public notice (公示) of published settlements",
        },
        Rule {
            rpcs: &["CreateMunicipalUnit", "UpdateMunicipalUnit"],
            roles: &[Role::CityAdmin],
            scope: "the city's admins (token org = `city.city_id`)",
        },
        Rule {
            rpcs: &["ListMunicipalUnits"],
            roles: INSIDERS,
            scope: "everyone in the suite: reference data",
        },
        Rule {
            rpcs: &[
                "GetMunicipalSummary",
                "DownloadMunicipalSummary",
                "GetMunicipalReportStatistics",
                "ListMunicipalNotReportedMembers",
                "ListMunicipalUnitRatings",
                "ListMunicipalWarnings",
            ],
            roles: &[Role::CityAdmin, Role::UnitAdmin],
            scope: "the municipal unit's admins and those of the municipal orgs above it; the city's admins. Each district checks the caller again (its token is passed on)",
        },
        Rule {
            rpcs: &["GetCityPolicy"],
            roles: &[Role::CityAdmin, Role::DistrictAdmin],
            scope: "the city's admins; the districts' admins (each sees whether its district runs the city's policy)",
        },
        Rule {
            rpcs: &["ListReferenceChanges"],
            roles: &[Role::Service],
            scope: "the district registries' `city_sync`",
        },
    ],
};
