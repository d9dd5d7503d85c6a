"""The sample grid of tools/eval_fashion_model.py (rows of 64x64 PNGs -> one PNG)."""
import os

import numpy as np


def save_grid(rows, path, pad=2):
    """rows: list (per label) of lists of 64x64 PNG paths -> one PNG, pad px black/grey gaps."""
    from PIL import Image
    ncol = max(len(r) for r in rows)
    g = np.full((len(rows) * (64 + pad) + pad, ncol * (64 + pad) + pad, 3), 48, np.uint8)
    for r, paths in enumerate(rows):
        for c, p in enumerate(paths):
            y, x = pad + r * (64 + pad), pad + c * (64 + pad)
            g[y:y + 64, x:x + 64] = np.asarray(Image.open(p).convert("RGB"))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(g).save(path, optimize=True)
