"""Sampling used by the built-in evaluation: ComfyUI-style discrete eps model sampling,
Karras sigmas and the DPM++ 2M sampler (k-diffusion `sample_dpmpp_2m`), classifier-free guidance."""
import math

import torch




class DiscreteEps:
    """ComfyUI ModelSamplingDiscrete + EPS: sigmas from the SD1.x scaled-linear schedule."""

    def __init__(self, timesteps=1000, linear_start=0.00085, linear_end=0.012):
        betas = torch.linspace(linear_start ** 0.5, linear_end ** 0.5, timesteps, dtype=torch.float64) ** 2
        ac = torch.cumprod(1.0 - betas, dim=0)
        self.sigmas = (((1 - ac) / ac) ** 0.5).float()
        self.log_sigmas = self.sigmas.log()
        self.sigma_min = float(self.sigmas[0])
        self.sigma_max = float(self.sigmas[-1])

    def timestep(self, sigma):
        dists = sigma.log() - self.log_sigmas[:, None]
        return dists.abs().argmin(dim=0).view(sigma.shape)


def karras_sigmas(n, sigma_min, sigma_max, rho=7.0):
    ramp = torch.linspace(0, 1, n)
    min_inv, max_inv = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (max_inv + ramp * (min_inv - max_inv)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros([1])])


@torch.no_grad()
def sample_dpmpp_2m(denoise, x, sigmas):
    old = None
    t_fn = lambda s: -s.log()  # noqa: E731
    for i in range(len(sigmas) - 1):
        d = denoise(x, sigmas[i])
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1]) if sigmas[i + 1] > 0 else None
        if old is None or sigmas[i + 1] == 0:
            if sigmas[i + 1] == 0:
                x = d
            else:
                h = t_next - t
                x = (sigmas[i + 1] / sigmas[i]) * x - torch.expm1(-h) * d
        else:
            h = t_next - t
            h_last = t - t_fn(sigmas[i - 1])
            r = h_last / h
            dd = (1 + 1 / (2 * r)) * d - (1 / (2 * r)) * old
            x = (sigmas[i + 1] / sigmas[i]) * x - torch.expm1(-h) * dd
        old = d
    return x


@torch.no_grad()
def generate(unet, cond, uncond, cfg_scale, noise, steps=20, ms=None):
    """cond/uncond: [B,77,C] contexts; noise: [B,4,h,w] N(0,1). Returns UNet-space latents."""
    ms = ms or DiscreteEps()
    sigmas = karras_sigmas(steps, ms.sigma_min, ms.sigma_max)
    b = noise.shape[0]

    def denoise(x, sigma):
        s = sigma.expand(b)
        t = ms.timestep(s).float()
        xin = x / (sigma ** 2 + 1.0) ** 0.5
        eps = unet(torch.cat([xin, xin]), torch.cat([t, t]), torch.cat([cond, uncond]))
        e_c, e_u = eps.chunk(2)
        eps = e_u + cfg_scale * (e_c - e_u)
        return x - eps * sigma

    x = noise * math.sqrt(1.0 + float(sigmas[0]) ** 2)  # ComfyUI max_denoise noise scaling
    return sample_dpmpp_2m(denoise, x, sigmas)
