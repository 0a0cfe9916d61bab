"""10 generalization: l2_penalty(W, lam) -> (lam / 2 * sum(W**2), lam * W).

Unlike most of this corpus, written by the author of the check (issue 13), so it is not held
out: it guards the check against regressions rather than measuring it."""

import numpy as np

from ._registry import right, wrong

EX = "l2_penalty"


@right(EX)
def l2_einsum(W, lam):
    return float(np.einsum("i,i->", W.ravel(), W.ravel())) * lam / 2, lam * W


@wrong(EX, "penalty", "no 1/2 in the penalty", ("1/2", "half", "twice", "factor"))
def l2_forgot_half(W, lam):
    return lam * (W * W).sum(), lam * W


@wrong(EX, "dW", "gradient 2 lam W", ("2", "twice", "cancel", "factor"))
def l2_two_in_grad(W, lam):
    return lam / 2 * (W * W).sum(), 2 * lam * W


@wrong(EX, "penalty", "L1 penalty", ("l1", "absolute", "square"))
def l2_abs(W, lam):
    return lam * np.abs(W).sum(), lam * np.sign(W)


@wrong(EX, "penalty", "norm not squared", ("square", "sqrt", "length", "norm"))
def l2_sqrt(W, lam):
    return lam / 2 * np.sqrt((W**2).sum()), lam * W


@wrong(EX, "dW", "gradient ignores W", ("depend", "lam * w", "each weight", "entry"))
def l2_grad_is_lam(W, lam):
    return lam / 2 * (W**2).sum(), lam * np.ones_like(W)
