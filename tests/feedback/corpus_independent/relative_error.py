"""02 gradient checking: relative_error(a, b) -> max |a-b| / max(1e-8, |a|+|b|)."""

import numpy as np

from ._registry import right, wrong

EX = "relative_error"
OUT = ("relative_error", "relative error", "returned", "result", "return value")


@wrong(EX, OUT, "mean instead of max", ("max", "largest", "worst"))
def re_mean(a, b):
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@wrong(EX, OUT, "denominator without absolute values", ("abs", "absolute", "|a|"))
def re_no_abs(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, a + b)))


@wrong(EX, OUT, "no 1e-8 floor: 0/0 gives nan when both are zero",
       ("1e-8", "zero", "nan", "0/0", "divide by", "division by"))
def re_no_floor(a, b):
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


@wrong(EX, OUT, "sum instead of max", ("max", "largest", "worst", "sum"))
def re_sum(a, b):
    return float(np.sum(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@wrong(EX, OUT, "denominator max(|a|, |b|) instead of |a| + |b|",
       ("|a| + |b|", "abs(a) + abs(b)", "sum of", "denominator"))
def re_max_denominator(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


@wrong(EX, OUT, "returns the elementwise array instead of one float (max forgotten)",
       ("float", "array", "scalar", "max", "single number", "one number"))
def re_array(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


@right(EX)
def re_right_loop(a, b):
    worst = 0.0
    for x, y in zip(np.ravel(a), np.ravel(b), strict=True):
        d = max(1e-8, abs(float(x)) + abs(float(y)))
        worst = max(worst, abs(float(x) - float(y)) / d)
    return worst


@right(EX)
def re_right_float32_safe(a, b):
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    den = np.abs(a64) + np.abs(b64)
    np.maximum(den, 1e-8, out=den)
    return float((np.abs(a64 - b64) / den).max())
