"""Spline codes from PyTorch forward hooks, thresholded in torch and packed with numpy (DESIGN.md section 3).

    hooks = CodeHooks([(key, op, module), ...])   # layers in code order
    model(x)                                      # every hooked module fills its bits
    packed = hooks.packed()                       # uint8 [N, ceil(units/8)], MSB first
    hooks.remove()

op is one of Relu, LeakyRelu, PRelu, Gelu, SiLU, Tanh (bit = pre-activation > 0), Clip (two bits per unit,
unit-major: [x > min, x > max]; module must be an nn.Hardtanh), HardSigmoid/HardSwish (two bits per unit at
the kinks, -3 and 3 for PyTorch's) or MaxPool (module must be an nn.MaxPool2d:
per output element one bit per window element, row-major, 1 at the first maximum, padding = -inf).
`onnx_layers(net)` lists the layers of an onnx_to_torch.OnnxModule in graph order.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

SIGN_OPS = {"Relu", "LeakyRelu", "PRelu", "Gelu", "SiLU", "Tanh"}


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def maxpool_bits(x, pool):
    kh, kw = _pair(pool.kernel_size)
    sh, sw = _pair(pool.stride or pool.kernel_size)
    ph, pw = _pair(pool.padding)
    if ph or pw:
        x = F.pad(x, (pw, pw, ph, ph), value=-math.inf)
    win = x.unfold(2, kh, sh).unfold(3, kw, sw)  # [N, C, oh, ow, kh, kw]
    arg = win.reshape(*win.shape[:4], kh * kw).argmax(-1)  # first maximum
    return F.one_hot(arg, kh * kw).bool().flatten(1)


def layer_bits(op, module, x):
    if op in SIGN_OPS:
        return (x > 0).flatten(1)
    if op == "Clip":
        return torch.stack([x > module.min_val, x > module.max_val], -1).flatten(1)
    if op in ("HardSigmoid", "HardSwish"):  # two bits per unit at the kinks, like Clip
        lo, hi = getattr(module, "kinks", (-3.0, 3.0))  # nn.Hardsigmoid / nn.Hardswish bend at -3 and 3
        return torch.stack([x > lo, x > hi], -1).flatten(1)
    if op == "MaxPool":
        return maxpool_bits(x, module)
    raise ValueError("no spline bits for op %s" % op)


class CodeHooks:
    def __init__(self, layers):
        self.keys = [k for k, _, _ in layers]
        self.bits = {}
        self.handles = []
        for key, op, module in layers:
            def hook(mod, inp, out, key=key, op=op):
                self.bits[key] = layer_bits(op, mod, inp[0].detach())

            self.handles.append(module.register_forward_hook(hook))

    def unpacked(self):
        return torch.cat([self.bits[k] for k in self.keys], 1)

    def packed(self):
        return np.packbits(self.unpacked().numpy(), axis=1, bitorder="big")

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []


def onnx_layers(net):
    """[(key, op, module)] for an OnnxModule: Relu/LeakyRelu/PRelu/Clip/MaxPool/Tanh nodes, Erf of a GELU
    (Div -> Erf -> Add -> Mul) as Gelu, Sigmoid feeding a Mul with its own input as SiLU; graph order."""
    consumers = {}
    producers = {}
    for key, op, ins, outs, _, _ in net.plan:
        for t in ins:
            consumers.setdefault(t, []).append((op, ins, outs))
        for t in outs:
            producers[t] = op
    layers = []
    for key, op, ins, outs, _, mod in net.plan:
        if op in ("Relu", "LeakyRelu", "PRelu", "Clip", "Tanh", "HardSigmoid", "HardSwish"):
            layers.append((key, op, mod))
        elif op == "MaxPool":
            layers.append((key, op, mod.pool))
        elif op == "Erf":
            adds = consumers.get(outs[0], [])
            if producers.get(ins[0]) == "Div" and len(adds) == 1 and adds[0][0] == "Add":
                layers.append((key, "Gelu", mod))
        elif op == "Sigmoid":
            if any(c[0] == "Mul" and ins[0] in c[1] for c in consumers.get(outs[0], [])):
                layers.append((key, "SiLU", mod))
    return layers
