//! Volunteering through its gRPC API, against real registry and scoring
//! processes, on SQLite and on PostgreSQL (`on_both_backends!`).

mod access;
mod audit;
mod bad_input;
mod flow;
mod helpers;
mod households;
mod outbox;
mod paging;
mod queues;
mod services;
mod volunteer_records;
mod who_may_call;
