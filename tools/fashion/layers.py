"""Small building blocks shared by the SD1.x networks (ldm `normalization`, `zero_module`,
`timestep_embedding`, multi-head attention on [B, N, heads*dim] tensors)."""
import math

import torch
import torch.nn as nn


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
