"""Training on the digits to convergence: wall time and test accuracy, reference vs torch.

The configuration is fixed up front (below) and is the same for both: standardized inputs,
64-64-10 ReLU MLP, Adam lr 0.01, batch 64, 10 epochs, the same initial weights and the same
batch order. Only the training is timed (no evaluation inside the loop).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import course
from benchmarks import common
from benchmarks.torch_mirror import torch_mlp_from

SIZES = [64, 64, 10]
LR = 0.01
BATCH = 64
EPOCHS = 10
GOAL_ACCURACY = 0.97
GOAL_SECONDS = 0.03  # the goal for the reference (torch is shown for comparison)


def digits_split(dtype=np.float64):
    """The course's digits split (test_fraction 0.2, seed 0), standardized with train stats."""
    x, y = course.load_digits()
    x_train, x_test, y_train, y_test = course.train_test_split(x, y, test_fraction=0.2, seed=0)
    x_train, x_test = course.standardize(x_train, x_test)
    return x_train.astype(dtype), x_test.astype(dtype), y_train, y_test


def train_reference(data, dtype=np.float64, epochs: int = EPOCHS) -> tuple[float, float]:
    """(seconds, test accuracy) for course.fit from a fresh model."""
    x_train, x_test, y_train, y_test = data
    model = course.mlp(SIZES, rng=0, dtype=dtype)
    opt = course.Adam(model.parameters(), lr=LR)
    start = time.perf_counter()
    course.fit(model, course.SoftmaxCrossEntropy(), opt, x_train, y_train, epochs=epochs,
               batch_size=BATCH, rng=0)
    seconds = time.perf_counter() - start
    return seconds, course.accuracy(model, x_test, y_test)


def train_torch(data, dtype=np.float64, epochs: int = EPOCHS) -> tuple[float, float]:
    """(seconds, test accuracy) for the same model, batches and optimizer in torch."""
    import torch

    x_train, x_test, y_train, y_test = data
    model = torch_mlp_from(course.mlp(SIZES, rng=0, dtype=dtype))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64))
    rng = np.random.default_rng(0)  # the same batch order as course.fit(rng=0)
    n = len(x_train)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(n))
        for s in range(0, n, BATCH):
            idx = order[s : s + BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return seconds, float(np.mean(pred == y_test))


@dataclass
class DigitsRow:
    impl: str
    dtype: str
    threads: int
    seconds: float | None
    accuracy: float | None
    note: str = ""


def measure(quick: bool = False, dtypes=(np.float64, np.float32), thread_counts=(1,)):
    """Median training time over interleaved repeats.

    One thread by default: with 64x64 weight matrices a second BLAS or OpenMP thread only adds
    synchronization, and on a busy 2-core machine torch's spinning OpenMP threads can take
    seconds per run.
    """
    torch = common.torch_or_none()
    rows: list[DigitsRow] = []
    repeats = 3 if quick else 7
    for dtype in dtypes:
        data = digits_split(dtype)
        for n in thread_counts:
            runs: dict[str, list[tuple[float, float]]] = {"reference": [], "torch": []}
            with common.threads(n):
                train_reference(data, dtype, epochs=1)  # warm-up
                if torch is not None:
                    train_torch(data, dtype, epochs=1)
                for r in range(repeats):
                    order = ["reference", "torch"] if r % 2 == 0 else ["torch", "reference"]
                    for impl in order:
                        if impl == "torch" and torch is None:
                            continue
                        fn = train_reference if impl == "reference" else train_torch
                        runs[impl].append(fn(data, dtype))
            for impl in ("reference", "torch"):
                name = np.dtype(dtype).name
                if not runs[impl]:
                    rows.append(DigitsRow(impl, name, n, None, None, common.TORCH_MISSING))
                    continue
                secs = common.median([s for s, _ in runs[impl]])
                acc = runs[impl][0][1]  # deterministic: every repeat gives the same accuracy
                rows.append(DigitsRow(impl, name, n, secs, acc))
    return rows


def table(rows: list[DigitsRow]) -> str:
    headers = ["implementation", "dtype", "threads", "training time", "test accuracy",
               f"goal: >= {GOAL_ACCURACY:.0%} in <= {GOAL_SECONDS} s"]
    body = []
    for r in rows:
        if r.seconds is None:
            body.append([r.impl, r.dtype, r.threads, "skipped", "-", r.note])
            continue
        ok_acc = r.accuracy >= GOAL_ACCURACY
        ok_time = r.seconds <= GOAL_SECONDS
        if r.impl != "reference":
            verdict = "(the goal is the reference's)"
        elif ok_acc and ok_time:
            verdict = "yes"
        else:
            misses = []
            if not ok_acc:
                misses.append(f"accuracy {100 * (GOAL_ACCURACY - r.accuracy):.1f} points short")
            if not ok_time:
                misses.append(f"{(r.seconds / GOAL_SECONDS - 1) * 100:.0f} % over time")
            verdict = "**no**: " + ", ".join(misses)
        body.append([r.impl, r.dtype, r.threads, f"{r.seconds:.3f} s", f"{r.accuracy:.1%}",
                     verdict])
    return common.md_table(headers, body)
