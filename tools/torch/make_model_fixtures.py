#!/usr/bin/python3
"""Reference values for the model families, from PyTorch 1.13 (Debian's python3-torch).

For each family (ei_conv1d also scaled to 3 blocks at half width) it writes random weights (in dkws's channels-last layouts), a batch of inputs and
labels, and what PyTorch computes from them: logits, the mean cross-entropy loss, the gradient of
every parameter, and the parameters after one Adam step followed by the MaxNorm constraint.
tests/test_model_parity.cpp checks dkws against this file.

Regenerate (only when the models change):
    /usr/bin/python3 tools/torch/make_model_fixtures.py > tests/fixtures/torch_models.json
"""
import json
import math
import sys

import torch

torch.manual_seed(1234)
torch.set_num_threads(1)
FRAMES, COEFFS, BATCH = 50, 13, 4


def conv_same_1d(w):  # ours [out][k][in] -> torch [out][in][k]
    return w.permute(0, 2, 1)


def conv_same_2d(w):  # ours [out][kh][kw][in] -> torch [out][in][kh][kw]
    return w.permute(0, 3, 1, 2)


class EIConv1D(torch.nn.Module):
    """Edge Impulse's default 1D CNN with dkws's layouts (dropout off for determinism); `channels`
    per conv block scales it (ei_conv1d's width and num_conv)."""

    def __init__(self, classes, channels=(8, 16)):
        super().__init__()
        self.shapes, cin, length = [], COEFFS, FRAMES
        for c in channels:
            self.shapes += [("conv", [c, 3, cin]), ("bias", [c])]
            cin, length = c, (length + 1) // 2
        self.shapes += [("dense", [classes, length * cin]), ("bias", [classes])]
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(s) * 0.3) for _, s in self.shapes])

    def forward(self, x):
        p = self.params
        h = x.view(-1, FRAMES, COEFFS).permute(0, 2, 1)  # N, C, L
        for i in range(0, len(p) - 2, 2):
            h = torch.relu(torch.nn.functional.conv1d(h, conv_same_1d(p[i]), p[i + 1], padding=1))
            h = torch.nn.functional.max_pool1d(h, 2, ceil_mode=True)  # Keras 'same' for pool 2
        h = h.permute(0, 2, 1).flatten(1)  # channels-last flatten
        return torch.nn.functional.linear(h, p[-2], p[-1])


class DSCNN(torch.nn.Module):
    """ds_cnn: conv(k3) -> ReLU -> pool, blocks of depthwise(k3) -> ReLU -> pointwise -> ReLU
    (-> pool but after the last), mean over time, dense. Dropout off."""

    def __init__(self, classes, c, blocks):
        super().__init__()
        self.blocks = blocks
        self.shapes = [("conv", [c, 3, COEFFS]), ("bias", [c])]
        for _ in range(blocks):  # depthwise weight [C][k]; pointwise [C][1][C]
            self.shapes += [("depthwise", [c, 3]), ("bias", [c]), ("conv", [c, 1, c]),
                            ("bias", [c])]
        self.shapes += [("dense", [classes, c]), ("bias", [classes])]
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(s) * 0.3) for _, s in self.shapes])

    def forward(self, x):
        p, F = self.params, torch.nn.functional
        h = x.view(-1, FRAMES, COEFFS).permute(0, 2, 1)  # N, C, L
        h = F.max_pool1d(torch.relu(F.conv1d(h, conv_same_1d(p[0]), p[1], padding=1)), 2,
                         ceil_mode=True)
        for b in range(self.blocks):
            dw, dwb, pw, pwb = p[2 + 4 * b:6 + 4 * b]
            h = torch.relu(F.conv1d(h, dw.unsqueeze(1), dwb, padding=1, groups=h.shape[1]))
            h = torch.relu(F.conv1d(h, conv_same_1d(pw), pwb))
            if b + 1 < self.blocks:
                h = F.max_pool1d(h, 2, ceil_mode=True)
        return F.linear(h.mean(dim=2), p[-2], p[-1])


class AudioClassifier(torch.nn.Module):
    """num_conv=2, growth=4, width=1, num_linear=2, floor pooling, dropout/noise off."""

    def __init__(self, classes):
        super().__init__()
        flat = 12 * 3 * 8
        hidden = max(3, int(math.exp((math.log(flat) + math.log(classes)) / 2)))
        self.shapes = [("conv", [8, 3, 3, 1]), ("bias", [8]), ("conv", [8, 3, 3, 8]), ("bias", [8]),
                       ("dense", [hidden, flat]), ("bias", [hidden]), ("dense", [classes, hidden]),
                       ("bias", [classes])]
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(s) * 0.3) for _, s in self.shapes])

    def forward(self, x):
        p = self.params
        h = x.view(-1, 1, FRAMES, COEFFS)
        for i in (0, 2):
            h = torch.relu(torch.nn.functional.conv2d(h, conv_same_2d(p[i]), p[i + 1], padding=1))
            h = torch.nn.functional.max_pool2d(h, 2)
        h = h.permute(0, 2, 3, 1).flatten(1)
        h = torch.relu(torch.nn.functional.linear(h, p[4], p[5]))
        return torch.nn.functional.linear(h, p[6], p[7])


def max_norm_(model, limit):
    with torch.no_grad():
        for (kind, _), w in zip(model.shapes, model.params):
            if kind != "conv":
                continue
            rows = w.view(w.shape[0], -1)
            norms = rows.norm(dim=1, keepdim=True)
            scale = torch.where(norms > limit, limit / (1e-7 + norms), torch.ones_like(norms))
            rows.mul_(scale)


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def case(model, spec, classes, lr, max_norm):
    x = torch.randn(BATCH, FRAMES * COEFFS)
    y = torch.randint(0, classes, (BATCH,))
    before = [flat(p) for p in model.params]
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    grads = [flat(p.grad) for p in model.params]
    opt = torch.optim.Adam(model.params, lr=lr)
    opt.step()
    if max_norm > 0:
        max_norm_(model, max_norm)
    return {
        "spec": spec, "frames": FRAMES, "coeffs": COEFFS, "classes": classes, "lr": lr,
        "input": flat(x), "labels": y.tolist(),
        "params": [{"shape": s, "data": d} for (_, s), d in zip(model.shapes, before)],
        "logits": flat(logits), "loss": float(loss), "grads": grads,
        "after_step": [flat(p) for p in model.params],
    }


out = {
    "generator": "tools/torch/make_model_fixtures.py",
    "torch": torch.__version__,
    "ei_conv1d": case(EIConv1D(3), {"family": "ei_conv1d", "dropout": 0.0}, 3, 0.005, 0.0),
    "audio_classifier": case(
        AudioClassifier(3),
        {"family": "audio_classifier", "num_conv": 2, "num_linear": 2, "growth": 4, "width": 1.0,
         "dropout": 0.0, "conv_dropout": 0.0, "noise": 0.0, "max_norm": 1.0}, 3, 0.01, 1.0),
    # Added later: the cases above keep their random draws.
    "ds_cnn": case(DSCNN(3, 8, 2), {"family": "ds_cnn", "width": 0.5, "num_conv": 2,
                                    "dropout": 0.0}, 3, 0.005, 0.0),
    "ei_conv1d_scaled": case(EIConv1D(3, (4, 8, 16)), {"family": "ei_conv1d", "width": 0.5,
                                                      "num_conv": 3, "dropout": 0.0}, 3, 0.005,
                             0.0),
}
json.dump(out, sys.stdout)
sys.stdout.write("\n")
