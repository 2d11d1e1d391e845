#!/usr/bin/python3
"""PyTorch side of bench/train_throughput: single-thread training samples/s of the KWS models.

The C++ bench passes the model specs (--spec, a JSON list) so both sides build the same
architectures from one description; run by hand with the default specs:

    /usr/bin/python3 tools/torch/train_throughput.py --seconds 3

Each step is zero_grad + forward (train mode) + cross-entropy + backward + Adam step on the next
[32, 650] batch of the pool the dkws bench passes (--pool-x/--pool-y: kws12's training features),
or of 90 random batches when run by hand. Prints one JSON line:
{"torch": version, "models": [{"name", "params", "samples_per_s"}]}. With --serve it times
windows on request instead (serve()), which the C++ bench interleaves with its own.
"""
import argparse
import itertools
import json
import math
import sys
import time

import numpy

import torch

CHANNELS = [[8, 16, 32, 64], [8, 16, 24, 32], [8, 16, 16, 32], [8, 16, 16, 16], [8, 8, 8, 8],
            [8, 8, 8, 16]]
DEFAULT_SPECS = [
    {"name": "ei_conv1d", "family": "ei_conv1d", "dropout": 0.25},
    {"name": "ac_small", "family": "audio_classifier", "num_conv": 3, "num_linear": 2, "growth": 4,
     "width": 0.5, "dropout": 0.25},
    {"name": "ac_mid", "family": "audio_classifier", "num_conv": 3, "num_linear": 1, "growth": 1,
     "width": 1.0, "dropout": 0.25},
]


class ChannelsLastFlatten(torch.nn.Module):
    """dkws flattens channels-last activations: N,C,... -> N,...,C -> N,F."""

    def forward(self, h):
        return h.movedim(1, -1).flatten(1)


class View(torch.nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(-1, *self.shape)


class Transpose12(torch.nn.Module):
    def forward(self, h):
        return h.transpose(1, 2)


def build(spec):
    frames, coeffs = spec.get("frames", 50), spec.get("coeffs", 13)
    classes, drop = spec.get("classes", 12), spec.get("dropout", 0.25)
    layers = []
    if spec["family"] == "ei_conv1d":
        # N, L*C (frame-major) -> N, C, L for torch's channels-first Conv1d.
        layers += [View(frames, coeffs), Transpose12()]
        length, ch = frames, coeffs
        for out in (8, 16):
            layers += [torch.nn.Conv1d(ch, out, 3, padding=1), torch.nn.ReLU(),
                       torch.nn.MaxPool1d(2, ceil_mode=True), torch.nn.Dropout(drop)]
            length, ch = -(-length // 2), out
        layers += [ChannelsLastFlatten(), torch.nn.Linear(length * ch, classes)]
    else:
        # dropout_at "linear" is the paper's placement (blocks at conv_dropout, `dropout` before
        # each Linear); "conv", the default here, is the bench's fixed models' placement.
        paper = spec.get("dropout_at", "conv") == "linear"
        block_drop = spec.get("conv_dropout", 0.25) if paper else drop
        head_drop = [torch.nn.Dropout(drop)] if paper else []
        layers.append(View(1, frames, coeffs))
        h, w, ch = frames, coeffs, 1
        for i in range(spec["num_conv"]):
            out = max(1, int(CHANNELS[spec["growth"]][i] * spec["width"]))
            layers += [torch.nn.Conv2d(ch, out, 3, padding=1), torch.nn.ReLU(),
                       torch.nn.MaxPool2d(2), torch.nn.Dropout(block_drop)]
            h, w, ch = h // 2, w // 2, out
        flat = h * w * ch
        layers.append(ChannelsLastFlatten())
        if spec["num_linear"] == 2:
            hidden = max(3, int(math.exp((math.log(flat) + math.log(classes)) / 2)))
            layers += head_drop + [torch.nn.Linear(flat, hidden), torch.nn.ReLU()]
            flat = hidden
        layers += head_drop + [torch.nn.Linear(flat, classes)]
    return torch.nn.Sequential(*layers), frames * coeffs, classes


class Run:
    """One model in training: build, Adam, the batch order, 20 warm-up steps (as the C++ side)."""

    def __init__(self, spec, pool_xy, batch=32):
        torch.manual_seed(1)
        self.name, self.batch = spec["name"], batch
        self.model, dim, classes = build(spec)
        self.model.train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=0.005)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        # Steps cycle through the C++ side's pool of batches (kws12's training features, or
        # random ones), or without one through 90 random batches, kws12's training split in size.
        if pool_xy is not None:
            self.xs, self.ys = pool_xy
        else:
            self.xs = torch.randn(90, batch, dim)
            self.ys = torch.randint(0, classes, (90, batch))
        self.order = itertools.cycle(range(self.xs.shape[0]))
        self.params = sum(p.numel() for p in self.model.parameters())
        for _ in range(20):
            self.step()

    def step(self):
        i = next(self.order)
        self.opt.zero_grad()
        self.loss_fn(self.model(self.xs[i]), self.ys[i]).backward()
        self.opt.step()

    def window(self, seconds, clock):
        """Samples/s over steps (10 at a time) for about `seconds`."""
        steps, t0 = 0, clock()
        while clock() - t0 < seconds:
            for _ in range(10):
                self.step()
            steps += 10
        return steps * self.batch / (clock() - t0)

    def result(self, samples_per_s):
        return {"name": self.name, "params": self.params, "samples_per_s": round(samples_per_s, 1)}


def samples_per_second(spec, seconds, clock, pool_xy):
    run = Run(spec, pool_xy)
    return run.result(max(run.window(seconds / 3, clock) for _ in range(3)))  # best of three


def serve(specs, clock, pool_xy):
    """Windows on request, so the C++ side can interleave them with its own: reads lines
    {"name": model, "seconds": s} and answers each with a result line; the models keep training
    from one request to the next."""
    by_name = {s["name"]: s for s in specs}
    runs = {}
    print(json.dumps({"torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        name = req["name"]
        if name not in runs:
            runs[name] = Run(by_name[name], pool_xy)
        run = runs[name]
        print(json.dumps(run.result(run.window(req["seconds"], clock))), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="timing budget per model")
    # thread: CPU time of this thread (CPU autograd runs in the calling thread), robust to other
    # jobs on a shared machine; wall: time.perf_counter().
    ap.add_argument("--clock", choices=("thread", "wall"), default="thread")
    ap.add_argument("--spec", help="JSON list of model specs (default: the bench's three)")
    ap.add_argument("--pool-x", help="float32 batches [n][32][650], raw (from train_throughput)")
    ap.add_argument("--pool-y", help="their int32 labels [n][32], raw")
    ap.add_argument("--serve", action="store_true",
                    help="time windows on request from stdin (how the C++ bench interleaves)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    specs = json.loads(a.spec) if a.spec else DEFAULT_SPECS
    clock = time.thread_time if a.clock == "thread" else time.perf_counter
    pool_xy = None
    if a.pool_x:
        ys = torch.from_numpy(numpy.fromfile(a.pool_y, dtype=numpy.int32).astype(numpy.int64))
        xs = torch.from_numpy(numpy.fromfile(a.pool_x, dtype=numpy.float32))
        batches = ys.numel() // 32
        pool_xy = (xs.reshape(batches, 32, -1), ys.reshape(batches, 32))
    if a.serve:
        serve(specs, clock, pool_xy)
        return
    results = [samples_per_second(s, a.seconds, clock, pool_xy) for s in specs]
    print(json.dumps({"torch": torch.__version__, "models": results}))


if __name__ == "__main__":
    main()
