"""LatentDiffusion: the container with the SD1.x single-file prefixes (UNet, VAE, text encoder) and the
12 LatentDiffusion schedule buffers; `state_dict()` keys == the single-file checkpoint keys."""
import numpy as np
import torch
import torch.nn as nn

from .text_encoder import CLIPTextModel
from .unet import UNetModel
from .vae import AutoencoderKL


def make_schedule(timesteps=1000, linear_start=0.00085, linear_end=0.012):
    """LatentDiffusion.register_schedule (linear == 'scaled linear'), float64 -> float32."""
    betas = np.linspace(linear_start ** 0.5, linear_end ** 0.5, timesteps, dtype=np.float64) ** 2
    alphas = 1.0 - betas
    ac = np.cumprod(alphas, axis=0)
    ac_prev = np.append(1.0, ac[:-1])
    v_posterior = 0.0
    post_var = (1 - v_posterior) * betas * (1.0 - ac_prev) / (1.0 - ac) + v_posterior * betas
    s = {
        "betas": betas,
        "alphas_cumprod": ac,
        "alphas_cumprod_prev": ac_prev,
        "sqrt_alphas_cumprod": np.sqrt(ac),
        "sqrt_one_minus_alphas_cumprod": np.sqrt(1.0 - ac),
        "log_one_minus_alphas_cumprod": np.log(1.0 - ac),
        "sqrt_recip_alphas_cumprod": np.sqrt(1.0 / ac),
        "sqrt_recipm1_alphas_cumprod": np.sqrt(1.0 / ac - 1),
        "posterior_variance": post_var,
        "posterior_log_variance_clipped": np.log(np.maximum(post_var, 1e-20)),
        "posterior_mean_coef1": betas * np.sqrt(ac_prev) / (1.0 - ac),
        "posterior_mean_coef2": (1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
    }
    return {k: v.astype(np.float32) for k, v in s.items()}


class _Holder(nn.Module):
    pass


class LatentDiffusion(nn.Module):
    """state_dict() keys == SD1.x single-file keys."""

    def __init__(self, cfg):
        super().__init__()
        self.model = _Holder()
        self.model.diffusion_model = UNetModel(cfg["unet"])
        self.first_stage_model = AutoencoderKL(cfg["vae"])
        self.cond_stage_model = _Holder()
        self.cond_stage_model.transformer = _Holder()
        self.cond_stage_model.transformer.text_model = CLIPTextModel(cfg["text_encoder"])
        sch = cfg.get("schedule", {})
        for k, v in make_schedule(sch.get("timesteps", 1000), sch.get("linear_start", 0.00085),
                                  sch.get("linear_end", 0.012)).items():
            self.register_buffer(k, torch.from_numpy(v), persistent=True)

    @property
    def unet(self):
        return self.model.diffusion_model

    @property
    def vae(self):
        return self.first_stage_model

    @property
    def text(self):
        return self.cond_stage_model.transformer.text_model


def count_params(m):
    return sum(p.numel() for p in m.parameters())
