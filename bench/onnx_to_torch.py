#!/usr/bin/env python3
"""A small, readable ONNX -> PyTorch converter for the benchmark and for cross-checking fixtures.

    from onnx_to_torch import OnnxModule
    net = OnnxModule.load("model.onnx").eval()
    out = net(x)                      # a tensor, or a tuple when the graph has several outputs

The module executes the graph node by node. Every piecewise-linear or smooth activation is a real submodule so
forward hooks can attach to it: Relu -> nn.ReLU, MaxPool -> nn.MaxPool2d, LeakyRelu -> nn.LeakyReLU,
PRelu -> PRelu, Clip -> nn.Hardtanh, HardSigmoid -> HardSigmoid, HardSwish -> nn.Hardswish,
Sigmoid -> nn.Sigmoid, Tanh -> nn.Tanh, Erf -> Erf; Conv is an
nn.Conv2d, Gemm (transB=1) an nn.Linear, BatchNormalization an nn.BatchNorm2d. `net.node_modules` maps
ONNX node names (or op_type+index for unnamed nodes, as in DESIGN.md) to those submodules.

It supports exactly the ops used by mnist-8 (CNTK, opset 8), ultraface-RFB-320 (PyTorch 1.2, opset 9) and
the test fixtures (PyTorch 1.13, opset 14; HardSwish needs opset 14); anything else raises NotImplementedError naming the op.
Only 2-D convolution and pooling, dilation 1 for pooling, ceil_mode 0.
"""
import math

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def node_key(node, index):
    return node.name if node.name else "%s%d" % (node.op_type, index)


def same_pads(in_size, kernel, stride, dilation, upper):
    """(begin, end) padding of one spatial axis for auto_pad SAME_UPPER / SAME_LOWER."""
    out = math.ceil(in_size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - in_size, 0)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def resolve_pads(a, x, kernel, strides, dilations):
    """ONNX pads [top, left, bottom, right] for a node's attributes and its input x [N,C,H,W]."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        ph = same_pads(x.shape[2], kernel[0], strides[0], dilations[0], auto == "SAME_UPPER")
        pw = same_pads(x.shape[3], kernel[1], strides[1], dilations[1], auto == "SAME_UPPER")
        return [ph[0], pw[0], ph[1], pw[1]]
    if auto == "VALID":
        return [0, 0, 0, 0]
    return list(a.get("pads", [0, 0, 0, 0]))


class Conv(nn.Conv2d):
    """nn.Conv2d that also handles auto_pad and asymmetric pads (zero padding applied before the conv)."""

    def __init__(self, a, weight, bias):
        out_c, in_per_group, kh, kw = weight.shape
        super().__init__(in_per_group * a.get("group", 1), out_c, (kh, kw), stride=tuple(a.get("strides", [1, 1])),
                         dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1), bias=bias is not None)
        self.onnx_attrs = a
        self.kernel = (kh, kw)
        with torch.no_grad():
            self.weight.copy_(torch.as_tensor(weight))
            if bias is not None:
                self.bias.copy_(torch.as_tensor(bias))
        self.static_pads = None
        auto = a.get("auto_pad", b"NOTSET")
        if auto in (b"NOTSET", "NOTSET", b"", b"VALID", "VALID"):
            p = [0, 0, 0, 0] if auto in (b"VALID", "VALID") else list(a.get("pads", [0, 0, 0, 0]))
            if p[0] == p[2] and p[1] == p[3]:
                self.padding = (p[0], p[1])  # symmetric: let nn.Conv2d pad
                self.static_pads = True

    def forward(self, x):
        if not self.static_pads:
            t, l, b, r = resolve_pads(self.onnx_attrs, x, self.kernel, self.stride, self.dilation)
            x = F.pad(x, (l, r, t, b))
        return super().forward(x)


class MaxPool(nn.Module):
    """ONNX MaxPool: an nn.MaxPool2d submodule `pool`, preceded by -inf padding when the pads are asymmetric
    or come from auto_pad (so `pool` then has padding 0 and sees the padded tensor)."""

    def __init__(self, a):
        super().__init__()
        kernel = tuple(a["kernel_shape"])
        strides = tuple(a.get("strides", [1, 1]))
        if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
            raise NotImplementedError("MaxPool with ceil_mode or dilation")
        self.onnx_attrs = a
        auto = a.get("auto_pad", b"NOTSET")
        p = list(a.get("pads", [0, 0, 0, 0]))
        self.static = auto in (b"NOTSET", "NOTSET", b"") and p[0] == p[2] and p[1] == p[3]
        self.pool = nn.MaxPool2d(kernel, strides, padding=(p[0], p[1]) if self.static else 0)

    def forward(self, x):
        if not self.static:
            t, l, b, r = resolve_pads(self.onnx_attrs, x, self.pool.kernel_size, self.pool.stride, (1, 1))
            x = F.pad(x, (l, r, t, b), value=-math.inf)
        return self.pool(x)


class PRelu(nn.Module):
    """ONNX PRelu with its slope broadcast exactly as ONNX does (numpy rules, trailing axes)."""

    def __init__(self, slope):
        super().__init__()
        self.register_buffer("slope", torch.as_tensor(slope))

    def forward(self, x):
        return torch.where(x >= 0, x, x * self.slope)


class HardSigmoid(nn.Module):
    """ONNX HardSigmoid max(0, min(1, alpha x + beta)); `kinks` are the inputs where it bends."""

    def __init__(self, alpha, beta):
        super().__init__()
        self.alpha, self.beta = alpha, beta
        self.kinks = (-beta / alpha, (1.0 - beta) / alpha)

    def forward(self, x):
        return torch.clamp(self.alpha * x + self.beta, 0.0, 1.0)


class Erf(nn.Module):
    def forward(self, x):
        return torch.erf(x)


def linear_from_gemm(a, w, b):
    """Gemm(x, W, b) with transB=1 (PyTorch's Linear export) as nn.Linear, else None."""
    if a.get("transA", 0) or not a.get("transB", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        return None
    if b is not None and b.ndim != 1:
        return None
    lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w))
        if b is not None:
            lin.bias.copy_(torch.as_tensor(b))
    return lin


def onnx_reshape(x, shape):
    shape = [int(s) for s in shape]
    shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]  # 0 copies the input dim (allowzero=0)
    return x.reshape(shape)


def onnx_slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else [int(v) for v in axes]
    steps = [1] * len(starts) if steps is None else [int(v) for v in steps]
    index = [slice(None)] * x.dim()
    for s, e, ax, st in zip(starts, ends, axes, steps):
        if st != 1:
            raise NotImplementedError("Slice with step != 1")
        n = x.shape[ax]
        s, e = int(s), int(e)
        s = max(0, min(n, s + n if s < 0 else s))
        e = max(0, min(n, e + n if e < 0 else e))
        index[ax] = slice(s, e)
    return x[tuple(index)]


def onnx_softmax(x, axis, opset):
    if opset >= 13:
        return torch.softmax(x, dim=axis)
    # opset < 13: coerce to 2-D at `axis`, softmax over the flattened trailing part
    axis = axis % x.dim()
    flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
    return torch.softmax(flat, dim=1).reshape(x.shape)


class OnnxModule(nn.Module):
    MODULE_OPS = {"Conv", "Relu", "MaxPool", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "Tanh", "Erf",
                  "BatchNormalization", "HardSigmoid", "HardSwish"}

    def __init__(self, model):
        super().__init__()
        graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.input_names = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
        self.output_names = [o.name for o in graph.output]
        consts = {t.name: numpy_helper.to_array(t).copy() for t in graph.initializer}
        for n in graph.node:  # Constant nodes are constants too
            if n.op_type == "Constant":
                consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.consts = {k: torch.as_tensor(np.array(v)) for k, v in consts.items()}
        self.layers = nn.ModuleDict()  # sanitised node key -> submodule
        self.node_modules = {}  # ONNX node key -> submodule
        self.plan = []  # (key, op_type, inputs, outputs, attrs, module-or-None)
        for index, node in enumerate(graph.node):
            if node.op_type == "Constant":
                continue
            key = node_key(node, index)
            a = attrs(node)
            mod = self.make_module(node, a, consts)
            if mod is not None:
                name = "n%d_%s" % (index, "".join(c if c.isalnum() else "_" for c in key).strip("_"))
                self.layers[name] = mod
                self.node_modules[key] = mod
            elif node.op_type in self.MODULE_OPS:
                raise NotImplementedError("%s %s with these inputs" % (node.op_type, key))
            self.plan.append((key, node.op_type, list(node.input), list(node.output), a, mod))

    @classmethod
    def load(cls, path):
        return cls(onnx.load(path))

    def make_module(self, node, a, consts):
        op = node.op_type
        const = lambda i: consts.get(node.input[i]) if len(node.input) > i and node.input[i] else None
        if op == "Relu":
            return nn.ReLU()
        if op == "MaxPool":
            if len(node.output) > 1:
                raise NotImplementedError("MaxPool with an Indices output")
            return MaxPool(a)
        if op == "LeakyRelu":
            return nn.LeakyReLU(a.get("alpha", 0.01))
        if op == "PRelu":
            slope = const(1)
            if slope is None:
                return None
            return PRelu(slope)  # slope [C,1,1] for conv channels, [F] for features, [1] shared
        if op == "Clip":
            lo, hi = (a.get("min", -math.inf), a.get("max", math.inf)) if self.opset < 11 else (const(1), const(2))
            lo = -math.inf if lo is None else float(lo)
            hi = math.inf if hi is None else float(hi)
            return nn.Hardtanh(lo, hi)
        if op == "Sigmoid":
            return nn.Sigmoid()
        if op == "HardSigmoid":
            return HardSigmoid(a.get("alpha", 0.2), a.get("beta", 0.5))
        if op == "HardSwish":
            return nn.Hardswish()  # x * HardSigmoid(x) with alpha 1/6, beta 1/2: kinks at -3 and 3
        if op == "Tanh":
            return nn.Tanh()
        if op == "Erf":
            return Erf()
        if op == "Conv":
            w = const(1)
            if w is None or w.ndim != 4:
                return None
            return Conv(a, w, const(2))
        if op == "Gemm":
            w, b = const(1), const(2)
            return linear_from_gemm(a, w, b) if w is not None else None
        if op == "BatchNormalization":
            scale, bias, mean, var = (const(i) for i in range(1, 5))
            bn = nn.BatchNorm2d(scale.size, eps=a.get("epsilon", 1e-5))
            with torch.no_grad():
                for p, v in ((bn.weight, scale), (bn.bias, bias), (bn.running_mean, mean), (bn.running_var, var)):
                    p.copy_(torch.as_tensor(v))
            return bn
        return None

    def forward(self, *inputs):
        env = dict(self.consts)
        env.update(zip(self.input_names, inputs))
        for key, op, ins, outs, a, mod in self.plan:
            x = [env[n] if n else None for n in ins]
            if mod is not None:
                y = mod(x[0])
            else:
                y = self.run_op(op, x, a, key)
            if isinstance(y, tuple):
                env.update(zip(outs, y))
            else:
                env[outs[0]] = y
        res = tuple(env[n] for n in self.output_names)
        return res[0] if len(res) == 1 else res

    def run_op(self, op, x, a, key):
        if op == "Add":
            return x[0] + x[1]
        if op == "Sub":
            return x[0] - x[1]
        if op == "Mul":
            return x[0] * x[1]
        if op == "Div":
            return x[0] / x[1]
        if op == "Pow":
            return torch.pow(x[0], x[1])
        if op == "Sqrt":
            return torch.sqrt(x[0])
        if op == "Exp":
            return torch.exp(x[0])
        if op == "MatMul":
            return torch.matmul(x[0], x[1])
        if op == "Gemm":
            A = x[0].t() if a.get("transA", 0) else x[0]
            B = x[1].t() if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            return y + a.get("beta", 1.0) * x[2] if len(x) > 2 and x[2] is not None else y
        if op == "Reshape":
            return onnx_reshape(x[0], x[1].tolist())
        if op == "Flatten":
            axis = a.get("axis", 1)
            return x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)
        if op == "Transpose":
            return x[0].permute(*a["perm"]) if "perm" in a else x[0].permute(*reversed(range(x[0].dim())))
        if op == "Concat":
            return torch.cat(x, dim=a["axis"])
        if op == "Slice":
            if self.opset < 10:
                return onnx_slice(x[0], a["starts"], a["ends"], a.get("axes"))
            rest = [v.tolist() if v is not None else None for v in x[1:]] + [None] * (5 - len(x))
            return onnx_slice(x[0], rest[0], rest[1], rest[2], rest[3])
        if op == "Softmax":
            return onnx_softmax(x[0], a.get("axis", -1 if self.opset >= 13 else 1), self.opset)
        if op == "ReduceMean":
            axes = a.get("axes") if "axes" in a else (x[1].tolist() if len(x) > 1 else None)
            keep = bool(a.get("keepdims", 1))
            return x[0].mean(dim=axes, keepdim=keep) if axes is not None else x[0].mean()
        if op == "Identity":
            return x[0]
        if op == "Shape":
            return torch.tensor(x[0].shape, dtype=torch.int64)
        if op == "Gather":
            return torch.index_select(x[0], a.get("axis", 0), x[1].reshape(-1)).reshape(
                x[0].shape[:a.get("axis", 0)] + x[1].shape + x[0].shape[a.get("axis", 0) + 1:])
        if op == "Unsqueeze":
            axes = a["axes"] if "axes" in a else x[1].tolist()
            y = x[0]
            for ax in sorted(axes):
                y = y.unsqueeze(ax)
            return y
        if op == "PRelu":  # slope computed at run time
            return torch.where(x[0] >= 0, x[0], x[0] * x[1])
        raise NotImplementedError("ONNX op %s (node %s)" % (op, key))


if __name__ == "__main__":
    import sys

    for path in sys.argv[1:]:
        net = OnnxModule.load(path).eval()
        print(path, "opset", net.opset, "modules:",
              {k: type(m).__name__ for k, m in list(net.node_modules.items())[:6]}, "...")
