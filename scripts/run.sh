#!/usr/bin/env bash
# `make run`: starts every service of the suite on the embedded SQLite store
# (files under ./data/), waits until each listens, prints where and a
# development city-admin token, and stops them all on Ctrl-C. It exits non-zero,
# naming the service and the address, when a port is taken or a service stops.
set -euo pipefail
cd "$(dirname "$0")/.."

# name:grpc port:metrics port — add each new service here.
services=("registry:50051:9051" "volunteering:50052:9052" "scoring:50053:9053" "feedback:50054:9054" "portal:8080:9080")
bin=${CARGO_TARGET_DIR:-target}/debug

# config/dev.toml for every service, then the service's own dev file if it has one.
configs() {
  local args=(--config config/dev.toml)
  [[ -f config/dev/$1.toml ]] && args+=(--config "config/dev/$1.toml")
  echo "${args[@]}"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

declare -A names=()
stop() {
  trap - EXIT INT TERM
  for pid in "${!names[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

for entry in "${services[@]}"; do
  IFS=: read -r name port metrics <<<"$entry"
  for p in "$port" "$metrics"; do
    if listening "$p"; then
      echo "make run: $name cannot start: 127.0.0.1:$p is already in use (another make run, or another program)." >&2
      exit 1
    fi
  done
done

mkdir -p data
for entry in "${services[@]}"; do
  IFS=: read -r name port metrics <<<"$entry"
  # shellcheck disable=SC2046
  "$bin/$name" $(configs "$name") serve &
  names[$!]=$name
done

for entry in "${services[@]}"; do
  IFS=: read -r name port metrics <<<"$entry"
  pid=""
  for p in "${!names[@]}"; do [[ ${names[$p]} == "$name" ]] && pid=$p; done
  for _ in $(seq 1 150); do
    listening "$port" && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "make run: $name stopped before it listened on 0.0.0.0:$port (its error is above)." >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! listening "$port"; then
    echo "make run: $name did not listen on 0.0.0.0:$port within 15 s." >&2
    exit 1
  fi
done

# shellcheck disable=SC2046
token=$("$bin/registry" $(configs registry) token --role city_admin --org city --ttl-hours 12)
echo
echo "dualreport is running on SQLite (./data/):"
for entry in "${services[@]}"; do
  IFS=: read -r name port metrics <<<"$entry"
  if [[ $name == portal ]]; then
    printf '  %-13s http://localhost:%s/  (the public board and, signed in, the dashboard)  metrics http://0.0.0.0:%s/metrics\n' "$name" "$port" "$metrics"
  else
    printf '  %-13s grpc://0.0.0.0:%s  (dualreport.%s.v1)  metrics http://0.0.0.0:%s/metrics\n' "$name" "$port" "$name" "$metrics"
  fi
done
echo
echo "development city-admin token (12 h):"
echo "  export TOKEN=$token"
echo
echo "try:  grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" localhost:50051 dualreport.registry.v1.RegistryService/GetPolicy"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" localhost:50053 dualreport.scoring.v1.ScoringService/GetScoringRules"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" -d '{\"community_id\":\"<a community id>\"}' localhost:50052 dualreport.volunteering.v1.VolunteeringService/ListPosts"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" -d '{\"backlog_only\":true}' localhost:50054 dualreport.feedback.v1.FeedbackService/WatchEvents"
echo "   (no grpcurl? the README's \"Calling a service\" shows the repo's own Python client)"
echo "fill it with a demo city:  make demo   (in another terminal)"
echo "the portal: open http://localhost:8080/login, sign in with the development login (a role and an org id)"
echo "Ctrl-C stops the suite."

# Any service that stops ends the suite, naming it.
set +e
wait -n -p ended
code=$?
set -e
echo "make run: ${names[$ended]:-a service} stopped (exit $code); stopping the others." >&2
exit $(( code == 0 ? 1 : code ))
