"""10 generalization: early_stopping(val_losses, patience) -> (best_epoch, stop_epoch).

Unlike most of this corpus, written by the author of the check (issue 13), so it is not held
out: it guards the check against regressions rather than measuring it."""

import numpy as np

from ._registry import right, wrong

EX = "early_stopping"


@right(EX)
def es_while(val_losses, patience):
    best, epoch = 0, 1
    while epoch < len(val_losses):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        if epoch - best == patience:
            return best, epoch
        epoch += 1
    return best, len(val_losses) - 1


@wrong(EX, "best_epoch", "best taken over all epochs, future included",
       ("future", "whole list", "after the stop", "look"))
def es_peeks(val_losses, patience):
    stop = len(val_losses) - 1
    best = 0
    for e in range(1, len(val_losses)):
        if val_losses[e] < val_losses[best]:
            best = e
        elif e - best >= patience:
            stop = e
            break
    return int(np.argmin(val_losses)), stop


@wrong(EX, "best_epoch", "a tie counts as an improvement",
       ("strict", "equal", "tie"))
def es_ties(val_losses, patience):
    best = 0
    for e in range(1, len(val_losses)):
        if val_losses[e] <= val_losses[best]:
            best = e
        elif e - best >= patience:
            return best, e
    return best, len(val_losses) - 1


@wrong(EX, "stop_epoch", "stops one epoch early", ("too early", "one epoch", "off by one"))
def es_early(val_losses, patience):
    best = 0
    for e in range(1, len(val_losses)):
        if val_losses[e] < val_losses[best]:
            best = e
        elif e - best >= patience - 1:
            return best, e
    return best, len(val_losses) - 1


@wrong(EX, "best_epoch", "keeps the last epoch's weights",
       ("lowest validation loss", "stopped", "keeps", "best"))
def es_last(val_losses, patience):
    best = 0
    for e in range(1, len(val_losses)):
        if val_losses[e] < val_losses[best]:
            best = e
        elif e - best >= patience:
            return e, e
    return len(val_losses) - 1, len(val_losses) - 1
