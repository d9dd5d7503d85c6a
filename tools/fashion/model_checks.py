"""The trainer's check modes: --golden-check (these modules == the reference code on the sd1_tiny_a
goldens) and --forward-check (fp32 forward passes of an exported checkpoint on fixed seeded inputs)."""
import json
import os

import numpy as np
import torch

from . import st_io
from .checkpoint import load_checkpoint
from .latent_diffusion import LatentDiffusion, make_schedule


def golden_check(gdir):
    with open(os.path.join(gdir, "config.json")) as f:
        cfg = json.load(f)
    model = LatentDiffusion(cfg)
    t, _ = st_io.load(os.path.join(gdir, "ckpt.safetensors"))
    sd = model.state_dict()
    missing, extra = set(sd) - set(t), set(t) - set(sd)
    bad_shape = [k for k in sd if k in t and tuple(sd[k].shape) != t[k].shape]
    print(f"keys: model {len(sd)} ckpt {len(t)} missing {sorted(missing)} unexpected {sorted(extra)} "
          f"shape mismatches {bad_shape}")
    ok = not missing and not extra and not bad_shape
    for k in make_schedule():
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
