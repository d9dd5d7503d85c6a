#!/usr/bin/env python3
"""Measure the bundled vkflow-fashion model through the vkflow engine itself.

For every label x N seeds (prompt "a photo of a/an {label}") and every cfg (default 5 and 1) this runs
`vkflow run graphs/txt2img.json --set ...` (dpmpp_2m, karras, 20 steps), loads the PNGs, maps them
back to Fashion-MNIST geometry (grey, centre 56x56 crop, 2x2 average -> 28x28) and scores them with
the classifier of tools/train_fashion_classifier.py:
  * class accuracy, overall and per class;
  * per-class Frechet distance of the classifier's 128-d penultimate features against the real test
    images of that class ("FID" in that feature space, not Inception's). With 20 samples per class
    the estimate is strongly biased upwards, so the report also gives the same statistic for 20 real
    *training* images of the class (mean over draws): the floor a perfect generator would reach;
  * diversity: mean pairwise L2 distance (28x28, [0,1]) among the samples of a prompt, and the same
    figure for the real test images of that class.
The real reference images go through the same round trip as generated ones (bilinear 2x as in
training, uint8 quantisation, 2x2 average), so a perfect generator scores like real data.

Writes a JSON report and a sample grid (rows = labels, columns = the first 8 seeds, cfg 5).

  /usr/bin/python3 tools/eval_fashion_model.py                      # shipped model, full run
  /usr/bin/python3 tools/eval_fashion_model.py --export-state /tmp/fi  # export the training run's
        # current diffusion state (EMA weights) as a checkpoint in /tmp/fi, then evaluate that

--mode multi runs one process per (label, cfg) with a graph derived from txt2img.json that repeats the
KSampler/VAEDecode/SaveImage nodes once per seed (same nodes, same per-seed noise, the model loaded
once); --mode per-seed (default) runs one `vkflow run` per image.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import train_fashion_classifier as clfmod  # noqa: E402
from fashion.engine_check import torch_check  # noqa: E402
from fashion.eval_scoring import real_reference, score  # noqa: E402
from fashion.image_metrics import png_to_28  # noqa: E402
from fashion.intermediate_export import export_state  # noqa: E402
from fashion.png_grid import save_grid  # noqa: E402
from fashion.prompts import LABELS  # noqa: E402
from fashion.vkflow_runner import generate  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ck_dir = os.path.join(REPO, "models", "checkpoints")
    ap.add_argument("--vkflow", default=os.path.join(REPO, "build", "vkflow"))
    ap.add_argument("--graph", default=os.path.join(REPO, "graphs", "txt2img.json"))
    ap.add_argument("--checkpoint", default=os.path.join(ck_dir, "vkflow-fashion.safetensors"))
    ap.add_argument("--classifier", default=clfmod.DEFAULT_WEIGHTS)
    ap.add_argument("--export-state", metavar="DIR",
                    help="first export the trainer's current diffusion state into DIR and evaluate that")
    ap.add_argument("--train-out", default="/work/train_out", help="trainer work dir (for --export-state)")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed0", type=int, default=1000, help="first seed (seeds seed0 .. seed0+N-1)")
    ap.add_argument("--cfgs", default="5,1")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sampler", default="dpmpp_2m")
    ap.add_argument("--scheduler", default="karras")
    ap.add_argument("--mode", choices=["per-seed", "multi"], default="per-seed")
    ap.add_argument("--jobs", type=int, default=2, help="parallel vkflow processes")
    ap.add_argument("--lp-threads", type=int, default=0, help="LP_NUM_THREADS for lavapipe (0: leave)")
    ap.add_argument("--work-dir", help="where images go (default: a temp dir, kept)")
    ap.add_argument("--images-from", metavar="DIR", help="skip generation: score the PNGs of an earlier "
                                                         "--work-dir (same layout)")
    ap.add_argument("--report", default=os.path.join(ck_dir, "vkflow-fashion-eval.json"))
    ap.add_argument("--grid", default=os.path.join(ck_dir, "vkflow-fashion-samples.png"))
    ap.add_argument("--grid-cols", type=int, default=8)
    ap.add_argument("--ref-draws", type=int, default=10, help="real-data draws for the FID floor")
    ap.add_argument("--torch-check", type=int, default=1, metavar="N",
                    help="compare the first N seeds per label and cfg with a PyTorch re-generation (0: off)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.cfgs = [float(c) for c in args.cfgs.split(",")]

    if args.export_state:
        args.checkpoint = export_state(args.export_state, "vkflow-fashion-intermediate", args.train_out)
    ck = os.path.abspath(args.checkpoint)
    if not os.path.exists(ck):
        sys.exit(f"checkpoint {ck} not found")
    with open(ck[:-len(".safetensors")] + ".json") as f:
        ck_cfg = json.load(f)

    t0 = time.time()
    if args.images_from:
        work = args.images_from
        pngs = {cfg: {li: [(int(os.path.basename(p)[1:5]), p)
                           for p in sorted(glob.glob(os.path.join(work, f"cfg{cfg:g}", f"{li:02d}", "s*_*.png")))]
                      for li in range(10)} for cfg in args.cfgs}
        timing = {"note": f"images reused from {work}"}
    else:
        work = args.work_dir or tempfile.mkdtemp(prefix="vkflow_fashion_eval_")
        print(f"generating {len(args.cfgs) * 10 * args.seeds} images with {args.vkflow} into {work} "
              f"({args.mode}, {args.jobs} jobs)", flush=True)
        pngs, timing = generate(args, ck, work)
        print(f"generation: {json.dumps(timing)}", flush=True)

    clf, clf_meta = clfmod.load_classifier(args.classifier)
    rng = np.random.default_rng(12345)
    ref = real_reference(clf, args.ref_draws, args.seeds, rng)
    report = {"checkpoint": os.path.basename(ck), "checkpoint_note": ck_cfg.get("note", ""),
              "unet_steps_trained": ck_cfg.get("training", {}).get("unet", {}).get("steps"),
              "vkflow": args.vkflow, "graph": os.path.relpath(args.graph, REPO),
              "sampler": args.sampler, "scheduler": args.scheduler, "steps": args.steps,
              "seeds": [args.seed0, args.seed0 + args.seeds - 1], "prompt": "a photo of a/an {label}",
              "negative_prompt": "", "mode": args.mode, "images_dir": work, "timing": timing,
              "classifier": {"file": os.path.relpath(args.classifier, REPO), "metadata": clf_meta,
                             "test_accuracy": ref["acc_plain"],
                             "test_accuracy_roundtrip": ref["acc_roundtrip"]},
              "image_mapping": "64x64 PNG -> grey (RGB mean) -> centre 56x56 -> 2x2 average -> 28x28 in [0,1]",
              "fid": "Frechet distance of FashionCNN.features (128-d) vs the real test images of the class "
                     "(round-tripped like generated images); fid_real_floor = same statistic for N real "
                     f"training images of the class (mean of {args.ref_draws} draws)",
              "diversity": "mean pairwise L2 distance between the 28x28 [0,1] images of one prompt; "
                           "diversity_real = same over all real test images of the class",
              "results": {}}
    for cfg in args.cfgs:
        imgs = {li: np.stack([png_to_28(p) for _, p in pngs[cfg][li]]) for li in range(10)}
        r = score(clf, imgs, ref)
        report["results"][f"cfg{cfg:g}"] = r
        print(f"cfg {cfg:g}: accuracy {r['accuracy']:.3f}  FID/class mean {r['fid_mean_per_class']:.2f} "
              f"(real floor {r['fid_real_floor_mean_per_class']:.2f})  FID all {r['fid_all_classes']:.2f} "
              f"(floor {r['fid_all_classes_real_floor']:.2f})  diversity {r['diversity_mean']:.3f} "
              f"(real {r['diversity_real_mean']:.3f}, ratio {r['diversity_ratio_mean']:.2f})", flush=True)
        for p in r["per_class"]:
            print(f"    {p['label']:12s} acc {p['accuracy']:.2f} fid {p['fid']:8.2f} (floor "
                  f"{p['fid_real_floor']:6.2f}) div {p['diversity']:.3f} / real {p['diversity_real']:.3f}")
    if args.torch_check:
        report["engine_vs_pytorch"] = torch_check(ck, pngs, args.cfgs, args.steps, args.torch_check)
        print(f"engine vs PyTorch re-generation: {json.dumps(report['engine_vs_pytorch'])}", flush=True)
    report["seconds_total"] = round(time.time() - t0, 1)
    grid_cfg = 5.0 if 5.0 in args.cfgs else args.cfgs[0]
    save_grid([[p for _, p in pngs[grid_cfg][li][:args.grid_cols]] for li in range(10)], args.grid)
    report["grid"] = {"file": os.path.basename(args.grid), "cfg": grid_cfg,
                      "layout": f"rows = labels in order {LABELS}; columns = seeds {args.seed0}.."
                                f"{args.seed0 + args.grid_cols - 1}"}
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(f"wrote {args.report} and {args.grid}")


if __name__ == "__main__":
    main()
