# common.py - what the Python peers of bench/compare.sh share: input sizes, the timing
# loop and the summary of its times (the same picks as `clnet bench model`).
import json
import time


def parse_input(text):
    h, w, c = (int(v) for v in text.lower().split("x"))
    return h, w, c


def timed(fn, repeats, warmup=2):
    """First call (lazy init included), warmup-1 more warm-ups, then repeats timed calls;
    times in ms."""
    t0 = time.perf_counter()
    fn()
    first = (time.perf_counter() - t0) * 1e3
    for _ in range(warmup - 1):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return first, times


def summary(times, first_ms, batch):
    """min / median / p90 of the repeats in ms, the same picks as `clnet bench model`."""
    t = sorted(times)
    med = t[len(t) // 2]
    return {"first_ms": round(first_ms, 3), "min_ms": round(t[0], 3), "median_ms": round(med, 3),
            "p90_ms": round(t[(len(t) * 9) // 10], 3), "images_per_s": round(batch * 1e3 / med, 2),
            "repeats": len(t)}


def emit(rec):
    print(json.dumps(rec), flush=True)
