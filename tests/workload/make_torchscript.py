#!/usr/bin/python3
"""Scripts a tiny model for workload_test: python3 make_torchscript.py OUT [CLASSES].

conv 3->4 (3x3, padding 1, bias) -> ReLU -> global average pool -> linear 4->CLASSES
(default 5). Trainable parameters at 5 classes: 4*3*9 + 4 + 4*5 + 5 = 137.
Forward MACs at 3x32x32: conv 4*3*9*32*32 = 110592, linear 4*5 = 20.
Weights are fixed (seeded) so the test's numbers never move.
"""
import sys

import torch


class Tiny(torch.nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, classes)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_torchscript.py OUT [CLASSES]")
    classes = int(sys.argv[2]) if len(sys.argv) == 3 else 5
    torch.manual_seed(0)
    torch.jit.script(Tiny(classes).eval()).save(sys.argv[1])


if __name__ == "__main__":
    main()
