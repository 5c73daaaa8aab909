//! The city tier (市级): one release per city over the district releases.
//! It reads every district's event journals into its own read model (a
//! cursor per district and journal, facts applied once) and answers what
//! only a city can: the merged feed for the party-building cloud (党建云)
//! and the city vanguard board. Districts stay the system of record and
//! never call it on a request path. See `docs/city.md` and `README.md`.

pub mod app;
pub mod districts;
pub mod domain;
pub mod grpc;
pub mod ingest;
pub mod municipal;
pub mod policy;
pub mod reference;
pub mod saga;
pub mod settings;
pub mod startup;
pub mod statistics;
pub mod storage;
pub mod summary;
pub mod webhook;
