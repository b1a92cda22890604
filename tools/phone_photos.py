#!/usr/bin/env python3
"""Build a corpus of phone-like 12 MP JPEGs from real photographs shipped in Debian packages,
and compare two `fruits featurize` outputs over it.

  .venv/bin/python tools/phone_photos.py build --out /tmp/phone-photos
      apt-get download the packages below (into OUT/debs), unpack them, and write
      OUT/12mp/*.jpg: three 4:3 crops of each photo (the largest window, 80 % of it
      near the top left, 65 % near the bottom right) resized to 4032x3024 (Lanczos),
      Pillow quality 90, 4:2:0; every fourth stored sideways with EXIF Orientation 6,
      the way a phone stores a portrait photo. OUT/SOURCES.tsv lists each source with
      its package and licence.
  .venv/bin/python tools/phone_photos.py fruits --generator GEN --seed S --first I --count N --out OUT [--workers W]
      OUT/12mp/<label>/<i>.jpg: the seed's generated fruit (GEN is its gen_fruits.py, imported,
      not copied) drawn at 3024x3024 for images I..I+N-1 of seed S, centred on a 4032x3024
      near-white frame, Pillow quality 90, 4:2:0, every fourth stored sideways with EXIF
      Orientation 6. Images past those a model was fitted on are fruit it has never seen, of
      the 131 classes both the generator and the seed's models use. Each worker (default 2)
      holds about 2.4 GB while it draws; OUT/12mp must not exist yet.
  .venv/bin/python tools/phone_photos.py compare A.jsonl B.jsonl [--results DIR] [--labelled]
      per image cosine and max |delta| of two `fruits featurize` outputs; min, median, max.
      With --results (a results folder with a published model): the largest |delta| of
      the PCA coordinates under its latest model, and how often its published classifier
      (and each kNN) gives both outputs the same top-1 label (tools/check_answers.py's
      numpy recomputation; no ground truth needed), and for the softmax how often they agree
      where A's leading label leads by 0.01 or more in probability. With --labelled, each
      photo's folder is its true label, and each classifier's accuracy on A and on B is
      printed too.

Sources smaller than 4032x3024 are upscaled (up to 3.9x for the 65 % crop of a
1920x1200 one): their texture is the camera's, smoothed. Only photographs were picked
(no drawings or renders), by looking at them.
"""
import argparse
import io
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

# (package, path inside it, licence from the package's debian/copyright)
LOMIRI = "/usr/share/backgrounds/"
PLASMA = "/usr/share/wallpapers/{}/contents/images/2560x1600.jpg"
MATE = "/usr/share/backgrounds/mate/nature/"
PHOTOS = [
    *[("lomiri-wallpapers-16.04", LOMIRI + name, licence) for name, licence in [
        ("Bridge_by_Sander_Klootwijk.jpg", "CC-BY-SA-4.0"), ("Dragonfly_by_Bolly.jpg", "CC-BY-SA-4.0"),
        ("Picture_0B_by_freespace.jpg", "CC-BY-4.0"), ("Wine_by_Jakkub_Mede.jpg", "CC-BY-4.0"),
        ("aitzgorri_by_Aitzol_Berasategi.jpg", "CC-BY-4.0"), ("analogpattern_by_Peter_Nerlich.jpg", "CC-BY-SA-4.0"),
        ("free_by_Peter_Nerlich.jpg", "CC-BY-SA-4.0"), ("friends_by_Aitzol_Berasategi.jpg", "CC-BY-4.0"),
        ("greentock_by_Peter_Nerlich.jpg", "CC-BY-SA-4.0"), ("life_by_Aitzol_Berasategi.jpg", "CC-BY-4.0"),
        ("picosdeeuropa_by_Aitzol_Berasategi.jpg", "CC-BY-4.0"), ("seeding_by_Clements_Engelhardt.jpg", "CC0-1.0"),
        ("sunset_by_Aitzol_Berasategi.jpg", "CC-BY-4.0")]],
    *[("lomiri-wallpapers-20.04", LOMIRI + name, "CC-BY-SA-3.0") for name in [
        "Infinite-Sea_by_Aury88.jpg", "Kleiber_by_Lukas_Baubkus.jpg"]],
    *[("plasma-workspace-wallpapers", PLASMA.format(name), "GPL-2+") for name in [
        "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
        "OneStandsOut", "Path", "summer_1am"]],
    *[("mate-backgrounds", MATE + name + ".jpg", "GPL-2+") for name in [
        "Aqua", "Blinds", "Garden", "LadyBird", "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower"]],
]
SIZE = (4032, 3024)
CROPS = [(1.0, 0.5, 0.5), (0.8, 0.2, 0.2), (0.65, 0.8, 0.8)]  # (share of the largest 4:3 window, x, y position)


def unpack(out):
    debs, root = os.path.join(out, "debs"), os.path.join(out, "root")
    os.makedirs(debs, exist_ok=True)
    packages = sorted({package for package, _, _ in PHOTOS})
    subprocess.run(["apt-get", "download", *packages], cwd=debs, check=True)
    for deb in os.listdir(debs):
        subprocess.run(["dpkg-deb", "-x", os.path.join(debs, deb), root], check=True)
    return root


def crop(img, share, px, py):
    w, h = img.size
    if h > w:
        img = img.transpose(Image.Transpose.ROTATE_90)  # portrait sources: crop them as landscape
        w, h = h, w
    cw = min(w, h * 4 // 3)
    ch = cw * 3 // 4
    cw, ch = int(cw * share), int(ch * share)
    x, y = int((w - cw) * px), int((h - ch) * py)
    return img.crop((x, y, x + cw, y + ch)).resize(SIZE, Image.Resampling.LANCZOS)


def build(out):
    root = unpack(out)
    folder = os.path.join(out, "12mp")
    os.makedirs(folder, exist_ok=True)
    count = 0
    with open(os.path.join(out, "SOURCES.tsv"), "w") as sources:
        sources.write("package\tpath\tlicence\twidth\theight\n")
        for package, path, licence in PHOTOS:
            img = Image.open(root + path).convert("RGB")
            sources.write(f"{package}\t{path}\t{licence}\t{img.width}\t{img.height}\n")
            stem = os.path.splitext(os.path.basename(path))[0]
            if stem == "2560x1600":
                stem = path.split("/")[4]
            for index, (share, px, py) in enumerate(CROPS):
                photo = crop(img, share, px, py)
                save_phone_jpeg(photo, os.path.join(folder, f"{count:03d}_{stem}_{index}.jpg"), count % 4 == 3)
                count += 1
    print(f"wrote {count} photos to {folder}")


def save_phone_jpeg(photo, path, sideways):
    options = {"quality": 90, "subsampling": 2}
    if sideways:
        # Stored sideways: shown upright after a 90-degree clockwise turn.
        photo = photo.transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6
        options["exif"] = exif.tobytes()
    buf = io.BytesIO()
    photo.save(buf, "JPEG", **options)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def load_generator(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_fruits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_generator = None  # each drawing process's copy of the seed's module, loaded once


def load_generator_once(path):
    global _generator
    _generator = load_generator(path)


def draw_fruit(job):
    seed, index, out = job
    generator = _generator
    names = generator.class_names(131)
    label = names[index % len(names)]
    fruit = generator.render(index, seed, generator.class_params(label, index % len(names), seed), size=SIZE[1])
    # The frame's margins get the same near-white background as the fruit's square.
    margin = np.random.default_rng([seed, index, 1]).normal(0, 0.004, (SIZE[1], SIZE[0], 3))
    frame = ((1.0 - np.abs(margin)) * 255.0 + 0.5).astype(np.uint8)
    left = (SIZE[0] - SIZE[1]) // 2
    frame[:, left:left + SIZE[1]] = fruit
    os.makedirs(os.path.join(out, label), exist_ok=True)
    save_phone_jpeg(Image.fromarray(frame), os.path.join(out, label, f"{index}.jpg"), index % 4 == 3)
    return label


def fruits(generator_path, seed, first, count, out, workers):
    from multiprocessing import Pool
    if not os.path.isfile(generator_path):
        sys.exit(f"{generator_path}: no such file (the seed's gen_fruits.py)")
    folder = os.path.join(out, "12mp")
    if os.path.exists(folder):
        sys.exit(f"{folder} exists: choose a new --out, so two corpora never mix")
    try:
        os.makedirs(folder)
    except OSError as error:
        sys.exit(f"cannot create {folder}: {error.strerror}")
    jobs = [(seed, index, folder) for index in range(first, first + count)]
    with Pool(workers, initializer=load_generator_once, initargs=(os.path.abspath(generator_path),)) as pool:
        labels = pool.map(draw_fruit, jobs, chunksize=1)
    print(f"wrote {len(labels)} photos of {len(set(labels))} labels to {folder}")


def read(path):
    """`fruits featurize` output: one {"path", "features"} object per line, every
    vector finite and of one length; anything else stops with the file and line."""
    rows, dimension = {}, None
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                try:
                    row = json.loads(line, parse_constant=lambda name: float("nan"))
                    key, features = row["path"], np.array(row["features"], dtype=np.float64)
                except (ValueError, TypeError, KeyError) as error:
                    sys.exit(f"{path}:{number}: not a featurize line ({type(error).__name__}); cut short?")
                if not isinstance(key, str) or features.ndim != 1 or not np.all(np.isfinite(features)):
                    sys.exit(f"{path}:{number}: a path must be text and features finite numbers")
                if dimension is None:
                    dimension = features.size
                if features.size != dimension or dimension == 0:
                    sys.exit(f"{path}:{number}: {features.size} features where the first line has {dimension}")
                if key in rows:
                    sys.exit(f"{path}:{number}: {key!r} a second time")
                rows[key] = features
    except (OSError, UnicodeDecodeError) as error:
        sys.exit(f"cannot read {path}: {error}")
    return rows


def published(results):
    """The latest published model version: (mean, components, references, classifier, head)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pyarrow.parquet as pq
    from check_answers import softmax_head
    try:
        with open(os.path.join(results, "pca", "version")) as f:
            version = int(f.read().strip())
    except (OSError, ValueError) as error:
        sys.exit(f"{results}: no published model version to compare under ({error})")
    folder = os.path.join(results, "pca", "models", f"{version:06d}")
    with open(os.path.join(folder, "model.json")) as f:
        model = json.load(f)
    references = pq.read_table(os.path.join(folder, "references.parquet")).to_pydict()
    classifier = model["classifier"]
    head = softmax_head(folder) if classifier.get("published") == "softmax" else None
    return version, np.asarray(model["mean"]), np.asarray(model["components"]), references, classifier, head


def top_labels(queries, space, labels, neighbours):
    """Each query's best label and its lead over the second (shares of the vote)."""
    from check_answers import vote
    answers = []
    for q in queries:
        scores = vote(q, space, labels, neighbours)[0]
        answers.append((scores[0][0], scores[0][1] - (scores[1][1] if len(scores) > 1 else 0)))
    return answers


def softmax_labels(queries, head):
    labels, weights, bias = head
    logits = queries @ weights.T + bias
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    order = np.argsort(-probabilities, axis=1)
    return [(labels[o[0]], p[o[0]] - p[o[1]]) for o, p in zip(order, probabilities)]


def compare_under_model(a, b, common, results, labelled):
    version, mean, components, references, classifier, head = published(results)
    xa, xb = np.stack([a[p] for p in common]), np.stack([b[p] for p in common])
    pa, pb = (xa - mean) @ components.T, (xb - mean) @ components.T
    scale = np.median(np.max(np.abs(pa), axis=1))
    print(f"model version {version} ({components.shape[0]} components, published {classifier.get('published', 'knn-pca')})")
    print(f"pca max |d|  {np.max(np.abs(pa - pb)):.4f}  median per image {np.median(np.max(np.abs(pa - pb), axis=1)):.4f}"
          f"  (median max |coordinate|: {scale:.2f})")
    labels, k = references["label"], classifier["neighbours"]
    if labelled:
        truth = [os.path.basename(os.path.dirname(path)) for path in common]
        unknown = sorted(set(truth) - set(labels))
        if unknown:
            sys.exit(f"--labelled: folders that are not labels of the model: {', '.join(unknown[:5])}")
    answers = {"knn-pca": (top_labels(pa, np.asarray(references["pca"]), labels, k),
                           top_labels(pb, np.asarray(references["pca"]), labels, k))}
    if "features" in references:
        space = np.asarray(references["features"], dtype=np.float64)
        answers["knn-full"] = (top_labels(xa, space, labels, k), top_labels(xb, space, labels, k))
    if head is not None:
        answers["softmax"] = (softmax_labels(xa, head), softmax_labels(xb, head))
    for kind, (la, lb) in answers.items():
        agree = sum(x[0] == y[0] for x, y in zip(la, lb))
        leads = np.array([x[1] for x in la])
        line = (f"top-1 agreement {kind}: {agree}/{len(common)} ({100 * agree / len(common):.1f} %);"
                f" the leading label's lead in A: median {np.median(leads):.3f}, below 0.01 for {int(np.sum(leads < 0.01))}")
        if kind == "softmax":
            # A probability gap; a kNN lead is a share of a few votes, which one neighbour moves.
            clear = [(x, y) for x, y in zip(la, lb) if x[1] >= 0.01]
            line += f"; where it leads by 0.01 or more: {sum(x[0] == y[0] for x, y in clear)}/{len(clear)}"
        print(line)
        if labelled:
            right_a = sum(x[0] == t for x, t in zip(la, truth))
            right_b = sum(y[0] == t for y, t in zip(lb, truth))
            print(f"  accuracy {kind}: A {right_a}/{len(common)}, B {right_b}/{len(common)}")
        for path, x, y in zip(common, la, lb):
            if x[0] != y[0]:
                print(f"  {os.path.basename(path)}: {x[0]!r} leads by {x[1]:.4f} in A, {y[0]!r} by {y[1]:.4f} in B")


def compare(a_path, b_path, results=None, labelled=False):
    a, b = read(a_path), read(b_path)
    for path, rows in ((a_path, a), (b_path, b)):
        if not rows:
            sys.exit(f"{path}: no images")
    common = sorted(set(a) & set(b))
    if not common or len(common) != len(a) or len(common) != len(b):
        sys.exit(f"the outputs differ in images: {len(a)} vs {len(b)}, {len(common)} in common")
    cosines = np.array([a[p] @ b[p] / (np.linalg.norm(a[p]) * np.linalg.norm(b[p])) for p in common])
    deltas = np.array([np.max(np.abs(a[p] - b[p])) for p in common])
    scale = np.median([np.max(np.abs(a[p])) for p in common])
    worst = common[int(np.argmin(cosines))]
    print(f"images {len(common)}")
    print(f"cosine   min {cosines.min():.6f}  median {np.median(cosines):.6f}  max {cosines.max():.6f}  (worst: {os.path.basename(worst)})")
    print(f"max |d|  min {deltas.min():.4f}  median {np.median(deltas):.4f}  max {deltas.max():.4f}  (median max |feature|: {scale:.2f})")
    if results:
        compare_under_model(a, b, common, results, labelled)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    f = sub.add_parser("fruits")
    f.add_argument("--generator", required=True, help="the seed's gen_fruits.py")
    f.add_argument("--seed", type=int, required=True)
    f.add_argument("--first", type=int, required=True, help="the first image index (past the model's photos)")
    f.add_argument("--count", type=int, default=105)
    f.add_argument("--out", required=True)
    f.add_argument("--workers", type=int, default=2, help="drawing processes, about 2.4 GB each")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--results", help="a results folder whose latest published model and classifier to compare under")
    c.add_argument("--labelled", action="store_true", help="each photo's folder is its true label")
    args = parser.parse_args()
    if args.command == "build":
        build(args.out)
    elif args.command == "fruits":
        if not 0 <= args.seed < 2**63 or not 0 <= args.first < 10**9 or not 1 <= args.count <= 10000 or not 1 <= args.workers <= 16:
            sys.exit("--seed must be 0 to 2^63-1, --first 0 to 10^9-1, --count 1-10000, --workers 1-16")
        fruits(args.generator, args.seed, args.first, args.count, args.out, args.workers)
    else:
        if args.labelled and not args.results:
            sys.exit("--labelled needs --results")
        compare(args.a, args.b, args.results, args.labelled)


if __name__ == "__main__":
    main()
