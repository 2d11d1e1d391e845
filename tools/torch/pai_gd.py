#!/usr/bin/python3
"""PerforatedAI's open GD dendrites on the paper's AudioClassifier, trained from dkws's features.

The reference side of docs/results/pai_gd.md: the same model as tools/torch/train_audio_classifier.py
(the paper's AudioClassifier, PyTorch init, MaxNorm(1) forward pre-hooks on the conv filters),
wrapped by PerforatedAI's open library (Apache-2.0), which runs from a checkout outside this
repository (--pai or $PAI_SRC; nothing of it is copied here). Its tracker decides everything the
paper's training script leaves to it:
- when to add a dendrite (n_epochs_to_switch epochs without a better validation score),
- whether the last dendrite is kept (the cycle must beat the global best) or reloaded and retried
  (max_dendrite_tries), when training is complete (max_dendrites, or the tries used up),
- and, with a scheduler set, its learning-rate search after each switch (reloads included).
The script only trains epochs and hands it the validation accuracy, as the paper's script does;
the one difference is that the paper's script scores on its test split, and this one on dkws's
validation split, keeping test for the final number as dkws does.

Arms: `gd` adds dendrites; `none` is the same tracker with doing_pai=False (its no-dendrite arm:
training ends when a cycle of n_epochs_to_switch epochs brings no better score). Placement `dense`
wraps the Linear layer only, `all` the conv layers too.

Optimiser and scheduler are PerforatedAI's own (setup_optimizer): Adam at --lr and
ReduceLROnPlateau(mode max, --plateau-patience, --plateau-factor), rebuilt after every
restructure, as the tracker expects. --epochs caps the tracker's epoch counter (reloads rewind it,
as dkws's `pb` rules count train.epochs); --max-trained caps every epoch run, discarded ones too.

Parameters are counted as dkws counts them, P(D+1) + C D + C D(D-1)/2 per wrapped layer (the
library's own count also includes the stale dendrite-to-neuron vectors it keeps after each switch).

    /usr/bin/python3 tools/torch/pai_gd.py --pai /path/to/PerforatedAI --features FEATS \\
        --num-conv 3 --width 0.5 --growth 2 --placement dense --arm gd --seed 1 --work /tmp/pai1

Prints one JSON line: {seed, arm, placement, base_params, params, pai_count_params, dendrites,
epochs, epochs_trained, completed, val_accuracy, test_accuracy, train_seconds}; `epochs` is the
tracker's num_epochs_run, which counts from 0 (a run whose best epoch is 23 ends at 22).
"""
import argparse
import contextlib
import importlib.util
import json
import os
import sys
import time
import types

import torch

from train_audio_classifier import AudioClassifier, renorm_
from train_baseline import accuracy, load


def stub_missing_modules():
    """The library imports plotting, safetensors and torchvision at load time. Plots are off here
    (making_graphs=False) and nothing uses torchvision, so a missing one becomes an empty module;
    a missing safetensors saves and loads its state dicts with torch.save / torch.load."""
    for name in ("pandas", "matplotlib", "matplotlib.pyplot", "torchvision",
                 "torchvision.models", "torchvision.models.resnet"):
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # the parent package itself is missing
            found = False
        if not found:
            module = types.ModuleType(name)
            module.use = lambda *_a, **_k: None  # matplotlib.use("Agg")
            sys.modules[name] = module
    if importlib.util.find_spec("safetensors") is None:
        st = types.ModuleType("safetensors.torch")
        st.save_file = lambda state, path: torch.save(state, path)
        st.load_file = lambda path: torch.load(path)

        def safe_open(*_a, **_k):
            raise RuntimeError("safetensors is stubbed: weight tying is not supported here")

        st.safe_open = safe_open
        sys.modules["safetensors"] = types.ModuleType("safetensors")
        sys.modules["safetensors.torch"] = st


def import_pai(checkout):
    if not checkout or not os.path.isfile(os.path.join(checkout, "perforatedai",
                                                       "tracker_perforatedai.py")):
        sys.exit(f"pai_gd.py: --pai / PAI_SRC: no PerforatedAI checkout at '{checkout}' "
                 "(expected perforatedai/tracker_perforatedai.py inside)")
    stub_missing_modules()
    sys.path.insert(0, os.path.abspath(checkout))
    with contextlib.redirect_stdout(sys.stderr):  # its import banner; stdout is the JSON line
        from perforatedai import globals_perforatedai as gpa
        from perforatedai import utils_perforatedai as upa
    return gpa, upa


def wrapped_modules(model):
    return [m for m in model.modules() if type(m).__name__ == "PAINeuronModule"]


def dkws_param_count(model, base_params):
    """P(D+1) + C D + C D(D-1)/2 per wrapped layer, with P its base parameters (dkws's count)."""
    total = base_params
    for m in wrapped_modules(model):
        d = int(m.dendrite_module.num_dendrites)
        p = sum(q.numel() for q in m.main_module.parameters())
        c = int(m.main_module.weight.shape[0])
        total += p * d + c * d + c * d * (d - 1) // 2
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pai", default=os.environ.get("PAI_SRC", ""),
                    help="PerforatedAI checkout (default $PAI_SRC)")
    ap.add_argument("--features", required=True, help="folder from `dkws features --task ...`")
    ap.add_argument("--work", required=True, help="scratch folder for the library's saves")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--arm", choices=("gd", "none"), default="gd")
    ap.add_argument("--placement", choices=("dense", "all"), default="dense")
    ap.add_argument("--num-conv", type=int, default=3)
    ap.add_argument("--num-linear", type=int, default=1)
    ap.add_argument("--width", type=float, default=0.5)
    ap.add_argument("--growth", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--conv-dropout", type=float, default=0.25)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--plateau-patience", type=int, default=5)
    ap.add_argument("--plateau-factor", type=float, default=0.1)
    ap.add_argument("--n-epochs-to-switch", type=int, default=10)
    ap.add_argument("--max-dendrites", type=int, default=3)
    ap.add_argument("--max-dendrite-tries", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=200, help="cap on the tracker's epoch counter")
    ap.add_argument("--max-trained", type=int, default=400, help="cap on all epochs run")
    ap.add_argument("--verbose", action="store_true", help="the library's own progress lines")
    a = ap.parse_args()
    # The model options train_audio_classifier's AudioClassifier reads, at the paper's values.
    a.dropout_at, a.init, a.noise = "linear", "torch", 0.0

    gpa, upa = import_pai(a.pai)
    torch.set_num_threads(1)  # one trial per core, as dkws trains
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.features, "classes.json")))
    (xt, yt), (xv, yv), (xs, ys) = (load(a.features, s) for s in ("train", "val", "test"))
    model = AudioClassifier(a, meta["frames"], meta["coeffs"], len(meta["classes"]))
    for conv in model.convs:  # the paper's MaxNorm: renormalise before every forward
        conv.register_forward_pre_hook(lambda m, _inp: renorm_(m, 1.0))
    base_params = sum(p.numel() for p in model.parameters())

    os.makedirs(a.work, exist_ok=True)
    os.chdir(a.work)  # the library writes ./<save_name>/ for its checkpoints
    pc = gpa.pc
    pc.set_testing_dendrite_capacity(False)
    pc.set_silent(not a.verbose)
    pc.set_verbose(False)
    pc.set_n_epochs_to_switch(a.n_epochs_to_switch)
    pc.set_max_dendrites(a.max_dendrites)
    pc.set_max_dendrite_tries(a.max_dendrite_tries)
    pc.set_unwrapped_modules_confirmed(True)
    if a.placement == "dense":
        pc.set_modules_to_convert([torch.nn.Linear])
        pc.set_modules_to_track([torch.nn.Conv2d])
    else:
        pc.set_modules_to_convert([torch.nn.Conv2d, torch.nn.Linear])
    model = upa.initialize_pai(model, doing_pai=(a.arm == "gd"), save_name="PAI",
                               making_graphs=False)
    for m in wrapped_modules(model):
        if isinstance(m.main_module, torch.nn.Linear):
            m.set_this_output_dimensions([-1, 0])  # (batch, features); conv keeps [-1, 0, -1, -1]
    tracker = gpa.pai_tracker
    tracker.set_optimizer(torch.optim.Adam)
    tracker.set_scheduler(torch.optim.lr_scheduler.ReduceLROnPlateau)
    opt_args = {"lr": a.lr}
    sched_args = {"mode": "max", "patience": a.plateau_patience, "factor": a.plateau_factor}
    optimizer, _ = tracker.setup_optimizer(model, dict(opt_args), sched_args)
    loss_fn = torch.nn.CrossEntropyLoss()

    trained, completed = 0, False
    t0 = time.perf_counter()
    while True:
        model.train()
        order = torch.randperm(len(yt))
        for start in range(0, len(yt), a.batch_size):
            idx = order[start:start + a.batch_size]
            optimizer.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            optimizer.step()
        trained += 1
        val = accuracy(model, xv, yv)
        model, restructured, completed = gpa.pai_tracker.add_validation_score(val, model)
        if completed:
            break
        if (gpa.pai_tracker.member_vars["num_epochs_run"] >= a.epochs
                or trained >= a.max_trained):
            # The cap: keep the best checkpoint, as the tracker would at completion.
            model = upa.load_system(model, "PAI", "best_model", switch_call=True)
            break
        if restructured:
            optimizer, _ = gpa.pai_tracker.setup_optimizer(model, dict(opt_args), sched_args)
    seconds = time.perf_counter() - t0

    tracker = gpa.pai_tracker
    dendrites = [int(m.dendrite_module.num_dendrites) for m in wrapped_modules(model)]
    print(json.dumps({
        "seed": a.seed, "arm": a.arm, "placement": a.placement, "base_params": base_params,
        "params": dkws_param_count(model, base_params),
        "pai_count_params": int(upa.count_params(model)),
        "dendrites": max(dendrites) if dendrites else 0,
        "epochs": int(tracker.member_vars["num_epochs_run"]), "epochs_trained": trained,
        "completed": bool(completed),
        "val_accuracy": round(accuracy(model, xv, yv), 4),
        "test_accuracy": round(accuracy(model, xs, ys), 4),
        "train_seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
