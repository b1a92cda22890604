#!/usr/bin/env python3
"""Oracle for the app's answers: recomputes each answer with numpy from the
published model version and its reference set, and compares.

  python tools/check_answers.py --results DIR --answers answers.json

answers.json is a list of what GET /v1/images/{id} returned. For each answer,
the image's features are looked up in <results>/features/; its coordinates
must equal (features - mean) . components^T of pca/models/<version>/model.json
(within 1e-3 relative), and its labels and scores must equal a numpy k-nearest-
neighbour vote over pca/models/<version>/references.parquet: cosine similarity,
the `neighbours` most similar vote with weight max(similarity, 0) (equal weights
if none is positive), scores are the shares of the vote. When the version
publishes `knn-full` (model.json's classifier.published) the vote is over the
references' raw features (the `features` column); with `softmax` the labels and
scores are softmax(W x + b) of pca/models/<version>/softmax.parquet (each row a
label, its weights then its bias), the 5 most probable. Each answer's
`neighbours` must be numpy's nearest references (ids, labels, similarities
within 1e-3) in the kNN's space (PCA unless knn-full), `classifier` the published
kind, and a neighbour's `uri` the reference's `path`. An answer whose k-th and
(k+1)-th neighbours are tied within 1e-5 may differ in labels and is counted as
a tie. Also checks the reference set: at most references_per_label per label,
each reference a labelled image of the results with that label, and its pca the
projection of its features. Prints "ok: ..." or exits non-zero.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import pyarrow.parquet as pq


def fail(message):
    sys.exit(f"check_answers: {message}")


def load_features(results):
    features, labels = {}, {}
    for path in sorted(glob.glob(os.path.join(results, "features", "*.parquet"))):
        table = pq.read_table(path, columns=["image_id", "label", "features"]).to_pydict()
        for image_id, label, vector in zip(table["image_id"], table["label"], table["features"]):
            features[image_id] = np.asarray(vector, dtype=np.float64)
            labels[image_id] = label
    return features, labels


def vote(query, references, reference_labels, neighbours):
    unit = references / np.maximum(np.linalg.norm(references, axis=1, keepdims=True), 1e-300)
    q = query / max(np.linalg.norm(query), 1e-300)
    similarities = unit @ q
    order = sorted(range(len(similarities)), key=lambda i: (-similarities[i], i))
    nearest = order[:neighbours]
    vote.nearest = [(i, similarities[i]) for i in nearest]
    tie = len(order) > neighbours and abs(similarities[order[neighbours - 1]] - similarities[order[neighbours]]) < 1e-5
    weights = np.maximum(similarities[nearest], 0)
    if not weights.any():
        weights = np.ones(len(nearest))
    votes = {}
    for index, weight in zip(nearest, weights):
        votes[reference_labels[index]] = votes.get(reference_labels[index], 0) + weight
    total = sum(votes.values())
    return sorted(((label, value / total) for label, value in votes.items()), key=lambda s: (-s[1], s[0])), tie


def softmax_head(folder):
    table = pq.read_table(os.path.join(folder, "softmax.parquet")).to_pydict()
    rows = np.asarray(table["weights"], dtype=np.float64)
    return table["label"], rows[:, :-1], rows[:, -1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", required=True)
    parser.add_argument("--answers", required=True)
    args = parser.parse_args()
    with open(args.answers) as f:
        answers = json.load(f)
    if not answers:
        fail("no answers to check")
    features, labels = load_features(args.results)
    models, checked, ties = {}, 0, 0
    for answer in answers:
        image_id, version = answer["image_id"], answer.get("model_version", 0)
        if answer.get("status") != "done" or "prediction" not in answer:
            fail(f"{image_id}: not a done answer with a prediction: {answer}")
        if version not in models:
            folder = os.path.join(args.results, "pca", "models", f"{version:06d}")
            with open(os.path.join(folder, "model.json")) as f:
                model = json.load(f)
            refs = pq.read_table(os.path.join(folder, "references.parquet")).to_pydict()
            mean, components = np.asarray(model["mean"]), np.asarray(model["components"])
            classifier = model["classifier"]
            reference_pca = np.asarray(refs["pca"], dtype=np.float64)
            if classifier["references"] != len(refs["image_id"]):
                fail(f"model {version}: model.json names {classifier['references']} references, the file holds {len(refs['image_id'])}")
            per_label = {}
            for ref_id, label, pca in zip(refs["image_id"], refs["label"], reference_pca):
                per_label[label] = per_label.get(label, 0) + 1
                if labels.get(ref_id) != label:
                    fail(f"model {version}: reference {ref_id} labelled {label!r}, the results say {labels.get(ref_id)!r}")
                expected = (features[ref_id] - mean) @ components.T
                if not np.allclose(pca, expected, rtol=1e-3, atol=1e-3):
                    fail(f"model {version}: reference {ref_id}'s pca is not the projection of its features")
            if max(per_label.values()) > classifier["references_per_label"]:
                fail(f"model {version}: more than {classifier['references_per_label']} references for a label")
            published = classifier.get("published", "knn-pca")
            space = np.asarray(refs["features"], dtype=np.float64) if published == "knn-full" else reference_pca
            head = softmax_head(folder) if published == "softmax" else None
            models[version] = (mean, components, space, refs, classifier["neighbours"], published, head)
        mean, components, space, refs, neighbours, published, head = models[version]
        reference_labels = refs["label"]
        if image_id not in features:
            fail(f"{image_id}: answered, but not in the results' features")
        pca = (features[image_id] - mean) @ components.T
        if not np.allclose(answer["pca"], pca, rtol=1e-3, atol=1e-3):
            fail(f"{image_id}: pca differs from numpy's projection (max {np.max(np.abs(np.asarray(answer['pca']) - pca))})")
        top, tie = vote(features[image_id] if published == "knn-full" else pca, space, reference_labels, neighbours)
        if answer.get("classifier", "knn-pca") != published:
            fail(f"{image_id}: answered by {answer.get('classifier')!r}, model {version} publishes {published!r}")
        expected_neighbours = [(refs["image_id"][i], reference_labels[i], float(sim), (refs.get("path") or [None] * (i + 1))[i] or None)
                               for i, sim in vote.nearest]
        got_neighbours = [(n["image_id"], n["label"], n["similarity"], n.get("uri")) for n in answer.get("neighbours", [])]
        neighbours_equal = len(got_neighbours) == len(expected_neighbours) and all(
            a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) <= 1e-3 and (a[3] is None or a[3] == b[3])
            for a, b in zip(got_neighbours, expected_neighbours))
        if not neighbours_equal and not tie:
            fail(f"{image_id}: neighbours {got_neighbours}, numpy says {expected_neighbours}")
        if head is not None:
            labels_, weights, bias = head
            logits = weights @ features[image_id] + bias
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            order = sorted(range(len(labels_)), key=lambda i: (-probabilities[i], labels_[i]))[:5]
            top = [(labels_[i], probabilities[i]) for i in order]
            tie = len(order) > 1 and abs(probabilities[order[0]] - probabilities[order[1]]) < 1e-5
        got = [(s["label"], s["score"]) for s in answer["prediction"]["top"]]
        if [label for label, _ in got] != [label for label, _ in top[:5]] or any(abs(a[1] - b[1]) > 1e-3 for a, b in zip(got, top)):
            if tie:
                ties += 1
                continue
            fail(f"{image_id}: answered {got}, numpy says {top[:5]}")
        if answer["prediction"]["label"] != top[0][0]:
            fail(f"{image_id}: prediction {answer['prediction']['label']!r} is not the best label {top[0][0]!r}")
        checked += 1
    print(f"ok: {checked} answers equal numpy's recomputation ({ties} ties skipped) over model versions {sorted(models)}")
    os._exit(0)


if __name__ == "__main__":
    main()
