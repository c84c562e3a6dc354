# torch_logits.py - clnet's zoo against torchvision given the same weights: a torchvision
# model with random weights (batch-norm statistics and layer-norm scales too), its
# parameters and buffers written under clnet's names and layouts, run by
# build/bench/bench_zoo_logits, and the logits compared. Run with Debian's /usr/bin/python3
# (python3-torch, python3-torchvision). Not a clnet dependency, not a test: a check that
# a zoo model is torchvision's architecture, not only its parameter count.
#
#   torch_logits.py --models resnet18,mobilenetv3_large [--input 64x64x3] [--batch 2]
#                   [--classes 10] [--bin build/bench/bench_zoo_logits]
#
# Prints per model the largest |clnet - torch| over the logits against the largest |logit|,
# for the fused and the unfused inference plan; exit 1 when one is above 1e-4 relative.
# Names: a torchvision module path with '.' -> '_' is clnet's layer name (features.1.0 ->
# features_1_0); weight -> kernel / gamma, bias -> bias / beta, running_mean ->
# moving_mean, running_var -> moving_variance; any other parameter of a module (ConvNeXt's
# layer_scale) is its own layer <module>_<name> with weight gamma.
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

from common import parse_input
from torch_bench import TORCHVISION

NORMS = (torch.nn.BatchNorm2d, torch.nn.LayerNorm)


def randomize(m):
    """Weights that make every part of the model matter: normalization scales and shifts
    and running statistics away from 1 and 0, layer scales near 1 rather than 1e-6."""
    torch.manual_seed(0)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 1.5)
        if isinstance(mod, NORMS) and mod.weight is not None:
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.1, 0.1)
    for name, p in m.named_parameters():
        if name.endswith("layer_scale"):
            p.data.uniform_(0.5, 1.0)


def clnet_tensors(m):
    """{clnet name: float32 array in clnet's layout} for every parameter and statistic."""
    out = {}
    modules = dict(m.named_modules())
    for name, t in m.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        path, _, leaf = name.rpartition(".")
        mod = modules[path]
        layer = path.replace(".", "_")
        v = t.detach().numpy().astype(np.float32)
        if leaf == "weight" and isinstance(mod, torch.nn.Conv2d):
            key, v = "kernel", v.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        elif leaf == "weight" and isinstance(mod, torch.nn.Linear):
            key, v = "kernel", v.T
        elif leaf in ("weight", "bias") and isinstance(mod, NORMS):
            key = "gamma" if leaf == "weight" else "beta"
        elif leaf in ("running_mean", "running_var"):
            key = "moving_mean" if leaf == "running_mean" else "moving_variance"
        elif leaf == "bias":
            key = "bias"
        else:
            layer, key = f"{layer}_{leaf}", "gamma"
        out[f"{layer}/{key}"] = np.ascontiguousarray(v.reshape(-1) if v.ndim < 2 or key != "kernel"
                                                     else v)
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, v in tensors.items():
        b = np.ascontiguousarray(v, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(v.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def check(model, a, tmp):
    h, w, c = parse_input(a.input)
    m = getattr(torchvision.models, TORCHVISION[model])(num_classes=a.classes).eval()
    randomize(m)
    x = torch.randn(a.batch, c, h, w, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = m(x).reshape(a.batch, -1).numpy()
    tensors = clnet_tensors(m)
    tensors["input"] = x.numpy().transpose(0, 2, 3, 1).copy()
    weights = os.path.join(tmp, f"{model}.safetensors")
    write_safetensors(weights, tensors)
    line = f"{model:20s} {a.input}:"
    worst = 0.0
    for mode in ("fused", "unfused"):
        out = os.path.join(tmp, f"{model}.{mode}.f32")
        cmd = [a.bin, model, a.input, str(a.classes), weights, out]
        r = subprocess.run(cmd + (["--unfused"] if mode == "unfused" else []),
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{line} {mode}: {r.stderr.strip()}")
            return 1.0
        got = np.fromfile(out, dtype="<f4").reshape(a.batch, -1)
        rel = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
        worst = max(worst, rel)
        line += f" {mode} {rel:.2e}"
    print(f"{line} (max |logit| {np.abs(want).max():.3g})", flush=True)
    return worst


def main():
    p = argparse.ArgumentParser(description="clnet's zoo against torchvision, same weights")
    p.add_argument("--models", required=True, type=lambda s: [m for m in s.split(",") if m])
    p.add_argument("--input", default="64x64x3")
    p.add_argument("--batch", default=2, type=int)
    p.add_argument("--classes", default=10, type=int)
    p.add_argument("--bin", default="build/bench/bench_zoo_logits")
    a = p.parse_args()
    for m in a.models:
        if m not in TORCHVISION:
            p.error(f"unknown model {m} (known: {', '.join(TORCHVISION)})")
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        worst = max(check(m, a, tmp) for m in a.models)
    return 1 if worst > 1e-4 else 0


if __name__ == "__main__":
    sys.exit(main())
