#!/usr/bin/env python3
"""Cross-check: every test/fixtures/*.expected.json (codes from forward hooks on the original PyTorch modules)
against the same ONNX file executed by bench/onnx_to_torch.py with hooks from bench/spline_hooks.py.
Also runs ultraface-RFB-320 through the converter as a smoke test.

    /usr/bin/python3 bench/verify_fixtures.py
"""
import glob
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "test", "fixtures")
ULTRAFACE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "ultraface-RFB-320.onnx")
sys.path.insert(0, HERE)
from onnx_to_torch import OnnxModule  # noqa: E402
from spline_hooks import CodeHooks, onnx_layers  # noqa: E402


def static_batch(net):
    import onnx

    dim = onnx.load(net).graph.input[0].type.tensor_type.shape.dim[0]
    return dim.dim_value if dim.HasField("dim_value") else None


def main():
    torch.set_num_threads(2)
    failures = 0
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*.expected.json"))):
        exp = json.load(open(path))
        name = os.path.basename(path)[:-len(".expected.json")]
        if "codes_hex" not in exp:
            continue  # not a codes fixture (polytope.expected.json holds polytope references)
        model_path = os.path.join(FIXTURES, exp["model"])
        net = OnnxModule.load(model_path).eval()
        layers = onnx_layers(net)
        got = [(k, op) for k, op, _ in layers]
        want = [(l["key"], l["op"]) for l in exp["layers"]]
        if got != want:
            print("FAIL %s: layers %s != %s" % (name, got, want))
            failures += 1
            continue
        x = torch.as_tensor(np.load(os.path.join(FIXTURES, name + ".inputs.npy")))
        hooks = CodeHooks(layers)
        step = static_batch(model_path) or len(x)
        outs, packed = [], []
        with torch.no_grad():
            for i in range(0, len(x), step):
                outs.append(net(x[i:i + step]))
                packed.append(hooks.packed())
        out, packed = torch.cat(outs).numpy(), np.concatenate(packed)
        codes = [bytes(r).hex() for r in packed]
        bad = sum(a != b for a, b in zip(codes, exp["codes_hex"]))
        units = hooks.unpacked().shape[1]
        preds_ok = out.argmax(1).tolist() == exp["preds"]
        err = float(np.abs(out[:3] - np.array(exp["outputs"])).max())
        scale = float(np.abs(np.array(exp["outputs"])).max())
        ok = bad == 0 and units == exp["total_units"] and preds_ok and err <= 1e-4 * max(1.0, scale)
        failures += not ok
        print("%s %-11s units=%5d codes differing=%d/%d preds %s max|out diff|=%.2g" % (
            "ok  " if ok else "FAIL", name, units, bad, len(codes), "equal" if preds_ok else "DIFFER", err))

    if os.path.exists(ULTRAFACE):
        net = OnnxModule.load(ULTRAFACE).eval()
        hooks = CodeHooks(onnx_layers(net))
        x = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (1, 3, 240, 320)).astype(np.float32))
        with torch.no_grad():
            scores, boxes = net(x)
        bits = hooks.unpacked()
        ok = tuple(scores.shape) == (1, 4420, 2) and tuple(boxes.shape) == (1, 4420, 4) and \
            torch.allclose(scores.sum(-1), torch.ones(1, 4420), atol=1e-5)
        failures += not ok
        print("%s ultraface   %d layers, %d units, scores %s boxes %s, share on %.3f" % (
            "ok  " if ok else "FAIL", len(hooks.keys), bits.shape[1], tuple(scores.shape), tuple(boxes.shape),
            bits.float().mean().item()))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
