#!/usr/bin/python3
"""make_photos.py - a folder of photo-like JPEGs for the streaming benchmark: N images at
1200x900 in one class per source photo (the sample photos of Debian's python3-skimage and
darknet), each a random crop of its photo, flipped, turned a few degrees, its brightness
and contrast jittered and film grain added so that it compresses like a camera's, saved
at JPEG quality 90. Seeded: the same N and seed give the same files. Never committed:
20,000 of them are about 3 GB.

    /usr/bin/python3 bench/stream/make_photos.py DIR [--count N] [--seed S] [--jobs J]

Needs python3-pil, python3-numpy, python3-skimage and darknet (apt-get install).
"""
import argparse
import multiprocessing
import os
import sys

import numpy as np
from PIL import Image, ImageEnhance

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
DARKNET = "/usr/share/darknet/data"
SOURCES = [(DARKNET, n) for n in ("dog.jpg", "eagle.jpg", "giraffe.jpg", "horses.jpg",
                                  "kite.jpg", "person.jpg", "scream.jpg")] + \
          [(SKIMAGE, n) for n in ("astronaut.png", "chelsea.png", "coffee.png",
                                  "motorcycle_left.png", "rocket.jpg", "hubble_deep_field.jpg",
                                  "retina.jpg")]
W, H = 1200, 900


def photos():
    out = []
    for folder, name in SOURCES:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            sys.exit(f"make_photos.py: {path} is missing (apt-get install python3-skimage darknet)")
        out.append((os.path.splitext(name)[0], Image.open(path).convert("RGB")))
    return out


def make(args):
    i, seed, out_dir, sources = args
    r = np.random.default_rng([seed, i])
    name, src = sources[i % len(sources)]
    sw, sh = src.size
    # A 4:3 crop of 40-100% of the photo's area (at most what the photo holds).
    scale = r.uniform(0.4, 1.0)
    cw = min(sw, int(round((scale * sw * sh * 4 / 3) ** 0.5)))
    ch = min(sh, int(round(cw * 3 / 4)))
    cw = min(cw, int(round(ch * 4 / 3)))
    x0 = int(r.integers(0, sw - cw + 1))
    y0 = int(r.integers(0, sh - ch + 1))
    im = src.crop((x0, y0, x0 + cw, y0 + ch))
    if r.random() < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im = im.rotate(r.uniform(-5, 5), resample=Image.Resampling.BILINEAR)
    im = im.resize((W, H), Image.Resampling.BICUBIC)
    im = ImageEnhance.Brightness(im).enhance(r.uniform(0.8, 1.2))
    im = ImageEnhance.Contrast(im).enhance(r.uniform(0.8, 1.2))
    px = np.asarray(im, dtype=np.float32)
    px += r.normal(0.0, 4.0, px.shape).astype(np.float32)  # grain, as a sensor adds
    im = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8))
    path = os.path.join(out_dir, name, f"{i:06d}.jpg")
    im.save(path, quality=90)
    return os.path.getsize(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir")
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=os.cpu_count())
    a = p.parse_args()
    sources = photos()
    for name, _ in sources:
        os.makedirs(os.path.join(a.dir, name), exist_ok=True)
    work = [(i, a.seed, a.dir, sources) for i in range(a.count)]
    with multiprocessing.Pool(a.jobs) as pool:
        sizes = pool.map(make, work, chunksize=64)
    print(f"{a.count} JPEGs of {W}x{H} in {len(sources)} classes, {sum(sizes) / 1e9:.2f} GB, "
          f"in {a.dir}")


if __name__ == "__main__":
    main()
