# onnx_torchvision.py - full-size torchvision models as ONNX files with torch's logits, for
# the ONNX importer's table (bench/compare/onnx_torchvision.sh runs clnet and ONNX Runtime
# on them). Random weights made to matter as for the fixtures (randomize() of
# tests/onnx/make_fixtures.py: batch-norm statistics, scales and shifts, biases, ConvNeXt's
# layer scales), eval mode, exported by torch.onnx.export with a dynamic batch. Run with
# Debian's /usr/bin/python3 (python3-torch 1.13, python3-torchvision 0.14, python3-onnx);
# not a clnet dependency. The files are large (vgg11: 507 MB a copy): never committed.
#
#   onnx_torchvision.py --out DIR [--models resnet18,convnext_tiny] [--opsets 13,17]
#
# Writes DIR/<model>_op<k>/model.onnx and test_data_set_0/{input_0,output_0}.pb (batch 1,
# a seeded normal input, torch's 1000 logits), the layout of ONNX's node tests. A model
# that torch cannot export leaves "<model>_op<k>: error: ..." on stdout and the rest go on.
import argparse
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "onnx"))
from make_fixtures import randomize, write_case  # noqa: E402

# name: (torchvision builder keyword arguments, input side)
MODELS = {
    "resnet18": ({}, 224),
    "resnet50": ({}, 224),
    "resnext50_32x4d": ({}, 224),
    "wide_resnet50_2": ({}, 224),
    "mobilenet_v2": ({}, 224),
    "mobilenet_v3_large": ({}, 224),
    "mobilenet_v3_small": ({}, 224),
    "mnasnet1_0": ({}, 224),
    "efficientnet_b0": ({}, 224),
    "squeezenet1_1": ({}, 224),
    "densenet121": ({}, 224),
    "shufflenet_v2_x1_0": ({}, 224),
    "regnet_y_400mf": ({}, 224),
    "googlenet": ({"aux_logits": False, "transform_input": False, "init_weights": True}, 224),
    "vgg11": ({}, 224),
    "alexnet": ({}, 224),
    "convnext_tiny": ({}, 224),
    "inception_v3": ({"aux_logits": False, "transform_input": False, "init_weights": True}, 299),
}


def export(name, opsets, out):
    kwargs, side = MODELS[name]
    torch.manual_seed(0)
    model = randomize(getattr(torchvision.models, name)(weights=None, **kwargs), seed=1)
    x = torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(2))
    for opset in opsets:
        case = f"{name}_op{opset}"
        t0 = time.perf_counter()
        try:
            write_case(model, x, opset, os.path.join(out, case))
        except Exception as e:  # noqa: BLE001 - report and go on to the next model
            print(f"{case}: error: {type(e).__name__}: {str(e).splitlines()[0][:300]}", flush=True)
            continue
        size = os.path.getsize(os.path.join(out, case, "model.onnx")) / 2**20
        print(f"{case}: {time.perf_counter() - t0:.1f} s, model.onnx {size:.1f} MB", flush=True)


def main():
    p = argparse.ArgumentParser(description="full-size torchvision models as ONNX test cases")
    p.add_argument("--out", required=True, help="directory for <model>_op<k>/")
    p.add_argument("--models", default=",".join(MODELS),
                   type=lambda s: [m for m in s.split(",") if m])
    p.add_argument("--opsets", default="13,17", type=lambda s: [int(v) for v in s.split(",") if v])
    a = p.parse_args()
    for m in a.models:
        if m not in MODELS:
            p.error(f"unknown model {m} (known: {', '.join(MODELS)})")
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    for m in a.models:
        export(m, a.opsets, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
