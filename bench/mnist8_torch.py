#!/usr/bin/env python3
"""mnist-8 (ONNX Model Zoo, CNTK 2.5.1 export, opset 8) re-implemented by hand in PyTorch.

The ONNX graph: Conv 5x5 (auto_pad SAME_UPPER) -> Add -> Relu ReLU32 -> MaxPool 2x2/2 Pooling66 ->
Conv 5x5 (SAME_UPPER) -> Add -> Relu ReLU114 -> MaxPool 3x3/3 Pooling160 (14x14 -> 4x4: rows/columns 12-13
are never looked at) -> Reshape [1,256] -> MatMul [256,10] -> Add. Input: [N,1,28,28], pixels 0..255.
For a 5x5 kernel with stride 1, SAME_UPPER pads 2 on every side, so nn.Conv2d(padding=2) is exact.

    /usr/bin/python3 bench/mnist8_torch.py [path/to/mnist-8.onnx]
checks this module against bench/onnx_to_torch.py's generic conversion of the same file (outputs and the
spline code bits of all four layers) and prints the predictions on upscaled sklearn digits.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "mnist-8.onnx")


class Mnist8(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, padding=2)
        self.relu1 = nn.ReLU()  # ONNX ReLU32, 8x28x28 = 6272 units
        self.pool1 = nn.MaxPool2d(2, stride=2)  # ONNX Pooling66, 8x14x14 outputs x 4 bits
        self.conv2 = nn.Conv2d(8, 16, 5, padding=2)
        self.relu2 = nn.ReLU()  # ONNX ReLU114, 16x14x14 = 3136 units
        self.pool2 = nn.MaxPool2d(3, stride=3)  # ONNX Pooling160, 16x4x4 outputs x 9 bits
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        h = self.pool1(self.relu1(self.conv1(x)))
        h = self.pool2(self.relu2(self.conv2(h)))
        return self.fc(torch.flatten(h, 1))

    @classmethod
    def from_onnx(cls, path=DEFAULT_MODEL):
        w = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
        m = cls()
        with torch.no_grad():
            m.conv1.weight.copy_(torch.as_tensor(w["Parameter5"]))  # [8,1,5,5]
            m.conv1.bias.copy_(torch.as_tensor(w["Parameter6"].reshape(8)))  # [8,1,1]
            m.conv2.weight.copy_(torch.as_tensor(w["Parameter87"]))  # [16,8,5,5]
            m.conv2.bias.copy_(torch.as_tensor(w["Parameter88"].reshape(16)))  # [16,1,1]
            # Parameter193 [16,4,4,10] is reshaped to [256,10] and used as x @ W: nn.Linear wants W^T
            m.fc.weight.copy_(torch.as_tensor(w["Parameter193"].reshape(256, 10).T))
            m.fc.bias.copy_(torch.as_tensor(w["Parameter194"].reshape(10)))
        return m.eval()

    # layers in ONNX node order, with the CNTK node names as keys
    LAYERS = [("ReLU32", "Relu", "relu1"), ("Pooling66", "MaxPool", "pool1"),
              ("ReLU114", "Relu", "relu2"), ("Pooling160", "MaxPool", "pool2")]


def digit_like_inputs(n_digits=28, n_random=4, seed=8):
    """sklearn's 8x8 digits (0..16) upscaled bilinearly to 20x20, centred in 28x28 like MNIST, scaled to
    0..255; then n_random extras: uniform noise images and a blank one (last). float32 [N,1,28,28], labels
    (-1 for the extras)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    # two of every class first, then random others
    pick = [int(rng.choice(np.flatnonzero(d.target == c))) for c in range(10) for _ in range(2)]
    rest = rng.choice(np.setdiff1d(np.arange(len(d.target)), pick), n_digits - len(pick), replace=False)
    pick = np.array(pick + [int(i) for i in rest])
    img = torch.as_tensor(d.images[pick] / 16.0, dtype=torch.float32)[:, None]
    img = F.interpolate(img, size=(20, 20), mode="bilinear", align_corners=False).clamp(0, 1)
    img = F.pad(img, (4, 4, 4, 4)) * 255.0
    extras = [rng.uniform(0, 255, (1, 28, 28)) for _ in range(n_random - 1)] + [np.zeros((1, 28, 28))]
    x = np.concatenate([img.numpy(), np.stack(extras)]).astype(np.float32)
    return x, np.concatenate([d.target[pick], -np.ones(n_random, int)])


def main():
    sys.path.insert(0, HERE)
    from onnx_to_torch import OnnxModule
    from spline_hooks import CodeHooks, onnx_layers

    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    torch.set_num_threads(2)
    ours = Mnist8.from_onnx(path)
    generic = OnnxModule.load(path).eval()
    x, labels = digit_like_inputs()
    hooks_ours = CodeHooks([(k, op, getattr(ours, attr)) for k, op, attr in Mnist8.LAYERS])
    hooks_gen = CodeHooks(onnx_layers(generic))
    assert hooks_gen.keys == [k for k, _, _ in Mnist8.LAYERS], hooks_gen.keys
    with torch.no_grad():
        y_ours = ours(torch.as_tensor(x))
        bits_ours = hooks_ours.unpacked()
        y_gen, bits_gen = [], []
        for i in range(len(x)):  # the ONNX graph has a static batch of 1
            y_gen.append(generic(torch.as_tensor(x[i:i + 1])))
            bits_gen.append(hooks_gen.unpacked())
        y_gen, bits_gen = torch.cat(y_gen), torch.cat(bits_gen)
    diff = (y_ours - y_gen).abs().max().item()
    print("max |hand-written - generic| on logits: %.3g (logit scale %.3g)" % (diff, y_ours.abs().max().item()))
    mismatch = (bits_ours != bits_gen).sum().item()
    print("spline bits: %d per sample, %d mismatches over %d samples" % (bits_ours.shape[1], mismatch, len(x)))
    pred = y_ours.argmax(1).numpy()
    ok = labels >= 0
    print("labels     ", labels.tolist())
    print("predictions", pred.tolist())
    print("accuracy on the %d upscaled sklearn digits: %.2f" % (ok.sum(), (pred[ok] == labels[ok]).mean()))
    assert diff < 1e-3 * max(1.0, y_ours.abs().max().item()) and mismatch == 0


if __name__ == "__main__":
    main()
