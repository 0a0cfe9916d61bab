"""03 linear layer: linear_forward(x, W, b) -> x @ W + b, shape (N, M)."""

import numpy as np

from ._registry import TRANSPOSE, right, wrong

EX = "linear_forward"


@wrong(EX, "out", "forgot the bias", ("bias", "+ b", "b is", "missing b", "forgot b"))
def lf_no_bias(x, W, b):
    return x @ W


@wrong(EX, "out", "result transposed (M, N)", TRANSPOSE)
def lf_transposed(x, W, b):
    return (W.T @ x.T) + b[:, None]


@wrong(EX, "out", "elementwise product instead of matrix product",
       ("@", "matmul", "matrix product", "matrix multipl", "elementwise", "element-wise",
        "np.dot", "dot product"))
def lf_elementwise(x, W, b):
    return x * W + b


@wrong(EX, "out", "W assumed to be (M, D): x @ W.T", TRANSPOSE + ("(d, m)", "W.T"))
def lf_w_transposed(x, W, b):
    return x @ W.T + b


# Labelled wrong by its author; right under issue 12's dtype policy (values decide, a
# float64 result for float32 inputs earns a note).
@right(EX)
def lf_float64(x, W, b):
    return np.asarray(x, dtype=np.float64) @ np.asarray(W, dtype=np.float64) + b


@right(EX)
def lf_right_einsum(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b


@right(EX)
def lf_right_loops(x, W, b):
    n, d = x.shape
    m = W.shape[1]
    out = np.empty((n, m), dtype=np.result_type(x, W, b))
    for i in range(n):
        for j in range(m):
            out[i, j] = b[j] + sum(x[i, k] * W[k, j] for k in range(d))
    return out
