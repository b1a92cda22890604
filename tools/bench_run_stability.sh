#!/usr/bin/env bash
# `fruits run` N times in a row on the same photos (default 20 on 600), with the
# defaults a user gets; prints each wall time, the median and the slowest, and
# fails unless the slowest is within 1.5x the median + 2 s (no run stalled).
#   tools/bench_run_stability.sh /tmp/fr600/Test [N]
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:?usage: tools/bench_run_stability.sh IMAGES_DIR [RUNS]}
runs=${2:-20}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
times=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  .build/release/fruits run --input "$images" --output "$out/results-$i" > "$out/summary-$i" 2> "$out/log-$i"
  end=$(date +%s%N)
  seconds=$(( (end - start) / 1000000 ))e-3
  times+=("$seconds")
  printf 'run %2d  %6.2f s  %s\n' "$i" "$seconds" "$(head -1 "$out/summary-$i")"
  rm -rf "$out/results-$i"
done
printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
times = sorted(float(line) for line in sys.stdin)
median, slowest = statistics.median(times), times[-1]
bound = 1.5 * median + 2
print(f"runs {len(times)}  fastest {times[0]:.2f} s  median {median:.2f} s  slowest {slowest:.2f} s  bound 1.5 x median + 2 = {bound:.2f} s")
sys.exit(0 if slowest <= bound else 1)
'
