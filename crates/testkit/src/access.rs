//! Table-driven authorization checks every service runs against its own
//! [`AccessTable`]: every RPC of the contract has a row (a new RPC without one
//! fails), the README shows the table the code enforces, and every RPC
//! refuses every role its row does not list and every bad token — called
//! through the real server, with raw bytes so no RPC is left out.

use base64::Engine as _;
use dualreport_platform::access::{AccessTable, readme_section};
use dualreport_platform::auth::Role;
use prost::Message as _;
use tonic::Code;
use tonic::transport::Channel;

use crate::{mint, raw};

/// Every role there is.
pub const ROLES: [Role; 9] = [
    Role::CityAdmin,
    Role::DistrictAdmin,
    Role::StreetAdmin,
    Role::CommunityAdmin,
    Role::UnitAdmin,
    Role::Member,
    Role::Service,
    Role::Cloud,
    Role::Public,
];

/// The RPC names of `service` in the suite's contract.
pub fn contract_rpcs(service: &str) -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(dualreport_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let (package, name) = service.rsplit_once('.').expect("qualified service name");
    set.file
        .iter()
        .filter(|f| f.package() == package)
        .flat_map(|f| f.service.iter())
        .filter(|s| s.name() == name)
        .flat_map(|s| s.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

/// Every RPC of the contract has exactly one row, and every row names RPCs
/// of the contract.
pub fn assert_table_covers_the_contract(table: &AccessTable) {
    let rpcs = contract_rpcs(table.service);
    assert!(!rpcs.is_empty(), "{} is not in the contract", table.service);
    for rpc in &rpcs {
        let rows = table.rules.iter().filter(|r| r.rpcs.contains(&rpc.as_str())).count();
        assert_eq!(
            rows, 1,
            "{}/{rpc} needs exactly one access rule, has {rows}",
            table.service
        );
    }
    for rule in table.rules {
        for rpc in rule.rpcs {
            assert!(
                rpcs.iter().any(|r| r == rpc),
                "{}: rule for {rpc}, which the contract lacks",
                table.service
            );
        }
    }
}

/// The README's "who may call what" section is the one the tables render.
/// `DUALREPORT_BLESS_README=1` rewrites it instead.
pub fn assert_readme_shows(readme: &str, tables: &[&AccessTable]) {
    let text = std::fs::read_to_string(readme).expect("read README");
    let begin = dualreport_platform::access::README_BEGIN;
    let end = dualreport_platform::access::README_END;
    let (Some(start), Some(stop)) = (text.find(begin), text.find(end)) else {
        panic!("{readme} lacks the generated access table markers");
    };
    let current = &text[start..stop + end.len()];
    let expected = readme_section(tables);
    if current != expected {
        if std::env::var_os("DUALREPORT_BLESS_README").is_some() {
            std::fs::write(readme, text.replace(current, &expected)).expect("write README");
            return;
        }
        panic!(
            "{readme}'s access table differs from the code; run the test with DUALREPORT_BLESS_README=1, \
             or paste:\n{expected}"
        );
    }
}

/// A token of `role` (admins scoped to `org`, members to `member`).
fn token_of(role: Role, org: &str, member: &str) -> String {
    if role.is_admin() {
        mint(role, Some(org), None, 3600)
    } else if role == Role::Member {
        mint(role, None, Some(member), 3600)
    } else {
        mint(role, None, None, 3600)
    }
}

/// Tokens the server must not accept: expired, signed by another key,
/// unsigned (`alg: none`), not a JWT.
pub fn bad_tokens() -> Vec<(&'static str, String)> {
    let foreign = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let claims = dualreport_platform::auth::claims("x", Role::CityAdmin, Some("city"), None, 3600);
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
        )
        .expect("encode")
    };
    let unsigned = {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = dualreport_platform::auth::claims("x", Role::CityAdmin, Some("city"), None, 3600);
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&claims).expect("claims"))
        )
    };
    vec![
        ("expired", mint(Role::CityAdmin, Some("city"), None, 0)),
        ("wrongly signed", foreign),
        ("alg=none", unsigned),
        ("malformed", "not.a.jwt".to_owned()),
    ]
}

/// Calls every RPC of every table as every role its row does not list
/// (`PERMISSION_DENIED`), and with every bad token and none
/// (`UNAUTHENTICATED`). `org` and `member` give the tokens their scope.
pub async fn assert_refusals(channel: &Channel, tables: &[&AccessTable], org: &str, member: &str) {
    let mut checked = 0;
    for table in tables {
        for rpc in contract_rpcs(table.service) {
            let path = format!("/{}/{rpc}", table.service);
            let allowed = table
                .roles(&rpc)
                .expect("a rule (checked by assert_table_covers_the_contract)");
            for role in ROLES.iter().filter(|r| !allowed.contains(r)) {
                let status = raw::unary(channel, &path, &token_of(*role, org, member), Vec::new())
                    .await
                    .expect_err(&format!("{} may not call {rpc}", role.as_str()));
                assert_eq!(
                    status.code(),
                    Code::PermissionDenied,
                    "{} calling {rpc}: {status:?}",
                    role.as_str()
                );
                checked += 1;
            }
            for (what, token) in bad_tokens() {
                let status = raw::unary(channel, &path, &token, Vec::new())
                    .await
                    .expect_err(&format!("{what} token on {rpc}"));
                assert_eq!(
                    status.code(),
                    Code::Unauthenticated,
                    "{what} token on {rpc}: {status:?}"
                );
            }
            let status = raw::unauthenticated(channel, &path, Vec::new())
                .await
                .expect_err(&format!("no token on {rpc}"));
            assert_eq!(status.code(), Code::Unauthenticated, "no token on {rpc}: {status:?}");
        }
    }
    assert!(checked > 0, "no refusal was checked");
}

/// The three table-driven access tests of one service's API test binary:
/// `who_may_call_tests!([&svc::grpc::access::ACCESS, …], spawn(Backend::Sqlite))`, where the
/// second argument is a future of a running test server with a `channel` field.
/// Each test name mentions no backend: roles are refused before storage.
#[macro_export]
macro_rules! who_may_call_tests {
    ([$($table:expr),+ $(,)?], $spawn:expr) => {
        fn tables() -> Vec<&'static dualreport_platform::access::AccessTable> {
            vec![$($table),+]
        }

        #[test]
        fn every_rpc_of_the_contract_has_an_access_rule() {
            for table in tables() {
                $crate::access::assert_table_covers_the_contract(table);
            }
        }

        #[test]
        fn the_readme_shows_the_rules_the_code_enforces() {
            $crate::access::assert_readme_shows(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"), &tables());
        }

        #[tokio::test]
        async fn every_rpc_refuses_every_other_role_and_every_bad_token() {
            let app = $spawn.await;
            $crate::access::assert_refusals(&app.channel, &tables(), "city", "m1").await;
        }
    };
}
