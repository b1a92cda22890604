#!/usr/bin/env python3
"""Synthetic fruit photos: shaded, spotted blobs on white, in Fruits-360's
<out>/<label>/<i>_100.jpg layout. Deterministic for a given --seed.

  python tools/synthetic_fruits.py --out .cache/samples --n 200
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

LABELS = {
    "Apple Red": (200, 40, 30), "Banana": (240, 200, 40), "Lime": (90, 160, 40), "Orange": (250, 140, 20),
    "Plum": (120, 30, 90), "Blueberry": (60, 80, 160), "Kiwi": (130, 110, 50), "Strawberry": (220, 30, 50),
}


def fruit(rng, width, height, hue):
    """A shaded blob with texture and noise on a white background."""
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cx, cy = width * rng.uniform(0.4, 0.6), height * rng.uniform(0.4, 0.6)
    rx, ry = width * rng.uniform(0.25, 0.4), height * rng.uniform(0.25, 0.4)
    base = np.array(hue, dtype=float)
    for step in range(12, 0, -1):
        f = step / 12
        color = tuple(int(c) for c in np.clip(base * (0.55 + 0.45 * (1 - f)) + 40 * (1 - f), 0, 255))
        draw.ellipse([cx - rx * f, cy - ry * f, cx + rx * f, cy + ry * f], fill=color)
    for _ in range(int(rng.integers(5, 25))):
        x, y = rng.uniform(cx - rx, cx + rx), rng.uniform(cy - ry, cy + ry)
        r = rng.uniform(1, max(2, width / 60))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c * 0.6) for c in hue))
    draw.line([cx, cy - ry, cx + rx * 0.1, cy - ry * 1.2], fill=(90, 60, 20), width=max(1, width // 50))
    img = img.filter(ImageFilter.GaussianBlur(radius=max(0.5, width / 200)))
    arr = np.asarray(img).astype(np.int16) + rng.normal(0, 4, (height, width, 3)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    labels = list(LABELS)
    for i in range(args.n):
        label = labels[i % len(labels)]
        rng = np.random.default_rng([args.seed, i])
        jitter = rng.integers(-25, 26, 3)
        hue = tuple(int(v) for v in np.clip(np.array(LABELS[label]) + jitter, 0, 255))
        folder = os.path.join(args.out, label)
        os.makedirs(folder, exist_ok=True)
        fruit(rng, 100, 100, hue).save(os.path.join(folder, f"{i}_100.jpg"), "JPEG", quality=95)
    print(f"wrote {args.n} images in {len(labels)} folders to {args.out}")


if __name__ == "__main__":
    main()
