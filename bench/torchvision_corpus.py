"""Real architectures for the engine's exactness tests and benchmarks: torchvision CNNs exported by PyTorch's
TorchScript exporter, with reference spline codes from PyTorch itself.

    /usr/bin/python3 bench/torchvision_corpus.py [--out DIR] [--n N] [--archs resnet18,squeezenet1_1] [--list]

For each architecture (torchvision 0.14, Debian python3-torchvision; random init, seeded, GoogLeNet's Conv weights
by Kaiming's normal init (see KAIMING_FAN_IN); BatchNorm running statistics and affine parameters set to seeded
non-trivial values, so that folding them into the Conv is not the identity) it writes into DIR (default
$POLYTOPE_LENS_CORPUS or ~/.cache/polytope-lens/corpus):
    ARCH.onnx         torch.onnx.export at opset 13, input 'input' [N, 3, 224, 224] with a free batch axis
    ARCH.inputs.npy   N float32 inputs [N, 3, 224, 224], N(0, 1), seeded
    ARCH.bits.npy     uint8 [N, ceil(bits / 8)]: the reference codes, packed MSB first (the engine's layout)
    ARCH.json         the recipe (its hash decides whether a cached file is reused), bits per layer, layer ops
Files are large (alexnet 244 MB, vgg11_bn 531 MB): they are generated on demand and cached, never committed.

The reference codes come from PyTorch's own forward pass: torch.nn.functional.relu, hardtanh (ReLU6) and max_pool2d
are wrapped while the model runs, so every call, of a module (nn.ReLU, reused in torchvision's ResNet blocks) or
functional (F.relu in GoogLeNet and DenseNet), records its bits in call order, which is the order of the exported
graph's nodes and so of the engine's layers. The bits follow bench/spline_hooks.py: Relu one bit per unit (input
> 0); Clip two bits per unit, unit-major ([x > min, x > max]); MaxPool one bit per window element, row-major, 1 at
the first maximum, padding (including ceil_mode's extra row and column) never the maximum.
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
ARCHS = ["resnet18", "resnet50", "vgg11_bn", "alexnet", "squeezenet1_1", "shufflenet_v2_x0_5", "mobilenet_v2",
         "densenet121", "googlenet"]
SIZE = 224
OPSET = 13
SEED = 0
RECIPE_VERSION = 1  # bump when the recipe below changes: cached files are then remade
# GoogLeNet's own init (truncated normal, std 0.01) shrinks the input's part of each pre-activation layer by layer
# while BatchNorm's per-channel offsets stay near 0.1: measured on 4 inputs, the median spread of a unit across
# inputs is 0.1 at the first ReLU, 1e-5 at the 6th and 1e-9 from the 31st on, so the model ignores its input there
# and its bits are decided by rounding. Kaiming's normal init (fan in, ReLU gain) keeps that spread at 0.6-1 through
# all 57 ReLUs, as in a trained network.
KAIMING_FAN_IN = {"googlenet"}


def default_out():
    return os.environ.get("POLYTOPE_LENS_CORPUS") or os.path.join(os.path.expanduser("~"), ".cache", "polytope-lens", "corpus")


def build(arch):
    torch.manual_seed(SEED)
    kwargs = {"weights": None}
    if arch == "googlenet":
        kwargs.update(aux_logits=False, init_weights=True)
    model = getattr(torchvision.models, arch)(**kwargs)
    if arch in KAIMING_FAN_IN:
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
    g = torch.Generator().manual_seed(SEED + 1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
            m.running_var.copy_(0.5 + torch.rand(c, generator=g))
            m.weight.data.copy_(0.8 + 0.4 * torch.rand(c, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(c, generator=g))
    return model.eval()


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _pool_out(size, k, s, p, ceil):
    # PyTorch's pooling output size: with ceil_mode, the last window must start inside the input or left padding.
    if ceil:
        out = math.ceil((size + 2 * p - k) / s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return (size + 2 * p - k) // s + 1


def maxpool_bits(x, kernel_size, stride, padding, ceil_mode):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride or kernel_size)
    ph, pw = _pair(padding)
    H, W = x.shape[-2:]
    oh, ow = _pool_out(H, kh, sh, ph, ceil_mode), _pool_out(W, kw, sw, pw, ceil_mode)
    extra_h = max(0, (oh - 1) * sh + kh - (H + 2 * ph))
    extra_w = max(0, (ow - 1) * sw + kw - (W + 2 * pw))
    x = F.pad(x, (pw, pw + extra_w, ph, ph + extra_h), value=-math.inf)
    win = x.unfold(2, kh, sh).unfold(3, kw, sw)[:, :, :oh, :ow]  # [N, C, oh, ow, kh, kw]
    arg = win.reshape(*win.shape[:4], kh * kw).argmax(-1)  # first maximum
    return F.one_hot(arg, kh * kw).bool().flatten(1)


class Recorder:
    """Wraps F.relu, F.hardtanh and F.max_pool2d (without pools=False: only the activations) while active; records
    each call's bits in call order."""

    def __init__(self, pools=True):
        self.layers = []  # (op, bits [N, units] bool)
        self.pools = pools

    def __enter__(self):
        self.saved = (F.relu, F.hardtanh, F.max_pool2d)
        relu, hardtanh, max_pool2d = self.saved
        rec = self.layers

        def relu_rec(input, inplace=False):
            rec.append(("Relu", (input > 0).flatten(1)))
            return relu(input, inplace=inplace)

        def hardtanh_rec(input, min_val=-1.0, max_val=1.0, inplace=False):
            rec.append(("Clip", torch.stack([input > min_val, input > max_val], -1).flatten(1)))
            return hardtanh(input, min_val, max_val, inplace)

        def max_pool2d_rec(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
            assert _pair(dilation) == (1, 1), "dilated pools are not in the corpus"
            rec.append(("MaxPool", maxpool_bits(input, kernel_size, stride, padding, ceil_mode)))
            return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=return_indices)

        F.relu, F.hardtanh = relu_rec, hardtanh_rec
        if self.pools:
            F.max_pool2d = max_pool2d_rec
        return self

    def __exit__(self, *exc):
        F.relu, F.hardtanh, F.max_pool2d = self.saved


def recipe(arch, n):
    r = {"arch": arch, "torch": torch.__version__, "torchvision": torchvision.__version__, "opset": OPSET,
         "size": SIZE, "seed": SEED, "n": n, "version": RECIPE_VERSION}
    if arch in KAIMING_FAN_IN:
        r["conv_init"] = "kaiming_normal fan_in relu"
    return r


def recipe_hash(r):
    return hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()[:16]


def make(arch, n, out):
    paths = {k: os.path.join(out, "%s.%s" % (arch, k)) for k in ("onnx", "inputs.npy", "bits.npy", "json")}
    r = recipe(arch, n)
    h = recipe_hash(r)
    if all(os.path.exists(p) for p in paths.values()):
        with open(paths["json"]) as f:
            if json.load(f).get("recipe_hash") == h:
                return "cached"
    model = build(arch)
    x = torch.from_numpy(np.random.default_rng(SEED).standard_normal((n, 3, SIZE, SIZE)).astype(np.float32))
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    with torch.no_grad():
        torch.onnx.export(model, x[:1], paths["onnx"] + ".tmp", opset_version=OPSET, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True)
        with Recorder() as rec:
            logits = model(x)
    bits = torch.cat([b for _, b in rec.layers], 1).numpy()
    np.save(paths["inputs.npy"], x.numpy())
    np.save(paths["bits.npy"], np.packbits(bits, axis=1, bitorder="big"))
    meta = {"recipe": r, "recipe_hash": h, "bits": int(bits.shape[1]),
            "layers": [{"op": op, "bits": int(b.shape[1])} for op, b in rec.layers],
            "preds": logits.argmax(1).tolist()}
    with open(paths["json"], "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(paths["onnx"] + ".tmp", paths["onnx"])
    return "made"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=default_out())
    ap.add_argument("--n", type=int, default=2, help="inputs per architecture (default 2)")
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--list", action="store_true", help="print the architectures and exit")
    a = ap.parse_args()
    if a.list:
        print("\n".join(ARCHS))
        return
    os.makedirs(a.out, exist_ok=True)
    for arch in a.archs.split(","):
        if arch not in ARCHS:
            sys.exit("unknown architecture %s (known: %s)" % (arch, ", ".join(ARCHS)))
        print("%s: %s" % (arch, make(arch, a.n, a.out)), flush=True)
    print("corpus: %s" % a.out)


if __name__ == "__main__":
    main()
