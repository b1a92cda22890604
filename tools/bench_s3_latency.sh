#!/usr/bin/env bash
# `fruits run` from S3 to S3 on a loopback moto server, once direct and once
# through a proxy that holds every request LATENCY ms (S3's own latency is
# 10-50 ms; loopback answers in microseconds and hides per-request costs);
# then the reducer alone (`fruits bench reduce`, REDUCE_EVENTS synthetic
# feature events, default 20,000) writing to S3 the same two ways, and a
# restarting reducer's load of RESTART_IMAGES ids (default 200,000) from S3.
# Usage: tools/bench_s3_latency.sh IMAGES_DIR [LATENCY_MS=30]   (release build;
# FRUITS_BIN=path times another build, e.g. an earlier commit's, on the same server)
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:?usage: tools/bench_s3_latency.sh IMAGES_DIR [LATENCY_MS]}
export FRUITS_S3_LATENCY_MS=${2:-30}
fruits=${FRUITS_BIN:-.build/release/fruits}
[ -n "${FRUITS_BIN:-}" ] || swift build -c release --product fruits >/dev/null

coproc SERVER { .venv/bin/python tools/s3_test_server.py 2>/dev/null; }
read -r line <&"${SERVER[0]}"
field() { .venv/bin/python -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$line" "$1"; }
export AWS_ACCESS_KEY_ID=$(field access_key) AWS_SECRET_ACCESS_KEY=$(field secret_key) AWS_REGION=$(field region)
direct=$(field endpoint) slow=$(field slow_endpoint)

.venv/bin/python - "$direct" "$images" <<'PY'
import os, sys, boto3
endpoint, root = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint)
s3.create_bucket(Bucket="bench")
for folder, _, files in os.walk(root):
    for name in files:
        if name.endswith(".jpg"):
            path = os.path.join(folder, name)
            s3.upload_file(path, "bench", "Test/" + os.path.relpath(path, root))
PY

for run in "0 $direct" "$FRUITS_S3_LATENCY_MS $slow"; do
  set -- $run
  printf "%s ms per request: " "$1"
  AWS_ENDPOINT_URL=$2 "$fruits" run --input s3://bench/Test/ --output "s3://bench/Results-$1ms/" 2>/dev/null | grep '^time'
done

for run in "0 $direct" "$FRUITS_S3_LATENCY_MS $slow"; do
  set -- $run
  printf "reducer to S3, %s ms per request: " "$1"
  AWS_ENDPOINT_URL=$2 "$fruits" bench reduce --events "${REDUCE_EVENTS:-20000}" --output "s3://bench/Reduce-$1ms/" 2>/dev/null | head -1
done

for run in "0 $direct" "$FRUITS_S3_LATENCY_MS $slow"; do
  set -- $run
  printf "restart from S3, %s ms per request: " "$1"
  AWS_ENDPOINT_URL=$2 "$fruits" bench restart --images "${RESTART_IMAGES:-200000}" --output "s3://bench/Restart-$1ms/" 2>/dev/null | head -1
done
