#!/usr/bin/env python3
"""Checks that Package.swift follows the layering docs/code-map.md documents,
and that no source file outgrew its job. Prints "ok: ..." or the violations
and exits non-zero.

  python tools/check_layering.py                  # both checks; runs `swift package dump-package`
  python tools/check_layering.py --manifest x.json  # the layering of a dump made elsewhere
  python tools/check_layering.py --only layers      # or --only file-sizes

The layers are the "layer N name: Target Target ..." lines of the code map's
"Layers" block. A target may depend on targets of lower layers only; in a
layer marked "(shared)" its targets may also depend on each other. Tests are
not layered (a test may reach across targets); every other target must be
in a layer. Products of other packages are not checked.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYER_LINE = re.compile(r"^layer (\d+) ([a-z]+)( \(shared\))?: (.+)$")
MAX_LINES = 350
GENERATED = (".pb.swift", "OpenAPIDocument.swift")


def read_layers(code_map):
    """Target name -> (layer number, layer name, shared)."""
    layers = {}
    with open(code_map) as f:
        for line in f:
            match = LAYER_LINE.match(line.strip())
            if not match:
                continue
            number, name, shared, targets = match.groups()
            for target in targets.split():
                layers[target] = (int(number), name, shared is not None)
    return layers


def dump_package(root):
    # A scratch path of its own: the package's .build is locked while
    # `swift test` runs, and dump-package would wait for it forever.
    with tempfile.TemporaryDirectory(prefix="fruits-dump-") as scratch:
        output = subprocess.run(["swift", "package", "--package-path", root, "--scratch-path", scratch, "dump-package"],
                                check=True, capture_output=True, text=True, timeout=300)
    return json.loads(output.stdout)


def target_dependencies(target):
    """Names of the targets of this package a target depends on."""
    names = []
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in dependency:
                names.append(dependency[kind][0])
    return names


def layering_violations(manifest, layers):
    violations = []
    own = {target["name"] for target in manifest["targets"]}
    for target in manifest["targets"]:
        if target["type"] == "test":
            continue
        name = target["name"]
        if name not in layers:
            violations.append(f"{name} is in no layer of docs/code-map.md")
            continue
        number, layer, shared = layers[name]
        for dependency in target_dependencies(target):
            if dependency not in own:
                continue  # a product of another package named by its name
            if dependency not in layers:
                continue  # reported as a target of no layer
            other_number, other_layer, _ = layers[dependency]
            if other_number < number or (other_number == number and shared):
                continue
            where = "the same layer" if other_number == number else f"layer {other_number} ({other_layer}), above it"
            violations.append(f"{name} (layer {number}, {layer}) depends on {dependency}, in {where}")
    return violations


def long_files(root):
    found = []
    for directory, _, files in os.walk(os.path.join(root, "Sources")):
        for file in files:
            if not file.endswith(".swift") or file.endswith(GENERATED):
                continue
            path = os.path.join(directory, file)
            with open(path, encoding="utf-8") as f:
                lines = sum(1 for _ in f)
            if lines > MAX_LINES:
                found.append(f"{os.path.relpath(path, root)} has {lines} lines, more than {MAX_LINES}: split it at its seams")
    return sorted(found)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", help="the JSON of `swift package dump-package`; run here if absent")
    parser.add_argument("--code-map", default=os.path.join(ROOT, "docs", "code-map.md"))
    parser.add_argument("--root", default=ROOT)
    parser.add_argument("--only", choices=["layers", "file-sizes"])
    arguments = parser.parse_args()

    problems, passed = [], []
    if arguments.only != "file-sizes":
        layers = read_layers(arguments.code_map)
        if not layers:
            sys.exit(f"check_layering: no 'layer N name: Targets' lines in {arguments.code_map}")
        if arguments.manifest:
            with open(arguments.manifest) as f:
                manifest = json.load(f)
        else:
            manifest = dump_package(arguments.root)
        problems += layering_violations(manifest, layers)
        checked = sum(1 for target in manifest["targets"] if target["type"] != "test")
        passed.append(f"{checked} targets follow the {len(set(layers.values()))} layers of the code map")
    if arguments.only != "layers":
        problems += long_files(arguments.root)
        passed.append(f"no source file over {MAX_LINES} lines")
    if problems:
        print("\n".join(f"check_layering: {problem}" for problem in problems))
        sys.exit(1)
    print("ok: " + "; ".join(passed))


if __name__ == "__main__":
    main()
