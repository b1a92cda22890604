#!/usr/bin/env python3
"""A backfill with poison in it: good fruit photos, duplicates under other
names, JPEG variants that must still work (CMYK, progressive, grayscale),
and 30+ files that must each end as exactly one dead letter.

  python tools/bad_corpus.py make OUT            # writes OUT/Test/<label>/... and OUT/expected.json
  python tools/bad_corpus.py check OUT RESULTS   # checks a results folder against expected.json
"""
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from synthetic_fruits import fruit


def jpeg(img, **options):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **options)
    return buf.getvalue()


def make(out):
    rng = np.random.default_rng(99)
    files = {}  # relative path -> (bytes, accepted outcomes)
    good = [jpeg(fruit(rng, 100, 100, (int(rng.integers(50, 250)), 80, 40)), quality=95) for _ in range(20)]
    for i, data in enumerate(good):
        files[f"Good/{i}_100.jpg"] = (data, ["features"])
    for i in range(3):
        files[f"Copies/copy_of_{i}.jpg"] = (good[i], ["features"])
    files["Variants/cmyk.jpg"] = (jpeg(fruit(rng, 120, 90, (60, 120, 200)).convert("CMYK"), quality=90), ["features"])
    files["Variants/progressive.jpg"] = (jpeg(fruit(rng, 150, 150, (230, 120, 30)), quality=90, progressive=True), ["features"])
    files["Variants/gray.jpg"] = (jpeg(fruit(rng, 100, 100, (150, 150, 150)).convert("L"), quality=90), ["features"])

    big = jpeg(fruit(rng, 400, 300, (200, 40, 30)), quality=90)
    bad = {}
    bad["empty.jpg"] = (b"", ["empty"])
    for fraction in (0.05, 0.1, 0.15, 0.3, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9):
        bad[f"truncated_{int(fraction * 100)}.jpg"] = (big[: int(len(big) * fraction)], ["truncated"])
    for n in (16, 1024, 65536):
        bad[f"random_{n}.jpg"] = (rng.integers(0, 256, n, dtype=np.uint8).tobytes(), ["unsupported_format"])
    bad["random_with_jpeg_magic.jpg"] = (b"\xff\xd8\xff" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes(), ["corrupt", "truncated"])
    bad["soi_eoi_only.jpg"] = (b"\xff\xd8\xff\xd9", ["corrupt", "truncated"])
    bad["page.html.jpg"] = (b"<!DOCTYPE html><html><body>Not found</body></html>", ["unsupported_format"])
    bad["error.xml.jpg"] = (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', ["unsupported_format"])
    bad["notes.txt.jpg"] = (b"just some text that is not a photo\n" * 20, ["unsupported_format"])
    png = io.BytesIO(); fruit(rng, 64, 64, (10, 200, 10)).save(png, "PNG")
    bad["png_renamed.jpg"] = (png.getvalue(), ["unsupported_format"])
    png16 = io.BytesIO(); Image.fromarray(rng.integers(0, 65535, (32, 32), dtype=np.uint16)).save(png16, "PNG")
    bad["png_16bit.jpg"] = (png16.getvalue(), ["unsupported_format"])
    gif = io.BytesIO(); fruit(rng, 32, 32, (200, 10, 10)).save(gif, "GIF")
    bad["gif_renamed.jpg"] = (gif.getvalue(), ["unsupported_format"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.jpg", good[0])
    bad["archive.zip.jpg"] = (archive.getvalue(), ["unsupported_format"])
    bad["doc.pdf.jpg"] = (b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n", ["unsupported_format"])
    small = jpeg(fruit(rng, 64, 64, (200, 40, 30)), quality=90)
    sof = small.index(b"\xff\xc0")
    for name, (w, h), reasons in [("huge_20000x20000.jpg", (20000, 20000), ["too_large"]),
                                  ("zero_width.jpg", (0, 64), ["corrupt", "truncated"])]:
        patched = bytearray(small)
        patched[sof + 5:sof + 9] = struct.pack(">HH", h, w)
        bad[name] = (bytes(patched), reasons)
    bad["strip_65000x1.jpg"] = (jpeg(Image.new("RGB", (65000, 1), (200, 100, 50)), quality=90), ["too_small"])
    bad["strip_1x65000.jpg"] = (jpeg(Image.new("RGB", (1, 65000), (200, 100, 50)), quality=90), ["too_small"])
    bad["one_pixel.jpg"] = (jpeg(Image.new("RGB", (1, 1), (1, 2, 3)), quality=90), ["too_small"])
    exif = b"Exif\x00\x00" + b"II*\x00\x08\x00\x00\x00" + b"\x00" * 40
    bad["exif_only.jpg"] = (b"\xff\xd8\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + b"\xff\xd9", ["corrupt", "truncated"])
    for name, content in bad.items():
        files[f"Bad/{name}"] = content
    for path, (data, _) in files.items():
        full = os.path.join(out, "Test", path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    expected = {path: outcomes for path, (_, outcomes) in files.items()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print(f"wrote {len(files)} files, {len(bad)} of them bad, to {out}/Test")


def rows(results, sub):
    folder = os.path.join(results, sub)
    if not os.path.isdir(folder):
        return []
    return [r for name in sorted(os.listdir(folder)) if name.endswith(".parquet")
            for r in pq.read_table(os.path.join(folder, name)).to_pylist()]


def check(out, results):
    expected = json.load(open(os.path.join(out, "expected.json")))
    def relative(uri):
        return uri.split("/Test/", 1)[1].replace("%20", " ")
    outcomes = {}
    for r in rows(results, "features"):
        outcomes.setdefault(relative(r["path"]), []).append("features")
    for r in rows(results, "deadletters"):
        outcomes.setdefault(relative(r["path"]), []).append(r["reason"])
    problems = []
    for path, accepted in sorted(expected.items()):
        got = outcomes.get(path, [])
        if len(got) != 1 or got[0] not in accepted:
            problems.append(f"{path}: got {got}, expected one of {accepted}")
    unexpected = sorted(set(outcomes) - set(expected))
    if unexpected:
        problems.append(f"outputs for files that do not exist: {unexpected}")
    if problems:
        sys.exit("bad_corpus: " + "\n  ".join(problems))
    bad = sum(1 for v in expected.values() if v != ["features"])
    print(f"ok: {len(expected) - bad} good files with features, {bad} bad files with one dead letter each")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
