#!/usr/bin/python3
# One bf16 3x3 convolution (128->128, batch 32, 16x16): backward time per call in ms.
# Run with T=1 and T=2 (and ONEDNN_VERBOSE=1 to see the kernel oneDNN picks).
import torch, time, os, sys
torch.set_num_threads(int(os.environ.get("T","1")))
dt = torch.bfloat16
conv = torch.nn.Conv2d(128,128,3,padding=1,bias=False).to(dt)
x = torch.randn(32,128,16,16).to(dt).requires_grad_()
ts=[]
for i in range(12):
    y=conv(x); t1=time.perf_counter(); y.sum().backward(); ts.append((time.perf_counter()-t1)*1e3)
print(os.environ.get("T"), os.environ.get("OMP_WAIT_POLICY"), " ".join("%.0f"%t for t in ts))
