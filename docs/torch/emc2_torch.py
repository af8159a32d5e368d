#!/usr/bin/env python3
"""Load an emc2 encoder exported as safetensors into the equivalent torch.nn.Module.

Needs only PyTorch and NumPy (Debian: apt-get install python3-torch). The safetensors file is parsed
by hand (8-byte little-endian header length, JSON header, raw little-endian tensor bytes), so the
`safetensors` package is not required.

As a library:

    from emc2_torch import load, to_input
    model = load("encoder.safetensors")          # EMC2Encoder, eval mode, float32
    x = to_input(pixels)                         # uint8 (N, H, W, C) -> float32 (N, C, H, W) in [0, 1]
    feats = model.features(x)                    # hidden features (what emc2's linear probe reads)
    emb = model(x)                               # L2-normalised embeddings

From the shell:

    python3 emc2_torch.py encoder.safetensors                     # print the metadata and the module
    python3 emc2_torch.py encoder.safetensors --images X.u8 \\
        --hidden-out H.f32 --emb-out E.f32                        # embed raw uint8 NHWC images

The check that these embeddings equal emc2's is core/train/torch_test.go (`make test-torch`).
"""
import argparse
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# emc2 divides by the norm floored at this value (core/nn NormEps); F.normalize does the same.
NORM_EPS = 1e-6

_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}


def read_safetensors(path):
    """Return (metadata dict, {name: float32 numpy array}) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dt = _DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError(f"{path}: {name}: dtype {info['dtype']} is not supported (F32, F16, F64)")
        lo, hi = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if not 0 <= lo <= hi <= len(data) or hi - lo != count * dt.itemsize:
            raise ValueError(f"{path}: {name}: offsets {lo}..{hi} do not hold shape {shape} of {info['dtype']}")
        tensors[name] = np.frombuffer(data[lo:hi], dtype=dt).reshape(shape).astype(np.float32)
    return meta, tensors


class EMC2Encoder(nn.Module):
    """emc2's CNN in PyTorch's conventions (NCHW input, OIHW conv weights, [out, in] linear weights).

    Each block is conv3x3 (zero padding 1, stride 1) + bias + ReLU + 2x2 max-pool (odd sizes floor);
    then hidden = ReLU(Linear(flatten)), the probe features; then Linear projection and L2
    normalisation. No BatchNorm, no input mean/std normalisation: inputs are pixels / 255.
    """

    def __init__(self, in_h, in_w, in_c, channels, hidden, proj):
        super().__init__()
        self.in_h, self.in_w, self.in_c = in_h, in_w, in_c
        convs, c, h, w = [], in_c, in_h, in_w
        for co in channels:
            convs.append(nn.Conv2d(c, co, kernel_size=3, stride=1, padding=1))
            c, h, w = co, h // 2, w // 2
        self.convs = nn.ModuleList(convs)
        self.pooled = (c, h, w)
        self.hidden = nn.Linear(c * h * w, hidden)
        self.proj = nn.Linear(hidden, proj)

    def features(self, x):
        """The hidden (probe) features of x, float32 (N, C, H, W) in [0, 1]."""
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return F.relu(self.hidden(torch.flatten(x, 1)))  # flattened in (c, h, w) order

    def embed(self, h):
        """The L2-normalised embeddings of hidden features h."""
        return F.normalize(self.proj(h), dim=1, eps=NORM_EPS)

    def forward(self, x):
        return self.embed(self.features(x))


def load(path):
    """Build an EMC2Encoder from an emc2 safetensors export (its "arch" metadata) and load its weights."""
    meta, t = read_safetensors(path)
    if "arch" not in meta:
        raise ValueError(f"{path}: no 'arch' metadata: not an emc2 encoder export")
    a = json.loads(meta["arch"])
    m = EMC2Encoder(a["in_h"], a["in_w"], a["in_c"], a["channels"], a["hidden"], a["proj"])
    state = {}
    c_in = a["in_c"]
    for i, co in enumerate(a["channels"]):
        w, b = _get(t, f"conv{i + 1}.w", (3, 3, c_in, co)), _get(t, f"conv{i + 1}.b", (co,))
        state[f"convs.{i}.weight"] = w.transpose(3, 2, 0, 1)  # HWIO -> OIHW
        state[f"convs.{i}.bias"] = b
        c_in = co
    c, h, w = m.pooled
    hw = _get(t, "hidden.w", (h * w * c, a["hidden"]))
    # Rows are emc2's NHWC flatten (h, w, c); torch.flatten of NCHW is (c, h, w). Reorder, then [out, in].
    state["hidden.weight"] = hw.reshape(h, w, c, a["hidden"]).transpose(2, 0, 1, 3).reshape(c * h * w, a["hidden"]).T
    state["hidden.bias"] = _get(t, "hidden.b", (a["hidden"],))
    state["proj.weight"] = _get(t, "proj.w", (a["hidden"], a["proj"])).T  # [in, out] -> [out, in]
    state["proj.bias"] = _get(t, "proj.b", (a["proj"],))
    m.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True)
    m.meta = meta
    return m.eval()


def _get(tensors, name, shape):
    if name not in tensors:
        raise ValueError(f"the file has no tensor {name}")
    v = tensors[name]
    if v.shape != tuple(shape):
        raise ValueError(f"{name}: shape {list(v.shape)}, the arch needs {list(shape)}")
    return v


def to_input(pixels):
    """uint8 images (N, H, W, C), as emc2 stores them, to float32 (N, C, H, W) in [0, 1].

    Multiplies by float32(1/255) as emc2's plain (un-augmented) view does.
    """
    x = np.asarray(pixels, dtype=np.uint8).astype(np.float32) * np.float32(1.0 / 255)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", help="an emc2 safetensors export")
    ap.add_argument("--images", help="raw uint8 images, N x in_h x in_w x in_c (NHWC), N from the file size")
    ap.add_argument("--hidden-out", help="write the hidden features here (raw float32 little-endian, N x hidden)")
    ap.add_argument("--emb-out", help="write the embeddings here (raw float32 little-endian, N x proj)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    m = load(args.weights)
    if not args.images:
        for k in ("format", "method", "emc2_variant", "step", "beta", "arch"):
            print(f"{k}: {m.meta.get(k, '?')}")
        print(m)
        return 0
    pix = np.fromfile(args.images, dtype=np.uint8)
    per = m.in_h * m.in_w * m.in_c
    if pix.size % per:
        raise SystemExit(f"{args.images}: {pix.size} bytes is not a whole number of {m.in_h}x{m.in_w}x{m.in_c} images")
    x = to_input(pix.reshape(-1, m.in_h, m.in_w, m.in_c))
    with torch.no_grad():
        h = m.features(x)
        e = m.embed(h)
    for path, v in ((args.hidden_out, h), (args.emb_out, e)):
        if path:
            v.numpy().astype("<f4").tofile(path)
    print(f"embedded {x.shape[0]} images: hidden {tuple(h.shape)}, embeddings {tuple(e.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
