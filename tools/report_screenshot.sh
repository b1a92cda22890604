#!/usr/bin/env bash
# docs/report.png from a real run: `fruits run` over photos, its report.html
# opened in headless Chromium, the screenshot reduced to a small palette PNG.
# Usage: tools/report_screenshot.sh [IMAGES]  (default: 600 synthetic photos)
# The README's picture: tools/report_screenshot.sh /tmp/fr2000/Test, the 2,000
# photos of ../shared/peers/seed_pyspark/gen_fruits.py --n 2000 --seed 42.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-.cache/report-samples}
[ -d "$images" ] || .venv/bin/python tools/synthetic_fruits.py --out "$images" --n 600
swift build -c release --product fruits
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/release/fruits run --input "$images" --output "$work/results"
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,1500 \
  --screenshot="$work/report.png" "file://$work/results/report.html"
.venv/bin/python -c '
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").quantize(colors=96).save(sys.argv[2], optimize=True)
' "$work/report.png" docs/report.png
ls -l docs/report.png
