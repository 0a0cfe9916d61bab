"""Layer objects and a Sequential container, built on the functions in `course.layers`.

Each layer object only remembers what its backward pass needs (the forward input) and
calls the pure functions; the math lives in exactly one place. Calling ``backward`` after
``forward`` returns the gradient for the layer below and stores each parameter's gradient
in ``param.grad`` (overwriting the previous one).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from course import _validate as val
from course.layers import (
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator from a Generator, a seed, or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


class Parameter:
    """A trainable array and its gradient (same shape)."""

    __slots__ = ("value", "grad", "name")

    def __init__(self, value: np.ndarray, name: str = "") -> None:
        self.value = value
        self.grad = np.zeros_like(value)
        self.name = name

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"


class Layer:
    """Base class: no parameters, training mode by default."""

    training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def parameters(self) -> list[Parameter]:
        return []

    def train(self) -> Layer:
        self.training = True
        return self

    def eval(self) -> Layer:
        self.training = False
        return self

    def _input(self) -> np.ndarray:
        x = getattr(self, "_x", None)
        if x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward.")
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


INITS = ("he", "xavier", "normal", "uniform")


class Linear(Layer):
    """Affine layer out = x W + b with W: (in_features, out_features), b: (out_features,).

    init: "he" (std sqrt(2 / in), for ReLU), "xavier" (std sqrt(2 / (in + out)), for tanh and
    sigmoid), "normal" (std `scale`, default 0.01), "uniform" (U(-k, k) with k = 1/sqrt(in),
    PyTorch's default). `scale` multiplies the standard deviation (or sets it for "normal").
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init: str = "he",
        scale: float | None = None,
        rng: np.random.Generator | int | None = None,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        if init not in INITS:
            raise ValueError(f"Linear: init must be one of {INITS}, got {init!r}.")
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or int(n) != n or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}.")
        rng = as_rng(rng)
        shape = (int(in_features), int(out_features))
        if init == "uniform":
            k = 1.0 / np.sqrt(in_features) * (1.0 if scale is None else scale)
            W = rng.uniform(-k, k, size=shape)
        else:
            std = {
                "he": np.sqrt(2.0 / in_features),
                "xavier": np.sqrt(2.0 / (in_features + out_features)),
                "normal": 1.0,
            }[init]
            std *= 0.01 if (init == "normal" and scale is None) else (scale or 1.0)
            W = rng.standard_normal(shape) * std
        self.W = Parameter(W.astype(dtype), "W")
        self.b = Parameter(np.zeros(shape[1], dtype=dtype), "b")
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return linear_forward(x, self.W.value, self.b.value)

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Write dW and db into the parameters' .grad arrays; return dx (None if not input_grad).

        The gradients overwrite the arrays in place (no new arrays per step) as long as they
        fit; a .grad replaced by an array of another shape or dtype is replaced again.
        """
        W, b, x = self.W, self.b, self._input()
        dtype = W.value.dtype
        fits = (getattr(dout, "dtype", None) == getattr(x, "dtype", None) == dtype
                and W.grad.dtype == b.grad.dtype == dtype
                and W.grad.shape == W.value.shape and b.grad.shape == b.value.shape)
        dx, W.grad, b.grad = linear_backward(
            dout, x, W.value, b.value, input_grad=input_grad, out=(W.grad, b.grad) if fits else None
        )
        return dx

    def parameters(self) -> list[Parameter]:
        return [self.W, self.b]

    def __repr__(self) -> str:
        d, m = self.W.value.shape
        return f"Linear({d}, {m})"


class ReLU(Layer):
    """out = max(0, x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return relu_forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return relu_backward(dout, self._input())


class Sigmoid(Layer):
    """out = 1 / (1 + exp(-x))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return sigmoid_forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return sigmoid_backward(dout, self._input())


class Tanh(Layer):
    """out = tanh(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return tanh_forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return tanh_backward(dout, self._input())


class BatchNorm1d(Layer):
    """Batch normalization over the batch axis of (N, D) inputs, with learnable gamma, beta.

    In training mode it normalizes with the batch statistics and updates running averages
    (momentum as in PyTorch: running = (1 - momentum) running + momentum batch, with the
    unbiased batch variance); in eval mode it uses the running averages.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        self.gamma = Parameter(np.ones(num_features, dtype=dtype), "gamma")
        self.beta = Parameter(np.zeros(num_features, dtype=dtype), "beta")
        self.eps, self.momentum = eps, momentum
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training:
            self._x = None
            scale = self.gamma.value / np.sqrt(self.running_var + self.eps)
            return (x - self.running_mean) * scale + self.beta.value
        self._x = x
        out = batchnorm_forward(x, self.gamma.value, self.beta.value, self.eps)
        n = x.shape[0]
        mom = self.momentum
        self.running_mean = (1 - mom) * self.running_mean + mom * x.mean(axis=0)
        self.running_var = (1 - mom) * self.running_var + mom * x.var(axis=0) * n / (n - 1)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.gamma.grad, self.beta.grad = batchnorm_backward(
            dout, self._input(), self.gamma.value, self.beta.value, self.eps
        )
        return dx

    def parameters(self) -> list[Parameter]:
        return [self.gamma, self.beta]

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.gamma.value.shape[0]})"


class Dropout(Layer):
    """Inverted dropout with drop probability p in training mode; the identity in eval mode."""

    def __init__(self, p: float, rng: np.random.Generator | int | None = None) -> None:
        self.p = val.probability("Dropout", "p", p)
        self.rng = as_rng(rng)
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self._mask = None
            return x
        out, self._mask = dropout_forward(x, self.p, self.rng)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._mask is None:
            return dout
        return dropout_backward(dout, self._mask, self.p)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse (the chain rule)."""

    def __init__(self, *layers: Layer) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(
                    f"Sequential: item {i} is a {type(layer).__name__}, not a layer "
                    "(Linear, ReLU, ...)."
                )
        self.layers: list[Layer] = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate dout through every layer; return dL/dx for the input x.

        input_grad=False skips that last product when nothing needs it (training on data:
        `fit` does this) and returns None.
        """
        if not self.layers:
            return dout if input_grad else None
        first, *rest = self.layers
        for layer in reversed(rest):
            dout = layer.backward(dout)
        if not input_grad and isinstance(first, Linear):
            return first.backward(dout, input_grad=False)
        dout = first.backward(dout)
        return dout if input_grad else None

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """("0.W", param), ("0.b", param), ... with the layer index in front."""
        for i, layer in enumerate(self.layers):
            for p in layer.parameters():
                yield f"{i}.{p.name}", p

    def gradients(self) -> list[np.ndarray]:
        return [p.grad for p in self.parameters()]

    def train(self) -> Sequential:
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self) -> Sequential:
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class predictions (N,) = argmax of the outputs, computed in eval mode."""
        was_training = self.training
        self.eval()
        try:
            return self.forward(x).argmax(axis=1)
        finally:
            if was_training:
                self.train()

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def _pack(params: list[Parameter]) -> None:
    """Keep every value in one flat array and every gradient in another, each parameter a view
    into them, so that an optimizer can update all of them at once (one pass over one array
    instead of a dozen small NumPy calls per parameter: the step of a small model is mostly
    call overhead). Parameters of different dtypes are left as they are.
    """
    dtype = params[0].value.dtype
    if any(p.value.dtype != dtype for p in params):
        return
    n = sum(p.value.size for p in params)
    values, grads = np.empty(n, dtype=dtype), np.zeros(n, dtype=dtype)
    start = 0
    for p in params:
        end = start + p.value.size
        values[start:end] = p.value.ravel()
        p.value = values[start:end].reshape(p.value.shape)
        p.grad = grads[start:end].reshape(p.value.shape)
        start = end


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    *,
    init: str | None = None,
    scale: float | None = None,
    batchnorm: bool = False,
    dropout: float = 0.0,
    rng: np.random.Generator | int | None = 0,
    dtype: np.dtype | type = np.float64,
) -> Sequential:
    """A multilayer perceptron: Linear -> [BatchNorm1d] -> activation -> [Dropout] -> ... -> Linear.

    sizes: [D, H1, ..., C], e.g. [64, 128, 10].  activation: "relu", "tanh" or "sigmoid".
    init: weight initialization for every Linear (default "he" for relu, "xavier" otherwise).
    The last Linear has no activation: its outputs are logits or regression values.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least an input and an output size, got {sizes}.")
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: activation must be one of {list(ACTIVATIONS)}, got {activation!r}.")
    rng = as_rng(rng)
    init = init or ("he" if activation == "relu" else "xavier")
    layers: list[Layer] = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(d_in, d_out, init=init, scale=scale, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(BatchNorm1d(d_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
    model = Sequential(*layers)
    _pack(model.parameters())
    return model
