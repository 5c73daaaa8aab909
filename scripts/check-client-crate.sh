#!/usr/bin/env bash
# The Rust client crate used from outside the workspace, the way a district
# system depends on it: a new crate elsewhere with `dualreport-proto` as a path
# dependency (a git dependency resolves the same way), built and run against
# a real registry, calling GetPolicy with a development token. `make test` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
target=${CARGO_TARGET_DIR:-$repo/target}
bin=$target/debug
work=$(mktemp -d)
trap 'kill "${registry_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/client/src"
cat > "$work/client/Cargo.toml" <<TOML
[package]
name = "district-client"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
dualreport-proto = { path = "$repo/crates/proto" }
tonic = "0.14"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
TOML
cat > "$work/client/src/main.rs" <<'RUST'
use dualreport_proto::registry::v1::{GetPolicyRequest, registry_service_client::RegistryServiceClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).expect("registry url");
    let token = std::env::var("TOKEN")?;
    let channel = tonic::transport::Channel::from_shared(url)?.connect().await?;
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut registry = RegistryServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", bearer.clone());
        Ok(request)
    });
    let policy = registry.get_policy(GetPolicyRequest {}).await?.into_inner();
    println!("max_stars={}", policy.policy.map(|p| p.max_stars).unwrap_or_default());
    Ok(())
}
RUST
# The workspace's lock pins the versions it is tested with (and lets this build offline).
cp Cargo.lock "$work/client/Cargo.lock"
CARGO_TARGET_DIR=$target/client-check cargo build --quiet --offline --manifest-path "$work/client/Cargo.toml"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env -u DUALREPORT_CONFIG DUALREPORT__SERVER__PORT="$port" DUALREPORT__SERVER__METRICS_PORT=0 \
  DUALREPORT__DATABASE__URL="sqlite://$work/registry.db?mode=rwc" \
  "$bin/registry" --config config/dev.toml --config config/dev/registry.toml serve > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
TOKEN=$("$bin/registry" --config config/dev.toml --config config/dev/registry.toml token --role city_admin --org city --ttl-hours 1)
out=$(TOKEN=$TOKEN "$target/client-check/debug/district-client" "http://127.0.0.1:$port")
[[ $out == max_stars=* ]] || { echo "the outside client got: $out" >&2; cat "$work/registry.log" >&2; exit 1; }
echo "client crate: built outside the workspace and called GetPolicy ($out)"
