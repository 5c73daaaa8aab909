//! `sqlx::migrate!` embeds `migrations/` when the crate compiles; this makes a
//! new or edited migration file recompile the crate without touching Rust.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
