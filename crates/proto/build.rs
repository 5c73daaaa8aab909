//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and writes the
//! descriptor set that the servers expose through reflection.
use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "dualreport/common/v1/common.proto",
        "dualreport/common/v1/journal.proto",
        "dualreport/common/v1/audit.proto",
        "dualreport/city/v1/city.proto",
        "dualreport/feedback/v1/feedback.proto",
        "dualreport/registry/v1/registry.proto",
        "dualreport/scoring/v1/scoring.proto",
        "dualreport/volunteering/v1/volunteering.proto",
    ];
    println!("cargo:rerun-if-changed={}", root.display());
    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out.join("dualreport_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    // google.rpc's error details (ErrorInfo, BadRequest, …) for reflection only,
    // so clients can decode `grpc-status-details-bin`; tonic-types has the Rust types.
    let google = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed={}", google.join("google").display());
    let details = protox::compile(["google/rpc/status.proto", "google/rpc/error_details.proto"], [&google])?;
    std::fs::write(
        out.join("error_details_descriptor.bin"),
        prost::Message::encode_to_vec(&details),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
