#!/usr/bin/env python3
"""PyTorch-on-CPU baseline for `vkflow bench unet`: one SD1.5 UNet evaluation at the same shapes.

Architecture: tools/fashion/nets.py UNetModel (the reference SD1.x UNet, sizes from a config dict) with
the SD1.5 config (v1-inference.yaml); random weights (normal * 0.02, norm scales 1, as vkflow's
sd15-random). Prints the median wall time per evaluation and the process CPU time (all threads), which
stays meaningful when other processes load the machine.

  /usr/bin/python3 tools/bench_torch_unet.py [--size 256] [--batch 2] [--threads 2] [--repeat 3]
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion.nets import UNetModel  # noqa: E402

SD15_UNET = {
    "in_channels": 4, "out_channels": 4, "model_channels": 320, "num_res_blocks": 2,
    "attention_resolutions": [4, 2, 1], "channel_mult": [1, 2, 4, 4], "num_heads": 8,
    "transformer_depth": 1, "context_dim": 768, "use_linear_in_transformer": False,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256, help="image side in pixels (latent = size/8)")
    ap.add_argument("--batch", type=int, default=2, help="2 = cond + uncond as CFG evaluates")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="timed evaluations after one warm-up")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dtype = torch.float32 if a.dtype == "f32" else torch.bfloat16
    net = UNetModel(SD15_UNET).eval()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.dim() == 1 and name.endswith(".weight"):
                p.fill_(1.0)  # GroupNorm / LayerNorm scales
            else:
                p.normal_(0.0, 0.02)
    net = net.to(dtype)
    n_params = sum(p.numel() for p in net.parameters())
    h = a.size // 8
    x = torch.randn(a.batch, 4, h, h, dtype=dtype)
    ts = torch.full((a.batch,), 500.0)
    ctx = torch.randn(a.batch, 77, 768, dtype=dtype)

    wall, cpu = [], []
    with torch.inference_mode():
        for i in range(a.repeat + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            eps = net(x, ts, ctx)
            t1, c1 = time.perf_counter(), time.process_time()
            assert torch.isfinite(eps.float()).all(), "non-finite output"
            if i == 0:
                print(f"warm-up: {1e3 * (t1 - t0):.1f} ms", flush=True)
                continue
            wall.append(1e3 * (t1 - t0))
            cpu.append(1e3 * (c1 - c0))
            print(f"run {i}: wall {wall[-1]:.1f} ms, cpu {cpu[-1]:.1f} ms", flush=True)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {a.dtype}, UNet {n_params / 1e6:.1f} M params, "
          f"x [{a.batch},4,{h},{h}], context [{a.batch},77,768]; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"median wall {statistics.median(wall):.1f} ms per evaluation over {a.repeat} "
          f"(min {min(wall):.1f}, max {max(wall):.1f}); median process CPU {statistics.median(cpu):.1f} ms")


if __name__ == "__main__":
    main()
