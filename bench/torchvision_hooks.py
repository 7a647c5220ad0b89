"""PyTorch's side of bench/torchvision.ts: plain forward and forward with spline codes, on a torchvision CNN.

    /usr/bin/python3 bench/torchvision_hooks.py --arch resnet18 --inputs X.npy [--batch 16] [--rounds 3]

The model is bench/torchvision_corpus.py's (same seed, same BatchNorm statistics). "Hooks" is the ten-line
baseline a researcher would write: F.relu and F.hardtanh wrapped so every call records its bits
(torchvision_corpus.Recorder), the layers concatenated and packed with numpy packbits (MSB first): the ReLU bits
only, as issue 14 measured it ("hooks_per_s"). "hooks_all" records the MaxPool bits too (the first maximum of each
window, one-hot), which is the same work as the engine's codes. Plain, hooks and hooks_all passes over all inputs
alternate for --rounds rounds (best of each), 2 threads, no_grad. Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_corpus import Recorder, build  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = build(a.arch)
    x = torch.from_numpy(np.load(a.inputs))
    batches = list(torch.split(x, a.batch))
    n = len(x)

    def plain():
        for b in batches:
            model(b)

    def hooks(pools):
        def run():
            for b in batches:
                with Recorder(pools) as rec:
                    model(b)
                np.packbits(torch.cat([bits for _, bits in rec.layers], 1).numpy(), axis=1, bitorder="big")
        return run

    best = {"plain": float("inf"), "hooks": float("inf"), "hooks_all": float("inf")}
    with torch.no_grad():
        model(batches[0])  # warm-up
        for _ in range(a.rounds):
            for name, f in (("plain", plain), ("hooks", hooks(False)), ("hooks_all", hooks(True))):
                t = time.perf_counter()
                f()
                best[name] = min(best[name], time.perf_counter() - t)
    print(json.dumps({"arch": a.arch, "n": n, "batch": a.batch, "plain_per_s": n / best["plain"], "hooks_per_s": n / best["hooks"],
                      "hooks_all_per_s": n / best["hooks_all"],
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
