//! Feedback through its gRPC API, against real registry, scoring and
//! volunteering processes, on SQLite and on PostgreSQL (`on_both_backends!`).

mod access;
mod audit;
mod feed;
mod helpers;
mod objections;
mod paging;
mod spot_checks;
mod summary;
mod warnings;
mod webhook;
mod who_may_call;
