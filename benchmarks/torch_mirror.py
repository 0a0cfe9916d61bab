"""The same MLP in PyTorch: weights copied from a course Sequential, so both start equal."""

from __future__ import annotations

from typing import Any

import numpy as np

from course import Linear, ReLU, Sequential, Sigmoid, Tanh


def torch_dtype(torch: Any, dtype: np.dtype | type) -> Any:
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        np.dtype(dtype)
    ]


def torch_mlp_from(model: Sequential) -> Any:
    """A torch.nn.Sequential with the layers and the current weights of `model`.

    course keeps W as (in, out) and computes x W + b; torch keeps weight as (out, in) and
    computes x weight^T + bias, so weight = W^T.
    """
    import torch

    layers = []
    for layer in model.layers:
        if isinstance(layer, Linear):
            W, b = layer.W.value, layer.b.value
            lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch_dtype(torch, W.dtype))
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
        elif isinstance(layer, ReLU):
            layers.append(torch.nn.ReLU())
        elif isinstance(layer, Tanh):
            layers.append(torch.nn.Tanh())
        elif isinstance(layer, Sigmoid):
            layers.append(torch.nn.Sigmoid())
        else:
            raise ValueError(f"torch_mlp_from: no torch twin for {layer!r}")
    return torch.nn.Sequential(*layers)


def torch_grads_as_course(tmodel: Any) -> list[np.ndarray]:
    """The gradients of a torch twin in course's order and layout ([dW (in, out), db, ...])."""
    out = []
    for m in tmodel:
        if hasattr(m, "weight"):
            out.append(m.weight.grad.detach().numpy().T)
            out.append(m.bias.grad.detach().numpy())
    return out


def torch_params_as_course(tmodel: Any) -> list[np.ndarray]:
    """The parameters of a torch twin in course's order and layout ([W (in, out), b, ...])."""
    out = []
    for m in tmodel:
        if hasattr(m, "weight"):
            out.append(m.weight.detach().numpy().T)
            out.append(m.bias.detach().numpy())
    return out
