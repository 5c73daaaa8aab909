//! Who may call what, table-driven: every RPC of the contract has an access
//! rule, the README shows the rules the code enforces, and every RPC refuses
//! every role its rule does not list and every bad or missing token.

use dualreport_platform::access::AccessTable;
use dualreport_testkit::access::{assert_readme_shows, assert_refusals, assert_table_covers_the_contract};

use crate::helpers::*;

fn tables() -> Vec<&'static AccessTable> {
    vec![&scoring::grpc::access::ACCESS, &dualreport_platform::journal::ACCESS]
}

#[test]
fn every_rpc_of_the_contract_has_an_access_rule() {
    for table in tables() {
        assert_table_covers_the_contract(table);
    }
}

#[test]
fn the_readme_shows_the_rules_the_code_enforces() {
    assert_readme_shows(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"), &tables());
}

#[tokio::test]
async fn every_rpc_refuses_every_other_role_and_every_bad_token() {
    let app = spawn(Backend::Sqlite).await;
    assert_refusals(&app.channel, &tables(), "city", "m1").await;
}
