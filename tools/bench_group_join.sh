#!/usr/bin/env bash
# How long a fresh extractor group takes to hand every member its partitions on the
# embedded broker: MEMBERS `fruits extract` processes start together while 2,000
# photos are ingested; prints milliseconds until the last "partitions assigned",
# once per trial. Extra arguments go to every extractor (e.g. -X session.timeout.ms=6000).
#   tools/bench_group_join.sh 4 8 [-X key=value ...]    (release build, /tmp/fr2000/Test)
set -euo pipefail
cd "$(dirname "$0")/.."
members=${1:?usage: tools/bench_group_join.sh MEMBERS TRIALS [extract arguments]}
trials=${2:?usage: tools/bench_group_join.sh MEMBERS TRIALS [extract arguments]}
shift 2
images=${IMAGES:-/tmp/fr2000/Test}
fruits=.build/release/fruits
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
for trial in $(seq 1 "$trials"); do
  "$fruits" broker > "$work/broker" 2>/dev/null & broker=$!
  until [ -s "$work/broker" ]; do sleep 0.1; done
  bootstrap=$(head -1 "$work/broker")
  start=$(date +%s%N); extractors=()
  for i in $(seq 1 "$members"); do
    "$fruits" extract --brokers "$bootstrap" "$@" > "$work/extract-$i.log" 2>&1 & extractors+=($!)
  done
  "$fruits" ingest --brokers "$bootstrap" "$images" > /dev/null 2>&1
  for _ in $(seq 1 600); do
    assigned=$( (grep -l "partitions assigned" "$work"/extract-*.log || true) | wc -l)
    [ "$assigned" -ge "$members" ] && break
    sleep 0.1
  done
  [ "$assigned" -ge "$members" ] || echo "trial $trial: only $assigned of $members members were assigned within 60 s" >&2
  echo "trial $trial: $(( ($(date +%s%N) - start) / 1000000 )) ms"
  kill "${extractors[@]}" "$broker" 2>/dev/null; wait "${extractors[@]}" "$broker" 2>/dev/null || true
  rm -f "$work"/extract-*.log "$work/broker"
done
