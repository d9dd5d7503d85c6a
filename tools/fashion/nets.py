"""SD1.x networks, written to compute exactly what the reference code computes, with the same
parameter names so that `state_dict()` maps 1:1 onto the SD1.x single-file checkpoint keys.

* UNetModel          - CompVis/stable-diffusion ldm/modules/diffusionmodules/openaimodel.py (legacy=False)
                       + ldm/modules/attention.py (SpatialTransformer, conv or linear proj_in/out)
* AutoencoderKL      - ldm/models/autoencoder.py + ldm/modules/diffusionmodules/model.py (Encoder/Decoder)
* CLIPTextModel      - HF transformers CLIPTextModel layout (== openai/CLIP text transformer)
* LatentDiffusion    - container with the single-file prefixes and the schedule buffers

All constructors take their sizes from a config dict in the format of
shared/golden/sd1_tiny_a/config.json (sections "unet", "vae", "text_encoder").
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------
# shared helpers


class GroupNorm32(nn.GroupNorm):
    """ldm `normalization()`: GroupNorm(32, C), eps 1e-5, computed in fp32."""

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def normalization(ch):
    return GroupNorm32(32, ch)


def zero_module(m):
    for p in m.parameters():
        p.detach().zero_()
    return m


def timestep_embedding(timesteps, dim, max_period=10000):
    """cos first (ldm util.timestep_embedding, repeat_only=False)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = timesteps[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def _attention(q, k, v, heads):
    """q [B,N,h*d], k/v [B,M,h*d] -> [B,N,h*d]; heads split 'b n (h d) -> (b h) n d'."""
    b, n, inner = q.shape
    m = k.shape[1]
    d = inner // heads
    q = q.reshape(b, n, heads, d).permute(0, 2, 1, 3).reshape(b * heads, n, d)
    k = k.reshape(b, m, heads, d).permute(0, 2, 1, 3).reshape(b * heads, m, d)
    v = v.reshape(b, m, heads, d).permute(0, 2, 1, 3).reshape(b * heads, m, d)
    sim = torch.bmm(q, k.transpose(1, 2)) * (d ** -0.5)
    attn = sim.softmax(dim=-1)
    out = torch.bmm(attn, v)
    return out.reshape(b, heads, n, d).permute(0, 2, 1, 3).reshape(b, n, inner)


# --------------------------------------------------------------------------------------------
# UNet


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


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim=None, heads=8, dim_head=64, dropout=0.0):
        super().__init__()
        inner = dim_head * heads
        context_dim = context_dim or query_dim
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(dropout))

    def forward(self, x, context=None):
        if context is None:
            k, v = self.to_k(x), self.to_v(x)
        elif isinstance(context, tuple):
            # training shortcut: (unique contexts [U,77,C], index [B]) - identical result to
            # to_k(unique[index]), but the projections are computed once per distinct prompt
            u, inv = context
            k, v = self.to_k(u)[inv], self.to_v(u)[inv]
        else:
            k, v = self.to_k(context), self.to_v(context)
        out = _attention(self.to_q(x), k, v, self.heads)
        return self.to_out(out)


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, dropout=0.0):
        super().__init__()
        inner = int(dim * mult)
        self.net = nn.Sequential(GEGLU(dim, inner), nn.Dropout(dropout), nn.Linear(inner, dim))

    def forward(self, x):
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, n_heads, d_head, context_dim):
        super().__init__()
        self.attn1 = CrossAttention(dim, heads=n_heads, dim_head=d_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim=context_dim, heads=n_heads, dim_head=d_head)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context=context) + x
        x = self.ff(self.norm3(x)) + x
        return x


class SpatialTransformer(nn.Module):
    def __init__(self, in_channels, n_heads, d_head, depth, context_dim, use_linear=False):
        super().__init__()
        inner = n_heads * d_head
        self.use_linear = use_linear
        self.norm = nn.GroupNorm(32, in_channels, eps=1e-6, affine=True)
        if use_linear:
            self.proj_in = nn.Linear(in_channels, inner)
        else:
            self.proj_in = nn.Conv2d(in_channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner, n_heads, d_head, context_dim) for _ in range(depth)])
        if use_linear:
            self.proj_out = zero_module(nn.Linear(inner, in_channels))
        else:
            self.proj_out = zero_module(nn.Conv2d(inner, in_channels, 1))

    def forward(self, x, context):
        b, c, h, w = x.shape
        x_in = x
        x = self.norm(x)
        if not self.use_linear:
            x = self.proj_in(x)
        inner = x.shape[1]
        x = x.reshape(b, inner, h * w).transpose(1, 2)
        if self.use_linear:
            x = self.proj_in(x)
        for blk in self.transformer_blocks:
            x = blk(x, context)
        if self.use_linear:
            x = self.proj_out(x)
        x = x.transpose(1, 2).reshape(b, -1, h, w)
        if not self.use_linear:
            x = self.proj_out(x)
        return x + x_in


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


# --------------------------------------------------------------------------------------------
# VAE (AutoencoderKL)


def Normalize(ch):
    return nn.GroupNorm(num_groups=32, num_channels=ch, eps=1e-6, affine=True)


def swish(x):
    return x * torch.sigmoid(x)


class VUpsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=1, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class VDownsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))


class ResnetBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, dropout=0.0):
        super().__init__()
        out_channels = out_channels or in_channels
        self.norm1 = Normalize(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.norm2 = Normalize(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1, 1, 0)
        else:
            self.nin_shortcut = None

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = Normalize(ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Conv2d(ch, ch, 1)
        self.v = nn.Conv2d(ch, ch, 1)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        h_ = self.norm(x)
        q, k, v = self.q(h_), self.k(h_), self.v(h_)
        b, c, h, w = q.shape
        q = q.reshape(b, c, h * w).permute(0, 2, 1)
        k = k.reshape(b, c, h * w)
        w_ = torch.bmm(q, k) * (int(c) ** (-0.5))
        w_ = F.softmax(w_, dim=2)
        v = v.reshape(b, c, h * w)
        h_ = torch.bmm(v, w_.permute(0, 2, 1)).reshape(b, c, h, w)
        return x + self.proj_out(h_)


class _Level(nn.Module):
    pass


class _Mid(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, dd):
        super().__init__()
        ch, ch_mult, nrb = dd["ch"], tuple(dd["ch_mult"]), dd["num_res_blocks"]
        attn_res = dd.get("attn_resolutions", [])
        self.num_resolutions = len(ch_mult)
        self.num_res_blocks = nrb
        self.conv_in = nn.Conv2d(dd["in_channels"], ch, 3, 1, 1)
        curr_res = dd["resolution"]
        in_ch_mult = (1,) + ch_mult
        self.down = nn.ModuleList()
        block_in = ch
        for i in range(self.num_resolutions):
            block, attn = nn.ModuleList(), nn.ModuleList()
            block_in = ch * in_ch_mult[i]
            block_out = ch * ch_mult[i]
            for _ in range(nrb):
                block.append(ResnetBlock(block_in, block_out, dd.get("dropout", 0.0)))
                block_in = block_out
                if curr_res in attn_res:
                    attn.append(AttnBlock(block_in))
            down = _Level()
            down.block, down.attn = block, attn
            if i != self.num_resolutions - 1:
                down.downsample = VDownsample(block_in)
                curr_res //= 2
            self.down.append(down)
        self.mid = _Mid()
        self.mid.block_1 = ResnetBlock(block_in, block_in)
        self.mid.attn_1 = AttnBlock(block_in)
        self.mid.block_2 = ResnetBlock(block_in, block_in)
        self.norm_out = Normalize(block_in)
        zc = dd["z_channels"]
        self.conv_out = nn.Conv2d(block_in, 2 * zc if dd.get("double_z", True) else zc, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for i in range(self.num_resolutions):
            for j in range(self.num_res_blocks):
                h = self.down[i].block[j](h)
                if len(self.down[i].attn) > 0:
                    h = self.down[i].attn[j](h)
            if i != self.num_resolutions - 1:
                h = self.down[i].downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, dd):
        super().__init__()
        ch, ch_mult, nrb = dd["ch"], tuple(dd["ch_mult"]), dd["num_res_blocks"]
        attn_res = dd.get("attn_resolutions", [])
        self.num_resolutions = len(ch_mult)
        self.num_res_blocks = nrb
        block_in = ch * ch_mult[-1]
        curr_res = dd["resolution"] // 2 ** (self.num_resolutions - 1)
        self.conv_in = nn.Conv2d(dd["z_channels"], block_in, 3, 1, 1)
        self.mid = _Mid()
        self.mid.block_1 = ResnetBlock(block_in, block_in)
        self.mid.attn_1 = AttnBlock(block_in)
        self.mid.block_2 = ResnetBlock(block_in, block_in)
        self.up = nn.ModuleList()
        for i in reversed(range(self.num_resolutions)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            block_out = ch * ch_mult[i]
            for _ in range(nrb + 1):
                block.append(ResnetBlock(block_in, block_out, dd.get("dropout", 0.0)))
                block_in = block_out
                if curr_res in attn_res:
                    attn.append(AttnBlock(block_in))
            up = _Level()
            up.block, up.attn = block, attn
            if i != 0:
                up.upsample = VUpsample(block_in)
                curr_res *= 2
            self.up.insert(0, up)
        self.norm_out = Normalize(block_in)
        self.conv_out = nn.Conv2d(block_in, dd["out_ch"], 3, 1, 1)

    def forward(self, z):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for i in reversed(range(self.num_resolutions)):
            for j in range(self.num_res_blocks + 1):
                h = self.up[i].block[j](h)
                if len(self.up[i].attn) > 0:
                    h = self.up[i].attn[j](h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class AutoencoderKL(nn.Module):
    def __init__(self, vcfg):
        super().__init__()
        dd = vcfg["ddconfig"]
        ed = vcfg["embed_dim"]
        self.encoder = Encoder(dd)
        self.decoder = Decoder(dd)
        self.quant_conv = nn.Conv2d(2 * dd["z_channels"], 2 * ed, 1)
        self.post_quant_conv = nn.Conv2d(ed, dd["z_channels"], 1)

    def encode(self, x):
        """-> (mean, logvar) of the posterior (logvar clamped to [-30, 20])."""
        moments = self.quant_conv(self.encoder(x))
        mean, logvar = torch.chunk(moments, 2, dim=1)
        return mean, torch.clamp(logvar, -30.0, 20.0)

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


# --------------------------------------------------------------------------------------------
# CLIP text encoder (HF CLIPTextModel layout)


class _Emb(nn.Module):
    def __init__(self, vocab, width, n_pos):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(n_pos, width)
        self.register_buffer("position_ids", torch.arange(n_pos, dtype=torch.int64)[None], persistent=True)


class _SelfAttn(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, mask):
        b, n, w = x.shape
        h = self.heads
        d = w // h

        def split(t):
            return t.reshape(b, n, h, d).permute(0, 2, 1, 3).reshape(b * h, n, d)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        sim = torch.bmm(q, k.transpose(1, 2)) * (d ** -0.5) + mask
        out = torch.bmm(sim.softmax(dim=-1), v)
        out = out.reshape(b, h, n, d).permute(0, 2, 1, 3).reshape(b, n, w)
        return self.out_proj(out)


class _MLP(nn.Module):
    def __init__(self, width, inter):
        super().__init__()
        self.fc1 = nn.Linear(width, inter)
        self.fc2 = nn.Linear(inter, width)

    def forward(self, x):
        x = self.fc1(x)
        return self.fc2(x * torch.sigmoid(1.702 * x))  # quick_gelu


class _Layer(nn.Module):
    def __init__(self, width, heads, inter, eps):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.self_attn = _SelfAttn(width, heads)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = _MLP(width, inter)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class _EncoderStack(nn.Module):
    def __init__(self, n, *a):
        super().__init__()
        self.layers = nn.ModuleList([_Layer(*a) for _ in range(n)])


class CLIPTextModel(nn.Module):
    """Module path == `text_model` of HF CLIPTextModel."""

    def __init__(self, tcfg):
        super().__init__()
        w = tcfg["width"]
        eps = tcfg.get("layer_norm_eps", 1e-5)
        inter = tcfg.get("intermediate_size", w * tcfg.get("mlp_ratio", 4))
        self.n_pos = tcfg.get("context_length", 77)
        self.embeddings = _Emb(tcfg["vocab_size"], w, self.n_pos)
        self.encoder = _EncoderStack(tcfg["layers"], w, tcfg["heads"], inter, eps)
        self.final_layer_norm = nn.LayerNorm(w, eps=eps)

    def forward(self, input_ids, hidden_states=None):
        n = input_ids.shape[1]
        x = self.embeddings.token_embedding(input_ids) + \
            self.embeddings.position_embedding(self.embeddings.position_ids[:, :n])
        mask = torch.full((n, n), float("-inf"), dtype=x.dtype).triu_(1)
        if hidden_states is not None:
            hidden_states.append(x)
        for layer in self.encoder.layers:
            x = layer(x, mask)
            if hidden_states is not None:
                hidden_states.append(x)
        return self.final_layer_norm(x)


# --------------------------------------------------------------------------------------------
# container with the single-file prefixes


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
