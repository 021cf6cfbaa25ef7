#!/usr/bin/python3
"""The Python side of the workload benchmark: the same loops as wattlab's
engine, on the same libtorch (Debian's python3-torch), printing one JSON
object per run.

  py_baseline.py train --model M --batch B --threads T --steps N --warmup W --train-samples S
  py_baseline.py infer --model M --batch B --threads T --samples N --warmup W
  py_baseline.py epoch --threads T --batch B [--lr X --momentum X --weight-decay X]
                                                  # one Fashion-MNIST LeNet epoch, data loading included
  py_baseline.py peak --threads T                 # fp32 / bf16 matrix-multiply GMAC/s

Models are the kuangliu/pytorch-cifar forms (LeNet with 3 input channels,
MobileNetV2, ResNet18, VGG16) and wattlab's mlp:depth=D,width=W family; their
parameter counts are printed so the driver can check both sides run the same
network. Like wattlab, threads are set explicitly (intra-op T, inter-op 1).
"""
import argparse
import gzip
import json
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    def __init__(self, c=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class MvBlock(nn.Module):
    def __init__(self, in_planes, out_planes, expansion, stride):
        super().__init__()
        self.stride = stride
        planes = expansion * in_planes
        self.conv1 = nn.Conv2d(in_planes, planes, 1, 1, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, 1, 1, 0, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 1 and in_planes != out_planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, 1, 0, bias=False),
                                          nn.BatchNorm2d(out_planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class MobileNetV2(nn.Module):
    cfg = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        layers, in_planes = [], 32
        for expansion, out_planes, num_blocks, stride in self.cfg:
            for s in [stride] + [1] * (num_blocks - 1):
                layers.append(MvBlock(in_planes, out_planes, expansion, s))
                in_planes = out_planes
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(320, 1280, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.linear = nn.Linear(1280, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.flatten(1))


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make(64, 2, 1)
        self.layer2 = self._make(128, 2, 2)
        self.layer3 = self._make(256, 2, 2)
        self.layer4 = self._make(512, 2, 2)
        self.linear = nn.Linear(512, classes)

    def _make(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.flatten(1))


class Mlp(nn.Module):
    def __init__(self, depth, width, flat=3 * 32 * 32, classes=10):
        super().__init__()
        layers, n = [], flat
        for _ in range(depth):
            layers.append(nn.Linear(n, width))
            n = width
        self.hidden = nn.ModuleList(layers)
        self.linear = nn.Linear(n, classes)

    def forward(self, x):
        x = x.flatten(1)
        for l in self.hidden:
            x = F.relu(l(x))
        return self.linear(x)


class VGG16(nn.Module):
    # kuangliu/pytorch-cifar's VGG('VGG16'): 14,728,266 parameters.
    CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

    def __init__(self, classes=10):
        super().__init__()
        layers, c = [], 3
        for x in self.CFG:
            if x == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, x, 3, padding=1), nn.BatchNorm2d(x), nn.ReLU(inplace=True)]
                c = x
        layers.append(nn.AvgPool2d(1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def build(name):
    if name == "lenet":
        return LeNet()
    if name == "vgg16":
        return VGG16()
    if name == "mobilenetv2":
        return MobileNetV2()
    if name == "resnet18":
        return ResNet18()
    if name.startswith("mlp:"):
        kv = dict(p.split("=") for p in name[4:].split(","))
        return Mlp(int(kv["depth"]), int(kv["width"]))
    sys.exit("unknown model " + name)


def params(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def set_threads(t):
    torch.set_num_threads(t)
    torch.set_num_interop_threads(1)


def batch_from(data, labels, idx):
    # The same per-step work as wattlab's FillBatch: gather bytes, normalise.
    x = (data[idx].float() / 255.0 - 0.5) / 0.25
    return x, labels[idx]


def cmd_train(a):
    set_threads(a.threads)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    data = torch.randint(0, 256, (a.train_samples, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (a.train_samples,), generator=g)
    model = build(a.model)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    perm = torch.randperm(a.train_samples, generator=g)
    for s in range(a.warmup):
        idx = perm[(s * a.batch) % a.train_samples:][:a.batch]
        step(*batch_from(data, labels, idx))
    n_batches = (a.train_samples + a.batch - 1) // a.batch
    samples, done = 0, 0
    t0 = time.perf_counter()
    while done < a.steps:
        perm = torch.randperm(a.train_samples, generator=g)
        for b in range(n_batches):
            if done >= a.steps:
                break
            idx = perm[b * a.batch:(b + 1) * a.batch]
            step(*batch_from(data, labels, idx))
            samples += len(idx)
            done += 1
    dt = time.perf_counter() - t0
    print(json.dumps({"side": "python", "mode": "train", "model": a.model, "params": params(model),
                      "steps": done, "samples": samples, "duration_s": dt, "samples_per_s": samples / dt}))


def cmd_infer(a):
    set_threads(a.threads)
    torch.manual_seed(a.seed)
    model = build(a.model)
    model.eval()
    x = torch.randn(a.batch, 3, 32, 32)
    lat = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        batches = (a.samples + a.batch - 1) // a.batch
        samples = 0
        t0 = time.perf_counter()
        for b in range(batches):
            n = min(a.batch, a.samples - b * a.batch)
            t = time.perf_counter()
            model(x if n == a.batch else x[:n])
            lat.append(time.perf_counter() - t)
            samples += n
        dt = time.perf_counter() - t0
    lat.sort()
    print(json.dumps({"side": "python", "mode": "infer", "model": a.model, "params": params(model),
                      "samples": samples, "duration_s": dt, "samples_per_s": samples / dt,
                      "latency_p50_ms": lat[len(lat) // 2] * 1e3}))


def read_idx(path, rank):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    assert magic == 0x800 | rank, path
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def cmd_epoch(a):
    # Everything after interpreter start counts: the driver times the process.
    set_threads(a.threads)
    torch.manual_seed(a.seed)
    d = "/usr/share/datasets/fashion-mnist/"
    images = torch.from_numpy(read_idx(d + "train-images-idx3-ubyte.gz", 3).copy())
    labels = torch.from_numpy(read_idx(d + "train-labels-idx1-ubyte.gz", 1).astype(np.int64))
    n = images.shape[0] if a.max_samples <= 0 else min(images.shape[0], a.max_samples)
    model = LeNet()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    g = torch.Generator().manual_seed(a.seed)
    perm = torch.randperm(n, generator=g)
    losses = []
    # The training loop alone (as wattlab's train window): batches built, steps taken.
    t0 = time.perf_counter()
    for b in range(0, n, a.batch):
        idx = perm[b:b + a.batch]
        x = (images[idx].float() / 255.0 - 0.2860) / 0.3530
        x = F.pad(x, (2, 2, 2, 2), value=(0 - 0.2860) / 0.3530).unsqueeze(1).expand(-1, 3, -1, -1)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    train_s = time.perf_counter() - t0
    print(json.dumps({"side": "python", "mode": "epoch", "samples": n, "final_loss": losses[-1],
                      "train_s": train_s, "samples_per_s": n / train_s}))


def blas_library():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line and "/" in line}
    return sorted(libs)


def cmd_peak(a):
    set_threads(a.threads)
    out = {"side": "python", "mode": "peak", "threads": a.threads}
    n = a.size
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        x = torch.randn(n, n).to(dtype)
        y = torch.randn(n, n).to(dtype)
        torch.mm(x, y)
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            torch.mm(x, y)
            reps += 1
        dt = time.perf_counter() - t0
        out[name + "_gmacs"] = reps * n ** 3 / dt / 1e9
    out["blas_libraries"] = blas_library()
    out["torch_config_blas"] = re.findall(r"BLAS_INFO=(\w+)", torch.__config__.show())
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "infer", "epoch", "peak"])
    p.add_argument("--model", default="lenet")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--train-samples", type=int, default=4096)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--max-samples", type=int, default=0, help="epoch: only the first N shuffled samples (0: all)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    a = p.parse_args()
    {"train": cmd_train, "infer": cmd_infer, "epoch": cmd_epoch, "peak": cmd_peak}[a.mode](a)


if __name__ == "__main__":
    main()
