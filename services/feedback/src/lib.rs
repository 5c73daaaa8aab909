//! The feedback service (双向反馈): summary tables and notices from a
//! community to each unit org, unit ratings, member performance cards,
//! objections with their investigation and the correction sent to scoring,
//! spot checks, compliance warnings, and the feed to the city's
//! party-building cloud (党建云) — a resumable stream and a signed webhook.
//! See `README.md` for the RPCs and who may call them.

pub mod app;
pub mod domain;
pub mod feed;
pub mod grpc;
pub mod settings;
pub mod sources;
pub mod startup;
pub mod storage;
pub mod tables;
