"""Tuning corpus, notebook 10: the L2 penalty and early stopping."""

import numpy as np

from ._mark import right, wrong


@right("l2_penalty")
def l2_plain(W, lam):
    return 0.5 * lam * float(np.sum(W**2)), lam * W


@right("l2_penalty")
def l2_vdot(W, lam):
    return lam / 2 * np.vdot(W, W), W * lam


@wrong("l2_penalty", "penalty", "missing_half")
def l2_no_half(W, lam):
    return lam * float(np.sum(W**2)), lam * W


@wrong("l2_penalty", "dW", "gradient_factor_two")
def l2_grad_two(W, lam):
    return 0.5 * lam * float(np.sum(W**2)), 2 * lam * W


@wrong("l2_penalty", "penalty", "mean_not_sum")
def l2_mean(W, lam):
    return 0.5 * lam * float(np.mean(W**2)), lam * W / W.size


@wrong("l2_penalty", "penalty", "not_squared")
def l2_norm(W, lam):
    return 0.5 * lam * float(np.linalg.norm(W)), lam * W


@wrong("l2_penalty", "penalty", "l1")
def l2_is_l1(W, lam):
    return lam * float(np.abs(W).sum()), lam * np.sign(W)


@wrong("l2_penalty", "penalty", "lam_ignored")
def l2_no_lam(W, lam):
    return 0.5 * float(np.sum(W**2)), W.copy()


@wrong("l2_penalty", "dW", "wrong_input")
def l2_grad_const(W, lam):
    return 0.5 * lam * float(np.sum(W**2)), np.full_like(W, lam)


@wrong("l2_penalty", "W", "mutates_input")
def l2_inplace(W, lam):
    penalty = 0.5 * lam * float(np.sum(W**2))
    W *= lam
    return penalty, W


@right("early_stopping")
def stop_counter(val_losses, patience):
    best, waited = 0, 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best, epoch
    return best, len(val_losses) - 1


@wrong("early_stopping", "best_epoch", "last_not_best")
def stop_returns_stop_twice(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return epoch, epoch
    return len(val_losses) - 1, len(val_losses) - 1


@wrong("early_stopping", "best_epoch", "lookahead")
def stop_global_min(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return int(np.argmin(val_losses)), epoch
    return int(np.argmin(val_losses)), len(val_losses) - 1


@wrong("early_stopping", "best_epoch", "not_strict")
def stop_ties_improve(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] <= val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return best, epoch
    return best, len(val_losses) - 1


@wrong("early_stopping", "stop_epoch", "off_by_one")
def stop_one_late(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best > patience:
            return best, epoch
    return best, len(val_losses) - 1


@wrong("early_stopping", "best_epoch", "one_based")
def stop_one_based(val_losses, patience):
    best = 1
    for epoch in range(2, len(val_losses) + 1):
        if val_losses[epoch - 1] < val_losses[best - 1]:
            best = epoch
        elif epoch - best >= patience:
            return best, epoch
    return best, len(val_losses)


@wrong("early_stopping", "stop_epoch", "never_stops")
def stop_ignores_patience(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
    return best, len(val_losses) - 1
