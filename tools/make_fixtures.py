#!/usr/bin/env python3
"""Build the golden fixtures of the extractor tests (run by hand; needs
tensorflow, pillow and numpy, e.g. the peer venv of ../shared/peers/seed_pyspark).

For every image it writes, next to the JPEG:
  NAME.rgb       Pillow's 224x224 RGB bytes: Image.open(f).convert("RGB").resize((224, 224))
  NAME.f32       TensorFlow's 1280 features, float32 little-endian, computed the way the
                 seed does (img_to_array, preprocess_input, MobileNetV2 include_top=False,
                 pooling="avg") with the ImageNet weights read from the fruits weight file
and manifest.json lists them. Bad inputs for the decoder go to bad/.

  python tools/make_fixtures.py --weights models/mobilenet_v2_1.0_224.fw --out Tests/ExtractorTests/Fixtures
"""
import argparse
import io
import json
import os
import struct

import numpy as np
from PIL import Image

from synthetic_fruits import fruit

SIZE = 224


def jpeg(img, **options):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **options)
    return buf.getvalue()


def good_images(rng):
    yield "fruit_100_a", jpeg(fruit(rng, 100, 100, (200, 40, 30)), quality=95)
    yield "fruit_100_b", jpeg(fruit(rng, 100, 100, (240, 200, 40)), quality=95)
    yield "fruit_100_c", jpeg(fruit(rng, 100, 100, (90, 160, 40)), quality=95)
    yield "fruit_100_444", jpeg(fruit(rng, 100, 100, (250, 140, 20)), quality=95, subsampling=0)
    yield "odd_37x53", jpeg(fruit(rng, 37, 53, (120, 30, 90)), quality=90)
    yield "odd_301x199", jpeg(fruit(rng, 301, 199, (200, 90, 60)), quality=90)
    yield "exact_224", jpeg(fruit(rng, 224, 224, (180, 20, 60)), quality=92)
    yield "photo_1600x1200", jpeg(fruit(rng, 1600, 1200, (210, 60, 40)), quality=80)
    yield "gray_120x90", jpeg(fruit(rng, 120, 90, (150, 150, 150)).convert("L"), quality=90)
    yield "progressive_160", jpeg(fruit(rng, 160, 160, (230, 120, 30)), quality=90, progressive=True)
    yield "cmyk_96", jpeg(fruit(rng, 96, 96, (60, 120, 200)).convert("CMYK"), quality=92)
    yield "tiny_8x8", jpeg(fruit(rng, 8, 8, (200, 200, 30)), quality=95)


def bad_images(rng):
    good = jpeg(fruit(rng, 64, 64, (200, 40, 30)), quality=90)
    png = io.BytesIO()
    fruit(rng, 32, 32, (10, 200, 10)).save(png, "PNG")
    yield "png_renamed.jpg", png.getvalue()
    yield "one_pixel.jpg", jpeg(Image.new("RGB", (1, 1), (200, 10, 10)), quality=95)
    yield "truncated.jpg", good[: len(good) // 2]
    yield "header_only.jpg", good[:200]
    yield "random.jpg", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    yield "html.jpg", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n"
    yield "empty.jpg", b""
    # The same JPEG with its frame header claiming 20000x20000 pixels.
    sof = good.index(b"\xff\xc0")
    huge = bytearray(good)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 20000, 20000)
    yield "huge_header.jpg", bytes(huge)


def reference_model(weights_path):
    import tensorflow as tf
    from tensorflow.keras.applications.mobilenet_v2 import MobileNetV2

    with open(weights_path, "rb") as f:
        assert f.read(8) == b"FRUITSW1"
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        blob = f.seek(0) or f.read()
    tensors = {t["name"]: np.frombuffer(blob, "<f4", t["count"], t["offset"]).reshape(t["shape"])
               for t in header["tensors"]}
    model = MobileNetV2(weights=None, include_top=False, pooling="avg", input_shape=(SIZE, SIZE, 3))
    loaded = 0
    for layer in model.layers:
        names = [w.path.split("/")[-1] for w in layer.weights]
        if names:
            # Keras 3 calls a depthwise kernel "kernel"; the weight file keeps Keras 2's name.
            keys = [f"{layer.name}/{n}" if f"{layer.name}/{n}" in tensors else f"{layer.name}/depthwise_{n}" for n in names]
            layer.set_weights([tensors[key] for key in keys])
            loaded += len(names)
    assert loaded == len(tensors), (loaded, len(tensors))
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", default="models/mobilenet_v2_1.0_224.fw")
    parser.add_argument("--out", default="Tests/ExtractorTests/Fixtures")
    args = parser.parse_args()
    from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
    from tensorflow.keras.preprocessing.image import img_to_array

    rng = np.random.default_rng(2026)
    os.makedirs(os.path.join(args.out, "bad"), exist_ok=True)
    model = reference_model(args.weights)
    manifest = {"good": [], "bad": []}
    for name, data in good_images(rng):
        with open(os.path.join(args.out, name + ".jpg"), "wb") as f:
            f.write(data)
        img = Image.open(io.BytesIO(data))
        mode = img.mode
        resized = img.convert("RGB").resize((SIZE, SIZE))
        with open(os.path.join(args.out, name + ".rgb"), "wb") as f:
            f.write(resized.tobytes())
        x = preprocess_input(img_to_array(resized)[None, ...])
        features = model(x, training=False).numpy()[0].astype("<f4")
        with open(os.path.join(args.out, name + ".f32"), "wb") as f:
            f.write(features.tobytes())
        manifest["good"].append({"name": name, "width": img.width, "height": img.height, "mode": mode})
    for name, data in bad_images(rng):
        with open(os.path.join(args.out, "bad", name), "wb") as f:
            f.write(data)
        manifest["bad"].append(name)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(manifest['good'])} good and {len(manifest['bad'])} bad fixtures to {args.out}")


if __name__ == "__main__":
    main()
