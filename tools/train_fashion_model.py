#!/usr/bin/env python3
"""Train `vkflow-fashion`: a small text-to-image latent diffusion model on Fashion-MNIST, in exactly
the SD1.x architecture family and single-file checkpoint key layout.

Stages (all seeded, CPU, torch 1.13 as shipped by Debian: run with /usr/bin/python3):
  1. VAE      AutoencoderKL (KL-regularised, L1+L2 reconstruction, no GAN) on 64x64 RGB images
  2. latents  encoder mean of every training image; scale_factor = 1 / std(latents)
  3. UNet     text encoder (CLIP layout, own small BPE vocab) + UNet trained jointly with DDPM
              eps-prediction MSE, t ~ U{0..999}, SD1.x scaled-linear betas, 15% empty prompt (CFG)
  4. export   <export-dir>/<name>.safetensors (fp16, position_ids I64, LatentDiffusion buffers),
              <name>.json (config sidecar), <name>.vocab.json, <name>.merges.txt
  5. eval     a small CNN classifier trained on real images scores generated images
              (DPM++ 2M, Karras, 20 steps, cfg 5) -> class accuracy, stored in the json

Data: each 28x28 image is scaled 2x to 56x56 with BILINEAR interpolation (torch
F.interpolate(mode='bilinear', align_corners=False)), centred on a black 64x64 canvas (4 px border),
grey replicated to 3 channels, values mapped to [-1, 1] (black = -1).

Other modes:
  --golden-check DIR      load DIR/ckpt.safetensors (sd1_tiny_a) into these modules, compare with
                          the goldens (text_io, unet_io, unet_debug, vae_decode_io, vae_encode_io)
  --forward-check OUT --checkpoint CK
                          fp32 forward passes of an exported checkpoint on fixed seeded inputs
                          -> OUT.safetensors (input_ids/last_hidden_state, x/timesteps/context/eps,
                          z/image)
  --eval-only --checkpoint CK   rerun stage 5 on an exported checkpoint

Re-run the full training (about 100 min on 2 threads):
  nohup setsid nice -n 10 /usr/bin/python3 tools/train_fashion_model.py --out-dir /work/train_out \
      > /work/train_out/train.log 2>&1 &
Linear layers are ~15x faster with OpenBLAS than with Debian's reference BLAS; to use it without
installing anything system-wide: `apt-get download libopenblas0-openmp && dpkg-deb -x *.deb ob` and run
with LD_LIBRARY_PATH=ob/usr/lib/x86_64-linux-gnu/openblas-openmp (results are the same up to fp rounding).
"""
import os

# OpenMP threads must not spin-wait: the machine is shared with C++ builds, and a spinning 2-thread
# team is several times slower than 1 thread when the other core is busy. Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import gzip
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion import bpe, nets, sampling, st_io  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
LABELS = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle boot"]
CFG_DROP = 0.15

_LOG = None


def log(msg):
    line = time.strftime("%Y-%m-%d %H:%M:%S") + " " + msg
    print(line, flush=True)
    if _LOG:
        with open(_LOG, "a") as f:
            f.write(line + "\n")


# --------------------------------------------------------------------------------------------
# model config


def model_config(vocab_size):
    """The vkflow-fashion architecture, in the sd1_tiny_a/config.json format."""
    return {
        "unet": {
            "image_size": 8, "in_channels": 4, "out_channels": 4, "model_channels": 64,
            "attention_resolutions": [1, 2], "num_res_blocks": 1, "channel_mult": [1, 2, 2],
            "num_heads": 4, "use_spatial_transformer": True, "transformer_depth": 1,
            "context_dim": 128, "use_checkpoint": False, "legacy": False,
        },
        "vae": {
            "embed_dim": 4,
            "ddconfig": {"double_z": True, "z_channels": 4, "resolution": 64, "in_channels": 3,
                         "out_ch": 3, "ch": 32, "ch_mult": [1, 1, 2, 4], "num_res_blocks": 1,
                         "attn_resolutions": [], "dropout": 0.0},
        },
        "text_encoder": {
            "width": 128, "layers": 3, "heads": 4, "vocab_size": vocab_size, "context_length": 77,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "mlp_ratio": 4,
            "intermediate_size": 512, "head_dim": 32, "causal_mask": True,
            "pad_token_id": vocab_size - 1, "bos_token_id": vocab_size - 2,
            "eos_token_id": vocab_size - 1,
        },
        "schedule": {
            "timesteps": 1000, "beta_schedule": "linear", "linear_start": 0.00085,
            "linear_end": 0.012, "parameterization": "eps",
            "betas": "linspace(sqrt(linear_start), sqrt(linear_end), 1000, float64)**2",
        },
    }


# --------------------------------------------------------------------------------------------
# prompts / tokenizer


def article(label):
    return "an" if label[0] in "aeiou" else "a"


def prompt_table():
    """All training prompts: per label [label, 'a photo of a X', 'a photo of an X'], then ''."""
    table = []
    for lab in LABELS:
        table += [lab, f"a photo of a {lab}", f"a photo of an {lab}"]
    table.append("")
    return table


def build_tokenizer():
    texts = prompt_table()
    tok = bpe.Tokenizer(bpe.learn_merges([t for t in texts if t]))
    assert len(tok.encoder) == len(tok.vocab_list), "duplicate vocab entries"
    for t in texts:  # every prompt word is a single token
        words = bpe.split_pieces(bpe.clean(t))
        assert len(tok.encode(t)) == len(words), (t, tok.tokens(t))
    return tok


def sample_prompt_index(labels, gen):
    """Per sample: 15% empty; else 30% bare label, 50% 'a photo of <correct article> X',
    20% 'a photo of <other article> X'."""
    n = labels.shape[0]
    u = torch.rand(n, generator=gen)
    v = torch.rand(n, generator=gen)
    correct_an = torch.tensor([article(l) == "an" for l in LABELS])[labels]
    tmpl = torch.where(v < 0.3, torch.zeros_like(labels),
                       torch.where(v < 0.8, 1 + correct_an.long(), 2 - correct_an.long()))
    idx = labels * 3 + tmpl
    return torch.where(u < CFG_DROP, torch.full_like(idx, 3 * len(LABELS)), idx)


# --------------------------------------------------------------------------------------------
# data


def load_fmnist(split, limit=None):
    pre = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(DATA_DIR, f"{pre}-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    imgs = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 28, 28)
    with gzip.open(os.path.join(DATA_DIR, f"{pre}-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    if limit:
        imgs, labels = imgs[:limit], labels[:limit]
    return imgs, labels.astype(np.int64)


def preprocess(imgs_u8):
    """uint8 [N,28,28] -> float32 [N,1,64,64] in [-1,1]: bilinear 2x to 56x56, centred on black."""
    out = []
    for i in range(0, len(imgs_u8), 4096):
        x = torch.from_numpy(imgs_u8[i:i + 4096].astype(np.float32) / 255.0)[:, None]
        x = F.interpolate(x, size=(56, 56), mode="bilinear", align_corners=False).clamp(0, 1)
        x = F.pad(x, (4, 4, 4, 4), value=0.0)
        out.append(x * 2.0 - 1.0)
    return torch.cat(out)


def rgb(x1):
    return x1.expand(-1, 3, -1, -1)


# --------------------------------------------------------------------------------------------
# helpers


def cosine_lr(step, total, base, warmup, final_frac=0.05, progress=None):
    """Linear warmup, then cosine decay to final_frac*base. `progress` (0..1) overrides the
    step-based progress (time-budgeted runs)."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup)) if progress is None else min(1.0, progress)
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))


class Budget:
    """Progress = max(step/steps, elapsed/minutes): the run ends at whichever comes first, and the
    learning-rate schedule follows the same progress (so a time-capped run still anneals)."""

    def __init__(self, steps, minutes, start_step=0, elapsed0=0.0):
        self.steps, self.minutes = steps, minutes
        self.t0 = time.time() - elapsed0
        self.start = start_step

    def elapsed(self):
        return time.time() - self.t0

    def progress(self, step):
        p = step / max(1, self.steps)
        if self.minutes:
            p = max(p, self.elapsed() / (60.0 * self.minutes))
        return p


def state_to_np(sd, prefix=""):
    return {prefix + k: v.detach().cpu().numpy() for k, v in sd.items()}


def save_fp32(module, path, prefix="", extra=None, meta=None):
    t = state_to_np(module.state_dict(), prefix)
    if extra:
        t.update(extra)
    st_io.save(path, t, meta)


def load_into(module, path, prefix=""):
    t, meta = st_io.load(path)
    sd = {k[len(prefix):]: torch.from_numpy(v) for k, v in t.items() if k.startswith(prefix)}
    module.load_state_dict(sd)
    return t, meta


def blas_lib():
    try:
        with open("/proc/self/maps") as f:
            libs = {l.split()[-1] for l in f if "blas" in l}
        return ",".join(sorted(libs)) or "?"
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------------
# stage 1: VAE


def train_vae(vae, data, args, gen):
    n = data.shape[0]
    opt = torch.optim.Adam(vae.parameters(), lr=args.vae_lr, betas=(0.9, 0.99), foreach=True)
    vae.train()
    t0 = time.time()
    hist = []
    run = None
    bud = Budget(args.vae_steps, args.vae_minutes)
    step = 0
    while bud.progress(step) < 1.0:
        prog = bud.progress(step)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, args.vae_steps, args.vae_lr, min(100, args.vae_steps // 10 + 1),
                                progress=prog)
        idx = torch.randint(0, n, (args.vae_batch,), generator=gen)
        x = rgb(data[idx])
        mean, logvar = vae.encode(x)
        std = torch.exp(0.5 * logvar)
        z = mean + std * torch.randn(mean.shape, generator=gen)
        rec = vae.decode(z)
        l1 = (rec - x).abs().mean()
        l2 = ((rec - x) ** 2).mean()
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1.0 - logvar).sum(dim=(1, 2, 3)).mean() / x[0].numel()
        loss = l1 + l2 + args.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        cur = np.array([loss.item(), l1.item(), l2.item(), kl.item()])
        run = cur if run is None else 0.98 * run + 0.02 * cur
        if step % args.log_every == 0:
            el = time.time() - t0
            log(f"vae step {step} progress {prog:.3f} loss {run[0]:.5f} l1 {run[1]:.5f} l2 {run[2]:.5f} "
                f"kl/px {run[3]:.4f} lr {opt.param_groups[0]['lr']:.2e} {el / (step + 1):.3f}s/step "
                f"eta {el * (1 - prog) / max(prog, 1e-6) / 60:.1f}min")
            hist.append([step, float(run[0]), float(run[1]), float(run[2]), float(run[3])])
        step += 1
    log(f"vae done: {step} steps in {time.time() - t0:.0f}s, smoothed loss {run[0]:.5f}")
    vae.eval()
    return {"steps": step, "max_steps": args.vae_steps, "minutes_cap": args.vae_minutes,
            "batch": args.vae_batch, "lr": args.vae_lr,
            "kl_weight": args.kl_weight, "loss": "mean|x-x'| + mean(x-x')^2 + kl_weight*KL_sum/numel(x)",
            "final_smoothed": {"loss": float(run[0]), "l1": float(run[1]), "l2": float(run[2]),
                               "kl_per_pixel": float(run[3])},
            "seconds": round(time.time() - t0, 1), "history": hist}


@torch.no_grad()
def encode_all(vae, data, bs=50, verbose=False):
    out = []
    t0 = time.time()
    for i in range(0, data.shape[0], bs):
        out.append(vae.encode(rgb(data[i:i + bs]))[0])
        if verbose and (i // bs) % 100 == 99:
            log(f"encoded {i + bs}/{data.shape[0]} ({time.time() - t0:.0f}s)")
    return torch.cat(out)


@torch.no_grad()
def decode_all(vae, z, bs=50):
    return torch.cat([vae.decode(z[i:i + bs]) for i in range(0, z.shape[0], bs)])


@torch.no_grad()
def vae_recon_metrics(vae, data, n=1000):
    x = rgb(data[:n])
    rec = decode_all(vae, encode_all(vae, data[:n]))
    return {"l1": float((rec - x).abs().mean()), "mse": float(((rec - x) ** 2).mean()),
            "psnr_db": float(10 * math.log10(4.0 / float(((rec - x) ** 2).mean())))}


# --------------------------------------------------------------------------------------------
# stage 3: text encoder + UNet


class EMA:
    def __init__(self, params, decay):
        self.params = list(params)
        self.shadow = [p.detach().clone() for p in self.params]
        self.decay = decay

    @torch.no_grad()
    def update(self, step):
        d = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_mul_(self.shadow, d)
        torch._foreach_add_(self.shadow, [p.detach() for p in self.params], alpha=1 - d)

    @torch.no_grad()
    def swap(self):
        for s, p in zip(self.shadow, self.params):
            tmp = p.detach().clone()
            p.copy_(s)
            s.copy_(tmp)


def diffusion_params(model):
    return list(model.unet.parameters()) + list(model.text.parameters())


def train_diffusion(model, lat, labels, prompt_ids, args, gen, state_path):
    unet, text = model.unet, model.text
    params = diffusion_params(model)
    opt = torch.optim.AdamW(params, lr=args.unet_lr, betas=(0.9, 0.999), weight_decay=0.0, foreach=True)
    ema = EMA(params, args.ema)
    sac = model.sqrt_alphas_cumprod.clone()
    s1ac = model.sqrt_one_minus_alphas_cumprod.clone()
    start, elapsed0 = 0, 0.0
    if args.resume and os.path.exists(state_path):
        t, meta = st_io.load(state_path)
        for i, p in enumerate(params):
            p.data.copy_(torch.from_numpy(t[f"p.{i}"]))
            ema.shadow[i].copy_(torch.from_numpy(t[f"ema.{i}"]))
        start = int(meta["step"])
        elapsed0 = float(meta.get("elapsed", 0.0))
        for i, p in enumerate(params):
            if f"m.{i}" in t:
                opt.state[p] = {"step": torch.tensor(float(start)),
                                "exp_avg": torch.from_numpy(t[f"m.{i}"]),
                                "exp_avg_sq": torch.from_numpy(t[f"v.{i}"])}
        gen.manual_seed(args.seed * 7919 + start)
        log(f"resumed diffusion training at step {start}")
    unet.train()
    text.train()
    n = lat.shape[0]
    t0 = time.time()
    last_save = time.time()
    hist = []
    run = None
    bud = Budget(args.unet_steps, args.unet_minutes, start, elapsed0)
    step = start
    while bud.progress(step) < 1.0:
        prog = bud.progress(step)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, args.unet_steps, args.unet_lr, min(300, args.unet_steps // 10 + 1),
                                progress=prog)
        idx = torch.randint(0, n, (args.batch,), generator=gen)
        x0 = lat[idx]
        if args.flip:
            flip = torch.rand(args.batch, generator=gen) < 0.5
            x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        pidx = sample_prompt_index(labels[idx], gen)
        uniq, inv = torch.unique(pidx, return_inverse=True)
        ctx = (text(prompt_ids[uniq]), inv)  # == text(prompt_ids[pidx]), projected once per prompt
        t = torch.randint(0, 1000, (args.batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        xt = sac[t][:, None, None, None] * x0 + s1ac[t][:, None, None, None] * noise
        eps = unet(xt, t, ctx)
        loss = F.mse_loss(eps, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema.update(step)
        run = loss.item() if run is None else 0.99 * run + 0.01 * loss.item()
        if step % args.log_every == 0:
            el = time.time() - t0
            done = step - start + 1
            log(f"unet step {step} progress {prog:.3f} loss {run:.5f} (batch {loss.item():.5f}) "
                f"gnorm {float(gn):.3f} lr {opt.param_groups[0]['lr']:.2e} {el / done:.3f}s/step "
                f"eta {bud.elapsed() * (1 - prog) / max(prog, 1e-6) / 60:.1f}min")
            hist.append([step, float(run)])
        step += 1
        if time.time() - last_save > args.save_every_min * 60:
            t_ = {}
            for i, p in enumerate(params):
                t_[f"p.{i}"] = p.detach().numpy()
                t_[f"ema.{i}"] = ema.shadow[i].numpy()
                s = opt.state.get(p)
                if s:
                    t_[f"m.{i}"] = s["exp_avg"].numpy()
                    t_[f"v.{i}"] = s["exp_avg_sq"].numpy()
            st_io.save(state_path, t_, {"step": step, "elapsed": bud.elapsed()})
            last_save = time.time()
            log(f"saved diffusion state at step {step} -> {state_path}")
    log(f"unet done: {step} steps in {time.time() - t0:.0f}s, smoothed loss {run:.5f}")
    if run is None:
        run = float("nan")
    unet.eval()
    text.eval()
    ema.swap()  # model now holds the EMA weights
    return {"steps": step, "max_steps": args.unet_steps, "minutes_cap": args.unet_minutes,
            "batch": args.batch, "lr": args.unet_lr, "ema_decay": args.ema,
            "loss": "MSE(eps_pred, eps), t ~ U{0..999}, x_t = sqrt(ac_t) x0 + sqrt(1-ac_t) eps",
            "cfg_drop": CFG_DROP, "hflip": bool(args.flip), "final_smoothed_loss": float(run),
            "seconds": round(time.time() - t0, 1), "history": hist}


# --------------------------------------------------------------------------------------------
# export / load


def export(model, cfg, tok, export_dir, name, fp32_path):
    os.makedirs(export_dir, exist_ok=True)
    sd = model.state_dict()
    t32 = state_to_np(sd)
    st_io.save(fp32_path, t32, {"format": "pt", "model": name, "dtype": "fp32 (not shipped)"})
    t16 = {k: (v if v.dtype == np.int64 else v.astype(np.float16)) for k, v in t32.items()}
    fin = {}
    p = os.path.join(export_dir, f".{name}.safetensors.part")
    st_io.save(p, t16, {"format": "pt", "model": name,
                        "note": "vkflow-fashion: SD1.x-layout latent diffusion trained on Fashion-MNIST; "
                                f"config sidecar {name}.json"})
    fin[p] = os.path.join(export_dir, f"{name}.safetensors")
    vj = os.path.join(export_dir, f".{name}.vocab.json.part")
    mt = os.path.join(export_dir, f".{name}.merges.txt.part")
    tok.write_hf_files(vj, mt)
    fin[vj] = os.path.join(export_dir, f"{name}.vocab.json")
    fin[mt] = os.path.join(export_dir, f"{name}.merges.txt")
    cj = os.path.join(export_dir, f".{name}.json.part")
    with open(cj, "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")
    fin[cj] = os.path.join(export_dir, f"{name}.json")
    for a, b in fin.items():
        os.replace(a, b)
    return list(fin.values())


def load_checkpoint(path):
    """Exported checkpoint + sidecar json -> (fp32 LatentDiffusion, cfg, tokenizer or None)."""
    stem = path[:-len(".safetensors")] if path.endswith(".safetensors") else path
    with open(stem + ".json") as f:
        cfg = json.load(f)
    model = nets.LatentDiffusion(cfg)
    t, _ = st_io.load(path)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.int64 if v.dtype == np.int64 else np.float32))
                           for k, v in t.items()})
    model.eval()
    tok = None
    if os.path.exists(stem + ".vocab.json"):
        tok = bpe.Tokenizer.from_hf_files(stem + ".vocab.json", stem + ".merges.txt")
    return model, cfg, tok


# --------------------------------------------------------------------------------------------
# stage 5: evaluation


class Classifier(nn.Module):
    """Small CNN on 32x32 grey (64x64 [-1,1] images average-pooled 2x)."""

    def __init__(self):
        super().__init__()
        c = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())  # noqa
        self.f = nn.Sequential(c(1, 16), c(16, 32), nn.MaxPool2d(2), c(32, 48), nn.MaxPool2d(2),
                               c(48, 64), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3),
                               nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))

    def forward(self, x64):
        if x64.shape[1] == 3:
            x64 = x64.mean(1, keepdim=True)
        return self.f(F.avg_pool2d(x64.clamp(-1, 1), 2))


def train_classifier(data, labels, test, tlabels, epochs, gen, path):
    clf = Classifier()
    if path and os.path.exists(path):
        load_into(clf, path)
        clf.eval()
        return clf, None
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    n = data.shape[0]
    steps = epochs * (n // 128)
    t0 = time.time()
    for s in range(steps):
        for g in opt.param_groups:
            g["lr"] = cosine_lr(s, steps, 2e-3, 100, 0.02)
        idx = torch.randint(0, n, (128,), generator=gen)
        x = data[idx]
        flip = torch.rand(128, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        sh = torch.randint(-2, 3, (2,), generator=gen)
        x = torch.roll(x, shifts=(int(sh[0]), int(sh[1])), dims=(2, 3))
        loss = F.cross_entropy(clf(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if s % 200 == 0:
            log(f"classifier step {s}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")
    clf.eval()
    acc = classify_acc(clf, test, tlabels)
    log(f"classifier test accuracy (real t10k) {acc:.4f}")
    if path:
        save_fp32(clf, path, meta={"test_accuracy": acc})
    return clf, acc


@torch.no_grad()
def classify_acc(clf, x, y, bs=1000):
    ok = 0
    for i in range(0, x.shape[0], bs):
        ok += int((clf(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum())
    return ok / x.shape[0]


@torch.no_grad()
def generate_images(model, tok, scale, prompts, seed, steps=20, cfg=5.0, bs=200):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.tensor([tok(p) for p in prompts])
    uncond_ids = torch.tensor([tok("")])
    out = []
    ms = sampling.DiscreteEps()
    for i in range(0, len(prompts), bs):
        c = model.text(ids[i:i + bs])
        u = model.text(uncond_ids).expand_as(c)
        noise = torch.randn((c.shape[0], 4, 8, 8), generator=gen)
        z = sampling.generate(model.unet, c, u, cfg, noise, steps, ms)
        out.append(decode_all(model.vae, z / scale))
    return torch.cat(out)


def save_grid(imgs, path, ncol=10):
    try:
        from PIL import Image
    except ImportError:
        return
    x = ((imgs.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n, h, w, _ = x.shape
    nrow = (n + ncol - 1) // ncol
    g = np.zeros((nrow * h, ncol * w, 3), np.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        g[r * h:(r + 1) * h, c * w:(c + 1) * w] = x[i]
    Image.fromarray(g).save(path)


def evaluate(model, tok, scale, args, gen, real_train, real_labels):
    t0 = time.time()
    timgs, tlabels = load_fmnist("test")
    test = preprocess(timgs)
    tlabels = torch.from_numpy(tlabels)
    clf, clf_acc = train_classifier(real_train, real_labels, test, tlabels, args.clf_epochs, gen,
                                    os.path.join(args.out_dir, "fashion_classifier_fp32.safetensors"))
    if clf_acc is None:
        clf_acc = classify_acc(clf, test, tlabels)
    rec_acc = classify_acc(clf, decode_all(model.vae, encode_all(model.vae, test[:2000])), tlabels[:2000])
    log(f"classifier accuracy on VAE reconstructions of t10k[:2000]: {rec_acc:.4f}")
    per = args.eval_per_class
    res = {"classifier": "small CNN on 32x32 (avg-pooled) grey, trained on the real training set",
           "classifier_test_accuracy_real": clf_acc, "classifier_accuracy_vae_recon": rec_acc,
           "sampler": "dpmpp_2m, karras, 20 steps, cfg 5, ComfyUI noise scaling", "per_class": per}
    for name, fmt in (("a photo of", lambda l: f"a photo of {article(l)} {l}"), ("label", lambda l: l)):
        prompts = [fmt(l) for l in LABELS for _ in range(per)]
        y = torch.arange(10).repeat_interleave(per)
        imgs = generate_images(model, tok, scale, prompts, args.seed + 12345)
        pred = clf(imgs).argmax(1)
        acc = float((pred == y).float().mean())
        pc = [float((pred[y == c] == c).float().mean()) for c in range(10)]
        log(f"generated accuracy [{name}]: {acc:.4f} per class {[round(a, 2) for a in pc]}")
        res[f"generated_accuracy_{name.replace(' ', '_')}"] = acc
        res[f"generated_per_class_{name.replace(' ', '_')}"] = pc
        if name == "a photo of":
            save_grid(imgs.view(10, per, 3, 64, 64)[:, :10].reshape(-1, 3, 64, 64),
                      os.path.join(args.out_dir, "samples.png"), ncol=min(10, per))
    res["seconds"] = round(time.time() - t0, 1)
    return res


# --------------------------------------------------------------------------------------------
# checks


def golden_check(gdir):
    with open(os.path.join(gdir, "config.json")) as f:
        cfg = json.load(f)
    model = nets.LatentDiffusion(cfg)
    t, _ = st_io.load(os.path.join(gdir, "ckpt.safetensors"))
    sd = model.state_dict()
    missing, extra = set(sd) - set(t), set(t) - set(sd)
    bad_shape = [k for k in sd if k in t and tuple(sd[k].shape) != t[k].shape]
    print(f"keys: model {len(sd)} ckpt {len(t)} missing {sorted(missing)} unexpected {sorted(extra)} "
          f"shape mismatches {bad_shape}")
    ok = not missing and not extra and not bad_shape
    for k in nets.make_schedule():
        d = float(np.abs(sd[k].numpy() - t[k]).max())
        ok &= d == 0.0
    model.load_state_dict({k: torch.from_numpy(v) for k, v in t.items()})
    model.eval()
    res = []

    def cmp(name, a, ref):
        nonlocal ok
        a = a.detach().numpy()
        r = float(np.abs(a - ref).max() / np.abs(ref).max())
        ok &= r <= 1e-4
        res.append((name, r))
        print(f"{name:32s} max|d|/max|ref| = {r:.3e} {'OK' if r <= 1e-4 else 'FAIL'}")

    with torch.no_grad():
        d, _ = st_io.load(os.path.join(gdir, "text_io.safetensors"))
        hs = []
        cmp("text last_hidden_state", model.text(torch.from_numpy(d["input_ids"]), hs), d["last_hidden_state"])
        for i, h in enumerate(hs):
            cmp(f"text hidden_states.{i}", h, d[f"hidden_states.{i}"])
        cmp("text penultimate_hidden_state_ln", model.text.final_layer_norm(hs[-2]),
            d["penultimate_hidden_state_ln"])
        d, _ = st_io.load(os.path.join(gdir, "unet_io.safetensors"))
        dbg = {}
        eps = model.unet(torch.from_numpy(d["x"]), torch.from_numpy(d["timesteps"]),
                         torch.from_numpy(d["context"]), dbg)
        cmp("unet eps", eps, d["eps"])
        dd, _ = st_io.load(os.path.join(gdir, "unet_debug.safetensors"))
        for k in dd:
            cmp(f"unet {k}", dbg[k], dd[k])
        d, _ = st_io.load(os.path.join(gdir, "vae_decode_io.safetensors"))
        cmp("vae decode image", model.vae.decode(torch.from_numpy(d["z"])), d["image"])
        d, _ = st_io.load(os.path.join(gdir, "vae_encode_io.safetensors"))
        mean, logvar = model.vae.encode(torch.from_numpy(d["image"]))
        cmp("vae encode mean", mean, d["mean"])
        cmp("vae encode logvar", logvar, d["logvar"])
        if "moments" in d:
            cmp("vae encode moments", model.vae.quant_conv(model.vae.encoder(torch.from_numpy(d["image"]))),
                d["moments"])
    print("GOLDEN CHECK", "PASSED" if ok else "FAILED")
    return ok


@torch.no_grad()
def forward_check(out_path, ck):
    model, cfg, tok = load_checkpoint(ck)
    prompts = ["a photo of an ankle boot", "sneaker"]
    if tok is None:
        raise SystemExit("vocab files missing next to the checkpoint")
    ids = torch.tensor([tok(p) for p in prompts], dtype=torch.int64)
    ctx = model.text(ids)
    gen = torch.Generator().manual_seed(20240607)
    hw = cfg["unet"]["image_size"]
    x = torch.randn((2, cfg["unet"]["in_channels"], hw, hw), generator=gen)
    x[1] *= 0.8
    ts = torch.tensor([999, 17], dtype=torch.int64)
    eps = model.unet(x, ts, ctx)
    z = torch.randn((1, cfg["vae"]["embed_dim"], hw, hw), generator=gen) / cfg["scale_factor"]
    img = model.vae.decode(z)
    st_io.save(out_path, {"input_ids": ids, "last_hidden_state": ctx, "x": x, "timesteps": ts,
                          "context": ctx, "eps": eps, "z": z, "image": img},
               {"checkpoint": os.path.basename(ck), "prompts": json.dumps(prompts),
                "note": "fp32 forward of the (fp16-stored) checkpoint weights upcast to fp32; "
                        "z is a raw VAE latent (already divided by scale_factor)"})
    print(f"wrote {out_path}: last_hidden_state {tuple(ctx.shape)} eps {tuple(eps.shape)} image {tuple(img.shape)}")


# --------------------------------------------------------------------------------------------
# main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default="/work/train_out", help="work dir: log, fp32 states, caches, samples")
    ap.add_argument("--export-dir", default=os.path.join(REPO, "models", "checkpoints"))
    ap.add_argument("--name", default="vkflow-fashion")
    ap.add_argument("--vae-steps", type=int, default=3000, help="max VAE steps")
    ap.add_argument("--vae-minutes", type=float, default=0, help="time cap for the VAE stage (0: none)")
    ap.add_argument("--vae-batch", type=int, default=32)
    ap.add_argument("--vae-lr", type=float, default=5e-4)
    ap.add_argument("--kl-weight", type=float, default=1e-5)
    ap.add_argument("--unet-steps", type=int, default=6000, help="max UNet steps")
    ap.add_argument("--unet-minutes", type=float, default=0, help="time cap for the UNet stage (0: none)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--unet-lr", type=float, default=5e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--flip", type=int, default=0, help="random horizontal flips of latents (0/1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit-images", type=int, default=0, help="use only the first N training images")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--save-every-min", type=float, default=10.0)
    ap.add_argument("--resume", type=int, default=1, help="reuse VAE/latents/diffusion state in out-dir")
    ap.add_argument("--clf-epochs", type=int, default=2)
    ap.add_argument("--eval-per-class", type=int, default=40)
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--golden-check", metavar="DIR")
    ap.add_argument("--forward-check", metavar="OUT.safetensors")
    ap.add_argument("--checkpoint", metavar="CK", help="exported checkpoint for --forward-check/--eval-only")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    if args.golden_check:
        sys.exit(0 if golden_check(args.golden_check) else 1)
    if args.forward_check:
        ck = args.checkpoint or os.path.join(args.export_dir, f"{args.name}.safetensors")
        forward_check(args.forward_check, ck)
        return

    global _LOG
    os.makedirs(args.out_dir, exist_ok=True)
    _LOG = os.path.join(args.out_dir, "train_log.txt")
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    T0 = time.time()
    log(f"args {vars(args)}")
    log(f"torch {torch.__version__} threads {torch.get_num_threads()} blas {blas_lib()}")

    imgs, labels = load_fmnist("train", args.limit_images or None)
    data = preprocess(imgs)
    labels_t = torch.from_numpy(labels)
    log(f"data: {data.shape[0]} training images -> {tuple(data.shape[1:])} (grey, bilinear 2x, 4px border)")

    if args.eval_only:
        ck = args.checkpoint or os.path.join(args.export_dir, f"{args.name}.safetensors")
        model, cfg, tok = load_checkpoint(ck)
        res = evaluate(model, tok, cfg["scale_factor"], args, gen, data, labels_t)
        log("eval " + json.dumps({k: v for k, v in res.items()}))
        return

    tok = build_tokenizer()
    cfg = model_config(len(tok))
    model = nets.LatentDiffusion(cfg)
    pc = {"unet": nets.count_params(model.unet), "vae": nets.count_params(model.vae),
          "text_encoder": nets.count_params(model.text)}
    log(f"vocab {len(tok)} merges {len(tok.merges)}; params {pc} total {sum(pc.values())} "
        f"(fp16 ~{sum(pc.values()) * 2 / 1e6:.1f} MB)")
    table = prompt_table()
    prompt_ids = torch.tensor([tok(p) for p in table], dtype=torch.int64)
    for p in table[:3] + table[-4:]:
        log(f"prompt {p!r} -> {tok.tokens(p)}")
    training = {"data": {"dataset": "Fashion-MNIST (Debian package dataset-fashion-mnist)",
                         "train_images": int(data.shape[0]),
                         "preprocess": "28x28 -> 56x56 bilinear (torch F.interpolate align_corners=False), "
                                       "centred on black 64x64 (4 px border), grey replicated to RGB, "
                                       "[0,255] -> [-1,1]",
                         "labels": LABELS,
                         "prompts": "'{label}' (30%), 'a photo of a/an {label}' with the correct article "
                                    "(50%) or the other article (20%); 15% replaced by '' (CFG)"},
                "seed": args.seed, "threads": args.threads}

    # ---- stage 1: VAE
    vae_path = os.path.join(args.out_dir, "vae_fp32.safetensors")
    if args.resume and os.path.exists(vae_path):
        _, meta = load_into(model.vae, vae_path)
        training["vae"] = json.loads(meta["training"])
        log(f"loaded VAE from {vae_path}")
    else:
        training["vae"] = train_vae(model.vae, data, args, gen)
        save_fp32(model.vae, vae_path, meta={"training": json.dumps(training["vae"])})
    model.vae.eval()
    training["vae"]["recon_train1000"] = vae_recon_metrics(model.vae, data)
    log(f"VAE reconstruction (first 1000 train): {training['vae']['recon_train1000']}")

    # ---- stage 2: latents
    lat_path = os.path.join(args.out_dir, "latents.safetensors")
    if args.resume and os.path.exists(lat_path) and os.path.exists(vae_path) and \
            st_io.load(lat_path)[0]["latents"].shape[0] == data.shape[0]:
        t, _ = st_io.load(lat_path)
        lat = torch.from_numpy(t["latents"])
        log(f"loaded latents from {lat_path}")
    else:
        t1 = time.time()
        lat = encode_all(model.vae, data, verbose=True)
        st_io.save(lat_path, {"latents": lat, "labels": labels_t})
        log(f"encoded {lat.shape[0]} latents in {time.time() - t1:.0f}s")
    scale = float(1.0 / lat.std())
    log(f"latents {tuple(lat.shape)} mean {float(lat.mean()):.4f} std {float(lat.std()):.4f} "
        f"-> scale_factor {scale:.6f}")
    cfg["scale_factor"] = scale

    # ---- stage 3: text encoder + UNet
    training["unet"] = train_diffusion(model, lat * scale, labels_t, prompt_ids, args, gen,
                                       os.path.join(args.out_dir, "diffusion_state.safetensors"))

    # ---- stage 4: export (EMA weights)
    cfg_out = {"name": args.name, "visibility": "public",
               "reference_code": "CompVis/stable-diffusion (ldm, SD1 code path); trained by "
                                 "tools/train_fashion_model.py",
               "text_reference_code": "HF CLIPTextModel layout (openai/CLIP text transformer)",
               "seed": args.seed,
               "checkpoint_layout": "SD1.x single file: model.diffusion_model.*, first_stage_model.*, "
                                    "cond_stage_model.transformer.text_model.*, plus LatentDiffusion "
                                    "schedule buffers (fp16; position_ids I64)"}
    cfg_out["unet"] = cfg["unet"]
    cfg_out["unet_derived"] = nets.unet_levels(cfg["unet"])
    cfg_out["vae"] = cfg["vae"]
    cfg_out["vae_downsample_factor"] = 2 ** (len(cfg["vae"]["ddconfig"]["ch_mult"]) - 1)
    cfg_out["text_encoder"] = dict(cfg["text_encoder"], vocab_file=f"{args.name}.vocab.json",
                                   merges_file=f"{args.name}.merges.txt",
                                   tokenizer="CLIP BPE (openai SimpleTokenizer rules), own vocab; "
                                             "[bos] + ids + [eos], padded with eos to 77")
    cfg_out["schedule"] = cfg["schedule"]
    cfg_out["scale_factor"] = scale
    cfg_out["image_size"] = [64, 64]
    cfg_out["param_counts"] = pc
    training["vocab_files"] = [f"{args.name}.vocab.json", f"{args.name}.merges.txt"]
    training["blas"] = blas_lib()
    cfg_out["training"] = training

    training["seconds_train"] = round(time.time() - T0, 1)
    training["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    files = export(model, cfg_out, tok, args.export_dir, args.name,
                   os.path.join(args.out_dir, f"{args.name}_fp32.safetensors"))
    log(f"exported {files}")

    # ---- stage 5: evaluation (then the json is rewritten with the results)
    if not args.skip_eval:
        training["eval"] = evaluate(model, tok, scale, args, gen, data, labels_t)
        training["seconds_total"] = round(time.time() - T0, 1)
        cj = os.path.join(args.export_dir, f".{args.name}.json.part")
        with open(cj, "w") as f:
            json.dump(cfg_out, f, indent=1)
            f.write("\n")
        os.replace(cj, os.path.join(args.export_dir, f"{args.name}.json"))
        log("eval results written to the json sidecar")
    log(f"DONE in {(time.time() - T0) / 60:.1f} min")


if __name__ == "__main__":
    main()
