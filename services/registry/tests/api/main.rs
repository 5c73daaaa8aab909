//! Registry API tests: the real server on 127.0.0.1:0 with a fresh database,
//! called through the generated gRPC client. Every test runs on SQLite and on
//! PostgreSQL — the conformance suite both stores must pass.

mod audit;
mod cli;
mod helpers;
mod keys;
mod limits;
mod members;
mod organizations;
mod platform;
mod queues;
mod relocations;
mod reports;
mod scale;
mod security;
mod unit_reports;
mod who_may_call;
