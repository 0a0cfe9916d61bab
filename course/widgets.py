"""Interactive widgets: the learning-rate explorer, an optimizer race and gradient flow.

Each public function returns an object that displays itself in a notebook::

    from course.widgets import learning_rate_explorer
    learning_rate_explorer()

In a live Jupyter kernel you get the controls (ipywidgets) followed by the figure, and moving a
control redraws the figure in place. The figure is an ordinary image output, updated through its
display id, so a notebook executed without a browser (nbconvert, nbval, a static viewer) still
shows the figure for the default settings.

Everything is computed with the course's own library: `course.fit` with the optimizer classes
for the explorer, the step functions `sgd_step`, `momentum_step`, `rmsprop_step` and
`adam_step` for the race, and `mlp` plus `softmax_cross_entropy` for gradient flow.

For tests and for curious learners the state is plain Python: ``w.controls`` maps names to the
ipywidgets controls, ``w.set(lr=0.5)`` changes controls and redraws once, ``w.last_plotted``
holds the data of the last figure, ``w.figure`` the matplotlib Figure and ``w.png`` its image.
"""

from __future__ import annotations

import base64
import contextlib
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course import plots
from course.experiments import (
    ACTIVATION_NAMES,
    INITS,
    LR_EXPONENTS,
    LR_GRID,
    OPTIMIZERS,
    SURFACES,
    TASKS,
    RangeTest,
    Run,
    check_choice,
    gradient_norms,
    lr_range_test,
    race,
    train_run,
)

__all__ = [
    "LR_GRID",
    "SURFACES",
    "TASKS",
    "GradientFlow",
    "LearningRateExplorer",
    "OptimizerRace",
    "RangeTest",
    "Run",
    "gradient_flow",
    "gradient_norms",
    "learning_rate_explorer",
    "lr_range_test",
    "optimizer_race",
    "race",
    "train_run",
]


def _lr_key(lr: float) -> float:
    """Learning rates equal to 6 significant digits share a cache entry (slider round-off)."""
    return float(f"{float(lr):.6g}")


EPOCH_CHOICES = (10, 30, 100)


# --- shared widget machinery --------------------------------------------------------------------
class _Controls(widgets.VBox):
    """The controls box; says what it is in static renderers instead of 'VBox(children=...)'."""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        data = super()._repr_mimebundle_(**kwargs)
        if data is not None:
            data["text/plain"] = (
                "[Interactive controls: open this notebook in Jupyter and run the cell to use "
                "them. The figure below shows the default setting.]"
            )
        return data


class _PNG:
    """An image output with a text description (the alt text in text-only renderers)."""

    def __init__(self, png: bytes, text: str) -> None:
        self.png, self.text = png, text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.text}


class InteractiveFigure:
    """Base class: controls + one figure, redrawn whenever a control changes.

    Subclasses fill ``self.controls`` and implement ``_compute() -> dict`` (the data to plot)
    and ``_draw_static(data) -> Figure``. To redraw fast they also implement
    ``_draw_dynamic(fig, data)`` (the artists that change when a slider moves) and
    ``_static_key(data)`` (what the static part depends on); see `plots.Blitter`.
    """

    title = "figure"

    def __init__(self) -> None:
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.status = widgets.HTML()
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="computing",
                                            layout=widgets.Layout(visibility="hidden"))
        self.last_plotted: dict[str, Any] = {}
        self.figure: Figure | None = None
        self.png: bytes | None = None
        self.redraw_seconds: float | None = None
        self.error: str | None = None
        self._holding = False
        self._displayed = False
        self._display_id = f"course-widget-{uuid.uuid4().hex}"
        self._widget: widgets.Widget | None = None
        self._blitter = plots.Blitter()

    # Controls -------------------------------------------------------------------------------------
    def _add(self, name: str, control: widgets.ValueWidget) -> None:
        self.controls[name] = control
        control.observe(self._on_change, names="value")

    def _layout(self) -> list[widgets.Widget]:
        """Rows of the controls box (subclasses may override)."""
        return list(self.controls.values())

    @property
    def widget(self) -> widgets.Widget:
        """The ipywidgets box with every control, the status line and the progress bar."""
        if self._widget is None:
            self._widget = _Controls([*self._layout(), self.status, self.progress])
        return self._widget

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls without redrawing after each one."""
        holding, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = holding

    def set(self, **values: Any) -> None:
        """Set controls by name (like moving them by hand) and redraw once."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; have {list(self.controls)}.")
        with self.hold():
            for name, value in values.items():
                self.controls[name].value = value
        self.update()

    def values(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: c.value for name, c in self.controls.items()}

    def _on_change(self, change: dict) -> None:
        if not self._holding:
            self.update()

    # Drawing -------------------------------------------------------------------------------------
    def _compute(self) -> dict[str, Any]:
        raise NotImplementedError

    def _draw_static(self, data: dict[str, Any]) -> Figure:
        raise NotImplementedError

    def _draw_dynamic(self, fig: Figure, data: dict[str, Any]) -> None:
        """Add the artists that change from one slider position to the next."""

    def _static_key(self, data: dict[str, Any]) -> object:
        """What the static part of the figure depends on (default: everything)."""
        return object()

    def _describe(self, data: dict[str, Any]) -> str:
        return self.title

    def update(self) -> None:
        """Recompute what the controls ask for and redraw the figure."""
        try:
            self._update()
            self.error = None
        except Exception as exc:  # show it next to the controls, where the learner looks
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<b style='color:{plots.DIVERGED_COLOR}'>Error:</b> {self.error}"
            raise

    def _update(self) -> None:
        self.redraw(self._compute())

    def redraw(self, data: dict[str, Any]) -> None:
        """Draw `data` and, once displayed, replace the image in the notebook."""
        t0 = time.perf_counter()
        png = self._blitter.render(self._static_key(data), lambda: self._draw_static(data),
                                   lambda fig: self._draw_dynamic(fig, data))
        self.figure, self.png, self.last_plotted = self._blitter.figure, png, data
        if self._displayed:
            from IPython.display import update_display

            update_display(_PNG(png, self._describe(data)), display_id=self._display_id)
        self.redraw_seconds = time.perf_counter() - t0

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.progress.layout.visibility = "visible" if done < total else "hidden"
        self.status.value = text

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
        if self.png is None:
            self.update()
        display(_PNG(self.png or b"", self._describe(self.last_plotted)),
                display_id=self._display_id)
        self._displayed = True


# --- the learning-rate explorer: the widget ------------------------------------------------------
class LearningRateExplorer(InteractiveFigure):
    """Loss curve at the chosen learning rate next to final loss against learning rate.

    Controls: "lr" (log slider 1e-4..10), "task", "optimizer", "epochs"; buttons "range_test"
    (learning-rate range test) and "use_suggestion" (set lr to the suggested rate).
    ``last_plotted`` keys: "lr", "losses", "diverged", "final_loss", "sweep" (dict of arrays "lr",
    "final_loss", "diverged" over the runs computed so far), "sweep_complete", "range_test".
    """

    title = "Learning-rate explorer"

    def __init__(self, task: str = "spirals", optimizer: str = "SGD", lr: float = 0.1,
                 epochs: int = 30) -> None:
        super().__init__()
        check_choice("task", task, TASKS)
        check_choice("optimizer", optimizer, OPTIMIZERS)
        check_choice("epochs", epochs, EPOCH_CHOICES)
        self.runs: dict[tuple[str, str, int, float], Run] = {}
        self.range_tests: dict[tuple[str, str], RangeTest] = {}
        style = {"description_width": "90px"}
        self._add("lr", widgets.FloatLogSlider(
            value=lr, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1], step=LR_EXPONENTS[2],
            description="learning rate", readout_format=".3g", continuous_update=False,
            style=style, layout=widgets.Layout(width="460px")))
        self._add("task", widgets.Dropdown(
            options=[(spec.title, name) for name, spec in TASKS.items()], value=task,
            description="data + model", style=style, layout=widgets.Layout(width="460px")))
        self._add("optimizer", widgets.ToggleButtons(
            options=list(OPTIMIZERS), value=optimizer, description="optimizer", style=style))
        self._add("epochs", widgets.Dropdown(
            options=list(EPOCH_CHOICES), value=epochs, description="epochs", style=style,
            layout=widgets.Layout(width="180px")))
        self.buttons = {
            "range_test": widgets.Button(description="Run a learning-rate range test",
                                         icon="search", layout=widgets.Layout(width="260px")),
            "use_suggestion": widgets.Button(description="Use the suggested rate",
                                             disabled=True, layout=widgets.Layout(width="200px")),
        }
        self.buttons["range_test"].on_click(lambda _: self.run_range_test())
        self.buttons["use_suggestion"].on_click(lambda _: self.use_suggestion())

    def _layout(self) -> list[widgets.Widget]:
        c = self.controls
        return [c["lr"], c["task"], widgets.HBox([c["optimizer"], c["epochs"]]),
                widgets.HBox(list(self.buttons.values()))]

    def _settings(self) -> tuple[str, str, int]:
        c = self.controls
        return c["task"].value, c["optimizer"].value, int(c["epochs"].value)

    def run(self, lr: float) -> Run:
        """The training run at `lr` for the current settings (cached)."""
        task, optimizer, epochs = self._settings()
        key = (task, optimizer, epochs, _lr_key(lr))
        if key not in self.runs:
            self.runs[key] = train_run(task, optimizer, lr, epochs)
        return self.runs[key]

    def _sweep(self) -> list[Run]:
        settings = self._settings()
        return sorted((r for k, r in self.runs.items() if k[:3] == settings), key=lambda r: r.lr)

    def _missing(self) -> list[float]:
        settings = self._settings()
        return [float(lr) for lr in LR_GRID if (*settings, _lr_key(lr)) not in self.runs]

    def _compute(self) -> dict[str, Any]:
        lr = float(self.controls["lr"].value)
        run = self.run(lr)
        sweep = self._sweep()
        task, optimizer, epochs = self._settings()
        return {
            "task": task, "optimizer": optimizer, "epochs": epochs,
            "lr": lr, "losses": run.losses, "diverged": run.diverged,
            "final_loss": run.final_loss, "steps_per_epoch": run.steps_per_epoch,
            "sweep": {"lr": np.array([r.lr for r in sweep]),
                      "final_loss": np.array([r.final_loss for r in sweep]),
                      "diverged": np.array([r.diverged for r in sweep], dtype=bool)},
            "sweep_complete": not self._missing(),
            "range_test": self.range_tests.get((task, optimizer)),
            "curve_ylim": self._curve_ylim([*sweep, run]),
        }

    @staticmethod
    def _curve_ylim(runs: list[Run]) -> tuple[float, float]:
        """One loss range for every run of these settings, so that the loss-curve panel keeps
        its scale while the slider moves (a diverged run leaves it at the top, marked)."""
        values = [r.losses[np.isfinite(r.losses) & (r.losses > 0)] for r in runs if not r.diverged]
        values += [r.losses[:1] for r in runs if r.diverged and r.losses.size]
        flat = np.concatenate(values) if values else np.array([0.1, 10.0])
        flat = flat[np.isfinite(flat) & (flat > 0)]
        lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.1, 10.0)
        hi = max(hi, lo * 10)
        return float(f"{lo / 1.3:.3g}"), float(f"{hi * 1.3:.3g}")

    def _update(self) -> None:
        # The run at the chosen rate first (one short training run), so the curve appears at
        # once; then whatever the sweep still lacks, with a progress bar; then the full picture.
        data = self._compute()
        self._report(data)
        missing = self._missing()
        if not missing:
            self.redraw(data)
            return
        if self._displayed:
            self.redraw(data)
        for i, lr in enumerate(missing):
            self._progress(i, len(missing), f"Sweeping learning rates: {i}/{len(missing)} runs")
            self.run(lr)
        self._progress(len(missing), len(missing), "")
        data = self._compute()
        self._report(data)
        self.redraw(data)

    def _report(self, data: dict[str, Any]) -> None:
        lr = data["lr"]
        if data["diverged"]:
            text = (f"lr = {lr:.3g}: <b style='color:{plots.DIVERGED_COLOR}'>diverged</b> at "
                    f"step {len(data['losses']) - 1} (the loss blew up, training stopped).")
        else:
            text = (f"lr = {lr:.3g}: final training loss {data['final_loss']:.3g} after "
                    f"{data['epochs']} epochs.")
        rt = data["range_test"]
        if rt is not None:
            text += f" Range test suggests lr ≈ {rt.suggested_lr:.2g}."
        self.status.value = text

    def _describe(self, data: dict[str, Any]) -> str:
        if not data:
            return self.title
        state = "diverged" if data["diverged"] else f"final loss {data['final_loss']:.3g}"
        return (f"{self.title}: {data['task']}, {data['optimizer']}, {data['epochs']} epochs, "
                f"lr = {data['lr']:.3g} ({state}).")

    def _static_key(self, data: dict[str, Any]) -> object:
        rt = data["range_test"]
        return (data["task"], data["optimizer"], data["epochs"], tuple(data["sweep"]["lr"]),
                data["sweep_complete"], id(rt) if rt is not None else None, data["curve_ylim"])

    def _draw_static(self, data: dict[str, Any]) -> Figure:
        rt: RangeTest | None = data["range_test"]
        label = TASKS[data["task"]].loss_label
        fig, axes = plots.new_figure(3 if rt is not None else 2, reuse=self.figure, title=(
            f"{TASKS[data['task']].title}; {data['optimizer']}, {data['epochs']} epochs"))
        plots.setup_loss_curve_axes(axes[0], steps=data["epochs"] * data["steps_per_epoch"],
                                    ylim=data["curve_ylim"], loss_label=label,
                                    title="Loss curve at the chosen rate")
        sweep = data["sweep"]
        self._sweep_drawn = plots.draw_sweep(
            axes[1], sweep["lr"], sweep["final_loss"], sweep["diverged"],
            loss_label="final " + label, title="Final loss against learning rate" + (
                "" if data["sweep_complete"] else " (sweep in progress)"))
        if rt is not None:
            plots.draw_range_test(axes[2], rt.lrs, rt.losses, rt.suggested_lr,
                                  smoothed=rt.smoothed, loss_label=label)
        return fig

    def _draw_dynamic(self, fig: Figure, data: dict[str, Any]) -> None:
        axes = fig.axes
        plots.draw_curve_lines(axes[0], data["losses"], diverged=data["diverged"],
                               steps_per_epoch=data["steps_per_epoch"],
                               legend_title=f"lr = {data['lr']:.3g}")
        plots.mark_current_lr(axes[1], data["lr"], data["final_loss"], data["diverged"],
                              band=self._sweep_drawn["band"], floor=self._sweep_drawn["floor"])
        axes[1].legend(loc="lower left", fontsize="small")

    def run_range_test(self) -> RangeTest:
        """Run (or reuse) the range test for the current task and optimizer, then redraw."""
        task, optimizer, _ = self._settings()
        if (task, optimizer) not in self.range_tests:
            self._progress(0, 1, "Running the learning-rate range test...")
            self.range_tests[(task, optimizer)] = lr_range_test(task, optimizer)
            self._progress(1, 1, "")
        self.buttons["use_suggestion"].disabled = False
        self.update()
        return self.range_tests[(task, optimizer)]

    def use_suggestion(self) -> None:
        """Move the slider to the grid rate closest to the range test's suggestion."""
        task, optimizer, _ = self._settings()
        rt = self.range_tests.get((task, optimizer))
        if rt is None:
            return
        i = int(np.argmin(np.abs(np.log10(LR_GRID) - math.log10(rt.suggested_lr))))
        self.set(lr=float(LR_GRID[i]))


def learning_rate_explorer(task: str = "spirals", optimizer: str = "SGD", lr: float = 0.1,
                           epochs: int = 30) -> LearningRateExplorer:
    """The learning-rate explorer: move the rate, watch the loss curve and the sweep.

    Returns a LearningRateExplorer; display it (last expression of a cell) to use it.
    task: "spirals", "moons" or "regression". optimizer: "SGD", "Momentum" or "Adam".
    """
    return LearningRateExplorer(task, optimizer, lr, epochs)



class OptimizerRace(InteractiveFigure):
    """Four optimizers on a 2-D surface: paths over the contours and loss per step.

    Controls: "surface", "lr" (log slider: SGD and momentum), "beta" (momentum),
    "lr_adaptive" (log slider: RMSProp and Adam), "x0", "y0" (start), "steps".
    Two rates, because they do not measure the same thing: an SGD step is lr times the
    gradient, so its safe size depends on the curvature (lr < 2 / curvature), while an
    RMSProp or Adam step is about lr in each coordinate whatever the gradient's scale.
    ``last_plotted`` keys: "surface", "lr", "lr_adaptive", "beta", "start", "steps", "paths",
    "losses", "diverged", "final_loss" (dicts keyed by optimizer name).
    """

    title = "Optimizer race"

    def __init__(self, surface: str = "quadratic") -> None:
        super().__init__()
        check_choice("surface", surface, SURFACES)
        s = SURFACES[surface]
        style = {"description_width": "110px"}
        wide = widgets.Layout(width="420px")
        self._add("surface", widgets.Dropdown(
            options=[(v.title, k) for k, v in SURFACES.items()], value=surface,
            description="loss surface", style=style, layout=wide))
        self._add("lr", widgets.FloatLogSlider(
            value=s.lr, base=10, min=-4, max=0, step=0.25, description="learning rate",
            tooltip="learning rate of SGD and momentum",
            readout_format=".3g", continuous_update=False, style=style, layout=wide))
        self._add("beta", widgets.FloatSlider(
            value=0.9, min=0.0, max=0.99, step=0.01, description="momentum β",
            continuous_update=False, style=style, layout=wide))
        self._add("lr_adaptive", widgets.FloatLogSlider(
            value=s.lr_adaptive, base=10, min=-3, max=0, step=0.25,
            description="RMSProp/Adam rate", readout_format=".3g", continuous_update=False,
            style=style, layout=wide))
        self._add("x0", widgets.FloatSlider(
            value=s.start[0], min=s.xlim[0], max=s.xlim[1], step=0.1, description="start w₁",
            continuous_update=False, style=style, layout=wide))
        self._add("y0", widgets.FloatSlider(
            value=s.start[1], min=s.ylim[0], max=s.ylim[1], step=0.1, description="start w₂",
            continuous_update=False, style=style, layout=wide))
        self._add("steps", widgets.IntSlider(
            value=s.steps, min=10, max=1000, step=10, description="steps",
            continuous_update=False, style=style, layout=wide))
        self.controls["surface"].observe(self._on_surface, names="value")

    def _on_surface(self, change: dict) -> None:
        # A new surface comes with its own box, start point and a sensible learning rate.
        s = SURFACES[change["new"]]
        c = self.controls
        with self.hold():
            for name, lim in (("x0", s.xlim), ("y0", s.ylim)):
                c[name].min, c[name].max = -1e9, 1e9  # avoid clamping while moving the range
                c[name].min, c[name].max = lim
            c["x0"].value, c["y0"].value = s.start
            c["lr"].value, c["steps"].value = s.lr, s.steps
            c["lr_adaptive"].value = s.lr_adaptive
        if not self._holding:
            self.update()

    def _on_change(self, change: dict) -> None:
        if change["owner"] is self.controls["surface"]:
            return  # _on_surface redraws after resetting the other controls
        super()._on_change(change)

    def _compute(self) -> dict[str, Any]:
        v = self.values()
        start = (float(v["x0"]), float(v["y0"]))
        results = race(v["surface"], v["lr"], v["beta"], start, v["steps"], v["lr_adaptive"])
        return {
            "surface": v["surface"], "lr": float(v["lr"]), "beta": float(v["beta"]),
            "lr_adaptive": float(v["lr_adaptive"]),
            "start": start, "steps": int(v["steps"]),
            "paths": {k: r.path for k, r in results.items()},
            "losses": {k: r.losses for k, r in results.items()},
            "diverged": {k: r.diverged for k, r in results.items()},
            "final_loss": {k: (math.inf if r.diverged else float(r.losses[-1]))
                           for k, r in results.items()},
        }

    def _update(self) -> None:
        data = self._compute()
        parts = [f"{k}: {'diverged' if data['diverged'][k] else format(v, '.2g')}"
                 for k, v in data["final_loss"].items()]
        self.status.value = "Final loss — " + ", ".join(parts)
        self.redraw(data)

    def _describe(self, data: dict[str, Any]) -> str:
        if not data:
            return self.title
        return (f"{self.title} on {data['surface']}: SGD/momentum lr = {data['lr']:.3g}, "
                f"β = {data['beta']:.2f}, RMSProp/Adam lr = {data['lr_adaptive']:.3g}, "
                f"{data['steps']} steps.")

    def _static_key(self, data: dict[str, Any]) -> object:
        return (data["surface"], data["start"], data["steps"])

    def _draw_static(self, data: dict[str, Any]) -> Figure:
        s = SURFACES[data["surface"]]
        x0, y0 = data["start"]
        fig, axes = plots.new_figure(2, reuse=self.figure, title=(
            f"Optimizer race: {data['steps']} steps from w = ({x0:.2g}, {y0:.2g})"))
        plots.draw_surface(axes[0], s)
        plots.mark_start(axes[0], data["start"])
        axes[0].set_title(f"{s.title}\n★ minimum, ○ start", fontsize="medium")
        start_loss = float(s.loss(np.array(data["start"])))
        top = max(start_loss, 1e-6) * 10
        plots.setup_race_loss_axes(axes[1], steps=data["steps"], ylim=(top * 1e-12, top))
        return fig

    def _draw_dynamic(self, fig: Figure, data: dict[str, Any]) -> None:
        axes = fig.axes
        plots.draw_paths(axes[0], data["paths"], data["diverged"])
        plots.draw_race_lines(
            axes[1], data["losses"], data["diverged"],
            legend_title=(f"SGD, momentum: lr {data['lr']:.3g}, β {data['beta']:.2f}\n"
                          f"RMSProp, Adam: lr {data['lr_adaptive']:.3g}"))


def optimizer_race(surface: str = "quadratic") -> OptimizerRace:
    """SGD, momentum, RMSProp and Adam racing on "quadratic" or "rosenbrock". Display it."""
    return OptimizerRace(surface)



class GradientFlow(InteractiveFigure):
    """Gradient norm per layer of a deep MLP for each activation and initialization.

    Controls: "init", "depth", "activation" ("all" or one of sigmoid/tanh/relu).
    ``last_plotted`` keys: "init", "depth", "norms" and "stds" (dicts keyed by activation).
    """

    title = "Gradient flow"

    def __init__(self, init: str = "xavier", depth: int = 10, activation: str = "all") -> None:
        super().__init__()
        check_choice("init", init, INITS)
        check_choice("activation", activation, ("all", *ACTIVATION_NAMES))
        style = {"description_width": "110px"}
        self._add("init", widgets.Dropdown(options=list(INITS), value=init,
                                           description="initialization", style=style))
        self._add("depth", widgets.IntSlider(value=depth, min=2, max=20, description="layers",
                                             continuous_update=False, style=style))
        self._add("activation", widgets.ToggleButtons(
            options=["all", *ACTIVATION_NAMES], value=activation, description="activation",
            style=style))

    def _compute(self) -> dict[str, Any]:
        v = self.values()
        names = ACTIVATION_NAMES if v["activation"] == "all" else (v["activation"],)
        results = {a: gradient_norms(a, v["init"], v["depth"]) for a in names}
        return {"init": v["init"], "depth": int(v["depth"]),
                "norms": {a: r[0] for a, r in results.items()},
                "stds": {a: r[1] for a, r in results.items()}}

    def _describe(self, data: dict[str, Any]) -> str:
        if not data:
            return self.title
        return f"{self.title}: {data['depth']} layers, {data['init']} initialization."

    def _draw_static(self, data: dict[str, Any]) -> Figure:
        fig, axes = plots.new_figure(2, reuse=self.figure, title=(
            f"{data['depth']} Linear layers of 64 units, {data['init']} initialization, "
            "one batch of random data"))
        plots.draw_gradient_norms(axes[0], data["norms"])
        plots.draw_gradient_norms(axes[1], data["stds"],
                                  ylabel="std of the layer's output xW + b",
                                  title="Forward signal per layer")
        return fig


def gradient_flow(init: str = "xavier", depth: int = 10) -> GradientFlow:
    """Per-layer gradient norms for sigmoid, tanh and ReLU under a chosen initialization."""
    return GradientFlow(init, depth)
