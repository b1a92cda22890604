#!/usr/bin/env python3
"""Build the fixtures of the decode-option tests with Pillow (run by hand):

  orientation/oriented_N.jpg  one asymmetric 40x24 picture stored with EXIF Orientation N (1..8);
  orientation/oriented_N.rgb  Pillow's ImageOps.exif_transpose(Image.open(f)).convert("RGB") bytes;
  reduced/photo_SIDE.rgb      Pillow's reduced path on ../photo_1600x1200.jpg: im.draft("RGB", (SIDE, SIDE)),
                              convert("RGB"), resize((224, 224), BICUBIC), for SIDE 448, 300, 150
                              (libjpeg scale 1/2, 1/4, 1/8), and reduced/photo_150.decoded.rgb before the resize;
and decode.json lists sizes.

  .venv/bin/python tools/make_decode_fixtures.py --out Tests/ExtractorTests/Fixtures
"""
import argparse
import io
import json
import os

import numpy as np
from PIL import Image, ImageOps

SIDES = (448, 300, 150)


def asymmetric(width, height):
    """Every pixel differs from its mirror and rotated images: a gradient per axis plus a corner mark."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // (width - 1), y * 255 // (height - 1), (x * 7 + y * 13) % 256], axis=-1)
    rgb[: height // 3, : width // 4] = (250, 20, 20)
    return Image.fromarray(rgb.astype(np.uint8))


def with_orientation(img, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
    return buf.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    manifest = {"orientation": [], "reduced": []}
    os.makedirs(os.path.join(args.out, "orientation"), exist_ok=True)
    base = asymmetric(40, 24)
    for orientation in range(1, 9):
        path = os.path.join(args.out, "orientation", f"oriented_{orientation}.jpg")
        with open(path, "wb") as f:
            f.write(with_orientation(base, orientation))
        shown = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        with open(path[:-4] + ".rgb", "wb") as f:
            f.write(shown.tobytes())
        manifest["orientation"].append({"orientation": orientation, "width": shown.width, "height": shown.height})

    os.makedirs(os.path.join(args.out, "reduced"), exist_ok=True)
    source = os.path.join(args.out, "photo_1600x1200.jpg")
    for side in SIDES:
        im = Image.open(source)
        im.draft("RGB", (side, side))
        decoded = im.convert("RGB")
        if side == SIDES[-1]:
            with open(os.path.join(args.out, "reduced", f"photo_{side}.decoded.rgb"), "wb") as f:
                f.write(decoded.tobytes())
        with open(os.path.join(args.out, "reduced", f"photo_{side}.rgb"), "wb") as f:
            f.write(decoded.resize((224, 224), Image.BICUBIC).tobytes())
        manifest["reduced"].append({"side": side, "decoded_width": decoded.width, "decoded_height": decoded.height})
    with open(os.path.join(args.out, "decode.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(manifest['orientation'])} orientation and {len(manifest['reduced'])} reduced fixtures")


if __name__ == "__main__":
    main()
