"""fp32 state files (safetensors), the fp16 export of a trained model (checkpoint, json sidecar, vocab
files; temp files, then renamed) and loading an exported checkpoint back."""
import json
import os

import numpy as np
import torch

from . import bpe, st_io
from .latent_diffusion import LatentDiffusion
from .runlog import blas_lib
from .unet import unet_levels


def state_to_np(sd, prefix=""):
    return {prefix + k: v.detach().cpu().numpy() for k, v in sd.items()}


def save_fp32(module, path, prefix="", extra=None, meta=None):
    t = state_to_np(module.state_dict(), prefix)
    if extra:
        t.update(extra)
    st_io.save(path, t, meta)


def load_into(module, path, prefix=""):
    t, meta = st_io.load(path)
    sd = {k[len(prefix):]: torch.from_numpy(v) for k, v in t.items() if k.startswith(prefix)}
    module.load_state_dict(sd)
    return t, meta


def export(model, cfg, tok, export_dir, name, fp32_path):
    os.makedirs(export_dir, exist_ok=True)
    sd = model.state_dict()
    t32 = state_to_np(sd)
    st_io.save(fp32_path, t32, {"format": "pt", "model": name, "dtype": "fp32 (not shipped)"})
    t16 = {k: (v if v.dtype == np.int64 else v.astype(np.float16)) for k, v in t32.items()}
    fin = {}
    p = os.path.join(export_dir, f".{name}.safetensors.part")
    st_io.save(p, t16, {"format": "pt", "model": name,
                        "note": "vkflow-fashion: SD1.x-layout latent diffusion trained on Fashion-MNIST; "
                                f"config sidecar {name}.json"})
    fin[p] = os.path.join(export_dir, f"{name}.safetensors")
    vj = os.path.join(export_dir, f".{name}.vocab.json.part")
    mt = os.path.join(export_dir, f".{name}.merges.txt.part")
    tok.write_hf_files(vj, mt)
    fin[vj] = os.path.join(export_dir, f"{name}.vocab.json")
    fin[mt] = os.path.join(export_dir, f"{name}.merges.txt")
    cj = os.path.join(export_dir, f".{name}.json.part")
    with open(cj, "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")
    fin[cj] = os.path.join(export_dir, f"{name}.json")
    for a, b in fin.items():
        os.replace(a, b)
    return list(fin.values())


def load_checkpoint(path):
    """Exported checkpoint + sidecar json -> (fp32 LatentDiffusion, cfg, tokenizer or None)."""
    stem = path[:-len(".safetensors")] if path.endswith(".safetensors") else path
    with open(stem + ".json") as f:
        cfg = json.load(f)
    model = LatentDiffusion(cfg)
    t, _ = st_io.load(path)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.int64 if v.dtype == np.int64 else np.float32))
                           for k, v in t.items()})
    model.eval()
    tok = None
    if os.path.exists(stem + ".vocab.json"):
        tok = bpe.Tokenizer.from_hf_files(stem + ".vocab.json", stem + ".merges.txt")
    return model, cfg, tok


def sidecar_config(name, seed, cfg, scale, param_counts, training):
    """The json sidecar of an export: `cfg` (model_config + scale_factor) with the derived sizes, vocab file
    names and `training` (the same dict object: the caller adds timings and eval results later)."""
    pc = param_counts
    cfg_out = {"name": name, "visibility": "public",
               "reference_code": "CompVis/stable-diffusion (ldm, SD1 code path); trained by "
                                 "tools/train_fashion_model.py",
               "text_reference_code": "HF CLIPTextModel layout (openai/CLIP text transformer)",
               "seed": seed,
               "checkpoint_layout": "SD1.x single file: model.diffusion_model.*, first_stage_model.*, "
                                    "cond_stage_model.transformer.text_model.*, plus LatentDiffusion "
                                    "schedule buffers (fp16; position_ids I64)"}
    cfg_out["unet"] = cfg["unet"]
    cfg_out["unet_derived"] = unet_levels(cfg["unet"])
    cfg_out["vae"] = cfg["vae"]
    cfg_out["vae_downsample_factor"] = 2 ** (len(cfg["vae"]["ddconfig"]["ch_mult"]) - 1)
    cfg_out["text_encoder"] = dict(cfg["text_encoder"], vocab_file=f"{name}.vocab.json",
                                   merges_file=f"{name}.merges.txt",
                                   tokenizer="CLIP BPE (openai SimpleTokenizer rules), own vocab; "
                                             "[bos] + ids + [eos], padded with eos to 77")
    cfg_out["schedule"] = cfg["schedule"]
    cfg_out["scale_factor"] = scale
    cfg_out["image_size"] = [64, 64]
    cfg_out["param_counts"] = pc
    training["vocab_files"] = [f"{name}.vocab.json", f"{name}.merges.txt"]
    training["blas"] = blas_lib()
    cfg_out["training"] = training
    return cfg_out
