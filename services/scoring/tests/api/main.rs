//! Scoring through its gRPC API, against a real registry process, on SQLite
//! and on PostgreSQL (`on_both_backends!`).

mod access;
mod audit;
mod awards;
mod board;
mod helpers;
mod ledger;
mod market;
mod paging;
mod scale;
mod settlement;
mod who_may_call;
