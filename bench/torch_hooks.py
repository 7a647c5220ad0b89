#!/usr/bin/env python3
"""Baseline: PyTorch forward throughput with forward hooks that extract the spline code, vs plain forward.

    /usr/bin/python3 bench/torch_hooks.py            # writes bench/torch-results.json and prints a table

Models: the fixtures mlp, cnn, resmlp, mixed, gelu_tf (their PyTorch modules, rebuilt and retrained
deterministically by test/fixtures/make_fixtures.py, or, where the retrained codes differ from the committed ones on
this machine, the committed .onnx through bench/onnx_to_torch.py: `module` in the results), mnist-8 (hand-written bench/mnist8_torch.py) and
ultraface-RFB-320 (bench/onnx_to_torch.py; every Relu is an nn.ReLU). Hooks threshold the pre-activations in
torch (DESIGN.md section 3: sign bits, Clip two bits, MaxPool one-hot first argmax), concatenate the layers
and pack with numpy packbits (MSB first): the same work the engine does. Before timing, each model's hook
codes are checked against its test/fixtures/*.expected.json where one exists.

Fixtures: batch 64, the 64 fixture inputs repeated to 2,048 samples; best of 15 passes. mnist-8 and ultraface:
batch 1, as many samples as fit in about 5 s per mode, in 20 slices; fastest slice. Plain and hooked runs
alternate, so a change in machine load hits both alike; `loadavg_1min_after` says how busy the machine was. torch.set_num_threads(2), after warm-up, no_grad.
"""
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "test", "fixtures")
ULTRAFACE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "ultraface-RFB-320.onnx")
THREADS = 2
sys.path.insert(0, HERE)
sys.path.insert(0, FIXTURES)

import make_fixtures  # noqa: E402  (sets 1 thread for deterministic training; we switch to THREADS below)
from mnist8_torch import Mnist8  # noqa: E402
from onnx_to_torch import OnnxModule  # noqa: E402
from spline_hooks import CodeHooks, onnx_layers  # noqa: E402


def fixture_model(name):
    """The fixture's PyTorch module as make_fixtures builds it (retrained, deterministic on a given machine), checked
    against the committed codes. Training's float arithmetic differs between CPUs (on an AMD EPYC machine the cnn's
    codes differed), so where they differ the committed .onnx runs through bench/onnx_to_torch.py instead, whose codes
    are bit-exact (bench/verify_fixtures.py) -> (model, layers, inputs, module source)."""
    model, inputs, _ = make_fixtures.BUILDERS[name]()
    exp = json.load(open(os.path.join(FIXTURES, name + ".expected.json")))
    modules = dict(model.named_modules())
    layers = [(l["key"], l["op"], modules[l["module"]]) for l in exp["layers"]]
    if codes_match(model, layers, inputs, exp, 64):
        return model, layers, inputs, "retrained"
    net = OnnxModule.load(os.path.join(FIXTURES, name + ".onnx")).eval()
    layers = onnx_layers(net)
    if not codes_match(net, layers, inputs, exp, 64):
        raise SystemExit("%s: hook codes differ from %s.expected.json (retrained and from the .onnx)" % (name, name))
    return net, layers, inputs, "onnx_to_torch"


def codes_match(model, layers, inputs, exp, batch):
    hooks = CodeHooks(layers)
    packed = []
    with torch.no_grad():
        for i in range(0, len(inputs), batch):
            model(torch.as_tensor(inputs[i:i + batch]))
            packed.append(hooks.packed())
    hooks.remove()
    return [bytes(r).hex() for r in np.concatenate(packed)] == exp["codes_hex"]


def run_batches(model, batches, hooks=None):
    out = []
    for x in batches:
        model(x)
        if hooks is not None:
            out.append(hooks.packed())
    return out


def one_pass(model, batches, hooks):
    """seconds for one pass over all batches (codes kept, as a user would)"""
    t = time.perf_counter()
    run_batches(model, batches, hooks)
    return time.perf_counter() - t


def one_slice(model, samples, hooks, seconds, start):
    """batch-1 samples cycled for `seconds` -> (samples run, seconds)"""
    n, t0, codes = 0, time.perf_counter(), []
    while True:
        model(samples[(start + n) % len(samples)])
        if hooks is not None:
            codes.append(hooks.packed())
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n, elapsed


def bench(model, layers, batches, budget=None, rounds=15, slices=20):
    """Plain and hooked runs are interleaved (the machine may be shared: load changes over time).
    Fixtures (budget None): `rounds` passes of each; rate = samples per pass / fastest pass.
    Batch 1 (budget seconds per mode): `slices` alternating slices of budget/slices s; rate = fastest slice.
    Best-of rather than mean: on a shared machine the fastest run is the closest to the unloaded speed."""
    model.eval()
    hooks = CodeHooks(layers)
    with torch.no_grad():
        for h in (None, hooks, None, hooks):  # warm-up
            run_batches(model, batches[:3], h)
        codes = run_batches(model, batches[:1], hooks)
        rates = {"plain": [], "hooks": []}
        counts = {"plain": 0, "hooks": 0}
        per_pass = sum(len(x) for x in batches)
        for r in range(slices if budget else rounds):
            for mode in ("plain", "hooks") if r % 2 == 0 else ("hooks", "plain"):
                h = hooks if mode == "hooks" else None
                if budget:
                    n, t = one_slice(model, batches, h, budget / slices, counts[mode])
                else:
                    n, t = per_pass, one_pass(model, batches, h)
                rates[mode].append(n / t)
                counts[mode] += n
        units = hooks.unpacked().shape[1]
        hooks.remove()
    pick = np.max
    return {
        "samples_per_s_hooks": round(float(pick(rates["hooks"])), 1),
        "samples_per_s_plain": round(float(pick(rates["plain"])), 1),
        "bytes_per_sample": int(codes[0].shape[1]),
        "units": int(units),
        "layers": len(layers),
        "batch": int(len(batches[0])),
        "n": int(per_pass if not budget else counts["hooks"]),
        "n_plain": int(per_pass if not budget else counts["plain"]),
        "timing": ("best of %d interleaved passes of %d samples" % (rounds, per_pass)) if not budget else
                  ("fastest of %d interleaved %.2f s slices, %.0f s per mode" % (slices, budget / slices, budget)),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),  # >~2.5 on 2 cores: others were busy too
    }


def main():
    results = {}
    prepared = []
    modules = {}
    for name in ["mlp", "cnn", "resmlp", "mixed", "gelu_tf"]:
        model, layers, inputs, modules[name] = fixture_model(name)
        x = torch.as_tensor(inputs)
        prepared.append((name, model, layers, [x] * 32, None))  # 32 x 64 = 2,048 samples

    mnist = Mnist8.from_onnx(os.path.join(FIXTURES, "mnist-8.onnx"))
    layers = [(k, op, getattr(mnist, attr)) for k, op, attr in Mnist8.LAYERS]
    inputs = np.load(os.path.join(FIXTURES, "mnist8.inputs.npy"))
    if not codes_match(mnist, layers, inputs, json.load(open(os.path.join(FIXTURES, "mnist8.expected.json"))), 1):
        raise SystemExit("mnist8: hook codes differ from mnist8.expected.json")
    prepared.append(("mnist-8", mnist, layers, [torch.as_tensor(inputs[i:i + 1]) for i in range(len(inputs))], 5.0))

    if os.path.exists(ULTRAFACE):
        net = OnnxModule.load(ULTRAFACE).eval()
        rng = np.random.default_rng(320)
        samples = [torch.as_tensor(rng.uniform(-1, 1, (1, 3, 240, 320)).astype(np.float32)) for _ in range(8)]
        prepared.append(("ultraface-RFB-320", net, onnx_layers(net), samples, 5.0))

    torch.set_num_threads(THREADS)
    for name, model, layers, batches, budget in prepared:
        results[name] = bench(model, layers, batches, budget)
        r = results[name]
        if name in modules:
            r["module"] = modules[name]
        print("%-18s batch %2d  plain %9.1f/s  hooks %9.1f/s  (x%.2f)  %7d bytes/sample  n=%d" % (
            name, r["batch"], r["samples_per_s_plain"], r["samples_per_s_hooks"],
            r["samples_per_s_plain"] / r["samples_per_s_hooks"], r["bytes_per_sample"], r["n"]), flush=True)

    with open(os.path.join(HERE, "torch-results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")

    print()
    print("| model | batch | n | plain samples/s | hooks samples/s | slowdown | bytes/sample |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print("| %s | %d | %d | %.1f | %.1f | %.2fx | %d |" % (
            name, r["batch"], r["n"], r["samples_per_s_plain"], r["samples_per_s_hooks"],
            r["samples_per_s_plain"] / r["samples_per_s_hooks"], r["bytes_per_sample"]))
    print("torch %s, %d threads" % (torch.__version__, THREADS))


if __name__ == "__main__":
    main()
