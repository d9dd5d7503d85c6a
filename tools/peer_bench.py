#!/usr/bin/env python3
"""Same-run comparison for `vkflow bench unet`: start-up (cold and second-process first evaluation) and
throughput against the PyTorch CPU baseline (tools/bench_torch_unet.py), all in this process tree, one
after the other, so every ratio printed compares figures taken minutes apart on the same machine.

  1. cold start: vkflow with an empty Mesa shader cache and an empty vkflow pipeline cache
  2. second start: the same caches, now filled by run 1
  3. PyTorch 1.13 on the CPU, same SD1.5-layout shapes, random weights

  /usr/bin/python3 tools/peer_bench.py [--vkflow build/vkflow] [--size 256] [--batch 2] [--repeat 1]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.exit(f"peer_bench: {cmd[0]} failed with exit code {p.returncode}")
    return p.stdout, time.monotonic() - t0


def number(pattern, text, what):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"peer_bench: could not find {what} in the output above")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vkflow", default=os.path.join(HERE, "..", "build", "vkflow"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="timed evaluations after the first (both sides)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="PyTorch threads")
    ap.add_argument("--no-torch", action="store_true")
    a = ap.parse_args()

    common = ["bench", "unet", "--size", str(a.size), "--batch", str(a.batch), "--repeat", str(max(a.repeat, 1))]
    with tempfile.TemporaryDirectory(prefix="vkflow_peer_") as tmp:
        env = dict(os.environ)
        env["MESA_SHADER_CACHE_DIR"] = os.path.join(tmp, "mesa")
        env["VKFLOW_PIPELINE_CACHE_DIR"] = os.path.join(tmp, "vkflow")
        env.pop("MESA_SHADER_CACHE_DISABLE", None)
        cold, _ = run([a.vkflow] + common, env)
        second, _ = run([a.vkflow] + common + ["--no-ceiling"], env)
    first_re, wall_re = r"first eval:\s+([\d.]+) ms", r"wall:\s+median ([\d.]+) ms"
    cold_first, cold_wall = number(first_re, cold, "the first evaluation"), number(wall_re, cold, "the median")
    sec_first, sec_wall = number(first_re, second, "the first evaluation"), number(wall_re, second, "the median")
    rec = number(r"recording ([\d.]+) ms\)", cold.split("wall:")[1], "the recording time")
    print("\n== same-run ratios ==")
    print(f"cold start:   first evaluation {cold_first:.0f} ms = {cold_first / cold_wall:.2f}x a warm one ({cold_wall:.0f} ms)")
    print(f"second start: first evaluation {sec_first:.0f} ms = {sec_first / sec_wall:.2f}x a warm one ({sec_wall:.0f} ms)")
    # First image = ahead-of-time prepare (plan, build, lavapipe JIT by one dispatch each) + first evaluation.
    img_re = r"first image:\s+([\d.]+) ms"
    if re.search(img_re, cold):
        cold_img, sec_img = number(img_re, cold, "the first image"), number(img_re, second, "the first image")
        print(f"cold start:   first image (prepare + first evaluation) {cold_img:.0f} ms = {cold_img / cold_wall:.2f}x a warm evaluation")
        print(f"second start: first image {sec_img:.0f} ms = {sec_img / sec_wall:.2f}x a warm evaluation")
    print(f"recording:    {rec:.1f} ms per evaluation (median)")
    m = re.search(r"reaches ([\d.]+)%", cold)
    if m:
        print(f"vkflow UNet:  {m.group(1)}% of the FMA ceiling measured in the same run")
    if a.no_torch:
        return
    torch_out, _ = run(["/usr/bin/python3", os.path.join(HERE, "bench_torch_unet.py"), "--size", str(a.size),
                        "--batch", str(a.batch), "--threads", str(a.threads), "--repeat", str(max(a.repeat, 1))])
    t = number(r"median wall ([\d.]+) ms", torch_out, "PyTorch's median")
    vk_wall = min(cold_wall, sec_wall)
    print(f"PyTorch {t:.0f} ms vs vkflow {vk_wall:.0f} ms per evaluation: vkflow is {t / vk_wall:.2f}x PyTorch's speed")


if __name__ == "__main__":
    main()
