#!/usr/bin/python3
"""The PyTorch side of the AudioClassifier parity check: the paper's model trained on dkws's features.

Mirrors `dkws train` with `model.family = audio_classifier` and dendrite mode `none`:
- the model: Gaussian input noise (training only), then `num_conv` blocks of
  Conv2d(k3, padding 1) -> ReLU -> MaxPool2d(2) -> Dropout, then `num_linear` Linear layers
  (hidden width max(3, int(exp((ln F + ln classes) / 2)))). `--dropout-at linear` is the paper's
  placement (blocks drop at --conv-dropout, --dropout before every Linear); `conv` is dkws's first
  variant (--dropout after every block, none before the Linear layers);
- init: PyTorch's own default (`--init torch`, the paper) or Glorot-uniform with zero bias
  (`--init glorot`, dkws's first variant);
- MaxNorm(1) on each conv filter, applied the paper's way (a forward pre-hook renormalising the
  filters before every forward) or dkws's way (after every optimiser step), `--max-norm-at`;
- Adam at --lr with ReduceLROnPlateau(mode max, patience 5, factor 0.1) stepped on validation
  accuracy, batch 32 with a fresh shuffle each epoch and the last partial batch kept;
- the best checkpoint is the one dkws's tracker keeps: a validation accuracy counts as better when
  acc * (1 - 0.001) > best and acc - 1e-5 > best. `--patience N` stops after N epochs without a
  better one (dkws's `none` arm, n_epochs_to_switch); `--patience 0` trains all --epochs.

    ./build/dkws features --task kws12 --out /tmp/kws12_npy
    /usr/bin/python3 tools/torch/train_audio_classifier.py --features /tmp/kws12_npy \
        --num-conv 3 --width 0.5 --growth 2 --seed 1

Prints one JSON line: {seed, params, val_accuracy, test_accuracy, best_epoch, epochs, train_seconds}.
"""
import argparse
import copy
import json
import math
import os
import time

import torch

from train_baseline import accuracy, load  # the same .npy loading and accuracy as the baseline

CHANNELS = [[8, 16, 32, 64], [8, 16, 24, 32], [8, 16, 16, 32], [8, 16, 16, 16], [8, 8, 8, 8],
            [8, 8, 8, 16]]


class AudioClassifier(torch.nn.Module):
    def __init__(self, a, frames, coeffs, classes):
        super().__init__()
        self.frames, self.coeffs, self.noise = frames, coeffs, a.noise
        paper = a.dropout_at == "linear"
        layers, ch, h, w = [], 1, frames, coeffs
        self.convs = []
        for i in range(a.num_conv):
            out = max(1, int(CHANNELS[a.growth][i] * a.width))
            conv = torch.nn.Conv2d(ch, out, 3, padding=1)
            self.convs.append(conv)
            layers += [conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                       torch.nn.Dropout(a.conv_dropout if paper else a.dropout)]
            ch, h, w = out, h // 2, w // 2
        layers.append(torch.nn.Flatten())
        flat = ch * h * w
        if a.num_linear == 2:
            hidden = max(3, int(math.exp((math.log(flat) + math.log(classes)) / 2)))
            layers += ([torch.nn.Dropout(a.dropout)] if paper else []) + [
                torch.nn.Linear(flat, hidden), torch.nn.ReLU()]
            flat = hidden
        layers += ([torch.nn.Dropout(a.dropout)] if paper else []) + [torch.nn.Linear(flat, classes)]
        self.body = torch.nn.Sequential(*layers)
        if a.init == "glorot":
            for m in self.modules():
                if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                    torch.nn.init.xavier_uniform_(m.weight)
                    torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        x = x.view(-1, 1, self.frames, self.coeffs)
        if self.training and self.noise > 0:
            x = x + self.noise * torch.randn_like(x)
        return self.body(x)


def renorm_(conv, max_norm):
    with torch.no_grad():
        conv.weight.copy_(torch.renorm(conv.weight, 2, 0, max_norm))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True, help="folder from `dkws features --task ...`")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--num-conv", type=int, default=2)
    ap.add_argument("--num-linear", type=int, default=1)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--growth", type=int, default=0)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--conv-dropout", type=float, default=0.25)
    ap.add_argument("--dropout-at", choices=("linear", "conv"), default="linear")
    ap.add_argument("--init", choices=("torch", "glorot"), default="torch")
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--max-norm", type=float, default=1.0)
    ap.add_argument("--max-norm-at", choices=("prehook", "step"), default="prehook")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--patience", type=int, default=10, help="0: train every epoch")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--save", help="write the kept weights (torch.save), conv filters as the "
                    "forward sees them (renormalised), to compare --max-norm-at prehook and step")
    a = ap.parse_args()

    torch.set_num_threads(1)  # one trial per core, as dkws trains
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.features, "classes.json")))
    (xt, yt), (xv, yv), (xs, ys) = (load(a.features, s) for s in ("train", "val", "test"))
    model = AudioClassifier(a, meta["frames"], meta["coeffs"], len(meta["classes"]))
    if a.max_norm > 0 and a.max_norm_at == "prehook":
        for conv in model.convs:
            conv.register_forward_pre_hook(lambda m, _inp: renorm_(m, a.max_norm))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=5)
    loss_fn = torch.nn.CrossEntropyLoss()

    best_val, best_epoch, best_state, since_best, epoch = -1e300, 0, None, 0, 0
    t0 = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(yt))
        for start in range(0, len(yt), a.batch_size):
            idx = order[start:start + a.batch_size]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
            if a.max_norm > 0 and a.max_norm_at == "step":
                for conv in model.convs:
                    renorm_(conv, a.max_norm)
        val = accuracy(model, xv, yv)
        sched.step(val)
        if val * (1 - 0.001) > best_val and val - 1e-5 > best_val:
            best_val, best_epoch, best_state, since_best = val, epoch, copy.deepcopy(
                model.state_dict()), 0
        else:
            since_best += 1
            if a.patience and since_best >= a.patience:
                break
    seconds = time.perf_counter() - t0
    model.load_state_dict(best_state)
    if a.save:
        if a.max_norm > 0:
            for conv in model.convs:
                renorm_(conv, a.max_norm)
        torch.save(model.state_dict(), a.save)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"seed": a.seed, "params": params, "val_accuracy": round(best_val, 4),
                      "test_accuracy": round(accuracy(model, xs, ys), 4), "best_epoch": best_epoch,
                      "epochs": epoch, "train_seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
