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
import concurrent.futures as cf  # noqa: E402
import copy  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import train_fashion_classifier as clfmod  # noqa: E402

LABELS = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle boot"]


def article(label):
    return "an" if label[0] in "aeiou" else "a"


def prompt_for(label):
    return f"a photo of {article(label)} {label}"


# --------------------------------------------------------------------------------------------
# intermediate export (the running trainer's checkpointed state -> a vkflow checkpoint)


def export_state(out_dir, name, train_out):
    """Export <train_out>/diffusion_state.safetensors (EMA weights) + vae_fp32 + latents' scale
    exactly as tools/train_fashion_model.py's stage 4 does, reusing its functions."""
    import train_fashion_model as T
    from fashion import nets, st_io
    tok = T.build_tokenizer()
    cfg = T.model_config(len(tok))
    model = nets.LatentDiffusion(cfg)
    T.load_into(model.vae, os.path.join(train_out, "vae_fp32.safetensors"))
    lat = torch.from_numpy(st_io.load(os.path.join(train_out, "latents.safetensors"))[0]["latents"])
    scale = float(1.0 / lat.std())
    t, meta = st_io.load(os.path.join(train_out, "diffusion_state.safetensors"))
    params = T.diffusion_params(model)
    with torch.no_grad():
        for i, p in enumerate(params):
            p.copy_(torch.from_numpy(t[f"ema.{i}"]))
    model.eval()
    cfg_out = {"name": name, "visibility": "internal",
               "note": f"INTERMEDIATE export of the training run's diffusion state at step {meta.get('step')} "
                       "(EMA weights) by tools/eval_fashion_model.py --export-state",
               "unet": cfg["unet"], "unet_derived": nets.unet_levels(cfg["unet"]), "vae": cfg["vae"],
               "vae_downsample_factor": 2 ** (len(cfg["vae"]["ddconfig"]["ch_mult"]) - 1),
               "text_encoder": dict(cfg["text_encoder"], vocab_file=f"{name}.vocab.json",
                                    merges_file=f"{name}.merges.txt"),
               "schedule": cfg["schedule"], "scale_factor": scale, "image_size": [64, 64],
               "training": {"unet": {"steps": int(meta.get("step", 0)),
                                     "seconds": float(meta.get("elapsed", 0.0))}}}
    os.makedirs(out_dir, exist_ok=True)
    files = T.export(model, cfg_out, tok, out_dir, name, os.path.join(out_dir, f"{name}_fp32.safetensors"))
    print(f"exported step {meta.get('step')} -> {files}", flush=True)
    return os.path.join(out_dir, f"{name}.safetensors")


# --------------------------------------------------------------------------------------------
# running vkflow


def node_ids(graph):
    """class_type -> node id for the nodes this tool sets (txt2img.json layout, found by type)."""
    ids = {}
    for nid, n in graph.items():
        ids.setdefault(n["class_type"], []).append(nid)
    ks = ids["KSampler"][0]
    pos = graph[ks]["inputs"]["positive"][0]
    neg = graph[ks]["inputs"]["negative"][0]
    return {"sampler": ks, "loader": ids["CheckpointLoaderSimple"][0], "pos": pos, "neg": neg,
            "latent": ids["EmptyLatentImage"][0], "save": ids["SaveImage"][0], "decode": ids["VAEDecode"][0]}


def child_env(args):
    env = dict(os.environ)
    env.pop("VKFLOW_CLIP_VOCAB", None)  # the model's own vocab sits beside the checkpoint
    env.setdefault("MESA_SHADER_CACHE_DIR", "/tmp/mesa_cache")
    if args.lp_threads:
        env["LP_NUM_THREADS"] = str(args.lp_threads)
    return env


def models_dir_and_name(ck):
    """Loader lookup is <models-dir>/checkpoints/<name>; use that form when the file lives there."""
    d = os.path.dirname(os.path.abspath(ck))
    if os.path.basename(d) == "checkpoints":
        return os.path.dirname(d), os.path.basename(ck)
    return d, os.path.abspath(ck)


def common_sets(ids, args, ck_name, label, cfg):
    s = ids["sampler"]
    return [f"{ids['loader']}.ckpt_name={ck_name}", f"{ids['pos']}.text={prompt_for(label)}",
            f"{ids['neg']}.text=", f"{s}.cfg={cfg}", f"{s}.steps={args.steps}",
            f"{s}.sampler_name={args.sampler}", f"{s}.scheduler={args.scheduler}", f"{s}.denoise=1",
            f"{ids['latent']}.width=64", f"{ids['latent']}.height=64", f"{ids['latent']}.batch_size=1"]


def run_vkflow(cmd, env):
    t0 = time.time()
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"vkflow failed (exit {r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return time.time() - t0


def job_per_seed(args, graph_path, ids, ck, label, cfg, seed, out_dir, env):
    models_dir, ck_name = models_dir_and_name(ck)
    prefix = f"s{seed:04d}"
    cmd = [args.vkflow, "run", graph_path, "--quiet", "--output-dir", out_dir, "--models-dir", models_dir]
    for s in common_sets(ids, args, ck_name, label, cfg) + [f"{ids['sampler']}.seed={seed}",
                                                            f"{ids['save']}.filename_prefix={prefix}"]:
        cmd += ["--set", s]
    dt = run_vkflow(cmd, env)
    return [(seed, find_png(out_dir, prefix))], dt


def job_multi(args, graph, ids, ck, label, cfg, seeds, out_dir, env):
    """One process: the txt2img graph with its sampler/decode/save nodes repeated per seed."""
    g = copy.deepcopy(graph)
    for nid in (ids["sampler"], ids["decode"], ids["save"]):
        del g[nid]
    for k, seed in enumerate(seeds):
        s, d, v = f"{ids['sampler']}_{k}", f"{ids['decode']}_{k}", f"{ids['save']}_{k}"
        g[s] = copy.deepcopy(graph[ids["sampler"]])
        g[s]["inputs"]["seed"] = seed
        g[d] = copy.deepcopy(graph[ids["decode"]])
        g[d]["inputs"]["samples"] = [s, 0]
        g[v] = copy.deepcopy(graph[ids["save"]])
        g[v]["inputs"]["images"] = [d, 0]
        g[v]["inputs"]["filename_prefix"] = f"s{seed:04d}"
    gpath = os.path.join(out_dir, "graph_multi.json")
    with open(gpath, "w") as f:
        json.dump(g, f, indent=1)
    models_dir, ck_name = models_dir_and_name(ck)
    cmd = [args.vkflow, "run", gpath, "--quiet", "--output-dir", out_dir, "--models-dir", models_dir]
    for s in common_sets(ids, args, ck_name, label, cfg):
        if not s.startswith(ids["sampler"] + "."):
            cmd += ["--set", s]
    for k in range(len(seeds)):  # sampler settings go to every copy
        for s in common_sets(ids, args, ck_name, label, cfg):
            if s.startswith(ids["sampler"] + "."):
                cmd += ["--set", f"{ids['sampler']}_{k}." + s.split(".", 1)[1]]
    dt = run_vkflow(cmd, env)
    return [(seed, find_png(out_dir, f"s{seed:04d}")) for seed in seeds], dt


def find_png(out_dir, prefix):
    hits = sorted(glob.glob(os.path.join(out_dir, f"{prefix}_*.png")))
    if not hits:
        raise RuntimeError(f"no image {prefix}_*.png written in {out_dir}")
    return hits[-1]


def generate(args, ck, work):
    """-> {cfg: {label_index: [(seed, png path)]}}, timing dict."""
    with open(args.graph) as f:
        graph = json.load(f)
    graph = graph.get("prompt", graph)
    ids = node_ids(graph)
    env = child_env(args)
    seeds = [args.seed0 + i for i in range(args.seeds)]
    jobs = []
    for cfg in args.cfgs:
        for li, label in enumerate(LABELS):
            out_dir = os.path.join(work, f"cfg{cfg:g}", f"{li:02d}")
            os.makedirs(out_dir, exist_ok=True)
            if args.mode == "per-seed":
                jobs += [(cfg, li, (args, args.graph, ids, ck, label, cfg, s, out_dir, env)) for s in seeds]
            else:
                jobs.append((cfg, li, (args, graph, ids, ck, label, cfg, seeds, out_dir, env)))
    fn = job_per_seed if args.mode == "per-seed" else job_multi
    res = {cfg: {li: [] for li in range(len(LABELS))} for cfg in args.cfgs}
    proc_seconds = []
    t0 = time.time()
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = {ex.submit(fn, *a): (cfg, li) for cfg, li, a in jobs}
        for n, fut in enumerate(cf.as_completed(futs)):
            cfg, li = futs[fut]
            pngs, dt = fut.result()
            res[cfg][li] += pngs
            proc_seconds.append(dt)
            if (n + 1) % max(1, len(jobs) // 20) == 0 or n + 1 == len(jobs):
                print(f"  {n + 1}/{len(jobs)} vkflow runs done ({time.time() - t0:.0f}s)", flush=True)
    wall = time.time() - t0
    for cfg in res:
        for li in res[cfg]:
            res[cfg][li].sort()
    n_img = len(args.cfgs) * len(LABELS) * args.seeds
    timing = {"mode": args.mode, "parallel_jobs": args.jobs, "vkflow_processes": len(jobs),
              "images": n_img, "wall_seconds": round(wall, 1),
              "seconds_per_image_wall": round(wall / n_img, 3),
              "mean_seconds_per_process": round(float(np.mean(proc_seconds)), 3),
              "lp_num_threads": env.get("LP_NUM_THREADS", "default")}
    return res, timing


# --------------------------------------------------------------------------------------------
# image statistics


def png_to_28(path):
    """64x64 PNG -> float32 [28,28] in [0,1]: grey (channel mean), centre 56x56, 2x2 average."""
    from PIL import Image
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    if a.shape[:2] != (64, 64):
        raise RuntimeError(f"{path}: expected 64x64, got {a.shape[:2]}")
    g = a.mean(2)[4:60, 4:60]
    return g.reshape(28, 2, 28, 2).mean((1, 3))


def real_roundtrip(u8):
    """uint8 [N,28,28] -> float32 [N,28,28]: the training preprocessing (bilinear 2x to 56x56, as
    train_fashion_model.preprocess), uint8 quantisation like a PNG, then the same 2x2 average."""
    x = torch.from_numpy(u8.astype(np.float32) / 255.0)[:, None]
    x = F.interpolate(x, size=(56, 56), mode="bilinear", align_corners=False).clamp(0, 1)
    x = torch.round(x * 255.0) / 255.0
    return F.avg_pool2d(x, 2)[:, 0].numpy()


def frechet(f1, f2):
    """Frechet distance between Gaussians fitted to feature sets [N1,D], [N2,D] (float64)."""
    f1, f2 = np.asarray(f1, np.float64), np.asarray(f2, np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # sqrt(S1)
    m = r1 @ s2 @ r1
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(ev, 0, None)).sum())  # tr sqrt(S1 S2) = tr sqrt(sqrtS1 S2 sqrtS1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def mean_pairwise_l2(x):
    """Mean L2 distance over all unordered pairs of images x [N,28,28]."""
    f = np.asarray(x, np.float64).reshape(len(x), -1)
    sq = (f * f).sum(1)
    d2 = np.clip(sq[:, None] + sq[None] - 2 * f @ f.T, 0, None)
    iu = np.triu_indices(len(f), 1)
    return float(np.sqrt(d2[iu]).mean())


def real_reference(clf, n_draws, n_per, rng):
    xte_u8, yte = clfmod.load_fmnist("test")
    xtr_u8, ytr = clfmod.load_fmnist("train")
    xte = real_roundtrip(xte_u8)
    logits, fte = clfmod.predict(clf, clfmod.to_input(xte))
    ref = {"acc_roundtrip": float((logits.argmax(1).numpy() == yte).mean()),
           "acc_plain": clfmod.accuracy(clf, clfmod.to_input(xte_u8), yte), "per_class": []}
    for c in range(10):
        fc = fte.numpy()[yte == c]
        tr_idx = np.flatnonzero(ytr == c)
        fids, divs = [], []
        for _ in range(n_draws):
            pick = rng.choice(tr_idx, n_per, replace=False)
            xs = real_roundtrip(xtr_u8[pick])
            _, fs = clfmod.predict(clf, clfmod.to_input(xs))
            fids.append(frechet(fs.numpy(), fc))
            divs.append(mean_pairwise_l2(xs))
        ref["per_class"].append({"features": fc, "fid_real_floor": float(np.mean(fids)),
                                 "fid_real_floor_std": float(np.std(fids)),
                                 "diversity_real_all": mean_pairwise_l2(xte[yte == c]),
                                 "diversity_real_draws": float(np.mean(divs))})
    ref["features_all"] = fte.numpy()
    # overall floor: 10 x n_per real training images (n_per per class) against the whole test set
    fids = []
    for _ in range(n_draws):
        pick = np.concatenate([rng.choice(np.flatnonzero(ytr == c), n_per, replace=False) for c in range(10)])
        _, fs = clfmod.predict(clf, clfmod.to_input(real_roundtrip(xtr_u8[pick])))
        fids.append(frechet(fs.numpy(), ref["features_all"]))
    ref["fid_all_real_floor"] = float(np.mean(fids))
    return ref


def score(clf, imgs, ref):
    """imgs: {label_index: [N,28,28]} -> metrics dict."""
    per, all_pred, all_y, all_f = [], [], [], []
    for c in range(10):
        x = imgs[c]
        logits, f = clfmod.predict(clf, clfmod.to_input(x))
        pred = logits.argmax(1).numpy()
        rc = ref["per_class"][c]
        div = mean_pairwise_l2(x)
        per.append({"label": LABELS[c], "prompt": prompt_for(LABELS[c]), "n": int(len(x)),
                    "accuracy": float((pred == c).mean()),
                    "predicted_counts": np.bincount(pred, minlength=10).tolist(),
                    "fid": frechet(f.numpy(), rc["features"]), "fid_real_floor": rc["fid_real_floor"],
                    "diversity": div, "diversity_real": rc["diversity_real_all"],
                    "diversity_ratio": div / rc["diversity_real_all"]})
        all_pred.append(pred)
        all_y.append(np.full(len(x), c))
        all_f.append(f.numpy())
    pred, y = np.concatenate(all_pred), np.concatenate(all_y)
    return {"accuracy": float((pred == y).mean()),
            "fid_mean_per_class": float(np.mean([p["fid"] for p in per])),
            "fid_real_floor_mean_per_class": float(np.mean([p["fid_real_floor"] for p in per])),
            "fid_all_classes": frechet(np.concatenate(all_f), ref["features_all"]),
            "fid_all_classes_real_floor": ref["fid_all_real_floor"],
            "diversity_mean": float(np.mean([p["diversity"] for p in per])),
            "diversity_real_mean": float(np.mean([p["diversity_real"] for p in per])),
            "diversity_ratio_mean": float(np.mean([p["diversity_ratio"] for p in per])),
            "per_class": per}


@torch.no_grad()
def torch_check(ck, pngs, cfgs, steps, n_per_label):
    """Re-generate the first n_per_label seeds of every label and cfg with the trainer's PyTorch modules
    and its ComfyUI-equivalent sampler (tools/fashion/sampling.py: DPM++ 2M, Karras) from the same
    ComfyUI noise (torch.manual_seed(seed); randn [1,4,8,8]), quantised like SaveImage (truncation);
    -> differences to vkflow's PNGs in 8-bit levels. Checks the whole engine pipeline, not the model."""
    import train_fashion_model as T
    from fashion import sampling
    model, mcfg, tok = T.load_checkpoint(ck)
    scale = mcfg["scale_factor"]
    ms = sampling.DiscreteEps()
    uncond = model.text(torch.tensor([tok("")]))
    out = {}
    for cfg in cfgs:
        diffs = []
        for li, label in enumerate(LABELS):
            c = model.text(torch.tensor([tok(prompt_for(label))]))
            for seed, path in pngs[cfg][li][:n_per_label]:
                noise = torch.randn([1, 4, 8, 8], generator=torch.Generator().manual_seed(seed))
                z = sampling.generate(model.unet, c, uncond, cfg, noise, steps, ms)
                img = ((model.vae.decode(z / scale) + 1) / 2).clamp(0, 1)[0].permute(1, 2, 0).numpy()
                ref = np.floor(img * 255.0)
                from PIL import Image
                got = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
                diffs.append(np.abs(got - ref))
        d = np.stack(diffs)
        out[f"cfg{cfg:g}"] = {"images": int(len(d)), "max_abs_u8": float(d.max()),
                              "mean_abs_u8": float(d.mean()),
                              "pixels_off_by_more_than_2_frac": float((d > 2).mean())}
    return out


def save_grid(rows, path, pad=2):
    """rows: list (per label) of lists of 64x64 PNG paths -> one PNG, pad px black/grey gaps."""
    from PIL import Image
    ncol = max(len(r) for r in rows)
    g = np.full((len(rows) * (64 + pad) + pad, ncol * (64 + pad) + pad, 3), 48, np.uint8)
    for r, paths in enumerate(rows):
        for c, p in enumerate(paths):
            y, x = pad + r * (64 + pad), pad + c * (64 + pad)
            g[y:y + 64, x:x + 64] = np.asarray(Image.open(p).convert("RGB"))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(g).save(path, optimize=True)


# --------------------------------------------------------------------------------------------


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
