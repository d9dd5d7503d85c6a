"""Image statistics of tools/eval_fashion_model.py: the 64x64 PNG / real-image round trip to 28x28,
the Frechet distance between feature sets, and diversity (mean pairwise L2 distance)."""
import numpy as np
import torch
import torch.nn.functional as F


def png_to_28(path):
    """64x64 PNG -> float32 [28,28] in [0,1]: grey (channel mean), centre 56x56, 2x2 average."""
    from PIL import Image
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    if a.shape[:2] != (64, 64):
        raise RuntimeError(f"{path}: expected 64x64, got {a.shape[:2]}")
    g = a.mean(2)[4:60, 4:60]
    return g.reshape(28, 2, 28, 2).mean((1, 3))


def real_roundtrip(u8):
    """uint8 [N,28,28] -> float32 [N,28,28]: the training preprocessing (bilinear 2x to 56x56, as
    train_fashion_model.preprocess), uint8 quantisation like a PNG, then the same 2x2 average."""
    x = torch.from_numpy(u8.astype(np.float32) / 255.0)[:, None]
    x = F.interpolate(x, size=(56, 56), mode="bilinear", align_corners=False).clamp(0, 1)
    x = torch.round(x * 255.0) / 255.0
    return F.avg_pool2d(x, 2)[:, 0].numpy()


def frechet(f1, f2):
    """Frechet distance between Gaussians fitted to feature sets [N1,D], [N2,D] (float64)."""
    f1, f2 = np.asarray(f1, np.float64), np.asarray(f2, np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # sqrt(S1)
    m = r1 @ s2 @ r1
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(ev, 0, None)).sum())  # tr sqrt(S1 S2) = tr sqrt(sqrtS1 S2 sqrtS1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def mean_pairwise_l2(x):
    """Mean L2 distance over all unordered pairs of images x [N,28,28]."""
    f = np.asarray(x, np.float64).reshape(len(x), -1)
    sq = (f * f).sum(1)
    d2 = np.clip(sq[:, None] + sq[None] - 2 * f @ f.T, 0, None)
    iu = np.triu_indices(len(f), 1)
    return float(np.sqrt(d2[iu]).mean())
