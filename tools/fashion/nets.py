"""SD1.x networks, written to compute exactly what the reference code computes, with the same
parameter names so that `state_dict()` maps 1:1 onto the SD1.x single-file checkpoint keys.

This module only re-exports the classes; they live in
* unet.py               - UNetModel: CompVis/stable-diffusion ldm/modules/diffusionmodules/openaimodel.py
                          (legacy=False), with spatial_transformer.py (ldm/modules/attention.py:
                          SpatialTransformer, conv or linear proj_in/out)
* vae.py                - AutoencoderKL: ldm/models/autoencoder.py + ldm/modules/diffusionmodules/model.py
* text_encoder.py       - CLIPTextModel: HF transformers CLIPTextModel layout (== openai/CLIP text transformer)
* latent_diffusion.py   - LatentDiffusion: container with the single-file prefixes and the schedule buffers
* layers.py             - shared helpers (GroupNorm32, zero_module, timestep_embedding, attention)

All constructors take their sizes from a config dict in the format of
shared/golden/sd1_tiny_a/config.json (sections "unet", "vae", "text_encoder").
"""
__all__ = ["LatentDiffusion", "count_params", "make_schedule",
           "GroupNorm32", "normalization", "timestep_embedding", "zero_module",
           "BasicTransformerBlock", "CrossAttention", "FeedForward", "GEGLU", "SpatialTransformer",
           "CLIPTextModel",
           "Downsample", "ResBlock", "TimestepEmbedSequential", "UNetModel", "Upsample", "unet_levels",
           "AttnBlock", "AutoencoderKL", "Decoder", "Encoder", "ResnetBlock"]

from .latent_diffusion import LatentDiffusion, count_params, make_schedule
from .layers import GroupNorm32, normalization, timestep_embedding, zero_module
from .spatial_transformer import (BasicTransformerBlock, CrossAttention, FeedForward, GEGLU,
                                  SpatialTransformer)
from .text_encoder import CLIPTextModel
from .unet import Downsample, ResBlock, TimestepEmbedSequential, UNetModel, Upsample, unet_levels
from .vae import AttnBlock, AutoencoderKL, Decoder, Encoder, ResnetBlock
