"""Stage 3: text encoder + UNet trained jointly (DDPM eps-MSE, AdamW, EMA, resumable state)."""
import os
import time

import torch
import torch.nn.functional as F

from . import st_io
from .prompts import CFG_DROP, sample_prompt_index
from .runlog import log
from .train_schedule import Budget, cosine_lr


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
