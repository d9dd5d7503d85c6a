"""Stage 1 (VAE training) and the VAE helpers of stages 2 and 5 (batched encode/decode, reconstruction
metrics)."""
import math
import time

import numpy as np
import torch

from .fmnist_data import rgb
from .runlog import log
from .train_schedule import Budget, cosine_lr


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
