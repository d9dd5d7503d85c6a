"""AutoencoderKL: CompVis/stable-diffusion ldm/models/autoencoder.py + the Encoder/Decoder of
ldm/modules/diffusionmodules/model.py, parameter names == the SD1.x single-file keys under
`first_stage_model.`; sizes from the "vae" section of a config dict."""
import torch
import torch.nn as nn
import torch.nn.functional as F


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
