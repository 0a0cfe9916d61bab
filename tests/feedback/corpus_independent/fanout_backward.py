"""01 chain rule: fanout_backward(x, y) -> (dx, dy) of f = r * q, q = x * y, r = x + q."""

from ._registry import ORDER, SIGN, right, wrong

EX = "fanout_backward"
BRANCH = ("add", "sum", "+=", "two nodes", "both", "branch", "path", "overwrit", "feeds")


@wrong(EX, "dx", "dq takes only the gradient through f, not the one through r", BRANCH)
def fanout_one_branch_q(x, y):
    q = x * y
    r = x + q
    dq = r
    return q + dq * y, dq * x


@wrong(EX, "dx", "dq takes only the gradient through r, not the one from f", BRANCH)
def fanout_other_branch_q(x, y):
    q = x * y
    dq = q
    return q + dq * y, dq * x


@wrong(EX, "dx", "dx overwritten: only the path through q survives", BRANCH)
def fanout_dx_overwrite(x, y):
    q = x * y
    r = x + q
    dx = q
    dx = (r + q) * y
    return dx, (r + q) * x


@wrong(EX, "dx", "dx keeps only the direct path into r", BRANCH)
def fanout_dx_direct(x, y):
    q = x * y
    r = x + q
    return q, (r + q) * x


@wrong(EX, ("dx", "dy"), "dx and dy swapped", ORDER)
def fanout_swapped(x, y):
    q = x * y
    r = x + q
    dq = r + q
    return dq * x, q + dq * y


@wrong(EX, "dx", "sign flipped", SIGN)
def fanout_sign(x, y):
    q = x * y
    r = x + q
    dq = r + q
    return -(q + dq * y), -dq * x


@right(EX)
def fanout_by_hand(x, y):
    # f = x^2 y (1 + y)
    return 2 * x * y * (1 + y), x * x * (1 + 2 * y)
