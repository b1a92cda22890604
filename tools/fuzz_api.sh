#!/usr/bin/env bash
# Fuzzes the upload endpoint against its contract, schemas/openapi.yaml, with Schemathesis.
#
#   tools/fuzz_api.sh [more `schemathesis run` options]
#
# Starts on loopback what a deployment runs: `fruits broker` (the embedded Kafka), `fruits
# ingest serve` over a directory store with a bearer token, one `fruits extract` and one
# `fruits answer` (so uploads really get `done`/`failed` answers within their `?wait`). Then
# Schemathesis runs its examples, coverage, fuzzing (stateless) and stateful phases (upload,
# then GET the image_id it returned) with the token, with the request bodies of
# tools/fuzz_api_hooks.py (real and broken JPEGs) and the hostile values of tools/fuzz_api.toml,
# checking not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance, response_headers_conformance, negative_data_rejection (a request
# the contract forbids must get a 4xx, not be clamped and accepted) and the hooks' own
# refusals_match_the_contract (a value the contract allows must not get a 400).
#
# Exit 0 only when Schemathesis found nothing, no service stopped or crashed, and
# GET /openapi.json serves this very document; 1 otherwise; 2 when the services could not start.
# Every wait is bounded and the whole run takes at most ~3 minutes (typically well under one);
# every process started here is stopped on every exit path (and the fruits services stop by
# themselves within 0.5 s if this script is killed: FRUITS_EXIT_WITH_PARENT).
#
# Environment: FRUITS_BIN (default .build/debug/fruits), FRUITS_PYTHON (.venv/bin/python),
# FUZZ_EXAMPLES (examples per operation and phase, default 100), FUZZ_SEED (default random;
# printed, so a run can be repeated), FUZZ_TIME_LIMIT (seconds for Schemathesis, default 110),
# FUZZ_KEEP=1 (keep the work directory: service logs, store, JUnit report).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

fruits=${FRUITS_BIN:-.build/debug/fruits}
python=${FRUITS_PYTHON:-.venv/bin/python}
examples=${FUZZ_EXAMPLES:-100}
time_limit=${FUZZ_TIME_LIMIT:-110}
seed=${FUZZ_SEED:-$((RANDOM << 15 | RANDOM))}

say() { echo "fuzz_api: $*"; }
case "$fruits" in /*) ;; *) fruits="$root/$fruits" ;; esac
case "$python" in /*) ;; *) python="$root/$python" ;; esac
schemathesis="$(dirname "$python")/schemathesis"
[ -x "$fruits" ] || { say "no fruits executable at $fruits (swift build, or set FRUITS_BIN)"; exit 2; }
[ -x "$schemathesis" ] || { say "no $schemathesis: run scripts/setup"; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fruits-fuzz.XXXXXX")
token="fuzz-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
names=() pids=()

# On every exit: SIGTERM to everything but the broker (they drain against it), then to the
# broker; SIGKILL to whatever still runs 8 s (broker: 5 s) after its SIGTERM.
stop_all() {
  local status=$?
  trap - EXIT INT TERM
  local i group limit
  for group in others broker; do
    local stopping=()
    for ((i = 0; i < ${#pids[@]}; i++)); do
      if { [ $group = broker ] && [ "${names[i]}" = broker ]; } || { [ $group = others ] && [ "${names[i]}" != broker ]; }; then
        kill -TERM "${pids[i]}" 2>/dev/null && stopping+=("$i")
      fi
    done
    limit=80; [ $group = broker ] && limit=50
    for ((tick = 0; tick < limit; tick++)); do
      local running=0
      for i in "${stopping[@]}"; do kill -0 "${pids[i]}" 2>/dev/null && running=1; done
      [ $running = 0 ] && break
      sleep 0.1
    done
    for i in "${stopping[@]}"; do
      if kill -0 "${pids[i]}" 2>/dev/null; then
        say "${names[i]} still runs after SIGTERM: SIGKILL"
        kill -KILL "${pids[i]}" 2>/dev/null || true
      fi
      wait "${pids[i]}" 2>/dev/null || true
    done
  done
  if [ "${FUZZ_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs in the background, output to $work/NAME.log.
start() {
  local name=$1; shift
  FRUITS_EXIT_WITH_PARENT=$$ "$@" >"$work/$name.log" 2>&1 &
  names+=("$name") pids+=($!)
}

alive() {  # alive NAME: the process is still running
  local i
  for ((i = 0; i < ${#names[@]}; i++)); do
    [ "${names[i]}" = "$1" ] && { kill -0 "${pids[i]}" 2>/dev/null; return; }
  done
  return 1
}

died() {  # died NAME WHY: says so, with the crash (the failed check and the crashed thread) or the end of its log
  say "$1 $2:"
  if grep -q ' crashed:$' "$work/$1.log"; then
    { grep -m 1 'Fatal error' "$work/$1.log" || true; awk '/ crashed:$/ { on = 1 } on && n++ < 12' "$work/$1.log"; } | cut -c1-300 | sed 's/^/    /'
  else
    tail -n 25 "$work/$1.log" | cut -c1-300 | sed 's/^/    /'
  fi
}

# A port below Linux's ephemeral range that is free now (as Tools.freePort picks them).
port=$("$python" -c '
import random, socket
while True:
    port = random.randrange(20000, 32000)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break')
base="http://127.0.0.1:$port"
started_at=$(date +%s)

# The embedded broker: its first stdout line is the bootstrap list.
FRUITS_EXIT_WITH_PARENT=$$ "$fruits" broker --partitions 2 >"$work/broker.out" 2>"$work/broker.log" &
names+=(broker) pids+=($!)
for ((tick = 0; tick < 150; tick++)); do
  [ -s "$work/broker.out" ] && break
  alive broker || { died broker "exited at start"; exit 2; }
  sleep 0.1
done
brokers=$(head -n 1 "$work/broker.out" | tr -d '[:space:]')
[ -n "$brokers" ] || { died broker "printed no bootstrap list within 15 s"; exit 2; }

mkdir -p "$work/uploads" "$work/results"
common=(--brokers "$brokers" --connect-timeout 10)
FRUITS_UPLOAD_TOKEN=$token start serve "$fruits" ingest serve "${common[@]}" --store "$work/uploads" \
  --results "$work/results" --port "$port"
start extract "$fruits" extract "${common[@]}" --workers 1 --threads 1
start answer "$fruits" answer "${common[@]}" --results "$work/results"

ready=0
for ((tick = 0; tick < 300; tick++)); do
  for name in serve extract answer; do alive $name || { died $name "exited at start"; exit 2; }; done
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/healthz")" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ $ready = 1 ] || { died serve "did not answer /healthz within 30 s"; exit 2; }
say "endpoint up at $base after $(($(date +%s) - started_at)) s (work directory $work)"

failures=()

# The endpoint must serve this very contract; the fuzzer then reads it from there.
location="$root/schemas/openapi.yaml"
served=$(curl -s -o "$work/served.json" -w '%{http_code}' --max-time 5 "$base/openapi.json" || true)
if [ "$served" = 200 ] && "$python" -c '
import json, sys, yaml
served = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if served == yaml.safe_load(open(sys.argv[2], encoding="utf-8")) else 1)' "$work/served.json" "$location"; then
  location="$base/openapi.json"
elif [ "$served" = 200 ]; then
  failures+=("GET /openapi.json serves a document other than schemas/openapi.yaml (stale build? run scripts/generate-openapi)")
else
  failures+=("GET /openapi.json answered ${served:-nothing}, not the contract (so fuzzing from schemas/openapi.yaml)")
fi

say "Schemathesis against $location: seed $seed (FUZZ_SEED=$seed repeats it), $examples examples per operation and phase, at most $time_limit s"
# Schemathesis writes to a file, not to this script's output: a pipe it held would keep a
# caller waiting if this script were killed. Its report is printed when it is done.
PYTHONPATH="$root/tools${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=fuzz_api_hooks \
  timeout --kill-after=5 "$time_limit" env -C "$work" "$schemathesis" --no-color \
  --config-file "$root/tools/fuzz_api.toml" run "$location" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --phases examples,coverage,fuzzing,stateful \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,refusals_match_the_contract \
  --max-examples "$examples" \
  --seed "$seed" \
  --workers 2 \
  --request-timeout 20 \
  --generation-database none \
  --suppress-health-check too_slow,filter_too_much \
  --report junit --report-dir "$work/report" \
  "$@" >"$work/schemathesis.log" 2>&1 &
names+=(schemathesis) pids+=($!)
fuzz_status=0
wait "${pids[-1]}" || fuzz_status=$?
grep -v '^\s*$' "$work/schemathesis.log" || true
case $fuzz_status in
  0) ;;
  124 | 137) failures+=("Schemathesis did not finish within $time_limit s") ;;
  *) failures+=("Schemathesis found failures (exit $fuzz_status): see its report above") ;;
esac

# A service that stopped during the run crashed: the endpoint must outlive any request.
for name in broker serve extract answer; do
  if ! alive $name; then
    died $name "stopped during the run"
    failures+=("$name stopped during the run")
  fi
done
for name in serve extract answer; do
  if line=$(grep -m 1 -E 'Fatal error|Program crashed|Illegal instruction|Segmentation fault' "$work/$name.log"); then
    failures+=("$name crashed: $(echo "$line" | cut -c1-300)")
  fi
done

elapsed=$(($(date +%s) - started_at))
if [ ${#failures[@]} -gt 0 ]; then
  for failure in "${failures[@]}"; do say "FAIL: $failure"; done
  say "failed after $elapsed s"
  exit 1
fi
say "ok: no server error, crash or contract violation (seed $seed, $elapsed s)"
