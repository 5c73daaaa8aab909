#!/usr/bin/env bash
# `make run-city`: a small city on the embedded SQLite store — three district
# releases (each its four services on its own files under ./data/city/<name>/)
# and the city tier reading them all. Prints where everything listens and a
# development city-admin token; Ctrl-C stops it all. Any process that stops
# ends the city, naming it. `CITY_DISTRICTS="a b"` picks other district names.
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a districts <<<"${CITY_DISTRICTS:-jinshui erqi zhongyuan}"
bin=${CARGO_TARGET_DIR:-target}/debug
city_port=50060
city_metrics=9060

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

declare -A names=()
stop() {
  trap - EXIT INT TERM
  for pid in "${!names[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

# District i (0, 1, 2, …) listens on 50051+100i … 50054+100i, metrics 9051+100i ….
port_of() { echo $((50051 + 100 * $1 + $2)); }
metrics_of() { echo $((9051 + 100 * $1 + $2)); }
services=(registry volunteering scoring feedback)

all_ports=("$city_port" "$city_metrics")
for i in "${!districts[@]}"; do
  for s in 0 1 2 3; do all_ports+=("$(port_of "$i" "$s")" "$(metrics_of "$i" "$s")"); done
done
for p in "${all_ports[@]}"; do
  if listening "$p"; then
    echo "make run-city: 127.0.0.1:$p is already in use (make run, another make run-city, or another program)." >&2
    exit 1
  fi
done

# Starts `$1` (a label) as `$2 …` with the environment given after `--`.
start() {
  local label=$1 binary=$2
  shift 2
  env "$@" "$bin/$binary" --config config/dev.toml $( [[ -f config/dev/$binary.toml ]] && echo --config "config/dev/$binary.toml" ) serve &
  names[$!]=$label
}

wait_for() {
  local label=$1 port=$2 pid=""
  for p in "${!names[@]}"; do [[ ${names[$p]} == "$label" ]] && pid=$p; done
  for _ in $(seq 1 150); do
    listening "$port" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "make run-city: $label stopped before it listened on 0.0.0.0:$port (its error is above)." >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "make run-city: $label did not listen on 0.0.0.0:$port within 15 s." >&2
  exit 1
}

city_env=(DUALREPORT__DATABASE__URL="sqlite://data/city/city.db?mode=rwc")
for i in "${!districts[@]}"; do
  d=${districts[$i]}
  dir=data/city/$d
  mkdir -p "$dir"
  url() { echo "http://127.0.0.1:$(port_of "$i" "$1")"; }
  for s in 0 1 2 3; do
    name=${services[$s]}
    own=(DUALREPORT__SERVER__PORT="$(port_of "$i" "$s")" DUALREPORT__SERVER__METRICS_PORT="$(metrics_of "$i" "$s")"
      DUALREPORT__DATABASE__URL="sqlite://$dir/$name.db?mode=rwc")
    case $name in
      registry) own+=(DUALREPORT__CITY__URL="http://127.0.0.1:$city_port") ;;
      volunteering) own+=(DUALREPORT__REGISTRY__URL="$(url 0)" DUALREPORT__SCORING__URL="$(url 2)"
        DUALREPORT__EVIDENCE__STORE="file://$dir/evidence") ;;
      scoring) own+=(DUALREPORT__REGISTRY__URL="$(url 0)") ;;
      feedback) own+=(DUALREPORT__REGISTRY__URL="$(url 0)" DUALREPORT__VOLUNTEERING__URL="$(url 1)"
        DUALREPORT__SCORING__URL="$(url 2)") ;;
    esac
    start "$d/$name" "$name" "${own[@]}"
    upper=${d^^}
    city_env+=(DUALREPORT__DISTRICTS__${upper}__${name^^}__URL="$(url "$s")")
  done
done
start city city "${city_env[@]}" DUALREPORT__SERVER__PORT=$city_port DUALREPORT__SERVER__METRICS_PORT=$city_metrics

for i in "${!districts[@]}"; do
  for s in 0 1 2 3; do wait_for "${districts[$i]}/${services[$s]}" "$(port_of "$i" "$s")"; done
done
wait_for city "$city_port"

token=$("$bin/registry" --config config/dev.toml --config config/dev/registry.toml token --role city_admin --org city --ttl-hours 12)
echo
echo "a city of ${#districts[@]} districts is running on SQLite (./data/city/):"
for i in "${!districts[@]}"; do
  printf '  %-10s registry :%s  volunteering :%s  scoring :%s  feedback :%s\n' "${districts[$i]}" \
    "$(port_of "$i" 0)" "$(port_of "$i" 1)" "$(port_of "$i" 2)" "$(port_of "$i" 3)"
done
printf '  %-10s grpc://0.0.0.0:%s  (dualreport.city.v1)  metrics http://0.0.0.0:%s/metrics\n' city "$city_port" "$city_metrics"
echo
echo "development city-admin token (12 h):"
echo "  export TOKEN=$token"
echo
echo "try:  grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" localhost:$city_port dualreport.city.v1.CityService/ListDistricts"
echo "      grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" -d '{\"backlog_only\":true}' localhost:$city_port dualreport.city.v1.CityService/WatchEvents"
echo "fill it:  make demo-city   (in another terminal)"
echo "Ctrl-C stops the city."

set +e
wait -n -p ended
code=$?
set -e
echo "make run-city: ${names[$ended]:-a process} stopped (exit $code); stopping the others." >&2
exit $(( code == 0 ? 1 : code ))
