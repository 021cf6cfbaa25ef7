"""A real (tiny) PyTorch training loop with one wattlab window per epoch.

Used by tests/python/python_package_test.py under `wattlab measure` and
alone, and by docs/own-workloads.md. --expect-native PATH: assert that the
in-process extension loaded is that file.
"""

import argparse
import json
import sys

import torch
from torch import nn

import wattlab


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--expect-native", default="")
    ap.add_argument("--json-out", default="")
    a = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(a.steps * a.batch_size, 3, 16, 16)
    y = torch.randint(0, 10, (a.steps * a.batch_size,))

    results = []
    for epoch in range(1, a.epochs + 1):
        with wattlab.window(f"epoch {epoch}", samples=a.steps * a.batch_size) as w:
            for i in range(a.steps):
                xb = x[i * a.batch_size:(i + 1) * a.batch_size]
                yb = y[i * a.batch_size:(i + 1) * a.batch_size]
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
        print(w, flush=True)
        results.append({"name": w.name, "duration_s": w.duration_s, "energy_j": w.energy_j, "samples": w.samples})

    with torch.no_grad():
        with wattlab.window("predict", samples=x.shape[0]) as p:
            model(x).argmax(1)
    print(p, flush=True)
    results.append({"name": p.name, "duration_s": p.duration_s, "energy_j": p.energy_j, "samples": p.samples})

    print("wattlab mode:", wattlab.mode(), flush=True)
    if wattlab.mode() == "native":
        path = wattlab.native_path()
        print("wattlab._native:", path, flush=True)
        if a.expect_native and path != a.expect_native:
            print(f"expected {a.expect_native}", file=sys.stderr)
            return 3
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"mode": wattlab.mode(), "windows": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
