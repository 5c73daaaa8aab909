//! Who may call what, declared once per service and enforced in front of
//! every handler.
//!
//! Each service declares an [`AccessTable`]: for every RPC of its contract,
//! the roles that may call it at all and, in words, whom among them the use
//! case then lets through (its scope check: which org, which member). The
//! [`RoleGate`] refuses every other role with `PERMISSION_DENIED` before the
//! request is decoded, and refuses an RPC the table does not list (default
//! deny: an RPC without a row cannot be called). The same table renders
//! the "who may call what" section of the service README
//! ([`AccessTable::markdown`]); a test in each service keeps the two equal.

use std::collections::HashMap;

use dualreport_proto::common::v1::ErrorReason;
use tonic::{Code, Status};

use crate::auth::{Principal, Role};
use crate::error::status;
use crate::gate::Gate;

/// The five admin roles, each scoped to an org and everything below it.
pub const ADMINS: &[Role] = &[
    Role::CityAdmin,
    Role::DistrictAdmin,
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::UnitAdmin,
];
/// Admins and members.
pub const PEOPLE: &[Role] = &[
    Role::CityAdmin,
    Role::DistrictAdmin,
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::UnitAdmin,
    Role::Member,
];
/// Admins and the suite's own services.
pub const ADMINS_AND_SERVICES: &[Role] = &[
    Role::CityAdmin,
    Role::DistrictAdmin,
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::UnitAdmin,
    Role::Service,
];
/// Everyone inside the suite: admins, members and services (not the cloud,
/// which reads feedback's feed and nothing else).
pub const INSIDERS: &[Role] = &[
    Role::CityAdmin,
    Role::DistrictAdmin,
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::UnitAdmin,
    Role::Member,
    Role::Service,
];

/// Everyone inside the suite and the portal's public pages: the readers of a
/// public notice (公示), such as a published vanguard board.
pub const NOTICE_READERS: &[Role] = &[
    Role::CityAdmin,
    Role::DistrictAdmin,
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::UnitAdmin,
    Role::Member,
    Role::Service,
    Role::Public,
];

/// One row: these RPCs, callable by these roles, within this scope.
#[derive(Debug)]
pub struct Rule {
    pub rpcs: &'static [&'static str],
    pub roles: &'static [Role],
    /// Whom among `roles` the use case lets through, in words.
    pub scope: &'static str,
}

/// Every RPC of one gRPC service.
#[derive(Debug)]
pub struct AccessTable {
    /// The fully qualified service name, e.g. `dualreport.registry.v1.RegistryService`.
    pub service: &'static str,
    pub rules: &'static [Rule],
}

impl AccessTable {
    /// The roles that may call `rpc`, or `None` when the table has no row for it.
    pub fn roles(&self, rpc: &str) -> Option<&'static [Role]> {
        self.rules
            .iter()
            .find(|rule| rule.rpcs.contains(&rpc))
            .map(|rule| rule.roles)
    }

    /// The README table, generated from this declaration ("admins" stands
    /// for all five admin roles).
    pub fn markdown(&self) -> String {
        let mut out = String::from("| RPC | roles | within |\n|---|---|---|\n");
        for rule in self.rules {
            let all_admins = ADMINS.iter().all(|r| rule.roles.contains(r));
            let mut roles = Vec::new();
            if all_admins {
                roles.push("admins".to_owned());
            }
            roles.extend(
                rule.roles
                    .iter()
                    .filter(|r| !(all_admins && r.is_admin()))
                    .map(|r| format!("`{}`", r.as_str())),
            );
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                rule.rpcs.join(", "),
                roles.join(", "),
                rule.scope
            ));
        }
        out
    }
}

/// The README's generated table sits between these markers.
pub const README_BEGIN: &str = "<!-- access table: generated from the code (grpc/access.rs); a test keeps it equal -->";
pub const README_END: &str = "<!-- end of access table -->";

/// The tables' markdown as it must appear in a README, markers included.
pub fn readme_section(tables: &[&AccessTable]) -> String {
    let mut out = format!("{README_BEGIN}\n");
    for table in tables {
        if tables.len() > 1 {
            out.push_str(&format!("\n`{}`\n\n", table.service));
        }
        out.push_str(&table.markdown());
    }
    out.push_str(README_END);
    out
}

/// The gate: refuses a role its table does not list for the RPC.
#[derive(Clone, Debug, Default)]
pub struct RoleGate {
    services: HashMap<&'static str, &'static AccessTable>,
}

impl RoleGate {
    pub fn new(tables: &[&'static AccessTable]) -> Self {
        Self {
            services: tables.iter().map(|t| (t.service, *t)).collect(),
        }
    }
}

impl Gate for RoleGate {
    type Ticket = ();

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Status> {
        let path = request.uri().path();
        let Some((service, rpc)) = path.trim_start_matches('/').split_once('/') else {
            return Ok(());
        };
        // Health, reflection and unknown services are not ours to refuse
        // (tonic answers UNIMPLEMENTED for the unknown).
        let Some(table) = self.services.get(service) else {
            return Ok(());
        };
        let Some(principal) = request.extensions().get::<Principal>() else {
            return Ok(());
        };
        match table.roles(rpc) {
            Some(roles) if roles.contains(&principal.role) => Ok(()),
            Some(_) => Err(status(
                Code::PermissionDenied,
                ErrorReason::OutOfScope,
                format!("role {} may not call {rpc}", principal.role.as_str()),
            )),
            // Not in the table: not in the contract (each service's tests check
            // that every RPC of its contract has a row).
            None => Err(Status::new(Code::Unimplemented, format!("{service} has no rpc {rpc}"))),
        }
    }
}
