//! Scoring through its gRPC API, against a real registry process, on SQLite
//! and on PostgreSQL (`on_both_backends!`).

mod helpers;
mod who_may_call;

mod access;
mod ledger;
mod market;
mod scale;
mod settlement;
