"""Running the vkflow engine for tools/eval_fashion_model.py: `vkflow run graphs/txt2img.json --set ...`
per seed, or one process per (label, cfg) with the sampler/decode/save nodes repeated per seed."""
import concurrent.futures as cf
import copy
import glob
import json
import os
import subprocess
import time

import numpy as np

from .prompts import LABELS, prompt_for


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
