"""Stage 5, the trainer's built-in evaluation: a small CNN classifier trained on the real images scores
images generated with DPM++ 2M / Karras / 20 steps / cfg 5 (results go into the json sidecar)."""
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import sampling
from .checkpoint import load_into, save_fp32
from .fmnist_data import load_fmnist, preprocess
from .prompts import LABELS, article
from .runlog import log
from .train_schedule import cosine_lr
from .vae_training import decode_all, encode_all


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
