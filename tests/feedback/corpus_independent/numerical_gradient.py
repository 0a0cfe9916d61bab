"""02 gradient checking: numerical_gradient(f, x, h=1e-5) -> grad (centered, x left unchanged)."""

import numpy as np

from ._registry import IN_PLACE, SIGN, right, wrong

EX = "numerical_gradient"


@wrong(EX, "grad", "forward differences instead of centered",
       ("forward difference", "one-sided", "centered", "central"))
def ng_forward_diff(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad


@wrong(EX, ("x", "grad"), "x not restored after perturbing",
       IN_PLACE + ("restor", "put back", "reset"))
def ng_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        fp = f(x)
        x[i] -= 2 * h
        fm = f(x)
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong(EX, "grad", "divided by h instead of 2h (factor 2)",
       ("2h", "2 * h", "2*h", "factor of 2", "factor 2", "twice", "half"))
def ng_divide_by_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / h
    return grad


@wrong(EX, "grad", "sign flipped (f(x-h) - f(x+h))", SIGN)
def ng_sign(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fm - fp) / (2 * h)
    return grad


@wrong(EX, "grad", "loops over rows only: perturbs a whole row at a time for 2-D x",
       ("row", "each element", "every element", "one entry", "each entry", "every entry", "2-d",
        "2d", "ndim", "flat"))
def ng_rows_only(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(x.shape[0]):
        old = x[i].copy()
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong(EX, "grad", "returns a flat gradient instead of the shape of x",
       ("shape", "flat", "reshape", "ravel"))
def ng_flat(f, x, h=1e-5):
    flat = x.reshape(-1)  # a view: perturbing it perturbs x
    grad = np.zeros(flat.size)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        fp = f(x)
        flat[k] = old - h
        fm = f(x)
        flat[k] = old
        grad[k] = (fp - fm) / (2 * h)
    return grad


@right(EX)
def ng_right_copy_each_time(f, x, h=1e-5):
    # never touches x: evaluates on fresh copies
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp = x.copy()
        xm = x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = (f(xp) - f(xm)) / (2 * h)
    return grad


@right(EX)
def ng_right_flat_view_loop(f, x, h=1e-5):
    work = np.array(x, copy=True)
    flat = work.reshape(-1)
    out = np.zeros(flat.size, dtype=x.dtype)
    for k in range(flat.size):
        keep = flat[k]
        flat[k] = keep + h
        a = f(work)
        flat[k] = keep - h
        c = f(work)
        flat[k] = keep
        out[k] = (a - c) / (2 * h)
    return out.reshape(x.shape)
