#!/usr/bin/env python3
"""Train a small MLP on sklearn's 8x8 digits and export it to ONNX for Polytope Lens.

    /usr/bin/python3 examples/digits/train.py

Writes, next to this script: digits.onnx, digits-x.npy / digits-y.npy (the 360-sample test split) and
digits-train-x.npy / digits-train-y.npy (the 1,437-sample training split).
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))

torch.manual_seed(0)
torch.set_num_threads(1)  # reproducible


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 48)
        self.act1 = nn.ReLU()
        self.block = nn.Sequential(
            nn.Linear(48, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
        )
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        x = self.act1(self.fc1(x))
        x = self.block(x)
        return self.head(x)


# Data: 1,797 8x8 images with pixel values 0..16, bundled with scikit-learn (no download)
digits = load_digits()
x = (digits.data / 16.0).astype(np.float32)  # [N, 64] in [0, 1]
y = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=360, random_state=0, stratify=y)

model = DigitsNet()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)

for epoch in range(40):
    model.train()
    perm = torch.randperm(len(xt))
    for i in range(0, len(xt), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xt[idx]), yt[idx])
        loss.backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    train_acc = (model(xt).argmax(1) == yt).float().mean().item()
    test_acc = (model(torch.from_numpy(x_test)).argmax(1) == torch.from_numpy(y_test)).float().mean().item()
print(f"train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f}")

np.save(os.path.join(HERE, "digits-x.npy"), x_test)
np.save(os.path.join(HERE, "digits-y.npy"), y_test)
np.save(os.path.join(HERE, "digits-train-x.npy"), x_train)
np.save(os.path.join(HERE, "digits-train-y.npy"), y_train)

os.chdir(HERE)  # so that "digits.onnx" lands next to this script
torch.onnx.export(
    model,
    torch.zeros(1, 64),
    "digits.onnx",
    input_names=["input"],
    output_names=["logits"],
    dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    opset_version=14,
)
print("wrote", os.path.join(HERE, "digits.onnx"))
