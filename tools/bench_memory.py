#!/usr/bin/env python3
"""Hostile uploads in a backfill against the extractor's memory budget; prints one JSON
line and exits non-zero unless every acceptance point holds.

  .venv/bin/python tools/bench_memory.py --backfill 400 --hostile 20 --megapixels 50 --memory-limit 1GiB

- writes --backfill synthetic fruit photos (tools/synthetic_fruits.py) and --hostile
  copies of one progressive CMYK JPEG of --megapixels (3:2, textured, every copy with its
  own COM segment so each is a different image), all under 50 MiB (the object limit);
- runs `fruits run` (embedded broker, one extractor, reducer) with --memory-limit (and
  --decode-memory / --fetch-memory if given), reading the extractor's peak RSS (VmHWM)
  from /proc every 50 ms;
- checks: peak RSS below the memory limit; every backfill photo has features; every
  hostile one is a dead letter with reason exceeds_decode_memory.
The run is bounded by --timeout; the script stops by itself.
"""
import argparse
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "MB": 10**6, "GB": 10**9}
MAX_OBJECT_BYTES = 50 << 20


def parse_bytes(text):
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def hostile_jpeg(megapixels):
    """A progressive CMYK JPEG of about `megapixels`: smooth gradients plus mild noise,
    so it stays far below the object limit while every pixel must still be decoded."""
    width = int((megapixels * 1e6 * 1.5) ** 0.5)
    height = int(megapixels * 1e6 / width)
    rng = np.random.default_rng(25)
    x = np.linspace(0, 255, width, dtype=np.float32)
    rows = []
    for start in range(0, height, 512):  # a band at a time: the full float image would be 4x larger
        y = np.linspace(start / height * 255, min(start + 512, height) / height * 255, min(512, height - start), dtype=np.float32)
        band = np.stack([np.add.outer(y, x) / 2, np.add.outer(y, 255 - x) / 2, np.add.outer(255 - y, x) / 2,
                         np.full((len(y), width), 40, np.float32)], axis=-1)
        band += rng.normal(0, 6, band.shape).astype(np.float32)
        rows.append(np.clip(band, 0, 255).astype(np.uint8))
    image = Image.frombytes("CMYK", (width, height), np.concatenate(rows).tobytes())
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, progressive=True)
    return buffer.getvalue(), width, height


def scans(jpeg):
    return jpeg.count(b"\xff\xda")


def with_comment(jpeg, text):
    body = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body + jpeg[2:]


def peak_rss(pid):
    """VmHWM of each child of `pid`, in bytes."""
    peaks = {}
    for children in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            for child in open(children).read().split():
                for line in open(f"/proc/{child}/status"):
                    if line.startswith("VmHWM:"):
                        peaks[child] = int(line.split()[1]) * 1024
        except OSError:
            pass
    return peaks


def rows(folder, columns):
    files = sorted(glob.glob(os.path.join(folder, "*.parquet")))
    return [row for f in files for row in pq.read_table(f, columns=columns).to_pylist()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backfill", type=int, default=400)
    parser.add_argument("--hostile", type=int, default=20)
    parser.add_argument("--megapixels", type=float, default=50)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--decode-memory")
    parser.add_argument("--fetch-memory")
    parser.add_argument("--fruits", default=os.environ.get("FRUITS_BIN", os.path.join(ROOT, ".build/release/fruits")))
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-memory-")
    try:
        images = os.path.join(work, "images")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools/synthetic_fruits.py"), "--out", images, "--n", str(args.backfill)],
                       check=True, capture_output=True)
        started = time.monotonic()
        jpeg, width, height = hostile_jpeg(args.megapixels)
        generated = time.monotonic() - started
        if len(jpeg) > MAX_OBJECT_BYTES:
            sys.exit(f"bench_memory: the hostile JPEG has {len(jpeg)} bytes, above the 50 MiB object limit; lower --megapixels")
        os.makedirs(os.path.join(images, "Hostile"))
        for i in range(args.hostile):
            with open(os.path.join(images, "Hostile", f"bomb_{i}.jpg"), "wb") as f:
                f.write(with_comment(jpeg, f"hostile upload {i}"))

        command = [args.fruits, "run", "--input", images, "--output", os.path.join(work, "results"),
                   "--memory-limit", args.memory_limit]
        command += ["--decode-memory", args.decode_memory] if args.decode_memory else []
        command += ["--fetch-memory", args.fetch_memory] if args.fetch_memory else []
        log = open(os.path.join(work, "run.log"), "w+")
        started = time.monotonic()
        run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        peaks = {}
        while run.poll() is None:
            for child, peak in peak_rss(run.pid).items():
                peaks[child] = max(peaks.get(child, 0), peak)
            if time.monotonic() - started > args.timeout:
                run.kill()
                run.wait()
                sys.exit(f"bench_memory: fruits run did not finish within {args.timeout} s (log: {log.name})")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            log.seek(0)
            sys.exit(f"bench_memory: fruits run exited {run.returncode}:\n{log.read()[-3000:]}")

        features = rows(os.path.join(work, "results", "features"), ["path"])
        letters = rows(os.path.join(work, "results", "deadletters"), ["path", "reason", "message"])
        backfill_with_features = sum(1 for r in features if "/Hostile/" not in r["path"])
        hostile_letters = [r for r in letters if "/Hostile/" in r["path"]]
        reasons = sorted({r["reason"] for r in hostile_letters})
        limit = parse_bytes(args.memory_limit)
        peak = max(peaks.values(), default=0)
        report = {
            "backfill": args.backfill, "backfill_with_features": backfill_with_features,
            "other_dead_letters": len(letters) - len(hostile_letters),
            "hostile": args.hostile, "hostile_dead_letters": len(hostile_letters), "hostile_reasons": reasons,
            "hostile_image": {"width": width, "height": height, "bytes": len(jpeg), "scans": scans(jpeg),
                              "generated_s": round(generated, 1)},
            "example_message": hostile_letters[0]["message"] if hostile_letters else None,
            "memory_limit": limit, "extractor_peak_rss": peak, "peak_over_limit": round(peak / limit, 3),
            "seconds": round(seconds, 1),
        }
        print(json.dumps(report), flush=True)
        problems = []
        if not peaks:
            problems.append("no extractor process was seen")
        if peak >= limit:
            problems.append(f"the extractor's peak RSS {peak} is not below the memory limit {limit}")
        if backfill_with_features != args.backfill or report["other_dead_letters"]:
            problems.append(f"{backfill_with_features} of {args.backfill} backfill photos have features")
        if len(hostile_letters) != args.hostile or reasons != ["exceeds_decode_memory"]:
            problems.append(f"{len(hostile_letters)} of {args.hostile} hostile photos dead-lettered, reasons {reasons}")
        if problems:
            sys.exit("bench_memory: FAILED: " + "; ".join(problems))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
