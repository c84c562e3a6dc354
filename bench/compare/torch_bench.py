# torch_bench.py - the PyTorch CPU peer of bench/compare.sh, and the ONNX exporter that
# ONNX Runtime (ort_bench.js) and OpenCV DNN (opencv_bench.py) read. Reports in report.py.
# Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision). Not a clnet
# dependency: nothing in clnet's build or tests imports it.
#
#   torch_bench.py infer  --models resnet18,mobilenetv2 --input 224x224x3 --batch 1,8 --repeats R
#   torch_bench.py train  --models resnet18 --input 64x64x3 --batch 32 --repeats R
#   torch_bench.py export --models resnet18 --input 224x224x3 --opset 13 --dir DIR
#
# One JSON line per (model, batch) on stdout, the schema of report.py: framework, model,
# input (HxWxC), batch, mode, first_ms, min_ms, median_ms, p90_ms, images_per_s, repeats;
# or "error" when the case could not run. Random weights: only the time matters.
import argparse
import os
import sys

import torch
import torchvision

from common import emit, parse_input, summary, timed

# clnet zoo name -> torchvision constructor name. The clnet names are the canonical ones.
TORCHVISION = {
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "mobilenetv2": "mobilenet_v2",
    "mnasnet": "mnasnet1_0",
    "mobilenetv3_large": "mobilenet_v3_large",
    "mobilenetv3_small": "mobilenet_v3_small",
    "efficientnet_b0": "efficientnet_b0",
    "efficientnet_b1": "efficientnet_b1",
    "efficientnet_b2": "efficientnet_b2",
    "efficientnet_b3": "efficientnet_b3",
    "squeezenet1_1": "squeezenet1_1",
    "densenet121": "densenet121",
    "resnext50_32x4d": "resnext50_32x4d",
    "resnext101_32x8d": "resnext101_32x8d",
    "resnext101_64x4d": "resnext101_64x4d",
    "regnet_y_400mf": "regnet_y_400mf",
    "regnet_y_800mf": "regnet_y_800mf",
    "regnet_y_1_6gf": "regnet_y_1_6gf",
    "regnet_y_3_2gf": "regnet_y_3_2gf",
    "regnet_y_8gf": "regnet_y_8gf",
    "regnet_y_16gf": "regnet_y_16gf",
    "regnet_y_32gf": "regnet_y_32gf",
    "shufflenet_v2_x1_0": "shufflenet_v2_x1_0",
    "shufflenet_v2_x0_5": "shufflenet_v2_x0_5",
    "convnext_tiny": "convnext_tiny",
    "convnext_small": "convnext_small",
    "convnext_base": "convnext_base",
    "convnext_large": "convnext_large",
}
THREADS = 2
WARMUP = 2


def build(model, channels, classes=1000):
    """A torchvision model with random weights and batch-norm statistics.

    The statistics are randomised so that no two initializers of an exported ONNX file
    are equal: torch 1.13 deduplicates equal initializers behind Identity nodes, which
    OpenCV 4.6 cannot import. A 1-channel input replaces the stem the way clnet's zoo does.
    """
    torch.manual_seed(0)
    m = getattr(torchvision.models, TORCHVISION[model])(num_classes=classes)
    if channels != 3:
        if model.startswith("resnet"):
            old = m.conv1
            m.conv1 = torch.nn.Conv2d(channels, old.out_channels, old.kernel_size, old.stride,
                                      old.padding, bias=False)
        else:
            raise ValueError(f"{model}: only the ResNets take a {channels}-channel input here")
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.1, 0.1)
    return m






def base(model, inp, batch, mode):
    return {"framework": "torch", "model": model, "input": inp, "batch": batch, "mode": mode,
            "version": torch.__version__, "threads": THREADS}


def run_infer(a):
    h, w, c = parse_input(a.input)
    for model in a.models:
        for batch in a.batch:
            rec = base(model, a.input, batch, "inference")
            try:
                m = build(model, c).eval()
                x = torch.randn(batch, c, h, w)
                with torch.no_grad():
                    first, times = timed(lambda: m(x), a.repeats, WARMUP)
                rec.update(summary(times, first, batch))
            except Exception as e:  # a benchmark reports what failed and goes on
                rec["error"] = f"{type(e).__name__}: {e}"[:300]
            emit(rec)


def run_train(a):
    """One SGD step per call: zero_grad, forward, cross-entropy, backward, update."""
    h, w, c = parse_input(a.input)
    for model in a.models:
        for batch in a.batch:
            rec = base(model, a.input, batch, "training")
            try:
                m = build(model, c).train()
                opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
                loss_fn = torch.nn.CrossEntropyLoss()
                x = torch.randn(batch, c, h, w)
                y = torch.randint(0, 1000, (batch,))

                def step():
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(m(x), y)
                    loss.backward()
                    opt.step()

                first, times = timed(step, a.repeats, WARMUP)
                rec.update(summary(times, first, batch))
            except Exception as e:
                rec["error"] = f"{type(e).__name__}: {e}"[:300]
            emit(rec)


def onnx_path(directory, model, inp, opset):
    return os.path.join(directory, f"{model}_{inp}_op{opset}.onnx")


def export_onnx(model, inp, opset, directory):
    """Exports model (eval mode, dynamic batch) once; returns the cached file's path."""
    path = onnx_path(directory, model, inp, opset)
    if os.path.exists(path):
        return path
    h, w, c = parse_input(inp)
    m = build(model, c).eval()
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    torch.onnx.export(m, torch.randn(1, c, h, w), tmp, opset_version=opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    os.replace(tmp, path)
    return path


def run_export(a):
    failed = 0
    for model in a.models:
        try:
            print(export_onnx(model, a.input, a.opset, a.dir), flush=True)
        except Exception as e:
            failed += 1
            print(f"torch_bench: export {model}: {type(e).__name__}: {e}"[:400], file=sys.stderr)
    return 1 if failed == len(a.models) else 0


def main():
    p = argparse.ArgumentParser(description="PyTorch CPU peer of bench/compare.sh")
    p.add_argument("command", choices=["infer", "train", "export"])
    p.add_argument("--models", required=True, type=lambda s: [m for m in s.split(",") if m])
    p.add_argument("--input", default="224x224x3")
    p.add_argument("--batch", default=[1], type=lambda s: [int(b) for b in s.split(",")])
    p.add_argument("--repeats", default=10, type=int)
    p.add_argument("--opset", default=13, type=int)
    p.add_argument("--dir", default="build/compare-cache")
    a = p.parse_args()
    for m in a.models:
        if m not in TORCHVISION:
            p.error(f"unknown model {m} (known: {', '.join(TORCHVISION)})")
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if a.command == "export":
        return run_export(a)
    (run_infer if a.command == "infer" else run_train)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
