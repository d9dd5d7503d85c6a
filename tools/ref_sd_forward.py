#!/usr/bin/env python3
"""Reference forwards of the SD1.x text encoder / UNet / VAE for tests (CPU torch, fp32).

Uses the PyTorch modules of tools/fashion/nets.py (written to compute what CompVis/Stability-AI ldm
and openai/CLIP compute, same parameter names as the single-file checkpoint).

  ref_sd_forward.py check-a GOLDEN_DIR
      loads shared/golden/sd1_tiny_a, runs every network on the golden inputs and prints
      max|d|/max|ref| per output; exit 1 when any exceeds 1e-5 (proves these modules on config A).
  ref_sd_forward.py make-b OUT_DIR [--seed S]
      writes a random-weight "config B" model (num_head_channels, transformer depth 2, Linear
      proj_in/out, 3-level UNet with channel_mult [1,2,3], 96-wide 3-layer 6-head text encoder,
      VAE downsample factor 8) as OUT_DIR/{ckpt.safetensors, config.json} plus reference outputs
      OUT_DIR/{text_io,unet_io,vae_decode_io,vae_encode_io}.safetensors with the golden key names.
Exit code 3 when torch is unavailable (the C++ test turns that into a SKIP).
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print(f"ref_sd_forward: torch/numpy unavailable: {e}", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion import nets, st_io  # noqa: E402

# Config B: every size differs from config A; every GroupNorm(32) sees a multiple of 32 channels.
CONFIG_B = {
    "name": "sd1_tiny_b",
    "unet": {"in_channels": 4, "out_channels": 4, "model_channels": 32, "channel_mult": [1, 2, 3],
             "num_res_blocks": 2, "attention_resolutions": [1, 2], "num_heads": -1,
             "num_head_channels": 16, "transformer_depth": 2, "context_dim": 96,
             "use_linear_in_transformer": True, "use_spatial_transformer": True, "legacy": False},
    "vae": {"embed_dim": 4, "ddconfig": {"double_z": True, "z_channels": 4, "resolution": 256,
                                          "in_channels": 3, "out_ch": 3, "ch": 32, "ch_mult": [1, 2, 2, 2],
                                          "num_res_blocks": 1, "attn_resolutions": [], "dropout": 0.0}},
    "vae_downsample_factor": 8,
    "text_encoder": {"width": 96, "layers": 3, "heads": 6, "vocab_size": 49408, "context_length": 77,
                     "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "intermediate_size": 384,
                     "pad_token_id": 49407, "bos_token_id": 49406, "eos_token_id": 49407},
    "schedule": {"timesteps": 1000, "beta_schedule": "linear", "linear_start": 0.00085,
                 "linear_end": 0.012, "parameterization": "eps"},
    "scale_factor": 0.18215,
}


def rel(a, ref):
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    return float(np.abs(a - ref).max() / max(1e-30, np.abs(ref).max()))


def load_model(cfg, ckpt_path):
    m = nets.LatentDiffusion(cfg).eval()
    sd, _ = st_io.load(ckpt_path)
    own = m.state_dict()
    missing = [k for k in own if k not in sd]
    if missing:
        raise SystemExit(f"{ckpt_path}: missing {missing[:5]}")
    m.load_state_dict({k: torch.from_numpy(sd[k].astype(own[k].numpy().dtype)) for k in own})
    return m


@torch.no_grad()
def forward_all(m, text_ids, unet_in, z, image):
    """-> dict of file stem -> dict of output tensors (numpy f32)."""
    out = {}
    hs = []
    last = m.text(torch.from_numpy(text_ids), hidden_states=hs)
    pen = hs[-2]
    out["text_io"] = {"last_hidden_state": last, "penultimate_hidden_state": pen,
                      "penultimate_hidden_state_ln": m.text.final_layer_norm(pen)}
    for i, h in enumerate(hs):
        out["text_io"][f"hidden_states.{i}"] = h
    x, ts, ctx = (torch.from_numpy(unet_in[k]) for k in ("x", "timesteps", "context"))
    dbg = {}
    out["unet_io"] = {"eps": m.unet(x, ts, ctx, debug=dbg)}
    out["unet_debug"] = dbg
    out["vae_decode_io"] = {"image": m.vae.decode(torch.from_numpy(z))}
    mean, logvar = m.vae.encode(torch.from_numpy(image))
    out["vae_encode_io"] = {"mean": mean, "logvar": logvar}
    return {f: {k: v.detach().float().numpy() for k, v in d.items()} for f, d in out.items()}


def check_a(golden):
    cfg = json.load(open(os.path.join(golden, "config.json")))
    m = load_model(cfg, os.path.join(golden, "ckpt.safetensors"))
    g = {f: st_io.load(os.path.join(golden, f + ".safetensors"))[0]
         for f in ("text_io", "unet_io", "unet_debug", "vae_decode_io", "vae_encode_io")}
    got = forward_all(m, g["text_io"]["input_ids"], g["unet_io"], g["vae_decode_io"]["z"],
                      g["vae_encode_io"]["image"])
    worst = 0.0
    for f, d in got.items():
        for k, v in d.items():
            if k not in g[f]:
                continue
            e = rel(v, g[f][k])
            worst = max(worst, e)
            print(f"{f}.{k}: max|d|/max|ref| = {e:.3e}")
    print(f"worst {worst:.3e}")
    return 0 if worst <= 1e-5 else 1


def randomize(m, gen):
    """Every parameter random (nets zero-initialises out_layers.3 / proj_out / out.2 like ldm, which
    would hide bugs behind zeros); norms get scales near 1 and small shifts so affine terms matter."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if "norm" in name and p.dim() == 1:
                if leaf == "weight":
                    p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embedding" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif leaf == "weight":
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


def make_b(out_dir, seed):
    os.makedirs(out_dir, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    cfg = CONFIG_B
    m = nets.LatentDiffusion(cfg).eval()
    randomize(m, gen)
    sd = {k: v for k, v in m.state_dict().items()}
    st_io.save(os.path.join(out_dir, "ckpt.safetensors"), sd)
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=1)

    # Inputs: two prompts of different lengths padded with 49407; non-square latents / images whose
    # sizes are multiples of the downsample factors (UNet 4, VAE 8).
    ids = np.full((2, 77), 49407, np.int64)
    ids[:, 0] = 49406
    ids[0, 1:6] = [320, 1125, 539, 320, 2368]
    ids[1, 1:12] = torch.randint(0, 49406, (11,), generator=gen).numpy()
    w = cfg["unet"]["context_dim"]
    unet_in = {"x": torch.randn(2, 4, 8, 12, generator=gen).numpy(),
               "timesteps": np.array([999, 17], np.int64),
               "context": torch.randn(2, 77, w, generator=gen).numpy()}
    unet_in["x"][1] *= 0.8
    z = torch.randn(1, 4, 3, 5, generator=gen).numpy()
    image = (torch.rand(1, 3, 32, 40, generator=gen) * 2 - 1).numpy()
    got = forward_all(m, ids, unet_in, z, image)
    st_io.save(os.path.join(out_dir, "text_io.safetensors"), {"input_ids": ids, **got["text_io"]})
    st_io.save(os.path.join(out_dir, "unet_io.safetensors"), {**unet_in, **got["unet_io"]})
    st_io.save(os.path.join(out_dir, "unet_debug.safetensors"), got["unet_debug"])
    st_io.save(os.path.join(out_dir, "vae_decode_io.safetensors"), {"z": z, **got["vae_decode_io"]})
    st_io.save(os.path.join(out_dir, "vae_encode_io.safetensors"), {"image": image, **got["vae_encode_io"]})
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("check-a")
    a.add_argument("golden_dir")
    b = sub.add_parser("make-b")
    b.add_argument("out_dir")
    b.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    if args.cmd == "check-a":
        return check_a(args.golden_dir)
    return make_b(args.out_dir, args.seed)


if __name__ == "__main__":
    sys.exit(main())
