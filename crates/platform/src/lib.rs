//! Infrastructure shared by every dualreport service, and nothing of the domain:
//! layered settings, telemetry, the gRPC server bootstrap and its tower stack,
//! JWT authentication, the database pool and migrations, and the mapping of
//! errors to `tonic::Status` with `google.rpc` details.

pub mod access;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod cli;
pub mod client;
pub mod crypto;
pub mod csv;
pub mod db;
pub mod deadline;
pub mod edge;
pub mod error;
pub mod etag;
pub mod failure;
pub mod filter;
pub mod gate;
pub mod idempotency;
pub mod ids;
pub mod journal;
pub mod lease;
pub mod metrics;
pub mod outbox;
pub mod paging;
pub mod retry;
pub mod rows;
pub mod server;
pub mod settings;
pub mod telemetry;
pub mod tls;
pub mod trace_context;
pub mod validate;
pub mod watch;
pub mod wire;

/// Every binary of the suite allocates with mimalloc: under many small
/// short-lived allocations (protobuf messages, rows) it spends less CPU than
/// glibc's malloc and gives freed memory back to the system instead of
/// keeping per-thread arenas, which keeps a replica's RSS flat after a large
/// import or settlement.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
