#!/usr/bin/env bash
# `make run`: starts every service of the suite on the embedded SQLite store
# (files under ./data/), waits until each listens, prints where and a
# development city-admin token, and stops them all on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

# name:port — add each new service here.
services=("registry:50051" "volunteering:50052" "scoring:50053" "feedback:50054")
config=config/dev.toml
bin=${CARGO_TARGET_DIR:-target}/debug

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

mkdir -p data
for entry in "${services[@]}"; do
  name=${entry%%:*}
  "$bin/$name" --config "$config" serve &
  pids+=($!)
done

for entry in "${services[@]}"; do
  name=${entry%%:*}; port=${entry##*:}
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

token=$("$bin/registry" --config "$config" token --role city_admin --org city --ttl-hours 12)
echo
echo "dualreport is running on SQLite (./data/):"
for entry in "${services[@]}"; do
  name=${entry%%:*}; port=${entry##*:}
  printf '  %-13s grpc://0.0.0.0:%s  (dualreport.%s.v1)\n' "$name" "$port" "$name"
done
echo
echo "development city-admin token (12 h):"
echo "  export TOKEN=$token"
echo
echo "try:  grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" localhost:50051 dualreport.registry.v1.RegistryService/GetPolicy"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" localhost:50053 dualreport.scoring.v1.ScoringService/GetScoringRules"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" -d '{\"community_id\":\"<a community id>\"}' localhost:50052 dualreport.volunteering.v1.VolunteeringService/ListPosts"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" -d '{\"backlog_only\":true}' localhost:50054 dualreport.feedback.v1.FeedbackService/WatchEvents"
echo "metrics (Prometheus): curl localhost:9051/metrics (registry), :9052 (volunteering), :9053 (scoring), :9054 (feedback)"
echo "fill it with a demo city:  make demo   (in another terminal)"
echo "Ctrl-C stops the suite."
wait
