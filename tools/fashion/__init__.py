"""vkflow-fashion: a small SD1.x-architecture text-to-image model trained on Fashion-MNIST.

Shared:    st_io (safetensors read/write), bpe (CLIP SimpleTokenizer + vocab building),
           sampling (DDPM schedule, DPM++ 2M Karras sampler used for the evaluations).
Networks:  unet, spatial_transformer, vae, text_encoder, layers, latent_diffusion (the SD1.x
           single-file container); nets re-exports them all.
Trainer (tools/train_fashion_model.py): model_config, prompts, fmnist_data, train_schedule, runlog,
           vae_training, diffusion_training, checkpoint (fp32 states, export, load), builtin_eval,
           model_checks (--golden-check / --forward-check).
Evaluator (tools/eval_fashion_model.py): vkflow_runner, image_metrics, eval_scoring, engine_check,
           png_grid, intermediate_export (--export-state).
"""
