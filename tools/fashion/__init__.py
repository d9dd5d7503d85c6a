"""vkflow-fashion: a small SD1.x-architecture text-to-image model trained on Fashion-MNIST.

Modules: st_io (safetensors read/write), bpe (CLIP SimpleTokenizer + vocab building),
nets (UNet / AutoencoderKL / CLIP text encoder with the SD1.x single-file key layout),
sampling (DDPM schedule, DPM++ 2M Karras sampler used for the built-in evaluation).
"""
