"""Layers as pure functions: every forward has a backward.

The contract (shared with the notebooks): ``*_forward`` computes the output,
``*_backward(dout, <forward inputs>)`` returns the gradient of the loss with
respect to each forward input, given ``dout``, the gradient with respect to the
output. A gradient always has the shape of the thing it is the gradient of.
Shapes: x (N, D), W (D, M), b (M,), dout like the forward output.
"""

from __future__ import annotations

import numpy as np

from course import _validate as val


# --- Linear (affine) ---------------------------------------------------------------------------
def _linear_inputs(fn: str, x, W, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, W, b = val.floats(fn, x=x, W=W, b=b)
    val.ndim(fn, "x", x, 2, "(N, D)")
    val.ndim(fn, "W", W, 2, "(D, M)")
    val.ndim(fn, "b", b, 1, "(M,)")
    if W.shape[0] != x.shape[1]:
        raise ValueError(
            f"{fn}: x is {val.shape_str(x)} = (N, D) so W must be (D, M) with D = {x.shape[1]}, "
            f"got W {val.shape_str(W)}."
        )
    if b.shape[0] != W.shape[1]:
        raise ValueError(
            f"{fn}: W is {val.shape_str(W)} = (D, M) so b must be (M,) = ({W.shape[1]},), "
            f"got b {val.shape_str(b)}."
        )
    return x, W, b


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Affine layer: out = x W + b.

    x: (N, D) inputs.  W: (D, M) weights.  b: (M,) bias.
    Returns out: (N, M).
    """
    x, W, b = _linear_inputs("linear_forward", x, W, b)
    out = x @ W
    out += b
    return out


def linear_backward(
    dout: np.ndarray,
    x: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    *,
    input_grad: bool = True,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of out = x W + b: dx = dout W^T, dW = x^T dout, db = sum_n dout.

    dout: (N, M) upstream gradient.  x: (N, D), W: (D, M), b: (M,) the forward inputs.
    Returns (dx: (N, D), dW: (D, M), db: (M,)).
    Two options for networks (the notebooks use neither): input_grad=False skips dx and
    returns None in its place (the first layer needs no gradient for its input, the data);
    out=(dW, db) writes the weight gradients into these arrays and returns them.
    """
    x, W, b = _linear_inputs("linear_backward", x, W, b)
    dout = val.floats("linear_backward", dout=dout)[0]
    expected = (x.shape[0], W.shape[1])
    if dout.shape != expected:
        raise ValueError(
            f"linear_backward: dout must have the shape of the forward output (N, M) = "
            f"{expected}, got {val.shape_str(dout)}."
        )
    if dout.dtype is not x.dtype:  # (x, W and b share one dtype already)
        dout = dout.astype(val.result_dtype(dout, x), copy=False)
    dx = dout @ W.T if input_grad else None
    if out is None:
        return dx, x.T @ dout, dout.sum(axis=0)
    dW, db = out
    if dW.shape != W.shape or db.shape != b.shape:
        raise ValueError(
            f"linear_backward: out must be arrays shaped like W {val.shape_str(W)} and "
            f"b {val.shape_str(b)}, got {val.shape_str(dW)} and {val.shape_str(db)}."
        )
    return dx, np.matmul(x.T, dout, out=dW), dout.sum(axis=0, out=db)


# --- ReLU --------------------------------------------------------------------------------------
def relu_forward(x: np.ndarray) -> np.ndarray:
    """ReLU: out = max(0, x), elementwise.  x: any shape.  Returns out: shape of x."""
    x = val.as_float("relu_forward", "x", x)
    return np.maximum(x, 0)


def relu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of ReLU: pass dout through where x > 0, else 0.

    dout: upstream gradient, shape of x.  x: the input of the forward pass.
    Returns dx: shape of x.
    """
    dout, x = val.floats("relu_backward", dout=dout, x=x)
    val.same_shape("relu_backward", "dout", dout, "x", x)
    return dout * (x > 0)


# --- Sigmoid -----------------------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) rewritten with tanh: equal in exact arithmetic, and it never
    # overflows (e^-x overflows for x < -709 in float64, much sooner in float32).
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """Sigmoid: out = 1 / (1 + exp(-x)), elementwise.  x: any shape.  Returns out: shape of x."""
    return _sigmoid(val.as_float("sigmoid_forward", "x", x))


def sigmoid_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of sigmoid: dx = dout * s (1 - s) with s = sigmoid(x).

    dout: upstream gradient, shape of x.  x: the input of the forward pass (not its output).
    Returns dx: shape of x.
    """
    dout, x = val.floats("sigmoid_backward", dout=dout, x=x)
    val.same_shape("sigmoid_backward", "dout", dout, "x", x)
    s = _sigmoid(x)
    return dout * s * (1 - s)


# --- Tanh --------------------------------------------------------------------------------------
def tanh_forward(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, elementwise.  x: any shape.  Returns out: shape of x."""
    return np.tanh(val.as_float("tanh_forward", "x", x))


def tanh_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of tanh: dx = dout * (1 - tanh(x)^2).

    dout: upstream gradient, shape of x.  x: the input of the forward pass (not its output).
    Returns dx: shape of x.
    """
    dout, x = val.floats("tanh_backward", dout=dout, x=x)
    val.same_shape("tanh_backward", "dout", dout, "x", x)
    t = np.tanh(x)
    return dout * (1 - t * t)


# --- Batch normalization -----------------------------------------------------------------------
def _batchnorm_inputs(fn: str, x, gamma, beta):
    x, gamma, beta = val.floats(fn, x=x, gamma=gamma, beta=beta)
    val.ndim(fn, "x", x, 2, "(N, D)")
    d = x.shape[1]
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != (d,):
            raise ValueError(
                f"{fn}: x is {val.shape_str(x)} = (N, D) so {name} must be (D,) = ({d},), "
                f"got {val.shape_str(p)}."
            )
    if x.shape[0] < 2:
        raise ValueError(
            f"{fn}: batch normalization needs a batch of at least 2 rows to estimate a "
            f"variance, got x {val.shape_str(x)}."
        )
    return x, gamma, beta


def _normalize(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """x_hat = (x - mean) / sqrt(var + eps) over the batch, and 1 / sqrt(var + eps)."""
    mu = x.mean(axis=0)
    xc = x - mu
    inv_std = 1.0 / np.sqrt((xc * xc).mean(axis=0) + eps)
    return xc * inv_std, inv_std


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Batch normalization (training mode): out = gamma * (x - mean) / sqrt(var + eps) + beta.

    Mean and biased variance are taken over the batch (axis 0).
    x: (N, D).  gamma, beta: (D,).  Returns out: (N, D).
    """
    x, gamma, beta = _batchnorm_inputs("batchnorm_forward", x, gamma, beta)
    x_hat, _ = _normalize(x, eps)
    return gamma * x_hat + beta


def batchnorm_backward(
    dout: np.ndarray, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch normalization (training mode).

    With x_hat the normalized input and g = dout * gamma:
    dx = (g - mean_n(g) - x_hat * mean_n(g * x_hat)) / sqrt(var + eps),
    dgamma = sum_n dout * x_hat, dbeta = sum_n dout.
    dout: (N, D) upstream gradient.  x: (N, D), gamma, beta: (D,) the forward inputs.
    Returns (dx: (N, D), dgamma: (D,), dbeta: (D,)).
    """
    x, gamma, beta = _batchnorm_inputs("batchnorm_backward", x, gamma, beta)
    dout = val.floats("batchnorm_backward", dout=dout)[0]
    val.same_shape("batchnorm_backward", "dout", dout, "x", x)
    x_hat, inv_std = _normalize(x, eps)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) * inv_std
    dtype = val.result_dtype(dout, x, gamma)
    return dx.astype(dtype, copy=False), dgamma.astype(dtype, copy=False), dbeta.astype(
        dtype, copy=False
    )


# --- Dropout -----------------------------------------------------------------------------------
def dropout_forward(
    x: np.ndarray, p: float, rng: np.random.Generator | int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout: drop each entry with probability p, scale the rest by 1 / (1 - p).

    mask = rng.random(x.shape) >= p, out = x * mask / (1 - p).
    x: any shape.  p: drop probability in [0, 1).  rng: a np.random.Generator (or a seed).
    Returns (out: shape of x, mask: bool, shape of x).
    """
    x = val.as_float("dropout_forward", "x", x)
    p = val.probability("dropout_forward", "p", p)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), mask


def dropout_backward(dout: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """Gradient of inverted dropout: dx = dout * mask / (1 - p).

    dout: upstream gradient, shape of x.  mask: the bool mask from the forward pass.
    Returns dx: shape of x.
    """
    dout = val.as_float("dropout_backward", "dout", dout)
    mask = np.asarray(mask)
    val.same_shape("dropout_backward", "mask", mask, "dout", dout)
    p = val.probability("dropout_backward", "p", p)
    return dout * mask / (1 - p)
