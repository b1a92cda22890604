#!/usr/bin/env python3
"""The live path's acceptance, measured with long-running services on the
embedded broker (release build, defaults): a labelled backfill, the model
published while the reducer runs, uploads answered, and uploads during a big
backfill. Prints one line per measurement; exits non-zero if an answer is
wrong or lost.

  tools/bench_live.py --backfill /tmp/fr2000/Test --big /tmp/fr22688/Test --uploads /tmp/fr600/Test

The 12 MP variant (issue #26: one upload p95 <= 150 ms idle; 5/s during a backfill, all answered,
p95 <= 600 ms) uploads phone photos without a label (tools/phone_photos.py build --out /tmp/phone-photos):

  tools/bench_live.py --backfill /tmp/fr2000/Test --big /tmp/fr8000/Test --uploads /tmp/phone-photos/12mp --rate 5 --seconds 40

Stages:
 1. backfill --backfill; time until pca/model.json exists (the reducer keeps running);
 2. 30 uploads one after another with ?wait=5: status, prediction among the
    backfill's labels, len(pca) == k, model_version == the published one, GET
    answers the same; upload->answer latency p50/p95/max;
 3. backfill --big, and meanwhile 20 uploads/s for --seconds (60) with ?wait=10:
    latency p50/p95/max, and every upload answered (GET until done, bounded);
 4. tools/check_answers.py on every answer, once the reducer has stopped.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRUITS = os.environ.get("FRUITS_BIN", os.path.join(ROOT, ".build/release/fruits"))
TOKEN = "bench-live-token"


def fail(message):
    print(f"bench_live: FAILED: {message}", flush=True)
    sys.exit(1)


def wait_until(what, timeout, condition, every=0.1):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout} s waiting until {what}")
        time.sleep(every)


def request(method, url, body=None, timeout=30, timings=None):
    req = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            if timings is not None:
                timings.append(server_timing(response.headers.get("Server-Timing", "")))
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def server_timing(header):
    """{"store": ms, "queue": ms, "answer": ms} from a Server-Timing header."""
    parts = {}
    for entry in header.split(","):
        name, _, duration = entry.strip().partition(";dur=")
        if duration:
            parts[name] = float(duration)
    return parts


def breakdown(timings):
    names = ["store", "queue", "answer", "extract", "classify", "deliver"]
    return ", ".join(f"{n} p50 {percentile([t.get(n, 0) for t in timings], 50):.0f} / p95 "
                     f"{percentile([t.get(n, 0) for t in timings], 95):.0f} ms" for n in names)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backfill", required=True)
    parser.add_argument("--big", required=True)
    parser.add_argument("--uploads", required=True, help="photos to upload: label folders of JPEGs, or JPEGs uploaded without a label")
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--extract-arg", action="append", default=[],
                        help="an extra argument for `fruits extract`, e.g. --extract-arg=--reduced-min-side=448 (repeatable)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-live-")
    results, store = os.path.join(work, "results"), os.path.join(work, "uploads")
    processes = []

    def start(arguments, name, env=None):
        log = open(os.path.join(work, name + ".log"), "w")
        process = subprocess.Popen([FRUITS] + arguments, stdout=log, stderr=log, env={**os.environ, **(env or {})})
        processes.append(process)
        return process

    broker = subprocess.Popen([FRUITS, "broker"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    processes.append(broker)
    brokers = ["--brokers", broker.stdout.readline().strip()]
    port = random.randint(20000, 30000)
    base = f"http://127.0.0.1:{port}"
    try:
        reducer = start(["reduce"] + brokers + ["--output", results], "reduce")
        start(["extract"] + brokers + args.extract_arg, "extract")
        start(["ingest", "serve"] + brokers + ["--store", store, "--port", str(port)], "serve", {"FRUITS_UPLOAD_TOKEN": TOKEN})
        wait_until("the upload endpoint answers", 30, lambda: _healthy(base))

        labels = sorted(os.listdir(args.backfill))
        photos = sorted(glob.glob(os.path.join(args.uploads, "*", "*.jpg"))) or sorted(glob.glob(os.path.join(args.uploads, "*.jpg")))
        labelled = bool(glob.glob(os.path.join(args.uploads, "*", "*.jpg")))
        started = time.monotonic()
        subprocess.run([FRUITS, "ingest"] + brokers + [args.backfill], check=True, capture_output=True)
        model_path = os.path.join(results, "pca", "model.json")
        wait_until("pca/model.json exists", 300, lambda: os.path.exists(model_path), every=0.5)
        appeared = time.monotonic() - started
        model = json.load(open(model_path))
        print(f"1. backfill of {len(glob.glob(os.path.join(args.backfill, '*', '*.jpg')))} photos: pca/model.json "
              f"(version {model['version']}, k {model['k']}, {model['n_samples']} images, LOO accuracy "
              f"{model['classifier']['accuracy']:.3f}) after {appeared:.1f} s; reducer running: {reducer.poll() is None}", flush=True)

        answers = {}

        parts = []

        def upload(path, wait):
            label = f"label={urllib.parse.quote(os.path.basename(os.path.dirname(path)))}&" if labelled else ""
            body = open(path, "rb").read()
            t0 = time.monotonic()
            status, answer = request("POST", f"{base}/v1/images?{label}wait={wait}", body, timings=parts)
            return status, answer, time.monotonic() - t0

        def predicted():
            status, answer, _ = upload(photos[-1], 5)
            return status == 200 and "prediction" in answer

        t0 = time.monotonic()
        wait_until("an answer carries a prediction", 30, predicted, every=0.2)
        print(f"   answers carry predictions {time.monotonic() - t0:.1f} s after pca/model.json appeared "
              f"(answerers poll pca/version every 2 s)", flush=True)

        latencies = []
        parts.clear()
        for path in photos[:30]:
            status, answer, took = upload(path, 5)
            latencies.append(took)
            current = json.load(open(model_path))
            if status != 200 or answer.get("status") != "done":
                fail(f"upload answered {status} {answer}")
            if answer["prediction"]["label"] not in labels or len(answer["pca"]) != current["k"]:
                fail(f"bad answer {answer}")
            if answer["model_version"] not in (current["version"], current["version"] - 1):
                fail(f"answer of model {answer['model_version']}, published {current['version']}")
            again = request("GET", f"{base}/v1/images/{answer['image_id']}")[1]
            if again.get("prediction") != answer["prediction"]:
                fail(f"GET differs: {again} vs {answer}")
            answers[answer["image_id"]] = answer
        print(f"2. 30 uploads with ?wait=5: all 200 done, predictions among the labels, GET the same; upload->answer "
              f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms ({breakdown(parts)})", flush=True)

        subprocess.run([FRUITS, "ingest"] + brokers + [args.big], check=True, capture_output=True)
        backlog_before = backlog(brokers)
        timings, ids, lock = [], [], threading.Lock()

        def one(path):
            status, answer, took = upload(path, 10)
            with lock:
                ids.append(answer.get("image_id"))
                if status == 200:
                    timings.append(took)
                    answers[answer["image_id"]] = answer
            return status

        statuses = []
        parts.clear()
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            futures, t0 = [], time.monotonic()
            for n in range(int(args.rate * args.seconds)):
                delay = t0 + n / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(one, photos[n % len(photos)]))
            statuses = [f.result() for f in futures]
        backlog_after = backlog(brokers)
        pending = [i for i, s in zip(ids, statuses) if s != 200]
        for image_id in pending:
            wait_until(f"{image_id} is answered", 120, lambda: request("GET", f"{base}/v1/images/{image_id}")[1].get("status") == "done", 0.5)
        print(f"3. {len(statuses)} uploads at {args.rate:g}/s during a {len(glob.glob(os.path.join(args.big, '*', '*.jpg')))}-photo "
              f"backfill: {len(timings)} answered within the wait, {len(pending)} later, none lost; upload->answer p50 "
              f"{percentile(timings, 50) * 1000:.0f} ms, p95 {percentile(timings, 95) * 1000:.0f} ms, max "
              f"{max(timings) * 1000:.0f} ms; backfill backlog {backlog_before} -> {backlog_after} images "
              f"({(backlog_before - backlog_after) / args.seconds:.0f}/s extracted meanwhile)\n   {breakdown(parts)}", flush=True)
        if backlog_before - backlog_after < args.seconds * 10:
            fail("the backfill hardly moved while uploads were served: this measured nothing")

        # The answerers run ahead of the reducer: let it write every answered image before it stops.
        wait_until("the results hold every answered image", 300, lambda: set(answers) <= stored_ids(results), every=2)
        reducer.send_signal(signal.SIGTERM)
        reducer.wait(timeout=120)
        path = os.path.join(work, "answers.json")
        json.dump(list(answers.values()), open(path, "w"))
        check = subprocess.run([sys.executable, os.path.join(ROOT, "tools/check_answers.py"), "--results", results, "--answers", path],
                               capture_output=True, text=True)
        print(f"4. oracle: {(check.stdout + check.stderr).strip()}", flush=True)
        if check.returncode != 0:
            fail("the oracle disagrees")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        if os.environ.get("KEEP") is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def stored_ids(results):
    import pyarrow.parquet as pq
    ids = set()
    for path in glob.glob(os.path.join(results, "features", "*.parquet")):
        try:
            ids.update(pq.read_table(path, columns=["image_id"]).column("image_id").to_pylist())
        except OSError:
            pass  # a part being written
    return ids


def backlog(brokers):
    """The backfill images not yet extracted: the extractors' group lag on fruits.images."""
    out = subprocess.run([FRUITS, "topics", "describe"] + brokers, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("group fruits-extractors on fruits.images "):
            return int(line.split("lag ")[1].split()[0])
    fail(f"no extractor lag in `fruits topics describe`: {out}")


def _healthy(base):
    try:
        return urllib.request.urlopen(base + "/healthz", timeout=2).status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
