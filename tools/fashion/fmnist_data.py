"""Fashion-MNIST loading (Debian's dataset-fashion-mnist idx files) and the training preprocessing."""
import gzip
import os

import numpy as np
import torch
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def load_fmnist(split, limit=None):
    pre = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(DATA_DIR, f"{pre}-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    imgs = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 28, 28)
    with gzip.open(os.path.join(DATA_DIR, f"{pre}-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    if limit:
        imgs, labels = imgs[:limit], labels[:limit]
    return imgs, labels.astype(np.int64)


def preprocess(imgs_u8):
    """uint8 [N,28,28] -> float32 [N,1,64,64] in [-1,1]: bilinear 2x to 56x56, centred on black."""
    out = []
    for i in range(0, len(imgs_u8), 4096):
        x = torch.from_numpy(imgs_u8[i:i + 4096].astype(np.float32) / 255.0)[:, None]
        x = F.interpolate(x, size=(56, 56), mode="bilinear", align_corners=False).clamp(0, 1)
        x = F.pad(x, (4, 4, 4, 4), value=0.0)
        out.append(x * 2.0 - 1.0)
    return torch.cat(out)


def rgb(x1):
    return x1.expand(-1, 3, -1, -1)
