#!/usr/bin/env bash
# Runs the peers (TensorFlow/Keras and onnxruntime, from ../shared/peers/seed_pyspark)
# and fruits on the same images, one after the other, so their numbers come from one
# session of the same machine. Needs the peer venv (its setup_env.sh) and a release build.
#   tools/bench_side_by_side.sh /tmp/fruits_synth/n2000/Test
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:?usage: tools/bench_side_by_side.sh IMAGES_DIR [N]}
n=${2:-2000}
peers=../shared/peers/seed_pyspark
python=${PEER_PYTHON:-/opt/peer-venv/bin/python}
out=${OUT:-/tmp/fruits_side_by_side}
mkdir -p "$out"
export TF_CPP_MIN_LOG_LEVEL=2
"$python" "$peers/memwatch.py" --json "$out/tf_mem.json" -- \
  "$python" "$peers/bench_tf.py" --data "$images" --n "$n" --batch 64 --save-model "$out/savedmodel" > "$out/tf.log" 2>&1
[ -f "$out/mnv2.onnx" ] || "$python" -m tf2onnx.convert --saved-model "$out/savedmodel" --signature_def serving_default \
  --output "$out/mnv2.onnx" --opset 17 > "$out/tf2onnx.log" 2>&1
"$python" "$peers/memwatch.py" --json "$out/onnx_mem.json" -- \
  "$python" "$peers/bench_onnx.py" --onnx "$out/mnv2.onnx" --ref "$out/savedmodel" --data "$images" --n "$n" > "$out/onnx.log" 2>&1
.build/release/fruits bench extract --images "$images" --limit "$n" --batch 1 --seconds 10 > "$out/fruits.log" 2>&1
grep -h "TF_BENCH\|ONNX_BENCH" "$out/tf.log" "$out/onnx.log"
cat "$out/fruits.log"
for f in tf_mem onnx_mem; do "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], 'peak RSS MiB', d['peak_tree_rss_mib'])" "$out/$f.json" "$f"; done
