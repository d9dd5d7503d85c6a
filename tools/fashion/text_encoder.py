"""CLIP text encoder in the HF transformers CLIPTextModel layout (== openai/CLIP text transformer),
parameter names == the SD1.x single-file keys under `cond_stage_model.transformer.text_model.`;
sizes from the "text_encoder" section of a config dict."""
import torch
import torch.nn as nn


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
