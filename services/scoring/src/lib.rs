//! The scoring service (评星 · 激励): the points ledger, half-year settlement
//! into stars, review and publication, the vanguard board, and the
//! volunteer-service supermarket. See `README.md` for the RPCs and who may
//! call them.

pub mod app;
pub mod domain;
pub mod grpc;
pub mod settings;
pub mod startup;
pub mod storage;
