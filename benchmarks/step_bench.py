"""One training step (forward, loss, backward, Adam update): course reference vs PyTorch CPU.

Both models start from the same weights and see the same batch; the two steps are timed in
alternating rounds and the ratio reference / torch is taken from the medians of the same run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

import course
from benchmarks import common
from benchmarks.torch_mirror import torch_mlp_from

# (sizes, batch, goal for reference time / torch time)
CONFIGS: list[tuple[tuple[int, ...], int, float]] = [
    ((64, 128, 64, 10), 64, 0.5),
    ((784, 256, 256, 10), 128, 0.9),
    ((784, 1024, 1024, 10), 256, 1.0),
]
# The contract functions composed by hand with sgd_step vs torch's same SGD step.
CONTRACT_GOALS: dict[tuple[int, ...], float] = {
    (64, 128, 64, 10): 0.5, (784, 256, 256, 10): 1.0, (784, 1024, 1024, 10): 1.0}
DTYPES = (np.float32, np.float64)
THREADS = (1, 2)
LR = 1e-3


@dataclass
class StepRow:
    sizes: tuple[int, ...]
    batch: int
    dtype: str
    threads: int
    ref_s: float
    torch_s: float | None
    goal: float
    rounds: int
    paired_ratio: float | None  # median over rounds of (reference round / torch round)
    torch_one_thread_s: float | None = None  # torch's time for this model on one thread

    @property
    def ratio(self) -> float | None:
        return self.paired_ratio

    @property
    def torch_slower_with_threads(self) -> bool:
        """torch took longer on these threads than on one: the ratio flatters the reference."""
        return (self.threads > 1 and self.torch_s is not None
                and self.torch_one_thread_s is not None
                and self.torch_s > self.torch_one_thread_s)

    @property
    def met(self) -> bool | None:
        if self.ratio is None or self.torch_slower_with_threads:
            return None  # nothing measured, or nothing to count
        return self.ratio <= self.goal


def make_batch(sizes: tuple[int, ...], batch: int, dtype: Any, seed: int = 0):
    """A random batch (x (batch, D) of `dtype`, labels (batch,) ints)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], size=batch)
    return x, y


def fit_backward_kwargs(model: course.Sequential) -> dict[str, bool]:
    """How course.fit calls model.backward: without dL/dx of the data (`input_grad=False`)
    when the model offers it, as Sequential does. The benchmark times what fit does."""
    params = inspect.signature(model.backward).parameters
    return {"input_grad": False} if "input_grad" in params else {}


class ReferenceStep:
    """course.mlp + softmax_cross_entropy + course.Adam, one call = one step of course.fit."""

    def __init__(self, sizes, batch, dtype, seed: int = 0) -> None:
        self.model = course.mlp(list(sizes), rng=seed, dtype=dtype)
        self.opt = course.Adam(self.model.parameters(), lr=LR)
        self.x, self.y = make_batch(sizes, batch, dtype, seed)
        self.loss = float("nan")
        self.backward_kwargs = fit_backward_kwargs(self.model)

    def __call__(self) -> float:
        out = self.model.forward(self.x)
        self.loss, dout = course.softmax_cross_entropy(out, self.y)
        self.model.backward(dout, **self.backward_kwargs)
        self.opt.step()
        return self.loss


class TorchStep:
    """The same model (weights copied), batch and optimizer in PyTorch, defaults otherwise."""

    def __init__(self, ref: ReferenceStep) -> None:
        import torch

        self.torch = torch
        self.model = torch_mlp_from(ref.model)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.x = torch.from_numpy(ref.x.copy())
        self.y = torch.from_numpy(ref.y.astype(np.int64))
        self.loss = float("nan")

    def __call__(self) -> float:
        self.opt.zero_grad()
        loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        self.loss = loss.item()
        return self.loss


class ContractStep:
    """The contract functions composed as a learner composes them: forward with
    linear_forward and relu_forward, softmax_cross_entropy, the backwards in reverse (dx of
    every layer, the functions' default), then ``W = sgd_step(W, dW, lr)`` per parameter."""

    def __init__(self, sizes, batch, dtype, seed: int = 0) -> None:
        model = course.mlp(list(sizes), rng=seed, dtype=dtype)
        self.model = model  # for the torch twin's weights; the step uses the plain arrays
        self.params = [[layer.W.value.copy(), layer.b.value.copy()]
                       for layer in model.layers if isinstance(layer, course.Linear)]
        self.x, self.y = make_batch(sizes, batch, dtype, seed)
        self.loss = float("nan")

    def __call__(self) -> float:
        h, inputs, pre = self.x, [], []
        for i, (W, b) in enumerate(self.params):
            inputs.append(h)
            h = course.linear_forward(h, W, b)
            if i < len(self.params) - 1:
                pre.append(h)
                h = course.relu_forward(h)
        self.loss, dout = course.softmax_cross_entropy(h, self.y)
        grads = []
        for i in reversed(range(len(self.params))):
            W, b = self.params[i]
            dout, dW, db = course.linear_backward(dout, inputs[i], W, b)
            grads.append((dW, db))
            if i > 0:
                dout = course.relu_backward(dout, pre[i - 1])
        for (W, b), (dW, db), pair in zip(self.params[::-1], grads, self.params[::-1],
                                          strict=True):
            pair[0] = course.sgd_step(W, dW, LR)
            pair[1] = course.sgd_step(b, db, LR)
        return self.loss


class TorchSGDStep(TorchStep):
    """torch's same step: the twin model, cross-entropy, backward, torch.optim.SGD."""

    def __init__(self, ref: ContractStep) -> None:
        super().__init__(ref)
        self.opt = self.torch.optim.SGD(self.model.parameters(), lr=LR)


def _rounds(sizes: tuple[int, ...], quick: bool) -> tuple[int, int]:
    """(rounds, inner steps per round): enough work per round to rise above timer noise."""
    small = sizes[1] <= 128
    if quick:
        return (9, 10) if small else (5, 2)
    return (31, 20) if small else (21, 3)


def measure(
    quick: bool = False, configs=None, dtypes=DTYPES, thread_counts=None
) -> list[StepRow]:
    """Time every (size, dtype, threads) pair; torch columns are None without torch.

    quick=True: the two smaller models, one thread, few rounds.
    """
    if thread_counts is None:
        thread_counts = (1,) if quick else THREADS
    torch = common.torch_or_none()
    rows = []
    for sizes, batch, goal in configs or CONFIGS:
        if quick and sizes[1] > 256:
            continue  # the large model takes too long for a quick run
        for dtype in dtypes:
            for n in thread_counts:
                with common.threads(n):
                    ref = ReferenceStep(sizes, batch, dtype)
                    fns = {"ref": ref}
                    if torch is not None:
                        fns["torch"] = TorchStep(ref)
                    rounds, inner = _rounds(sizes, quick)
                    t = common.interleaved(fns, rounds=rounds, inner=inner, warmup=3)

                paired = None
                if "torch" in t:
                    paired = common.median([a / b for a, b in zip(t["ref"], t["torch"],
                                                                  strict=True)])
                rows.append(
                    StepRow(
                        sizes, batch, np.dtype(dtype).name, n, common.median(t["ref"]),
                        common.median(t["torch"]) if "torch" in t else None, goal, rounds,
                        paired,
                    )
                )
    one_thread = {(r.sizes, r.dtype): r.torch_s for r in rows if r.threads == 1}
    for r in rows:
        r.torch_one_thread_s = one_thread.get((r.sizes, r.dtype))
    return rows


def measure_contract(quick: bool = False, configs=None, dtypes=DTYPES) -> list[StepRow]:
    """ContractStep vs TorchSGDStep, one thread, interleaved rounds (goals: CONTRACT_GOALS)."""
    torch = common.torch_or_none()
    rows = []
    for sizes, batch, _ in configs or CONFIGS:
        if quick and sizes[1] > 256:
            continue
        goal = CONTRACT_GOALS[sizes]
        for dtype in dtypes:
            with common.threads(1):
                ref = ContractStep(sizes, batch, dtype)
                fns = {"ref": ref}
                if torch is not None:
                    fns["torch"] = TorchSGDStep(ref)
                rounds, inner = _rounds(sizes, quick)
                t = common.interleaved(fns, rounds=rounds, inner=inner, warmup=3)
            paired = None
            if "torch" in t:
                paired = common.median([a / b for a, b in zip(t["ref"], t["torch"], strict=True)])
            rows.append(StepRow(sizes, batch, np.dtype(dtype).name, 1, common.median(t["ref"]),
                                common.median(t["torch"]) if "torch" in t else None, goal,
                                rounds, paired))
    return rows


def label(r: StepRow) -> str:
    return "-".join(map(str, r.sizes))


def contract_label(r: StepRow) -> str:
    return f"{label(r)} b{r.batch}"


def table(rows: list[StepRow], label=label, names=("reference", "torch")) -> str:
    headers = ["model", "batch", "dtype", "threads", *names, "ref / torch", "goal", "met"]
    body = []
    for r in rows:
        ratio = r.ratio
        if ratio is None:
            verdict = "torch row skipped"
        elif r.torch_slower_with_threads:
            verdict = (f"not counted: torch is slower on {r.threads} threads than on 1 "
                       f"({common.ms(r.torch_s)} vs {common.ms(r.torch_one_thread_s)})")
        elif r.met:
            verdict = "yes"
        else:
            over = (ratio / r.goal - 1) * 100
            verdict = f"**no** (+{over:.{1 if over < 10 else 0}f} % over)"
        body.append([
            label(r), r.batch, r.dtype, r.threads, common.ms(r.ref_s),
            common.ms(r.torch_s) if r.torch_s is not None else "skipped",
            f"{ratio:.2f}" if ratio is not None else "-", f"<= {r.goal}", verdict,
        ])
    return common.md_table(headers, body)


def contract_table(rows: list[StepRow]) -> str:
    return table(rows, label=contract_label,
                 names=("contract functions + sgd_step", "torch, SGD"))


def plot(rows: list[StepRow], path) -> bool:
    """Bar chart of ref / torch per configuration; False when there is nothing to plot."""
    rows = [r for r in rows if r.ratio is not None]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.2))
    labels = [f"{'-'.join(map(str, r.sizes))} b{r.batch}, {r.dtype}, {r.threads} thr"
              for r in rows]
    colors = ["tab:gray" if r.met is None else "tab:green" if r.met else "tab:red"
              for r in rows]
    xs = np.arange(len(rows))
    ax.bar(xs, [r.ratio for r in rows], color=colors)
    for i, r in enumerate(rows):
        ax.hlines(r.goal, i - 0.4, i + 0.4, colors="k", linestyles="--", linewidth=1)
    ax.set_xticks(xs, labels, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("reference time / torch time")
    ax.set_title("Training step (forward, backward, Adam): lower is faster; dashes = goal; "
                 "gray = not counted", fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --- Where the time goes ------------------------------------------------------------------------
PHASES = ("forward + loss", "backward", "optimizer step")


def _phases_ref(ref: ReferenceStep) -> tuple[float, float, float]:
    clock = common.time.perf_counter
    t0 = clock()
    out = ref.model.forward(ref.x)
    _, dout = course.softmax_cross_entropy(out, ref.y)
    t1 = clock()
    ref.model.backward(dout, **ref.backward_kwargs)
    t2 = clock()
    ref.opt.step()
    t3 = clock()
    return t1 - t0, t2 - t1, t3 - t2


def _phases_torch(ts: TorchStep, x: Any) -> tuple[float, float, float]:
    clock = common.time.perf_counter
    ts.opt.zero_grad()
    t0 = clock()
    loss = ts.torch.nn.functional.cross_entropy(ts.model(x), ts.y)
    t1 = clock()
    loss.backward()
    t2 = clock()
    ts.opt.step()
    t3 = clock()
    return t1 - t0, t2 - t1, t3 - t2


def breakdown(sizes, batch, dtype, rounds: int = 15) -> dict[str, list[float]] | None:
    """Median seconds per phase, one thread: reference, torch, and torch asked for dL/dx too.

    The reference's Sequential.backward returns the gradient with respect to the input x (the
    contract's linear_backward always computes dx); torch skips that product for an input that
    does not require grad. The third column shows torch doing the same work as the reference.
    """
    if common.torch_or_none() is None:
        return None
    with common.threads(1):
        ref = ReferenceStep(sizes, batch, dtype)
        ts = TorchStep(ref)
        x_grad = ts.x.clone().requires_grad_(True)
        runs: dict[str, list[tuple[float, float, float]]] = {"ref": [], "torch": [],
                                                             "torch_dx": []}
        fns = {"ref": lambda: _phases_ref(ref), "torch": lambda: _phases_torch(ts, ts.x),
               "torch_dx": lambda: _phases_torch(ts, x_grad)}
        for _ in range(3):
            for fn in fns.values():
                fn()
        names = list(fns)
        for r in range(rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                runs[name].append(fns[name]())
    return {name: [common.median([p[i] for p in v]) for i in range(3)] for name, v in runs.items()}


def breakdown_table(parts: dict[tuple, dict[str, list[float]]]) -> str:
    headers = ["model, dtype (1 thread)", "phase", "reference", "torch", "torch + dL/dx",
               "ref / torch"]
    body = []
    for (sizes, batch, dtype), b in parts.items():
        label = f"{'-'.join(map(str, sizes))} b{batch} {np.dtype(dtype).name}"
        for i, phase in enumerate(PHASES):
            body.append([label if i == 0 else "", phase, common.ms(b["ref"][i]),
                         common.ms(b["torch"][i]), common.ms(b["torch_dx"][i]),
                         f"{b['ref'][i] / b['torch'][i]:.2f}"])
        body.append(["", "sum", common.ms(sum(b["ref"])), common.ms(sum(b["torch"])),
                     common.ms(sum(b["torch_dx"])), f"{sum(b['ref']) / sum(b['torch']):.2f}"])
    return common.md_table(headers, body)


def gemm_times(sizes, batch, dtype, rounds: int = 11) -> dict[str, tuple[float, float]] | None:
    """NumPy vs torch on the matrix products of one training step, one thread.

    Returns {"forward": (numpy s, torch s), "dW": ..., "dx (hidden layers)": ...,
    "dx (first layer)": ...}, each summed over the layers: the BLAS libraries compared alone.
    """
    torch = common.torch_or_none()
    if torch is None:
        return None
    rng = np.random.default_rng(0)
    groups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {
        "forward": [], "dW": [], "dx (hidden layers)": [], "dx (first layer)": []}
    for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        x = rng.standard_normal((batch, d)).astype(dtype)
        W = rng.standard_normal((d, m)).astype(dtype)
        dout = rng.standard_normal((batch, m)).astype(dtype)
        groups["forward"].append((x, W))
        groups["dW"].append((x.T, dout))
        groups["dx (first layer)" if i == 0 else "dx (hidden layers)"].append((dout, W.T))
    out = {}
    with common.threads(1):
        for name, pairs in groups.items():
            tpairs = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in pairs]

            def np_fn(pairs=pairs):
                for a, b in pairs:
                    a @ b

            def torch_fn(tpairs=tpairs):
                for a, b in tpairs:
                    a @ b

            t = common.interleaved({"np": np_fn, "torch": torch_fn}, rounds=rounds, inner=2)
            out[name] = (common.median(t["np"]), common.median(t["torch"]))
    return out


def gemm_table(parts: dict[tuple, dict[str, tuple[float, float]]]) -> str:
    headers = ["model, dtype (1 thread)", "matrix products", "NumPy",
               "torch", "NumPy / torch"]
    body = []
    for (sizes, batch, dtype), g in parts.items():
        label = f"{'-'.join(map(str, sizes))} b{batch} {np.dtype(dtype).name}"
        for i, (name, (a, b)) in enumerate(g.items()):
            body.append([label if i == 0 else "", name, common.ms(a), common.ms(b),
                         f"{a / b:.2f}"])
    return common.md_table(headers, body)
