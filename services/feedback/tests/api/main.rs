//! Feedback through its gRPC API, against real registry, scoring and
//! volunteering processes, on SQLite and on PostgreSQL (`on_both_backends!`).

mod helpers;
mod who_may_call;

mod access;
mod feed;
mod objections;
mod summary;
mod warnings;
