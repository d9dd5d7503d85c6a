"""Latent -> RGB preview factors for the bundled model (what ComfyUI's latent_formats hold per family).

Least squares over real images: rgb(pixel block) ~= latent(pixel) @ F + b, with latents the VAE posterior
means times scale_factor (the UNet's space, where the sampler's denoised prediction lives) and rgb the
image in [-1, 1] average-pooled to latent resolution. vkflow's preview then shows ((rgb + 1) / 2).
"""
import numpy as np
import torch
import torch.nn.functional as F

from fashion.fmnist_data import load_fmnist, preprocess, rgb


@torch.no_grad()
def fit_latent_rgb(vae, scale_factor, n_images=2000, down=8):
    imgs, _ = load_fmnist("test", n_images)
    x = rgb(preprocess(imgs))
    lat = []
    for i in range(0, len(x), 250):
        mean, _ = vae.encode(x[i:i + 250])
        lat.append(mean * scale_factor)
    lat = torch.cat(lat)                                    # [N, C, h, w]
    target = F.avg_pool2d(x, down)                          # [N, 3, h, w]
    C = lat.shape[1]
    A = lat.permute(0, 2, 3, 1).reshape(-1, C).double().numpy()
    A = np.concatenate([A, np.ones((A.shape[0], 1))], axis=1)
    Y = target.permute(0, 2, 3, 1).reshape(-1, 3).double().numpy()
    sol, *_ = np.linalg.lstsq(A, Y, rcond=None)
    resid = float(np.sqrt(np.mean((A @ sol - Y) ** 2)))
    factors = [[round(float(v), 4) for v in row] for row in sol[:C]]
    bias = [round(float(v), 4) for v in sol[C]]
    return factors, bias, resid


def write_latent_rgb(ckpt_path, cfg, factors, bias, resid):
    """Adds the factors to the checkpoint's json sidecar (atomically: temp file + rename)."""
    import json
    import os
    stem = ckpt_path[:-len(".safetensors")] if ckpt_path.endswith(".safetensors") else ckpt_path
    cfg = dict(cfg, latent_rgb_factors=factors, latent_rgb_factors_bias=bias)
    tmp = stem + ".json.part"
    with open(tmp, "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")
    os.replace(tmp, stem + ".json")
    print(f"latent->RGB factors {factors} bias {bias} (rms residual {resid:.4f}) -> {stem}.json")
