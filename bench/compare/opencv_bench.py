# opencv_bench.py - the OpenCV DNN peer of bench/compare.sh (Debian python3-opencv),
# on the CPU target or DNN_TARGET_OPENCL. Reads the files torch_bench.py exports. Not a
# clnet dependency. Run with /usr/bin/python3.
#
#   opencv_bench.py --target cpu|opencl --dir DIR --models resnet18 --input 224x224x3 --batch 1,8 --repeats R
#
# One JSON line per (model, batch) on stdout, the schema of report.py. OpenCV 4.6 cannot
# import a Clip whose bounds are inputs (opset >= 11, torchvision's ReLU6), so a model
# whose opset-13 file fails is exported again at opset 10 (bounds as attributes) and the
# record says so in "note"; a model that still fails is reported with its "error".
import argparse
import os
import sys

TARGET = sys.argv[sys.argv.index("--target") + 1] if "--target" in sys.argv else "cpu"
if TARGET == "opencl":
    # OpenCV's OpenCL takes GPUs only unless a device configuration is set; any set one
    # ("::" names nothing) makes it try a GPU first, then a CPU device such as POCL (the
    # device clnet runs on here). Read when cv2 first touches OpenCL: set before the import.
    os.environ.setdefault("OPENCV_OPENCL_DEVICE", "::")
    os.environ.setdefault("OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from common import emit, parse_input, summary, timed  # noqa: E402

THREADS = 2
WARMUP = 2
FRAMEWORK = {"cpu": "opencv", "opencl": "opencv-ocl"}




def short(e):
    """The failing node and the assertion of an OpenCV error, else its last line."""
    lines = [ln.strip(" >\t") for ln in str(e).splitlines()]
    lines = [ln for ln in lines if ln]
    node = next((ln.split(": OpenCV(")[0] for ln in lines if ln.startswith("Node [")), "")
    expected = next((ln.split(", where")[0] for ln in lines if ln.startswith("(expected:")), "")
    text = " ".join(t for t in (node, expected) if t) or (lines[-1] if lines else "")
    return (text or type(e).__name__)[:300]


def load(model, inp, directory):
    """The network from the opset-13 file, else from an opset-10 export; (net, note)."""
    path = os.path.join(directory, f"{model}_{inp}_op13.onnx")
    if not os.path.exists(path):
        raise RuntimeError(f"no ONNX file {path} (export failed?)")
    try:
        return cv2.dnn.readNetFromONNX(path), None
    except cv2.error as e13:
        first = short(e13)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_bench  # only on this path: exporting needs torch

    path10 = torch_bench.export_onnx(model, inp, 10, directory)
    try:
        return cv2.dnn.readNetFromONNX(path10), f"read at opset 10, as opset 13 fails: {first}"
    except cv2.error as e10:
        raise RuntimeError(f"import failed at opset 13 ({first}) and 10 ({short(e10)})")


def main():
    p = argparse.ArgumentParser(description="OpenCV DNN peer of bench/compare.sh")
    p.add_argument("--target", choices=["cpu", "opencl"], default="cpu")
    p.add_argument("--dir", default="build/compare-cache")
    p.add_argument("--models", required=True, type=lambda s: [m for m in s.split(",") if m])
    p.add_argument("--input", default="224x224x3")
    p.add_argument("--batch", default=[1], type=lambda s: [int(b) for b in s.split(",")])
    p.add_argument("--repeats", default=10, type=int)
    a = p.parse_args()
    cv2.setNumThreads(THREADS)
    cv2.ocl.setUseOpenCL(a.target == "opencl")
    device = ""
    if a.target == "opencl":
        # ocl4dnn keeps one small file per convolution shape it has chosen kernels for.
        os.makedirs(os.path.join(a.dir, "ocl4dnn"), exist_ok=True)
        os.environ.setdefault("OPENCV_OCL4DNN_CONFIG_PATH", os.path.join(a.dir, "ocl4dnn"))
        if not cv2.ocl.useOpenCL():
            print("opencv_bench: OpenCV has no usable OpenCL device", file=sys.stderr)
            return 1
        device = cv2.ocl.Device_getDefault().name()
    h, w, c = parse_input(a.input)
    # The first OpenCL forward compiles ocl4dnn's kernels (seconds), so one warm-up there.
    warmup = 1 if a.target == "opencl" else WARMUP
    rng = np.random.default_rng(0)
    for model in a.models:
        try:
            net, note = load(model, a.input, a.dir)
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_OPENCL if a.target == "opencl"
                                    else cv2.dnn.DNN_TARGET_CPU)
            load_error = None
        except Exception as e:
            load_error = short(e)
        for batch in a.batch:
            rec = {"framework": FRAMEWORK[a.target], "model": model, "input": a.input,
                   "batch": batch, "mode": "inference", "version": cv2.__version__,
                   "threads": THREADS}
            if device:
                rec["device"] = device
            if load_error:
                rec["error"] = load_error
                emit(rec)
                continue
            try:
                x = rng.uniform(-1, 1, (batch, c, h, w)).astype(np.float32)

                def run():
                    net.setInput(x)
                    net.forward()

                first, times = timed(run, a.repeats, warmup)
                rec.update(summary(times, first, batch))
                if note:
                    rec["note"] = note
            except Exception as e:
                rec["error"] = short(e)
            emit(rec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
