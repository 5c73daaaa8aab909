//! The volunteering service (认岗 · 承诺 · 践诺): posts and claims, teams and
//! studios, pledges and joint-building agreements, the three-order menu,
//! micro-wishes, households, activities with check-in, attendance confirmed by
//! the community and paid to scoring through an outbox, and evidence in a blob
//! store. See `README.md` for the RPCs and who may call them.

pub mod app;
pub mod blob;
pub mod domain;
pub mod grpc;
pub mod relay;
pub mod settings;
pub mod startup;
pub mod storage;
