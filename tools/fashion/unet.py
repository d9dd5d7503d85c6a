"""UNetModel: CompVis/stable-diffusion ldm/modules/diffusionmodules/openaimodel.py (legacy=False),
parameter names == the SD1.x single-file keys under `model.diffusion_model.`; sizes from the "unet"
section of a config dict (shared/golden/sd1_tiny_a/config.json format)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import normalization, timestep_embedding, zero_module
from .spatial_transformer import SpatialTransformer


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x, emb, context=None):
        for layer in self:
            if isinstance(layer, ResBlock):
                x = layer(x, emb)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            else:
                x = layer(x)
        return x


class Upsample(nn.Module):
    def __init__(self, channels, out_channels=None):
        super().__init__()
        self.conv = nn.Conv2d(channels, out_channels or channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Downsample(nn.Module):
    def __init__(self, channels, out_channels=None):
        super().__init__()
        self.op = nn.Conv2d(channels, out_channels or channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class ResBlock(nn.Module):
    def __init__(self, channels, emb_channels, dropout=0.0, out_channels=None):
        super().__init__()
        out_channels = out_channels or channels
        self.in_layers = nn.Sequential(normalization(channels), nn.SiLU(),
                                       nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(normalization(out_channels), nn.SiLU(), nn.Dropout(p=dropout),
                                        zero_module(nn.Conv2d(out_channels, out_channels, 3, padding=1)))
        if out_channels == channels:
            self.skip_connection = nn.Identity()
        else:
            self.skip_connection = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        emb_out = self.emb_layers(emb).type(h.dtype)
        h = h + emb_out[..., None, None]
        h = self.out_layers(h)
        return self.skip_connection(x) + h


def unet_levels(ucfg):
    """Per-level channels / heads / head_dim as the reference constructor derives them."""
    mc = ucfg["model_channels"]
    nh = ucfg.get("num_heads", -1)
    nhc = ucfg.get("num_head_channels", -1)
    attn = ucfg["attention_resolutions"]

    def heads_for(ch):
        if nhc == -1 or nhc is None:
            return nh, ch // nh
        return ch // nhc, nhc

    levels, ds = [], 1
    for lvl, mult in enumerate(ucfg["channel_mult"]):
        ch = mult * mc
        h, d = heads_for(ch)
        levels.append({"level": lvl, "ds": ds, "channels": ch, "attention": ds in attn,
                       "heads": h if ds in attn else None, "head_dim": d if ds in attn else None})
        if lvl != len(ucfg["channel_mult"]) - 1:
            ds *= 2
    ch = ucfg["channel_mult"][-1] * mc
    h, d = heads_for(ch)
    return {"time_embed_dim": mc * 4, "levels": levels,
            "middle": {"channels": ch, "heads": h, "head_dim": d},
            "transformer_proj": "Linear" if ucfg.get("use_linear_in_transformer") else "Conv2d 1x1",
            "ff_inner_dim": "4*channels, GEGLU (proj to 2*4*channels, split value|gate, value*gelu(gate))"}


class UNetModel(nn.Module):
    def __init__(self, ucfg):
        super().__init__()
        in_ch = ucfg["in_channels"]
        out_ch = ucfg["out_channels"]
        mc = ucfg["model_channels"]
        nrb = ucfg["num_res_blocks"]
        attn_res = ucfg["attention_resolutions"]
        mults = ucfg["channel_mult"]
        num_heads = ucfg.get("num_heads", -1)
        num_head_channels = ucfg.get("num_head_channels", -1)
        if num_head_channels is None:
            num_head_channels = -1
        depth = ucfg.get("transformer_depth", 1)
        context_dim = ucfg["context_dim"]
        use_linear = bool(ucfg.get("use_linear_in_transformer", False))
        dropout = ucfg.get("dropout", 0.0)
        self.model_channels = mc
        ted = mc * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, ted), nn.SiLU(), nn.Linear(ted, ted))

        def heads(ch):
            if num_head_channels == -1:
                return num_heads, ch // num_heads
            return ch // num_head_channels, num_head_channels

        self.input_blocks = nn.ModuleList([TimestepEmbedSequential(nn.Conv2d(in_ch, mc, 3, padding=1))])
        chans = [mc]
        ch = mc
        ds = 1
        for level, mult in enumerate(mults):
            for _ in range(nrb):
                layers = [ResBlock(ch, ted, dropout, out_channels=mult * mc)]
                ch = mult * mc
                if ds in attn_res:
                    nh, dh = heads(ch)
                    layers.append(SpatialTransformer(ch, nh, dh, depth, context_dim, use_linear))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                chans.append(ch)
            if level != len(mults) - 1:
                self.input_blocks.append(TimestepEmbedSequential(Downsample(ch, ch)))
                chans.append(ch)
                ds *= 2
        nh, dh = heads(ch)
        self.middle_block = TimestepEmbedSequential(
            ResBlock(ch, ted, dropout),
            SpatialTransformer(ch, nh, dh, depth, context_dim, use_linear),
            ResBlock(ch, ted, dropout))
        self.output_blocks = nn.ModuleList([])
        for level, mult in list(enumerate(mults))[::-1]:
            for i in range(nrb + 1):
                ich = chans.pop()
                layers = [ResBlock(ch + ich, ted, dropout, out_channels=mc * mult)]
                ch = mc * mult
                if ds in attn_res:
                    nh, dh = heads(ch)
                    layers.append(SpatialTransformer(ch, nh, dh, depth, context_dim, use_linear))
                if level and i == nrb:
                    layers.append(Upsample(ch, ch))
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))
        self.out = nn.Sequential(normalization(ch), nn.SiLU(),
                                 zero_module(nn.Conv2d(mc, out_ch, 3, padding=1)))

    def forward(self, x, timesteps, context, debug=None):
        t_emb = timestep_embedding(timesteps, self.model_channels)
        emb = self.time_embed(t_emb)
        if debug is not None:
            debug["t_emb"], debug["emb"] = t_emb, emb
        hs = []
        h = x
        for i, m in enumerate(self.input_blocks):
            h = m(h, emb, context)
            hs.append(h)
            if debug is not None:
                debug[f"input_blocks.{i}"] = h
        h = self.middle_block(h, emb, context)
        if debug is not None:
            debug["middle_block"] = h
        for i, m in enumerate(self.output_blocks):
            h = torch.cat([h, hs.pop()], dim=1)
            h = m(h, emb, context)
            if debug is not None:
                debug[f"output_blocks.{i}"] = h
        return self.out(h)
