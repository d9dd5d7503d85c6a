"""tools/eval_fashion_model.py --torch-check: vkflow's PNGs against a PyTorch re-generation with the
trainer's modules and sampler from the same ComfyUI noise."""
import numpy as np
import torch

from . import sampling
from .checkpoint import load_checkpoint
from .prompts import LABELS, prompt_for


@torch.no_grad()
def torch_check(ck, pngs, cfgs, steps, n_per_label):
    """Re-generate the first n_per_label seeds of every label and cfg with the trainer's PyTorch modules
    and its ComfyUI-equivalent sampler (tools/fashion/sampling.py: DPM++ 2M, Karras) from the same
    ComfyUI noise (torch.manual_seed(seed); randn [1,4,8,8]), quantised like SaveImage (truncation);
    -> differences to vkflow's PNGs in 8-bit levels. Checks the whole engine pipeline, not the model."""
    model, mcfg, tok = load_checkpoint(ck)
    scale = mcfg["scale_factor"]
    ms = sampling.DiscreteEps()
    uncond = model.text(torch.tensor([tok("")]))
    out = {}
    for cfg in cfgs:
        diffs = []
        for li, label in enumerate(LABELS):
            c = model.text(torch.tensor([tok(prompt_for(label))]))
            for seed, path in pngs[cfg][li][:n_per_label]:
                noise = torch.randn([1, 4, 8, 8], generator=torch.Generator().manual_seed(seed))
                z = sampling.generate(model.unet, c, uncond, cfg, noise, steps, ms)
                img = ((model.vae.decode(z / scale) + 1) / 2).clamp(0, 1)[0].permute(1, 2, 0).numpy()
                ref = np.floor(img * 255.0)
                from PIL import Image
                got = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
                diffs.append(np.abs(got - ref))
        d = np.stack(diffs)
        out[f"cfg{cfg:g}"] = {"images": int(len(d)), "max_abs_u8": float(d.max()),
                              "mean_abs_u8": float(d.mean()),
                              "pixels_off_by_more_than_2_frac": float((d > 2).mean())}
    return out
