"""09 deep networks: dropout_forward(x, p, rng) -> (out, mask).

mask = rng.random(x.shape) >= p (p = probability of dropping), out = x * mask / (1 - p).
"""

import numpy as np

from ._registry import IN_PLACE, right, wrong

EX = "dropout_forward"
SCALE = ("1 - p", "1-p", "(1 - p)", "scal", "invert", "rescal", "keep prob")


@wrong(EX, "out", "no inverted-dropout scaling", SCALE)
def dof_no_scale(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask, mask


@wrong(EX, "out", "scales by 1/p instead of 1/(1 - p)",
       ("1 - p", "1-p", "(1 - p)", "/ p", "1/p", "keep prob"))
def dof_scale_by_p(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask / p, mask


@wrong(EX, ("mask", "out"), "p used as the keep probability: mask = random < p",
       ("keep", "< p", ">= p", "probability of drop", "dropping", "opposite", "invert"))
def dof_keep_prob(x, p, rng):
    mask = rng.random(x.shape) < p
    return x * mask / (1 - p), mask


@wrong(EX, ("mask", "out"), "uses np.random instead of the given rng",
       ("rng", "generator", "np.random", "seed"))
def dof_global_random(x, p, rng):
    mask = np.random.default_rng().random(x.shape) >= p
    return x * mask / (1 - p), mask


@wrong(EX, ("mask", "out"), "one random draw per row: drops whole samples",
       ("row", "sample", "per element", "each entry", "every entry", "x.shape", "shape"))
def dof_per_row(x, p, rng):
    mask = np.repeat(rng.random((x.shape[0], 1)) >= p, x.shape[1], axis=1)
    return x * mask / (1 - p), mask


@wrong(EX, "x", "multiplies x in place", IN_PLACE)
def dof_in_place(x, p, rng):
    mask = rng.random(x.shape) >= p
    x *= mask
    x /= 1 - p
    return x, mask


@wrong(EX, ("out", "mask"), "draws a second random mask for out",
       ("twice", "same mask", "second", "consistent", "again", "mask and out", "out and mask"))
def dof_two_draws(x, p, rng):
    mask = rng.random(x.shape) >= p
    out = x * (rng.random(x.shape) >= p) / (1 - p)
    return out, mask


@right(EX)
def dof_right_where(x, p, rng):
    u = rng.random(x.shape)
    mask = ~(u < p)
    out = np.where(mask, x / (1 - p), np.zeros_like(x))
    return out.astype(x.dtype, copy=False), mask


@right(EX)
def dof_right_copy_in_place(x, p, rng):
    mask = rng.random(x.shape) >= p
    out = x.copy()
    out[~mask] = 0
    out *= 1 / (1 - p)
    return out, mask
