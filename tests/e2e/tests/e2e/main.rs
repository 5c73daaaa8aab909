//! End-to-end: the four service binaries as real processes, driven only
//! through their public gRPC APIs (`e2e::Suite`).

/// Generates `sqlite::name` and `postgres::name` tests from `async fn name(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(e2e::Backend::Sqlite).await } )+
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name(e2e::Backend::Postgres).await } )+
        }
    };
}

mod rollout;
mod six_steps;
mod traces;
