"""The vkflow-fashion architecture as a config dict (sd1_tiny_a/config.json format)."""


def model_config(vocab_size):
    """The vkflow-fashion architecture, in the sd1_tiny_a/config.json format."""
    return {
        "unet": {
            "image_size": 8, "in_channels": 4, "out_channels": 4, "model_channels": 64,
            "attention_resolutions": [1, 2], "num_res_blocks": 1, "channel_mult": [1, 2, 2],
            "num_heads": 4, "use_spatial_transformer": True, "transformer_depth": 1,
            "context_dim": 128, "use_checkpoint": False, "legacy": False,
        },
        "vae": {
            "embed_dim": 4,
            "ddconfig": {"double_z": True, "z_channels": 4, "resolution": 64, "in_channels": 3,
                         "out_ch": 3, "ch": 32, "ch_mult": [1, 1, 2, 4], "num_res_blocks": 1,
                         "attn_resolutions": [], "dropout": 0.0},
        },
        "text_encoder": {
            "width": 128, "layers": 3, "heads": 4, "vocab_size": vocab_size, "context_length": 77,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "mlp_ratio": 4,
            "intermediate_size": 512, "head_dim": 32, "causal_mask": True,
            "pad_token_id": vocab_size - 1, "bos_token_id": vocab_size - 2,
            "eos_token_id": vocab_size - 1,
        },
        "schedule": {
            "timesteps": 1000, "beta_schedule": "linear", "linear_start": 0.00085,
            "linear_end": 0.012, "parameterization": "eps",
            "betas": "linspace(sqrt(linear_start), sqrt(linear_end), 1000, float64)**2",
        },
    }
