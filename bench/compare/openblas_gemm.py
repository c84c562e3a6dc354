# openblas_gemm.py - the OpenBLAS peer of bench_gemm (bench/gemm.c): numpy's SGEMM on the
# same shapes (the list below must match bench/gemm.c), 2 threads, single precision,
# C = A*B with op(A), op(B) as --trans says. One JSON line per shape, the fields of
# bench_gemm's (impl "openblas"), ms the median of the repeats. Exits 0 with a message
# on stderr when numpy or OpenBLAS is missing (a benchmark peer, never a dependency).
#
#   openblas_gemm.py [--repeats R] [--shape MxNxK] [--trans NN|NT|TN|TT] [--threads T]
import argparse
import os
import sys

SHAPES = [
    ("square", 1024, 1024, 1024),
    ("resnet50 conv1 7x7/2", 112 * 112, 64, 147),
    ("resnet50 res2 1x1 64", 56 * 56, 64, 64),
    ("resnet50 res2 3x3 64", 56 * 56, 64, 576),
    ("resnet50 res2 1x1 256", 56 * 56, 256, 64),
    ("resnet50 res3 3x3 128", 28 * 28, 128, 1152),
    ("resnet50 res4 3x3 256", 14 * 14, 256, 2304),
    ("resnet50 res5 3x3 512", 7 * 7, 512, 4608),
    ("resnet50 fc", 1, 1000, 2048),
]


def blas_name(np):
    """Which BLAS numpy runs: the shared objects the process has mapped (numpy links the
    system's libblas.so.3, which Debian's alternatives point at OpenBLAS or the reference)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = os.path.basename(path)
                if "blas" in base or "lapack" in base:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def main():
    p = argparse.ArgumentParser(description="numpy/OpenBLAS SGEMM on bench_gemm's shapes")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--shape", default="")
    p.add_argument("--trans", default="NN", choices=["NN", "NT", "TN", "TT"])
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    # Before numpy loads OpenBLAS, which reads these once.
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    try:
        import numpy as np
    except ImportError:
        print("openblas_gemm: skipped: no numpy for", sys.executable, file=sys.stderr)
        return 0
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import timed

    np.dot(np.ones((4, 4), np.float32), np.ones((4, 4), np.float32))
    libs = blas_name(np)
    if not any("openblas" in lib for lib in libs):
        print("openblas_gemm: skipped: numpy's BLAS is not OpenBLAS (%s); Debian "
              "libopenblas0-pthread" % (", ".join(libs) or "none found"), file=sys.stderr)
        return 0
    print("openblas_gemm: numpy %s, %s, %d threads, %d repeats"
          % (np.__version__, ", ".join(libs), a.threads, a.repeats), file=sys.stderr)
    shapes = SHAPES
    if a.shape:
        m, n, k = (int(v) for v in a.shape.lower().split("x"))
        shapes = [("custom", m, n, k)]
    rng = np.random.default_rng(1)
    for name, m, n, k in shapes:
        # op(A) is m x k: stored k x m when transposed, and its .T is a view BLAS reads
        # as transposed without a copy; the same for B.
        sa = (k, m) if a.trans[0] == "T" else (m, k)
        sb = (n, k) if a.trans[1] == "T" else (k, n)
        A = rng.uniform(-1, 1, sa).astype(np.float32)
        B = rng.uniform(-1, 1, sb).astype(np.float32)
        opa = A.T if a.trans[0] == "T" else A
        opb = B.T if a.trans[1] == "T" else B
        C = np.empty((m, n), np.float32)
        first, times = timed(lambda: np.matmul(opa, opb, out=C), a.repeats)
        t = sorted(times)
        ms = t[len(t) // 2]
        flop = 2.0 * m * n * k
        print('{"impl":"openblas","shape":"%s","trans":"%s","m":%d,"n":%d,"k":%d,'
              '"first_ms":%.2f,"ms":%.4f,"min_ms":%.4f,"gflops":%.2f}'
              % (name, a.trans, m, n, k, first, ms, t[0], flop / (ms * 1e6)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
