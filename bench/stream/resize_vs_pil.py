#!/usr/bin/python3
"""resize_vs_pil.py - clnet's image path beside PIL's, output and speed, on the same files
(issue 16): clnet_image_load_ex (libjpeg-turbo at a DCT scale, stb_image_resize's
Mitchell filter; the pixels an image folder's batches get) called through ctypes, against
what torchvision users run on PIL, draft mode on:

  whole   clnet center_crop 0     vs  img.resize((S, S), BICUBIC)
  center  clnet center_crop 0.875 vs  the same region cropped, resize((S, S), BICUBIC): the
                                       resize filters alone
  eval    clnet center_crop 0.875 vs  torchvision's eval transform: Resize(round(S / 0.875))
                                       of the shorter side (BILINEAR, antialiased) +
                                       CenterCrop(S), whose rounded crop offset and scale
                                       put its pixels up to half a pixel from clnet's exact
                                       centre: this row is geometry as much as filter

Prints, per mode, the PSNR of clnet's pixels against PIL's (mean and worst image, 8-bit
RGB), the mean absolute difference, and each side's ms per image on one core (both timed
in the same loop, image by image).

    /usr/bin/python3 bench/stream/resize_vs_pil.py DIR [--size 128] [--images 200]
        [--lib build/libclnet.so]
"""
import argparse
import ctypes
import math
import os
import time

import numpy as np
from PIL import Image

from pil_decode import files  # the same files in the same order


class ImageOptions(ctypes.Structure):
    _fields_ = [("max_pixels", ctypes.c_uint64), ("center_crop", ctypes.c_float)]


def pil_whole(path, s):
    with Image.open(path) as im:
        im.draft("RGB", (s, s))
        return np.asarray(im.convert("RGB").resize((s, s), Image.Resampling.BICUBIC))


def pil_center(path, s, crop):
    r = int(round(s / crop))
    with Image.open(path) as im:
        im.draft("RGB", (r, r))
        im = im.convert("RGB")
        w, h = im.size
        # torchvision's Resize(r): the shorter side to r, the other in proportion.
        nw, nh = (r, int(r * h / w)) if w <= h else (int(r * w / h), r)
        im = im.resize((nw, nh), Image.Resampling.BILINEAR)
        top, left = int(round((nh - s) / 2.0)), int(round((nw - s) / 2.0))
        return np.asarray(im.crop((left, top, left + s, top + s)))


def pil_region(path, s, crop):
    """The region clnet__center_region picks, at the DCT scale clnet's decoder picks."""
    with Image.open(path) as im:
        big_w, big_h = im.size
        side = max(1, int(round(min(big_w, big_h) * crop)))
        x, y = (big_w - side) // 2, (big_h - side) // 2
        im.draft("RGB", (-(-s * big_w // side), -(-s * big_h // side)))
        w, h = im.size
        x0, y0 = x * w // big_w, y * h // big_h
        x1, y1 = -(-(x + side) * w // big_w), -(-(y + side) * h // big_h)
        box = im.convert("RGB").crop((x0, y0, x1, y1))
        return np.asarray(box.resize((s, s), Image.Resampling.BICUBIC))


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--images", type=int, default=200)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--lib", default=os.path.join(here, "..", "..", "build", "libclnet.so"))
    a = p.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as PIL runs
    lib = ctypes.CDLL(a.lib)
    load = lib.clnet_image_load_ex
    load.restype = ctypes.c_int
    load.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                     ctypes.POINTER(ImageOptions), ctypes.POINTER(ctypes.c_float),
                     ctypes.c_char_p, ctypes.c_size_t]
    s = a.size
    out = (ctypes.c_float * (s * s * 3))()
    err = ctypes.create_string_buffer(1024)
    todo = files(a.dir, a.images)
    print(f"{len(todo)} images of {a.dir} at {s}x{s}, one core")
    refs = {"whole": lambda f: pil_whole(f, s),
            "center": lambda f: pil_region(f, s, 0.875),
            "eval": lambda f: pil_center(f, s, 0.875)}
    names = {"whole": "resize BICUBIC", "center": "same region, resize BICUBIC",
             "eval": "torchvision Resize + CenterCrop"}
    for mode, crop in (("whole", 0.0), ("center", 0.875), ("eval", 0.875)):
        opt = ImageOptions(0, crop)
        scores, diffs, t_clnet, t_pil = [], [], 0.0, 0.0
        for f in todo:
            t0 = time.perf_counter()
            st = load(f.encode(), s, s, 3, ctypes.byref(opt), out, err, len(err))
            t1 = time.perf_counter()
            ref = refs[mode](f)
            t2 = time.perf_counter()
            if st != 0:
                print(f"  clnet: {err.value.decode()}")
                continue
            t_clnet += t1 - t0
            t_pil += t2 - t1
            # clnet's floats are its 8-bit pixels / 255: back to the bytes exactly.
            mine = np.rint(np.ctypeslib.as_array(out) * 255.0).astype(np.uint8).reshape(s, s, 3)
            scores.append(psnr(mine, ref))
            diffs.append(np.mean(np.abs(mine.astype(np.int16) - ref.astype(np.int16))))
        n = len(scores)
        print(f"{mode:6s} PSNR vs PIL {names[mode]}: mean {np.mean(scores):.1f} dB, worst "
              f"{min(scores):.1f} dB, mean |diff| {np.mean(diffs):.2f} of 255; "
              f"clnet {1e3 * t_clnet / n:.2f} ms/image, PIL {1e3 * t_pil / n:.2f} ms/image")


if __name__ == "__main__":
    main()
