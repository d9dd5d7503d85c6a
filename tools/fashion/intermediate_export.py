"""tools/eval_fashion_model.py --export-state: the running trainer's checkpointed diffusion state
(EMA weights) + VAE + latents' scale -> a vkflow checkpoint, exactly as the trainer's stage 4 exports."""
import os

import torch

from . import st_io
from .checkpoint import export, load_into
from .diffusion_training import diffusion_params
from .latent_diffusion import LatentDiffusion
from .model_config import model_config
from .prompts import build_tokenizer
from .unet import unet_levels


def export_state(out_dir, name, train_out):
    """Export <train_out>/diffusion_state.safetensors (EMA weights) + vae_fp32 + latents' scale
    exactly as tools/train_fashion_model.py's stage 4 does, reusing its functions."""
    tok = build_tokenizer()
    cfg = model_config(len(tok))
    model = LatentDiffusion(cfg)
    load_into(model.vae, os.path.join(train_out, "vae_fp32.safetensors"))
    lat = torch.from_numpy(st_io.load(os.path.join(train_out, "latents.safetensors"))[0]["latents"])
    scale = float(1.0 / lat.std())
    t, meta = st_io.load(os.path.join(train_out, "diffusion_state.safetensors"))
    params = diffusion_params(model)
    with torch.no_grad():
        for i, p in enumerate(params):
            p.copy_(torch.from_numpy(t[f"ema.{i}"]))
    model.eval()
    cfg_out = {"name": name, "visibility": "internal",
               "note": f"INTERMEDIATE export of the training run's diffusion state at step {meta.get('step')} "
                       "(EMA weights) by tools/eval_fashion_model.py --export-state",
               "unet": cfg["unet"], "unet_derived": unet_levels(cfg["unet"]), "vae": cfg["vae"],
               "vae_downsample_factor": 2 ** (len(cfg["vae"]["ddconfig"]["ch_mult"]) - 1),
               "text_encoder": dict(cfg["text_encoder"], vocab_file=f"{name}.vocab.json",
                                    merges_file=f"{name}.merges.txt"),
               "schedule": cfg["schedule"], "scale_factor": scale, "image_size": [64, 64],
               "training": {"unet": {"steps": int(meta.get("step", 0)),
                                     "seconds": float(meta.get("elapsed", 0.0))}}}
    os.makedirs(out_dir, exist_ok=True)
    files = export(model, cfg_out, tok, out_dir, name, os.path.join(out_dir, f"{name}_fp32.safetensors"))
    print(f"exported step {meta.get('step')} -> {files}", flush=True)
    return os.path.join(out_dir, f"{name}.safetensors")
