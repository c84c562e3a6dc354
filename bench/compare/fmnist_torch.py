# fmnist_torch.py - PyTorch's side of bench/compare/fmnist_race.sh: torchvision's ResNet-18
# trained on Fashion-MNIST (Debian's dataset-fashion-mnist) with a one-cycle schedule,
# tested after every epoch. Run with Debian's /usr/bin/python3 (python3-torch,
# python3-torchvision); never a clnet dependency.
#
#   fmnist_torch.py [--epochs 10] [--batch 128] [--lr 0.1] [--threads 2] [--stem torchvision|small]
#
# The model: torchvision.models.resnet18(num_classes=10) reading one channel; "torchvision"
# keeps its 7x7 stride-2 stem and max pool (28 -> 7 pixels before the first stage), "small"
# uses a 3x3 stride-1 stem without the pool, as CIFAR ResNets do (16x the work). SGD with
# Nesterov momentum and weight decay 5e-4 under torch.optim.lr_scheduler.OneCycleLR
# (max_lr --lr, stepped per batch, its momentum cycling 0.95 -> 0.85 -> 0.95); pixels scaled
# to [0, 1] and normalized by the training set's mean and std; random crops (4 pixels of
# padding) and horizontal flips. One JSON line per epoch on stdout: epoch, train_s (the
# training time so far, test passes excluded), loss, test_accuracy; then a summary line with
# the first epoch whose test accuracy reached --target (default 0.92) and its train_s.
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(part):
    images = idx(os.path.join(DATA, f"{part}-images-idx3-ubyte.gz"), 16).reshape(-1, 1, 28, 28)
    labels = idx(os.path.join(DATA, f"{part}-labels-idx1-ubyte.gz"), 8)
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def model(stem):
    m = torchvision.models.resnet18(num_classes=10)
    if stem == "small":
        m.conv1 = torch.nn.Conv2d(1, 64, 3, 1, 1, bias=False)
        m.maxpool = torch.nn.Identity()
    else:
        m.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return m


def augment(x, gen):
    """Random 28x28 crops of the images padded by 4, and horizontal flips, per image."""
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=gen)
    dx = torch.randint(0, 9, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(28)[None, :])[:, None, :, None].expand(n, 1, 28, 36)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(28)[None, :])[:, None, None, :].expand(n, 1, 28, 28)
    out = out.gather(3, cols)
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def main():
    p = argparse.ArgumentParser(description="PyTorch ResNet-18, one-cycle, on Fashion-MNIST")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--stem", choices=["torchvision", "small"], default="torchvision")
    p.add_argument("--target", type=float, default=0.92)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    mean, std = xtr.mean().item(), xtr.std().item()
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    net = model(a.stem)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    steps = (len(xtr) + a.batch - 1) // a.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, epochs=a.epochs,
                                                steps_per_epoch=steps)
    train_s, reached = 0.0, None
    for epoch in range(1, a.epochs + 1):
        net.train()
        t0 = time.perf_counter()
        order = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for b in range(steps):
            i = order[b * a.batch:(b + 1) * a.batch]
            x = augment(xtr[i], gen)
            loss = F.cross_entropy(net(x), ytr[i])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(i)
        train_s += time.perf_counter() - t0
        net.eval()
        hits = 0
        with torch.no_grad():
            for b in range(0, len(xte), 500):
                hits += (net(xte[b:b + 500]).argmax(1) == yte[b:b + 500]).sum().item()
        acc = hits / len(xte)
        if reached is None and acc >= a.target:
            reached = {"epoch": epoch, "train_s": round(train_s, 1), "test_accuracy": acc}
        print(json.dumps({"framework": "torch", "epoch": epoch, "train_s": round(train_s, 1),
                          "loss": round(total / len(xtr), 4), "test_accuracy": acc}), flush=True)
    print(json.dumps({"framework": "torch", "model": f"resnet18 ({a.stem} stem)",
                      "epochs": a.epochs, "batch": a.batch, "lr": a.lr, "train_s": round(train_s, 1),
                      "target": a.target, "reached": reached}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
