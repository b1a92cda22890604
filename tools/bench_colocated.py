#!/usr/bin/env python3
"""Co-located extractors on one machine, as separate services on the embedded broker.

For each process count N: `fruits broker`, N `fruits extract` processes, one
`fruits reduce --expect-images`, then `fruits ingest` of the photos; the time is
from the ingest's start to the reducer's exit (every image reduced, PCA
written). Each N runs with the defaults a user gets and, for comparison, with
`--workers 1` per process (the hand-tuned setting of earlier rounds). `fruits
run` on the same photos comes first, as the yardstick. Results are checked with
tools/check_results.py.

  tools/bench_colocated.py --images /tmp/fr2000/Test --processes 1 2 3 4
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRUITS = os.path.join(ROOT, ".build/release/fruits")
PYTHON = os.path.join(ROOT, ".venv/bin/python")


def count_images(directory):
    return sum(1 for _, _, files in os.walk(directory) for name in files if name.lower().endswith(".jpg"))


def check(results, images):
    check = subprocess.run([PYTHON, os.path.join(ROOT, "tools/check_results.py"), "--results", results, "--images", images],
                           capture_output=True, text=True)
    return "ok" if check.returncode == 0 else "FAILED: " + (check.stdout + check.stderr)[-300:]


def fruits_run(images, work):
    results = os.path.join(work, "run")
    start = time.monotonic()
    subprocess.run([FRUITS, "run", "--input", images, "--output", results], check=True,
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "run.log"), "w"))
    return time.monotonic() - start, check(results, images)


def services(images, work, processes, extra, tag):
    log = open(os.path.join(work, f"{tag}.log"), "w")
    broker = subprocess.Popen([FRUITS, "broker"], stdout=subprocess.PIPE, stderr=log, text=True)
    bootstrap = broker.stdout.readline().strip()
    results = os.path.join(work, tag)
    extractors = [subprocess.Popen([FRUITS, "extract", "--brokers", bootstrap] + extra, stdout=log, stderr=log)
                  for _ in range(processes)]
    reducer = subprocess.Popen([FRUITS, "reduce", "--brokers", bootstrap, "--output", results,
                                "--expect-images", str(count_images(images))], stdout=log, stderr=log)
    try:
        start = time.monotonic()
        subprocess.run([FRUITS, "ingest", "--brokers", bootstrap, images], check=True, stdout=log, stderr=log)
        if reducer.wait(timeout=600) != 0:
            raise SystemExit(f"the reducer failed; see {log.name}")
        elapsed = time.monotonic() - start
    finally:
        for process in extractors + [reducer, broker]:
            if process.poll() is None:
                process.terminate()
        for process in extractors + [reducer, broker]:
            process.wait()
    return elapsed, check(results, images)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        seconds, verdict = fruits_run(args.images, work)
        print(f"fruits run                          {seconds:6.1f} s  {verdict}", flush=True)
        yardstick = seconds
        for processes in args.processes:
            for label, extra in (("defaults", []), ("--workers 1", ["--workers", "1"])):
                seconds, verdict = services(args.images, work, processes, extra, f"n{processes}-{label.replace(' ', '')}")
                print(f"{processes} extract + reduce, {label:12}  {seconds:6.1f} s  "
                      f"({seconds / yardstick:.2f}x fruits run)  {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
