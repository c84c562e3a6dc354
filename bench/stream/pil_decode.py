#!/usr/bin/python3
"""pil_decode.py - PIL's side of `clnet bench data`: the same files decoded and resized
to the same size on one core, as torchvision's ImageFolder loader does (Image.open,
convert("RGB"), resize with PIL's antialiasing filter), with draft mode (JPEG DCT
scaling, as clnet decodes) or without. Prints images/s on one core.

    /usr/bin/python3 bench/stream/pil_decode.py DIR [--size 128] [--images N] [--no-draft]
"""
import argparse
import os
import time

from PIL import Image


def files(root, limit):
    out = []
    for cls in sorted(os.listdir(root)):
        d = os.path.join(root, cls)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return out[:limit] if limit else out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--images", type=int, default=0)
    p.add_argument("--no-draft", action="store_true")
    a = p.parse_args()
    todo = files(a.dir, a.images)
    t0 = time.perf_counter()
    done = 0
    for f in todo:
        try:
            with Image.open(f) as im:
                if not a.no_draft:
                    im.draft("RGB", (a.size, a.size))
                im.convert("RGB").resize((a.size, a.size), Image.Resampling.BICUBIC)
                done += 1
        except OSError:
            pass
    s = time.perf_counter() - t0
    print(f"PIL {'without' if a.no_draft else 'with'} draft: {done} images at {a.size}x{a.size} "
          f"in {s:.2f} s: {done / s:.1f} images/s on one core ({1e3 * s / max(done, 1):.2f} ms an "
          f"image)")


if __name__ == "__main__":
    main()
