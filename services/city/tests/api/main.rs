//! The city tier's API tests against an in-process server on a real store.
//! Everything that needs districts runs in `tests/e2e` (`city.rs`), where
//! every district service is a real process.

mod helpers;
mod who_may_call;
