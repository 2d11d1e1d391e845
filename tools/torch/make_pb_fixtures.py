#!/usr/bin/python3
"""Writes tests/fixtures/torch_pb_candidates.json: the `pb` rules' candidate statistics and
gradient, computed with PyTorch autograd, which tests/test_dendrite_pb.cpp checks dkws against.

Each case is a wrapped layer (dense or conv1d, dkws's channels-last layouts) with one installed
dendrite g0 and one candidate g (cascade weight u onto h0 = act(g0(x))), a frozen error mean ebar,
and a few batches (x, e = dL/dy). Per channel c and batch, over the batch x positions p:

    X_c     = sum_p d_pc (e_pc - ebar_c)            (times 1/P under "mean")
    m_c    <- 0.99 m_c + 0.01 mean_p d_pc            (plain averages during the warm-up batches)
    C_c    <- 0.99 C_c + 0.01 (X_c - m_c ebar_c)
    best_c  = max(best_c, |C_c|)
    grad    = d/dw of  -sum_c sign(C_c before the batch) X_c     (none during the warm-up)

with d = act(g(x) + u h0). The gradient is what dkws's candidate optimiser minimises, so the
candidate climbs |C|. The last batch of each case flips the sign of C for some channel, so a
gradient that took the sign after the batch would differ. Weights are not stepped between batches.

Inputs are float32 values with 9 significant digits (exact round trip); torch computes in float64.

Regenerate (needs torch 1.13 and numpy, which only /usr/bin/python3 has here):

    /usr/bin/python3 tools/torch/make_pb_fixtures.py            # writes tests/fixtures/...
    /usr/bin/python3 tools/torch/make_pb_fixtures.py OUT.json   # or elsewhere
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(20240917)
ACTS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def flat(a):
    return [float("%.9g" % v) for v in np.asarray(a, dtype=np.float32).ravel()]


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float32), dtype=torch.float64)


def layer_fn(kind):
    if kind == "dense":
        return lambda x, w, b: x @ w.T + b
    # ours [N,L,C] / [O][K][C]  ->  torch [N,C,L] / [O][C][K]; 'same' padding.
    return lambda x, w, b: F.conv1d(x.permute(0, 2, 1), w.permute(0, 2, 1), b,
                                    padding="same").permute(0, 2, 1)


def make_case(name, kind, cin, cout, k, act, reduce, warmup, batches, n, length):
    fn, sig = layer_fn(kind), ACTS[act]
    wshape = (cout, cin) if kind == "dense" else (cout, k, cin)
    xshape = (n, cin) if kind == "dense" else (n, length, cin)
    g0w, g0b = rand(*wshape) * 0.5, rand(cout) * 0.1
    w, b, u = rand(*wshape) * 0.5, rand(cout) * 0.1, rand(cout) * 0.5
    ebar = (rand(cout) * 0.05).astype(np.float64)
    xs = [rand(*xshape) for _ in range(batches)]
    # e leans on d for the first batches; the last one is strongly anti-correlated, to flip C.
    es = []
    for i, x in enumerate(xs):
        with torch.no_grad():
            h0 = sig(fn(t64(x), t64(g0w), t64(g0b)))
            d = sig(fn(t64(x), t64(w), t64(b)) + t64(u) * h0)
        scale = 1.0 if i + 1 < batches else -400.0
        es.append((scale * 0.3 * (d.numpy() - 0.5) + 0.1 * rand(*d.shape)).astype(np.float32))

    m = np.zeros(cout)
    corr = np.zeros(cout)
    best = np.zeros(cout)
    out = []
    flipped = False
    for bi, (x, e) in enumerate(zip(xs, es), start=1):
        wt, bt, ut = (t64(v).requires_grad_(True) for v in (w, b, u))
        xt, et, eb = t64(x), t64(e), torch.tensor(ebar)
        h0 = sig(fn(xt, t64(g0w), t64(g0b)))
        d = sig(fn(xt, wt, bt) + ut * h0)
        dims = tuple(range(d.dim() - 1))
        positions = d.numel() // cout
        red = 1.0 / positions if reduce == "mean" else 1.0
        x_c = (d * (et - eb)).sum(dims) * red
        sign = torch.sign(torch.tensor(corr))
        warm = bi <= warmup
        mean_d = d.detach().sum(dims).numpy() / positions
        xv = x_c.detach().numpy()
        if warm:
            m = m + (mean_d - m) / bi
            new_corr = corr + (xv - m * ebar - corr) / bi
        else:
            m = 0.99 * m + 0.01 * mean_d
            new_corr = 0.99 * corr + 0.01 * (xv - m * ebar)
        flipped = flipped or (not warm and bool(np.any(np.sign(new_corr) * np.sign(corr) < 0)))
        corr = new_corr
        best = np.maximum(best, np.abs(corr))
        if warm:
            grads = [np.zeros(w.shape), np.zeros(b.shape), np.zeros(u.shape)]
        else:
            (-(sign * x_c).sum()).backward()
            grads = [wt.grad.numpy(), bt.grad.numpy(), ut.grad.numpy()]
        out.append({"x": flat(x), "e": flat(e), "mean_d": m.tolist(), "corr": corr.tolist(),
                    "best": best.tolist(), "dweight": grads[0].ravel().tolist(),
                    "dbias": grads[1].tolist(), "dcascade": grads[2].tolist()})
    assert flipped, f"{name}: no channel's correlation changed sign; pick other data"
    return {"name": name, "layer": ({"kind": "dense", "in": cin, "out": cout} if kind == "dense"
                                    else {"kind": "conv1d", "in": cin, "out": cout, "kernel": k}),
            "x_shape": list(xshape), "activation": act, "reduce": reduce, "warmup": warmup,
            "g0_weight": flat(g0w), "g0_bias": flat(g0b), "weight": flat(w), "bias": flat(b),
            "cascade": flat(u), "error_mean": ebar.tolist(), "batches": out}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "tests", "fixtures", "torch_pb_candidates.json")
    cases = [
        make_case("conv1d 2->3 k3, sigmoid, sum", "conv1d", 2, 3, 3, "sigmoid", "sum", 1, 4, 3, 5),
        make_case("dense 4->3, tanh, mean", "dense", 4, 3, 0, "tanh", "mean", 2, 5, 6, 0),
    ]
    with open(path, "w") as f:
        json.dump({"generator": "tools/torch/make_pb_fixtures.py", "torch": torch.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
