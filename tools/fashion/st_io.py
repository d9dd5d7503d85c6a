"""Minimal safetensors reader/writer (numpy / torch, no external deps)."""
import json
import os
import struct

import numpy as np

_NP = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
       "I32": np.int32, "U8": np.uint8, "I8": np.int8}
_NAME = {np.dtype(v): k for k, v in _NP.items()}


def _as_numpy(t):
    if hasattr(t, "detach"):  # torch tensor
        t = t.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(t)


def save(path, tensors, metadata=None):
    """Write `tensors` (name -> numpy array / torch tensor) to `path` atomically (tmp + rename)."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = _as_numpy(tensors[name])
        if a.dtype not in _NAME:
            raise TypeError(f"{name}: unsupported dtype {a.dtype}")
        raw = a.tobytes()
        header[name] = {"dtype": _NAME[a.dtype], "shape": list(a.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load(path):
    """Return (dict name -> numpy array, metadata dict)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        if info["dtype"] == "BF16":
            raw = np.frombuffer(data[b:e], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[b:e], dtype=_NP[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).copy()
    return out, meta
