//! Volunteering through its gRPC API, against real registry and scoring
//! processes, on SQLite and on PostgreSQL (`on_both_backends!`).

mod helpers;
mod who_may_call;

mod access;
mod bad_input;
mod flow;
mod outbox;
mod services;
