"""Figures for the course: loss curves, loss against learning rate, optimizer races, gradient flow.

Every ``*_figure`` function returns a :class:`matplotlib.figure.Figure` and works on its own,
for example in the text of a notebook::

    from course import plots
    plots.loss_vs_lr_figure(lrs, final_losses, diverged, current_lr=0.1)

The ``draw_*`` functions draw one panel into an existing Axes; the interactive widgets in
:mod:`course.widgets` compose them; the data they draw comes from :mod:`course.experiments`.
Figures are built with the object-oriented API (``Figure()``, not ``pyplot``), so a widget never
leaves stray figures behind for the inline backend to show twice. Colours come from the
Okabe-Ito palette, which stays distinguishable for the common forms of colour blindness; lines
also differ in marker or dash style.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator
from PIL import Image

from course.experiments import SURFACES, Surface, check_choice

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

OPTIMIZER_STYLE: dict[str, dict[str, str]] = {
    "SGD": {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o"},
    "Momentum": {"color": OKABE_ITO["orange"], "linestyle": "--", "marker": "s"},
    "RMSProp": {"color": OKABE_ITO["bluish_green"], "linestyle": "-.", "marker": "^"},
    "Adam": {"color": OKABE_ITO["reddish_purple"], "linestyle": ":", "marker": "D"},
}

ACTIVATION_STYLE: dict[str, dict[str, str]] = {
    "sigmoid": {"color": OKABE_ITO["orange"], "linestyle": "-", "marker": "o"},
    "tanh": {"color": OKABE_ITO["blue"], "linestyle": "--", "marker": "s"},
    "relu": {"color": OKABE_ITO["bluish_green"], "linestyle": "-.", "marker": "^"},
}

CURVE_COLOR = OKABE_ITO["blue"]
DIVERGED_COLOR = OKABE_ITO["vermillion"]
CURRENT_COLOR = OKABE_ITO["black"]
PANEL_SIZE = (4.6, 3.6)  # inches per panel
DPI = 80


def new_figure(
    ncols: int = 1, *, title: str | None = None, reuse: Figure | None = None
) -> tuple[Figure, list[Axes]]:
    """A Figure with `ncols` side-by-side panels, sized for a notebook. Returns (fig, axes).

    Margins are fixed in inches rather than computed by a layout engine: the widgets redraw
    on every slider move and a layout engine would cost more than the drawing itself. For the
    same reason a widget passes its previous figure as `reuse`: if it has the same panels, its
    data is removed and its axes (with their tick objects) are drawn into again, which is much
    cheaper than building a new figure.
    """
    width, height = PANEL_SIZE[0] * ncols, PANEL_SIZE[1] + (0.3 if title else 0.0)
    if (
        reuse is not None
        and len(reuse.axes) == ncols
        and np.allclose(reuse.get_size_inches(), (width, height))
    ):
        axes = list(reuse.axes)
        for ax in axes:
            for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches, *ax.images]:
                artist.remove()
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
            ax.set_autoscale_on(True)
            ax.relim()
        if title:
            reuse.suptitle(title, fontsize="medium")
        return reuse, axes
    fig = Figure(figsize=(width, height), dpi=DPI)
    axes = list(np.atleast_1d(fig.subplots(1, ncols)))
    panel = (width - 0.85 - 0.15 - 0.95 * (ncols - 1)) / ncols  # axes width in inches
    fig.subplots_adjust(left=0.85 / width, right=1 - 0.15 / width, bottom=0.6 / height,
                        top=1 - (0.75 if title else 0.4) / height, wspace=0.95 / panel)
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig, axes


def _log(ax: Axes, *, x: bool = False, y: bool = False) -> None:
    """Log scale on the chosen axes, labels only at powers of ten and no minor ticks.

    (Minor ticks on log axes cost more to draw than everything else in these figures.)
    """
    for flag, axis, set_scale, get_lim in (
        (x, ax.xaxis, ax.set_xscale, ax.get_xlim),
        (y, ax.yaxis, ax.set_yscale, ax.get_ylim),
    ):
        if flag:
            set_scale("log")
            lo, hi = get_lim()
            narrow = lo > 0 and math.log10(hi / lo) < 1.5  # label 1, 2, 5 x 10^k as well
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if narrow else (1.0,),
                                              numticks=6))
            axis.set_minor_locator(NullLocator())
            axis.set_major_formatter(FuncFormatter(_plain if narrow else _power_of_ten))
        else:
            axis.set_major_locator(MaxNLocator(nbins=5))


def _few_ticks(ax: Axes) -> None:
    """At most about six labelled ticks per linear axis (every label costs drawing time)."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plain(value: float, pos: int | None = None) -> str:
    """Tick label 0.2, 0.5, 1, 2 (log axes spanning less than about a decade and a half)."""
    return f"{value:g}"


def _power_of_ten(value: float, pos: int | None = None) -> str:
    """Tick label 10⁻³ in plain Unicode (mathtext labels are slow to lay out)."""
    if value <= 0 or not math.isfinite(value):
        return ""
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) > 1e-6:
        return f"{value:.2g}"
    exponent = int(round(exponent))
    if exponent == 0:
        return "1"
    if exponent == 1:
        return "10"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def figure_to_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Render `fig` to PNG bytes (what the widgets send to the browser)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class Blitter:
    """Redraw a figure fast when only part of it changes (Agg "blitting").

    ``render(key, build, update)``: `build()` returns a Figure with everything that stays put
    (axes with fixed limits, ticks, labels, contours, ...); it is drawn once and its pixels are
    kept. `update(fig)` then adds the artists that change (lines, markers, legends); only those
    are drawn on top of the kept pixels. While `key` stays the same the next render reuses
    the kept picture and replaces only the changing artists, which costs a fraction of a
    full draw (text is the slow part of matplotlib, and most text is static).
    `update` must not modify artists made by `build` and must not change axis limits.
    """

    def __init__(self) -> None:
        self.key: object = None
        self.figure: Figure | None = None
        self._canvas: FigureCanvasAgg | None = None
        self._background: Any = None
        self._dynamic: list[Artist] = []

    @staticmethod
    def _artists(fig: Figure) -> set[int]:
        found = {id(a) for a in fig.get_children()}
        for ax in fig.axes:
            found.update(id(a) for a in ax.get_children())
        return found

    def render(self, key: object, build: Callable[[], Figure],
               update: Callable[[Figure], None]) -> bytes:
        """Draw (reusing the static picture for an unchanged key) and return PNG bytes."""
        if self.figure is None or self._canvas is None or key != self.key:
            fig = build()
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            self.figure, self._canvas, self.key = fig, canvas, key
            self._background = canvas.copy_from_bbox(fig.bbox)
            self._dynamic = []
        fig, canvas = self.figure, self._canvas
        canvas.restore_region(self._background)
        for artist in self._dynamic:
            artist.remove()
        before = self._artists(fig)
        update(fig)
        new = [a for a in fig.get_children() if id(a) not in before]
        for ax in fig.axes:
            new += [a for a in ax.get_children() if id(a) not in before]
        self._dynamic = sorted(new, key=lambda a: a.get_zorder())
        for artist in self._dynamic:
            fig.draw_artist(artist)
        width, height = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA",
                                 0, 1)
        buf = io.BytesIO()
        image.save(buf, format="png", compress_level=1)
        return buf.getvalue()


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a[np.isfinite(a)]


def _positive_floor(values: np.ndarray) -> float:
    """A floor for log axes: a little below the smallest positive finite value."""
    pos = values[np.isfinite(values) & (values > 0)]
    return float(pos.min()) / 2 if pos.size else 1e-3


# --- panels -------------------------------------------------------------------------------------
def setup_loss_curve_axes(
    ax: Axes,
    *,
    steps: int,
    ylim: tuple[float, float],
    loss_label: str = "training loss",
    title: str = "Loss curve",
) -> None:
    """Axes for a loss curve with fixed ranges: steps 0..steps, loss in ylim (log scale)."""
    ax.set_ylim(*ylim)
    _log(ax, y=True)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, max(steps, 1))
    ax.set_xlabel("step (one mini-batch update)")
    ax.set_ylabel(loss_label)
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)


def draw_curve_lines(
    ax: Axes,
    losses: Sequence[float] | np.ndarray,
    *,
    diverged: bool = False,
    steps_per_epoch: int | None = None,
    label: str | None = None,
    legend_title: str | None = None,
) -> None:
    """The loss per step, its mean per epoch and, for a diverged run, a cross where it blew
    up (kept inside the axes, so the cross stays visible when the loss left the range).

    losses: (T,) loss before each update, possibly ending in inf/nan when training blew up.
    """
    y = np.asarray(losses, dtype=float)
    steps = np.arange(y.size)
    ok = np.isfinite(y) & (y > 0)
    ax.plot(steps[ok], y[ok], color=CURVE_COLOR, lw=1.5, label=label or "loss per step")
    if steps_per_epoch and y.size > 1:
        # Mean loss per epoch, easier to read than the noisy per-step loss.
        n = (y.size // steps_per_epoch) * steps_per_epoch
        if n >= steps_per_epoch and np.isfinite(y[:n]).all():
            means = y[:n].reshape(-1, steps_per_epoch).mean(axis=1)
            centres = (np.arange(means.size) + 0.5) * steps_per_epoch
            ax.plot(centres, means, color=OKABE_ITO["orange"], lw=2, ls="--",
                    label="mean per epoch")
    if diverged:
        last = float(y[ok][-1]) if ok.any() else 1.0
        lo, hi = ax.get_ylim()
        ax.plot([y.size - 1], [min(max(last, lo), hi)], marker="X", ms=12, color=DIVERGED_COLOR,
                ls="none", clip_on=False, label=f"diverged at step {y.size - 1}")
    ax.legend(loc="upper right", fontsize="small", title=legend_title,
              title_fontsize="small")


def draw_loss_curve(
    ax: Axes,
    losses: Sequence[float] | np.ndarray,
    *,
    diverged: bool = False,
    steps_per_epoch: int | None = None,
    loss_label: str = "training loss",
    label: str | None = None,
    title: str | None = None,
) -> None:
    """One training run: loss per step (log scale). A diverged run ends in a marked cross.

    losses: (T,) loss before each update, possibly ending in inf/nan when training blew up.
    """
    y = np.asarray(losses, dtype=float)
    finite = y[np.isfinite(y) & (y > 0)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.1, 10.0)
    hi = max(hi, lo * 10 ** 0.5)
    setup_loss_curve_axes(ax, steps=y.size - 1, ylim=(lo / 1.3, hi * 1.3), loss_label=loss_label,
                          title=title or ("Loss curve: diverged" if diverged else "Loss curve"))
    draw_curve_lines(ax, y, diverged=diverged, steps_per_epoch=steps_per_epoch, label=label)


def draw_sweep(
    ax: Axes,
    lrs: Sequence[float] | np.ndarray,
    final_losses: Sequence[float] | np.ndarray,
    diverged: Sequence[bool] | np.ndarray | None = None,
    *,
    loss_label: str = "final training loss",
    title: str | None = None,
    extra_losses: Sequence[float] = (),
) -> dict[str, Any]:
    """Final loss against learning rate on log-log axes, without the current-run marker.

    lrs, final_losses: (K,) one entry per run. diverged: (K,) bools; diverged runs are drawn as
    crosses in a band at the top of the panel labelled "diverged" (their loss is not a number to
    plot, and clipping it would hide what happened). extra_losses: other values the y range
    must include. Fixes both axis ranges. Returns {"lr", "loss", "diverged"} (sorted arrays as
    drawn), "band" (height of the diverged band) and "floor" (bottom of the y range).
    """
    lr = np.asarray(lrs, dtype=float)
    loss = np.asarray(final_losses, dtype=float)
    div = np.zeros(lr.shape, bool) if diverged is None else np.asarray(diverged, dtype=bool)
    div = div | ~np.isfinite(loss)
    order = np.argsort(lr)
    lr, loss, div = lr[order], loss[order], div[order]
    ok = ~div
    if ok.any():
        ax.plot(lr[ok], loss[ok], color=CURVE_COLOR, marker="o", ms=4, lw=1.2,
                label="finished runs")
    finite = _finite(np.concatenate([loss[ok], np.asarray(extra_losses, dtype=float)]))
    lo = _positive_floor(finite)
    hi = max(float(finite.max()) if finite.size else 1.0, lo * 10)
    band = hi * 3.0  # diverged runs sit in a band above every finite loss
    if div.any():
        ax.plot(lr[div], np.full(div.sum(), band), ls="none", marker="x", ms=8, mew=2,
                color=DIVERGED_COLOR, label="diverged (loss blew up)")
        ax.axhline(hi * 1.7, color=DIVERGED_COLOR, lw=0.6, ls=":")
        ax.text(0.02, 0.97, "diverged", transform=ax.transAxes, va="top", ha="left",
                color=DIVERGED_COLOR, fontsize="small", fontweight="bold")
    _log(ax, x=True, y=True)
    ax.set_ylim(lo / 1.5, band * 2.5)
    if lr.size:
        ax.set_xlim(float(lr.min()) / 2, float(lr.max()) * 2)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(loss_label)
    ax.set_title(title or "Final loss against learning rate")
    ax.grid(True, which="major", alpha=0.3)
    return {"lr": lr, "loss": loss, "diverged": div, "band": band, "floor": lo}


def mark_current_lr(
    ax: Axes, lr: float, final_loss: float | None, diverged: bool, *, band: float, floor: float
) -> None:
    """Mark the run shown next to the sweep: a dashed line at its rate, a star at its final
    loss, or a big cross in the diverged band (only the line if final_loss is None)."""
    ax.axvline(lr, color=CURRENT_COLOR, lw=1, ls="--")
    if final_loss is None and not diverged:
        return
    if diverged or final_loss is None or not math.isfinite(final_loss):
        ax.plot([lr], [band], marker="X", ms=13, color=DIVERGED_COLOR, mec=CURRENT_COLOR,
                ls="none", label=f"this run (lr={lr:.3g}): diverged")
    else:
        ax.plot([lr], [max(final_loss, floor)], marker="*", ms=15, color=CURRENT_COLOR,
                ls="none", label=f"this run (lr={lr:.3g})")


def draw_loss_vs_lr(
    ax: Axes,
    lrs: Sequence[float] | np.ndarray,
    final_losses: Sequence[float] | np.ndarray,
    diverged: Sequence[bool] | np.ndarray | None = None,
    *,
    current_lr: float | None = None,
    current_loss: float | None = None,
    current_diverged: bool = False,
    loss_label: str = "final training loss",
    title: str | None = None,
) -> dict[str, Any]:
    """`draw_sweep` plus the current run's marker (`current_*`) and a legend."""
    extra = [current_loss] if current_loss is not None else []
    drawn = draw_sweep(ax, lrs, final_losses, diverged, loss_label=loss_label, title=title,
                       extra_losses=extra)
    if current_lr is not None:
        mark_current_lr(ax, current_lr, current_loss, current_diverged, band=drawn["band"],
                        floor=drawn["floor"])
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize="small")
    return drawn


def draw_range_test(
    ax: Axes,
    lrs: Sequence[float] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    suggested_lr: float | None = None,
    *,
    smoothed: Sequence[float] | np.ndarray | None = None,
    loss_label: str = "training loss",
) -> None:
    """Learning-rate range test: loss of each step against the (growing) rate of that step.

    lrs, losses: (T,) one entry per step. smoothed: optional (T,) smoothed loss.
    """
    lr = np.asarray(lrs, dtype=float)
    loss = np.asarray(losses, dtype=float)
    ok = np.isfinite(loss) & (loss > 0)
    ax.plot(lr[ok], loss[ok], color=OKABE_ITO["sky_blue"], lw=1, label="loss per step")
    if smoothed is not None:
        sm = np.asarray(smoothed, dtype=float)
        sok = np.isfinite(sm) & (sm > 0)
        ax.plot(lr[sok], sm[sok], color=CURVE_COLOR, lw=2, label="smoothed")
    if suggested_lr is not None:
        ax.axvline(suggested_lr, color=OKABE_ITO["bluish_green"], lw=2, ls="--",
                   label=f"suggested lr = {suggested_lr:.2g}")
    if ok.any():
        vals = loss[ok]
        top = min(float(vals.max()), 4 * float(np.median(vals[: max(1, vals.size // 5)])))
        ax.set_ylim(float(vals.min()) / 1.5, max(top, float(vals.min()) * 2) * 1.5)
    _log(ax, x=True, y=True)
    ax.set_xlabel("learning rate at that step")
    ax.set_ylabel(loss_label)
    ax.set_title("Learning-rate range test")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")


def draw_surface(ax: Axes, surface: Surface, *, levels: int = 25) -> None:
    """Contours of a 2-D loss surface (log-spaced levels) with its minimum marked."""
    X, Y, Z = surface.grid()
    zmin = max(float(Z.min()), 1e-3)
    lv = np.geomspace(zmin, float(Z.max()), levels)
    ax.contour(X, Y, Z, levels=lv, colors=OKABE_ITO["black"], linewidths=0.5, alpha=0.35)
    ax.plot(*surface.minimum, marker="*", ms=14, color=OKABE_ITO["yellow"], mec="black",
            ls="none", label="minimum")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    _few_ticks(ax)
    ax.set_xlabel("weight w₁")
    ax.set_ylabel("weight w₂")
    ax.set_title(surface.title)


def _style(table: Mapping[str, dict[str, str]], name: str) -> dict[str, str]:
    return table.get(name, {"color": OKABE_ITO["black"], "linestyle": "-", "marker": "o"})


def draw_paths(
    ax: Axes, paths: Mapping[str, np.ndarray], diverged: Mapping[str, bool] | None = None
) -> None:
    """Optimizer paths (lines, a marker at the end). paths[name]: (T + 1, 2), start first."""
    diverged = diverged or {}
    for name, path in paths.items():
        style = _style(OPTIMIZER_STYLE, name)
        p = np.asarray(path, dtype=float)
        p = p[np.isfinite(p).all(axis=1)]
        label = name + (" (diverged)" if diverged.get(name) else "")
        ax.plot(p[:, 0], p[:, 1], color=style["color"], ls=style["linestyle"], lw=1.6,
                label=label)
        ax.plot(p[-1:, 0], p[-1:, 1], color=style["color"], marker=style["marker"], ms=7,
                ls="none")


def mark_start(ax: Axes, start: Sequence[float]) -> None:
    """A white circle at the start point."""
    ax.plot(*start, marker="o", ms=9, color=OKABE_ITO["black"], mfc="white", mec="black", ls="none",
            label="start")


def draw_trajectories(
    ax: Axes,
    surface: Surface,
    paths: Mapping[str, np.ndarray],
    diverged: Mapping[str, bool] | None = None,
    *,
    legend: bool = True,
) -> None:
    """Optimizer paths over the contours. paths[name]: (T + 1, 2) positions, start first.

    Without a legend (the race figure puts it next to the loss curves) the title says what the
    star (minimum) and the white circle (start) are.
    """
    draw_surface(ax, surface)
    draw_paths(ax, paths, diverged)
    if paths:
        mark_start(ax, np.asarray(next(iter(paths.values())))[0])
    if legend:
        ax.legend(loc="upper left", fontsize="small", framealpha=0.8)
    else:
        ax.set_title(f"{surface.title}\n★ minimum, ○ start", fontsize="medium")


def setup_race_loss_axes(ax: Axes, *, steps: int, ylim: tuple[float, float]) -> None:
    """Axes for the race's loss curves with fixed ranges (log scale)."""
    ax.set_ylim(*ylim)
    _log(ax, y=True)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, max(steps, 1))
    ax.set_xlabel("step")
    ax.set_ylabel("loss − minimum loss")
    ax.set_title("Loss per step")
    ax.grid(True, which="major", alpha=0.3)


def draw_race_lines(
    ax: Axes,
    losses: Mapping[str, np.ndarray],
    diverged: Mapping[str, bool] | None = None,
    *,
    legend_title: str | None = None,
) -> None:
    """Loss per step of every optimizer, a cross where a run diverged (kept inside the axes),
    and a legend with each final loss. losses[name]: (T + 1,) values."""
    diverged = diverged or {}
    lo, hi = ax.get_ylim()
    for name, values in losses.items():
        style = _style(OPTIMIZER_STYLE, name)
        y = np.asarray(values, dtype=float)
        ok = np.isfinite(y)
        steps = np.arange(y.size)[ok]
        y = np.maximum(y[ok], 1e-300)
        label = name + (" (diverged)" if diverged.get(name) else f": {y[-1]:.2g}")
        ax.plot(steps, y, color=style["color"], ls=style["linestyle"], lw=1.6, label=label)
        if diverged.get(name):
            ax.plot(steps[-1:], [min(max(y[-1], lo), hi)], marker="X", ms=11,
                    color=DIVERGED_COLOR, ls="none", clip_on=False)
    ax.legend(loc="upper right", fontsize="small", title=legend_title, title_fontsize="small")


def race_loss_range(losses: Mapping[str, np.ndarray]) -> tuple[float, float]:
    """A y range for race losses: from the smallest positive value to 10x the largest."""
    values = np.concatenate([np.asarray(v, dtype=float) for v in losses.values()] or [[1.0]])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return 1e-3, 10.0
    return max(float(values.min()) / 3, 1e-300), float(values.max()) * 10


def draw_race_losses(
    ax: Axes,
    losses: Mapping[str, np.ndarray],
    diverged: Mapping[str, bool] | None = None,
) -> None:
    """Loss per step of every optimizer in the race. losses[name]: (T + 1,) values."""
    steps = max(max((len(v) for v in losses.values()), default=2) - 1, 1)
    setup_race_loss_axes(ax, steps=steps, ylim=race_loss_range(losses))
    draw_race_lines(ax, losses, diverged)


def draw_gradient_norms(
    ax: Axes,
    norms: Mapping[str, np.ndarray],
    *,
    ylabel: str = "gradient norm ‖∂L/∂W‖",
    title: str = "Gradient norm per layer",
) -> None:
    """One line per activation: a value per Linear layer, input layer first. norms[name]: (L,)."""
    for name, values in norms.items():
        style = ACTIVATION_STYLE.get(name, {"color": OKABE_ITO["black"], "linestyle": "-",
                                            "marker": "o"})
        y = np.asarray(values, dtype=float)
        layers = np.arange(1, y.size + 1)
        ok = np.isfinite(y) & (y > 0)
        ax.plot(layers[ok], y[ok], color=style["color"], ls=style["linestyle"],
                marker=style["marker"], ms=5, lw=1.6, label=name)
    _log(ax, y=True)
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.legend(loc="best", fontsize="small")


# --- stand-alone figures -------------------------------------------------------------------------
def _register_png_formatter() -> None:
    """Let IPython show a returned Figure as an image even before pyplot is imported.

    (Importing pyplot in a kernel registers matplotlib-inline's own formatter, which then
    takes over; the figures here are made without pyplot, so it may never be imported.)
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    formatter = shell.display_formatter.formatters.get("image/png")
    if formatter is not None and Figure not in formatter:
        formatter.for_type(Figure, figure_to_png)



def loss_curve_figure(
    losses: Sequence[float] | np.ndarray,
    *,
    diverged: bool = False,
    steps_per_epoch: int | None = None,
    loss_label: str = "training loss",
    title: str | None = None,
) -> Figure:
    """A single loss curve (e.g. ``History.loss``), diverged runs marked. Returns the Figure."""
    fig, (ax,) = new_figure(1)
    draw_loss_curve(ax, losses, diverged=diverged, steps_per_epoch=steps_per_epoch,
                    loss_label=loss_label, title=title)
    return fig


def loss_vs_lr_figure(
    lrs: Sequence[float] | np.ndarray,
    final_losses: Sequence[float] | np.ndarray,
    diverged: Sequence[bool] | np.ndarray | None = None,
    *,
    current_lr: float | None = None,
    loss_label: str = "final training loss",
    title: str | None = None,
) -> Figure:
    """Final loss against learning rate (log-log), diverged runs marked. Returns the Figure.

    lrs, final_losses, diverged: (K,) one entry per training run.
    """
    fig, (ax,) = new_figure(1)
    current_loss = None
    current_div = False
    if current_lr is not None:
        lr = np.asarray(lrs, dtype=float)
        i = int(np.argmin(np.abs(np.log(lr) - np.log(current_lr))))
        if np.isclose(lr[i], current_lr):
            current_loss = float(np.asarray(final_losses, dtype=float)[i])
            current_div = bool(diverged[i]) if diverged is not None else False
            current_div = current_div or not math.isfinite(current_loss)
    draw_loss_vs_lr(ax, lrs, final_losses, diverged, current_lr=current_lr,
                    current_loss=current_loss, current_diverged=current_div,
                    loss_label=loss_label, title=title)
    return fig


def lr_range_test_figure(
    lrs: Sequence[float] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    suggested_lr: float | None = None,
    *,
    smoothed: Sequence[float] | np.ndarray | None = None,
) -> Figure:
    """The learning-rate range test: loss against the rate used at each step. Returns the Figure."""
    fig, (ax,) = new_figure(1)
    draw_range_test(ax, lrs, losses, suggested_lr, smoothed=smoothed)
    return fig


def _surface(surface: Surface | str) -> Surface:
    if isinstance(surface, str):
        check_choice("surface", surface, SURFACES)
        return SURFACES[surface]
    return surface


def loss_surface_figure(surface: Surface | str = "quadratic") -> Figure:
    """Contour plot of a 2-D loss surface ("quadratic" or "rosenbrock"). Returns the Figure."""
    fig, (ax,) = new_figure(1)
    draw_surface(ax, _surface(surface))
    ax.legend(loc="upper left", fontsize="small")
    return fig


def optimizer_race_figure(
    surface: Surface | str,
    paths: Mapping[str, np.ndarray],
    losses: Mapping[str, np.ndarray] | None = None,
    diverged: Mapping[str, bool] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Trajectories over the contours and, if `losses` is given, loss per step. Returns the Figure.

    paths[name]: (T + 1, 2) positions, start first. losses[name]: (T + 1,) loss at each position.
    """
    fig, axes = new_figure(2 if losses is not None else 1, title=title)
    draw_trajectories(axes[0], _surface(surface), paths, diverged, legend=losses is None)
    if losses is not None:
        draw_race_losses(axes[1], losses, diverged)
    return fig


def gradient_flow_figure(
    norms: Mapping[str, np.ndarray],
    activation_std: Mapping[str, np.ndarray] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Per-layer gradient norms (and optionally activation spread) per activation function.

    norms[name]: (L,) Frobenius norm of dW of each Linear layer, input layer first.
    activation_std[name]: (L,) standard deviation of each Linear layer's output.
    Returns the Figure.
    """
    fig, axes = new_figure(2 if activation_std is not None else 1, title=title)
    draw_gradient_norms(axes[0], norms)
    if activation_std is not None:
        draw_gradient_norms(axes[1], activation_std,
                            ylabel="std of the layer's output",
                            title="Forward signal per layer")
    return fig


_register_png_formatter()
