//! The registry service (双报到 step 1, 报到): organisations, members and their
//! profiles, unit and member reports with letters and receipts, the community
//! register, relocations and report statistics.

pub mod app;
pub mod city_sync;
pub mod domain;
pub mod grpc;
pub mod org_cache;
pub mod reseal;
pub mod settings;
pub mod startup;
pub mod storage;
