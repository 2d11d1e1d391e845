#!/usr/bin/python3
"""PyTorch side of bench/sweep_throughput: the same `none`-arm trials, trained on one thread.

The C++ bench runs a 20-trial `dkws sweep` and passes its trials.json here; this script trains
each trial's AudioClassifier (same hyperparameters: width, growth, num_conv, num_linear, dropout,
input noise, lr; Adam, batch 32, ReduceLROnPlateau on validation accuracy, MaxNorm 1 on conv
weights) for the same number of epochs, evaluating validation accuracy every epoch and test
accuracy at the end, as dkws does. No dendrite tracker: the bench uses the `none` arm with early
stopping disabled, so both sides run every epoch.

    /usr/bin/python3 tools/torch/sweep_throughput.py --features FEATS --trials trials.json

Prints one JSON line: {"torch", "trials", "cpu_seconds", "trial_seconds": [...], "test_acc": [...]};
the seconds are this thread's CPU time (time.thread_time) for training and evaluation, feature
loading excluded.
"""
import argparse
import json
import time

import torch

from train_baseline import accuracy, load  # the same .npy loading and accuracy as the baseline
from train_throughput import build  # the same architecture builder as bench/train_throughput


def train_trial(trial, data, epochs):
    h = trial["hparams"]
    spec = {"family": "audio_classifier", "num_conv": h["num_conv"], "num_linear": h["num_linear"],
            "growth": h["growth"], "width": h["width"], "dropout": h["dropout"], "classes": 12,
            "dropout_at": "linear"}  # the paper's model, dkws's audio_classifier default
    torch.manual_seed(trial["seed"])
    model, _, _ = build(spec)
    noise = float(h.get("noise", 0.0))
    opt = torch.optim.Adam(model.parameters(), lr=h["lr"])
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=5)
    loss_fn = torch.nn.CrossEntropyLoss()
    (xt, yt), (xv, yv), (xs, ys) = data
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    best_val, best_state = -1.0, None
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(yt))
        for i in range(0, len(yt), 32):
            idx = perm[i:i + 32]
            x = xt[idx]
            if noise > 0:
                x = x + noise * torch.randn_like(x)
            opt.zero_grad()
            loss_fn(model(x), yt[idx]).backward()
            opt.step()
            with torch.no_grad():  # MaxNorm 1 per output filter, as dkws' audio_classifier
                for c in convs:
                    n = c.weight.flatten(1).norm(dim=1).clamp(min=1.0).view(-1, 1, 1, 1)
                    c.weight.div_(n)
        val = accuracy(model, xv, yv)
        sched.step(val)
        if val > best_val:
            best_val, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return accuracy(model, xs, ys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True, help="folder from `dkws features --task kws12`")
    ap.add_argument("--trials", required=True, help="the sweep's trials.json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    data = [load(a.features, s) for s in ("train", "val", "test")]
    trials = json.load(open(a.trials))["trials"]
    accs, seconds = [], []
    for t in trials:
        t0 = time.thread_time()
        accs.append(train_trial(t, data, t["epochs"]))
        seconds.append(time.thread_time() - t0)
    print(json.dumps({"torch": torch.__version__, "trials": len(trials), "cpu_seconds": sum(seconds),
                      "trial_seconds": seconds, "test_acc": accs}))


if __name__ == "__main__":
    main()
