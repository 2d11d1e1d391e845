#!/usr/bin/python3
"""Writes tests/fixtures/torch_layers.json: PyTorch's answers for single layers, which
tests/test_layers_torch.cpp checks dkws's layers against.

Each case holds, in dkws's layouts (channels-last activations; dense weight [out][in], conv1d
weight [out][k][in], conv2d weight [out][kh][kw][in]): the layer config for make_layer(), a random
input x, weight and bias (depthwise_conv1d weight [C][k]), a random upstream gradient dy, and torch's y, dx, dweight and dbias.
The script converts to torch's layouts (channels-first, weight [out][in][k...]) and back.

Inputs are float32 values printed with 9 significant digits (exact round trip); torch computes in
float64 from those exact values, so the fixture is the exact answer and the C++ side only sees its
own float rounding.

Regenerate (needs torch 1.13 and numpy, which only /usr/bin/python3 has here):

    /usr/bin/python3 tools/torch/make_layer_fixtures.py            # writes tests/fixtures/...
    /usr/bin/python3 tools/torch/make_layer_fixtures.py OUT.json   # or elsewhere

The seed is fixed, so rerunning gives the same file.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(20240611)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def flat(a):
    # float32 values with 9 significant digits: parsing them back gives the same float.
    return [float("%.9g" % v) for v in np.asarray(a, dtype=np.float32).ravel()]


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def run(fn, x, params, dy):
    """Forward fn(x, *params) in float64, backward with upstream dy; returns y, dx, dparams."""
    xt = t64(x)
    pts = [t64(p) for p in params]
    y = fn(xt, *pts)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy(), [p.grad.numpy() for p in pts]


def conv1d_same(xt, wt, bt):
    # ours [N,L,C] / [O][K][C]  ->  torch [N,C,L] / [O][C][K]; torch's 'same' pads as Keras does.
    return F.conv1d(xt.permute(0, 2, 1), wt.permute(0, 2, 1), bt, padding="same").permute(0, 2, 1)


def conv2d_same(xt, wt, bt):
    # ours [N,H,W,C] / [O][KH][KW][C]  ->  torch [N,C,H,W] / [O][C][KH][KW].
    return F.conv2d(xt.permute(0, 3, 1, 2), wt.permute(0, 3, 1, 2), bt,
                    padding="same").permute(0, 2, 3, 1)


def case(name, layer, x, y, dy, dx, weight=None, bias=None, dweight=None, dbias=None):
    c = {"name": name, "layer": layer, "x_shape": list(x.shape), "x": flat(x),
         "y_shape": list(y.shape), "y": flat(y), "dy": flat(dy), "dx": flat(dx)}
    if weight is not None:
        c.update({"weight": flat(weight), "bias": flat(bias), "dweight": flat(dweight),
                  "dbias": flat(dbias)})
    return c


def conv1d_case(n, length, cin, cout, k):
    x, w, b = rand(n, length, cin), rand(cout, k, cin) * 0.3, rand(cout) * 0.1
    dy = rand(n, length, cout)
    y, dx, (dw, db) = run(conv1d_same, x, [w, b], dy)
    return case(f"conv1d {cin}->{cout} k{k} L{length}",
                {"kind": "conv1d", "in": cin, "out": cout, "kernel": k}, x, y, dy, dx, w, b, dw, db)


def conv2d_case(n, h, wd, cin, cout, kh, kw):
    x, w, b = rand(n, h, wd, cin), rand(cout, kh, kw, cin) * 0.3, rand(cout) * 0.1
    dy = rand(n, h, wd, cout)
    y, dx, (dw, db) = run(conv2d_same, x, [w, b], dy)
    return case(f"conv2d {cin}->{cout} {kh}x{kw} on {h}x{wd}",
                {"kind": "conv2d", "in": cin, "out": cout, "kernel": [kh, kw]},
                x, y, dy, dx, w, b, dw, db)


def dense_case(n, fin, fout):
    x, w, b, dy = rand(n, fin), rand(fout, fin) * 0.1, rand(fout) * 0.1, rand(n, fout)
    y, dx, (dw, db) = run(F.linear, x, [w, b], dy)  # torch Linear has our [out][in] layout
    return case(f"dense {fin}->{fout}", {"kind": "dense", "in": fin, "out": fout},
                x, y, dy, dx, w, b, dw, db)


def maxpool1d_same_case(n, length, c, pool):
    # Keras 'same': ceil(L/p) windows, total padding split smaller-half-first; padded cells never
    # win, which -inf padding reproduces in torch.
    out = -(-length // pool)
    total = max((out - 1) * pool + pool - length, 0)
    x, dy = rand(n, length, c), rand(n, out, c)
    fn = lambda xt: F.max_pool1d(F.pad(xt.permute(0, 2, 1), (total // 2, total - total // 2),
                                       value=-np.inf), pool).permute(0, 2, 1)
    y, dx, _ = run(fn, x, [], dy)
    return case(f"maxpool1d same p{pool} L{length}",
                {"kind": "maxpool1d", "pool": pool, "same": True}, x, y, dy, dx)


def maxpool2d_valid_case(n, h, wd, c, pool):
    x = rand(n, h, wd, c)
    fn = lambda xt: F.max_pool2d(xt.permute(0, 3, 1, 2), pool).permute(0, 2, 3, 1)
    dy = rand(n, h // pool, wd // pool, c)
    y, dx, _ = run(fn, x, [], dy)
    return case(f"maxpool2d valid p{pool} {h}x{wd}",
                {"kind": "maxpool2d", "pool": pool, "same": False}, x, y, dy, dx)


def depthwise_conv1d_case(n, length, c, k):
    # ours [N,L,C] / weight [C][K]  ->  torch [N,C,L] / [C][1][K] with groups=C.
    x, w, b = rand(n, length, c), rand(c, k) * 0.5, rand(c) * 0.1
    dy = rand(n, length, c)
    fn = lambda xt, wt, bt: F.conv1d(xt.permute(0, 2, 1), wt.unsqueeze(1), bt, padding="same",
                                     groups=c).permute(0, 2, 1)
    y, dx, (dw, db) = run(fn, x, [w, b], dy)
    return case(f"depthwise_conv1d C{c} k{k} L{length}",
                {"kind": "depthwise_conv1d", "channels": c, "kernel": k},
                x, y, dy, dx, w, b, dw, db)


def global_avgpool_case(shape):
    # ours [N, positions..., C] -> [N, C]: torch's mean over the position axes.
    x = rand(*shape)
    dy = rand(shape[0], shape[-1])
    fn = lambda xt: xt.mean(dim=tuple(range(1, len(shape) - 1)))
    y, dx, _ = run(fn, x, [], dy)
    return case(f"global_avgpool {'x'.join(map(str, shape))}", {"kind": "global_avgpool"},
                x, y, dy, dx)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "tests", "fixtures", "torch_layers.json")
    cases = [
        conv1d_case(2, 11, 13, 8, 3),
        conv1d_case(2, 9, 5, 6, 4),  # even kernel: one zero before, two after
        conv2d_case(2, 50, 13, 1, 8, 3, 3),
        conv2d_case(3, 6, 5, 4, 6, 3, 3),
        dense_case(3, 208, 3),
        maxpool1d_same_case(3, 11, 4, 2),
        maxpool1d_same_case(2, 7, 3, 3),  # padding 2: one cell before, one after
        maxpool2d_valid_case(2, 7, 5, 3, 2),
        # DS-CNN layers (appended, so the cases above keep their random draws).
        depthwise_conv1d_case(2, 9, 6, 3),
        depthwise_conv1d_case(2, 7, 5, 4),  # even kernel: one zero before, two after
        conv1d_case(2, 8, 6, 7, 1),  # pointwise
        global_avgpool_case((3, 13, 5)),
        global_avgpool_case((2, 4, 3, 6)),
    ]
    doc = {"generator": "tools/torch/make_layer_fixtures.py", "torch": torch.__version__,
           "cases": cases}
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(out_path)}")


if __name__ == "__main__":
    main()
