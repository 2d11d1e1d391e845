#!/usr/bin/python3
"""The PyTorch side of the kws12 baseline: Edge Impulse's Conv1D trained on dkws's own features.

Everything that affects accuracy mirrors `dkws train --config configs/ei_conv1d_kws12.json`:
the same exported features, Glorot-uniform weights and zero biases (Keras defaults, as dkws),
MaxPool1d(2, ceil_mode=True) (= Keras 'same' for pool 2), inverted dropout 0.25, Adam lr 0.005
(torch defaults otherwise, which dkws copies), batch 32 with the last partial batch kept, a fresh
shuffle every epoch, and the best-validation epoch's weights evaluated on test.

    ./build/dkws features --task kws12 --out /tmp/kws12_npy
    /usr/bin/python3 tools/torch/train_baseline.py --features /tmp/kws12_npy --seed 1

Prints one JSON line: {seed, val_accuracy, test_accuracy, best_epoch, train_seconds}.
"""
import argparse
import copy
import json
import os
import time

import numpy as np
import torch


class EIConv1D(torch.nn.Module):
    def __init__(self, frames, coeffs, classes, dropout=0.25):
        super().__init__()
        self.frames, self.coeffs = frames, coeffs
        self.body = torch.nn.Sequential(
            torch.nn.Conv1d(coeffs, 8, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool1d(2, ceil_mode=True), torch.nn.Dropout(dropout),
            torch.nn.Conv1d(8, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool1d(2, ceil_mode=True), torch.nn.Dropout(dropout))
        length = -(-(-(-frames // 2)) // 2)  # two ceil halvings: 50 -> 25 -> 13
        self.head = torch.nn.Linear(16 * length, classes)
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear)):
                # xavier_uniform_ uses fan_in = in*k, fan_out = out*k for conv: Keras' glorot_uniform.
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        h = x.view(-1, self.frames, self.coeffs).permute(0, 2, 1)  # frame-major rows -> N, C, L
        h = self.body(h)
        return self.head(h.permute(0, 2, 1).flatten(1))  # channels-last flatten, as dkws


def load(features, split):
    x = torch.from_numpy(np.load(os.path.join(features, split + "_x.npy")))
    y = torch.from_numpy(np.load(os.path.join(features, split + "_y.npy")).astype(np.int64))
    return x, y


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return float((model(x).argmax(1) == y).float().mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True, help="folder from `dkws features --task kws12`")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.005)
    a = ap.parse_args()

    torch.set_num_threads(1)  # the comparison is per core, as dkws trains one trial per core
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.features, "classes.json")))
    (xt, yt), (xv, yv), (xs, ys) = (load(a.features, s) for s in ("train", "val", "test"))
    model = EIConv1D(meta["frames"], meta["coeffs"], len(meta["classes"]))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    best_val, best_epoch, best_state = -1.0, 0, None
    t0 = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(yt))
        for start in range(0, len(yt), a.batch_size):
            idx = order[start:start + a.batch_size]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        val = accuracy(model, xv, yv)
        if val > best_val:  # strictly better, as dkws keeps the first epoch reaching the best
            best_val, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
    seconds = time.perf_counter() - t0
    model.load_state_dict(best_state)
    print(json.dumps({"seed": a.seed, "val_accuracy": round(best_val, 4),
                      "test_accuracy": round(accuracy(model, xs, ys), 4), "best_epoch": best_epoch,
                      "train_seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
