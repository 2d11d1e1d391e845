#!/usr/bin/python3
"""Writes tests/fixtures/torch_dendrites.json: PyTorch's answers for dendrite-wrapped layers,
which tests/test_dendrite_torch.cpp checks dkws's DendriteLayer against (fast path and reference
loops alike).

The math (the definition is DendriteLayer::forward_reference / backward_reference in
src/dendrite/dendrite_reference.cpp), with f a Conv1D, Conv2D or Dense and g_k copies of its shape:

    a_k = g_k(x) + sum_{j<k} u_kj * h_j      h_k = sigma(a_k)      y = f(x) + sum_k v_k * h_k

u_kj and v_k are per-channel vectors, broadcast over batch and positions. Perforated, the input
error flows through f alone: the g_k branches see x detached. Not perforated (gd), it flows
through every branch. Parameter gradients are the same either way.

Two kinds of case:
- "wrapped": forward y and every gradient (dx; weight and bias of f and of each g_k; each v_k and
  u_kj) for a random upstream gradient dy.
- "candidates": the dendrite phase. Installed dendrites are frozen; K candidate dendrites, each a
  fresh g with cascade weights cu_j from the installed h_j, are scored over several batches on
  S_c = | sum_p (d_pc - md_c)(e_pc - me_c) |, d = sigma(g(x) + sum_j cu_j * h_j), e = dL/dy,
  with md, me the running means over the batches so far (held constant in the derivative) and the
  covariance summed over the batches. Per batch of P positions dkws stores the gradient of -S / P
  in the candidates' grads (a minimiser then climbs S); the fixture holds that gradient for each
  batch on its own, and the scores |cov| / positions after the last batch.

Layouts are dkws's (channels-last; weights [out][in], [out][k][in], [out][kh][kw][in]); names are
those of DendriteLayer::params() ("weight", "g0.bias", "v1", "u2_0", ...) and candidate_params()
("weight", "bias", "cu0", ...). Inputs are float32 values printed with 9 significant digits; torch
computes in float64, so the fixture is the exact answer to float32 inputs.

Regenerate (needs torch 1.13 and numpy, which only /usr/bin/python3 has here):

    /usr/bin/python3 tools/torch/make_dendrite_fixtures.py            # writes tests/fixtures/...
    /usr/bin/python3 tools/torch/make_dendrite_fixtures.py OUT.json   # or elsewhere

The seed is fixed, so rerunning gives the same file.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from make_layer_fixtures import conv1d_same, conv2d_same, flat

rng = np.random.default_rng(20250315)

ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def rand(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def t64(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


class Base:
    """f's kind, config and shapes, and its forward in dkws's layouts."""

    def __init__(self, kind, cin, cout, kernel=None, spatial=()):
        self.kind, self.cin, self.cout, self.kernel, self.spatial = kind, cin, cout, kernel, spatial
        self.config = {"kind": kind, "in": cin, "out": cout}
        if kernel is not None:
            self.config["kernel"] = kernel if kind == "conv1d" else list(kernel)
        self.fn = {"dense": F.linear, "conv1d": conv1d_same, "conv2d": conv2d_same}[kind]

    def weight_shape(self):
        k = [] if self.kernel is None else ([self.kernel] if self.kind == "conv1d" else self.kernel)
        return (self.cout, *k, self.cin)

    def x_shape(self, n):
        return (n, *self.spatial, self.cin)

    def describe(self):
        k = "" if self.kernel is None else (f" k{self.kernel}" if self.kind == "conv1d" else
                                            " {}x{}".format(*self.kernel))
        at = "" if not self.spatial else " on " + "x".join(map(str, self.spatial))
        return f"{self.kind} {self.cin}->{self.cout}{k}{at}"

    def random_params(self, prefix=""):
        return {prefix + "weight": rand(*self.weight_shape(), scale=0.3),
                prefix + "bias": rand(self.cout, scale=0.1)}


def wrapped_params(base, dendrites):
    """f, then per dendrite k: g_k, v_k and u_kj (j < k), in DendriteLayer::params() order."""
    params = base.random_params()
    for k in range(dendrites):
        params.update(base.random_params(f"g{k}."))
        params[f"v{k}"] = rand(base.cout, scale=0.5)
        for j in range(k):
            params[f"u{k}_{j}"] = rand(base.cout, scale=0.5)
    return params


def wrapped_forward(base, p, x, dendrites, act, perforated):
    """y and the h_k, from float64 tensors p (by name) and x."""
    sigma = ACTIVATIONS[act]
    y = base.fn(x, p["weight"], p["bias"])
    xg = x.detach() if perforated else x  # perforated: no input error through the dendrites
    hs = []
    for k in range(dendrites):
        a = base.fn(xg, p[f"g{k}.weight"], p[f"g{k}.bias"])
        for j in range(k):
            a = a + p[f"u{k}_{j}"] * hs[j]
        hs.append(sigma(a))
        y = y + p[f"v{k}"] * hs[k]
    return y, hs


def layer_config(base, dendrites, act, perforated):
    return {"kind": "dendrite", "base": base.config, "dendrites": dendrites, "activation": act,
            "perforated": perforated}


def wrapped_case(base, n, dendrites, act, perforated):
    params = wrapped_params(base, dendrites)
    x = rand(*base.x_shape(n))
    pt = {name: t64(v) for name, v in params.items()}
    xt = t64(x)
    y, _ = wrapped_forward(base, pt, xt, dendrites, act, perforated)
    dy = rand(*y.shape)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return {"name": f"{base.describe()}, {plural(dendrites, 'dendrite')} ({act}), "
                    f"{'perforated' if perforated else 'not perforated'}",
            "layer": layer_config(base, dendrites, act, perforated),
            "x_shape": list(x.shape), "x": flat(x), "y_shape": list(y.shape),
            "y": flat(y.detach().numpy()), "dy": flat(dy), "dx": flat(xt.grad.numpy()),
            "params": {k: flat(v) for k, v in params.items()},
            "grads": {k: flat(v.grad.numpy()) for k, v in pt.items()}}


def candidates_case(base, batch_sizes, dendrites, k_candidates, act):
    sigma = ACTIVATIONS[act]
    params = wrapped_params(base, dendrites)
    cands = []
    for _ in range(k_candidates):
        c = base.random_params()
        for j in range(dendrites):
            c[f"cu{j}"] = rand(base.cout, scale=0.5)
        cands.append(c)
    pt = {name: t64(v, grad=False) for name, v in params.items()}
    cout = base.cout
    sum_e, count = np.zeros(cout), 0
    sum_d = [np.zeros(cout) for _ in cands]
    cov = [np.zeros(cout) for _ in cands]
    batches = []
    for n in batch_sizes:
        x = rand(*base.x_shape(n))
        xt = t64(x)
        y, hs = wrapped_forward(base, pt, xt, dendrites, act, True)
        e = rand(*y.shape)
        y.backward(torch.tensor(e, dtype=torch.float64))
        e64 = e.astype(np.float64).reshape(-1, cout)  # [positions, C]
        positions = e64.shape[0]
        sum_e += e64.sum(0)
        count += positions
        me = torch.tensor(sum_e / count)
        et = torch.tensor(e64)
        grads = []
        for i, c in enumerate(cands):
            ct = {name: t64(v) for name, v in c.items()}
            a = base.fn(xt.detach(), ct["weight"], ct["bias"])
            for j in range(dendrites):
                a = a + ct[f"cu{j}"] * hs[j].detach()
            d = sigma(a).reshape(-1, cout)
            sum_d[i] += d.detach().numpy().sum(0)
            md = torch.tensor(sum_d[i] / count)
            # This batch's covariance (means held fixed) on top of the earlier batches'.
            total = torch.tensor(cov[i]) + ((d - md) * (et - me)).sum(0)
            (-total.abs().sum() / positions).backward()
            cov[i] = total.detach().numpy()
            grads.append({name: flat(v.grad.numpy()) for name, v in ct.items()})
        batches.append({"x_shape": list(x.shape), "x": flat(x), "y_shape": list(y.shape),
                        "y": flat(y.detach().numpy()), "dy": flat(e), "dx": flat(xt.grad.numpy()),
                        "candidate_grads": grads})
    return {"name": f"{base.describe()}, {dendrites} installed ({act}), "
                    f"{plural(k_candidates, 'candidate')}, batches of {batch_sizes}",
            "layer": layer_config(base, dendrites, act, True),
            "params": {k: flat(v) for k, v in params.items()},
            "candidates": [{k: flat(v) for k, v in c.items()} for c in cands],
            "batches": batches,
            "scores": [flat(np.abs(c) / count) for c in cov]}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "tests", "fixtures", "torch_dendrites.json")
    conv1d = Base("conv1d", 3, 4, 3, (7,))
    conv1d_even = Base("conv1d", 2, 3, 4, (6,))  # even kernel: one zero before, two after
    conv2d = Base("conv2d", 2, 3, (3, 3), (5, 4))
    dense = Base("dense", 6, 4)
    wrapped = []
    for perforated in (True, False):
        wrapped += [wrapped_case(conv1d, 2, 2, "tanh", perforated),
                    wrapped_case(conv2d, 2, 3, "tanh", perforated),
                    wrapped_case(dense, 3, 3, "sigmoid", perforated)]
    wrapped += [wrapped_case(dense, 4, 1, "relu", False),
                wrapped_case(conv1d_even, 2, 1, "sigmoid", True)]
    candidates = [candidates_case(conv1d, [3, 2], 1, 2, "tanh"),
                  candidates_case(dense, [4, 6], 2, 1, "sigmoid"),
                  candidates_case(conv2d, [2, 1], 1, 2, "relu")]
    doc = {"generator": "tools/torch/make_dendrite_fixtures.py", "torch": torch.__version__,
           "wrapped": wrapped, "candidates": candidates}
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(wrapped)} wrapped-layer and {len(candidates)} candidate cases to "
          f"{os.path.normpath(out_path)}")


if __name__ == "__main__":
    main()
