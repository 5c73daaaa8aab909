//! Who may call what, table-driven (`dualreport_testkit::who_may_call_tests!`):
//! every RPC of the contract has an access rule, the README shows the rules
//! the code enforces, and every RPC refuses every role its rule does not list
//! and every bad or missing token.

use crate::helpers::*;

dualreport_testkit::who_may_call_tests!(
    [&city::grpc::access::ACCESS, &dualreport_platform::audit::ACCESS],
    spawn(Backend::Sqlite)
);
