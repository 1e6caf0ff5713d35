"""Paper figures from result rows (matplotlib; PDF with TrueType fonts + PNG).

Every figure is exactly 3.4 in (one column) or 7 in (two columns) wide, with no text below
7 pt at that size; each method keeps one (colour, marker, line style) that no other method
shares (:class:`Style`), and the track shows as the marker fill (filled: supervised, open:
unsupervised). Legends sit outside the data; point labels are placed by adjustText so that no
two texts overlap. Figures whose axis is a test-set score are drawn per training setting
(``-<setting>`` in the file name when a run holds several). Figures (docs/gallery.md shows each):

* ``latency``: batch-1 inference time per method, median and Q1–Q3 whiskers on a log axis (the
  seed paper's figure 5), the input size(s) stated;
* ``model_size``: inference parameters, then ONNX size and peak forward/backward memory (MiB), on
  two log axes, n/a marked (figure 6);
* ``pareto[-<setting>]``: the headline image metric against latency and against parameters,
  points labelled, front drawn over them;
* ``heatmap_<metric>[-<setting>]``: method × category with a mean column, colour scale following
  the data;
* ``roc_<dataset>_<category>[-<setting>]`` / ``pro_<…>``: curves with the AUC in the legend, PRO to
  FPR 0.3;
* ``per_image_<metric>_<dataset>_<category>[-<setting>]``: box plots of per-image values (AUPIMO);
* ``imbalance_sweep``: image AUROC against the training anomalies actually used;
* ``qualitative_<dataset>_<category>``: the same test images for every method, one colour
  scale (and colour bar) per method, ground truth as an outline;
* ``cd_<metric>_<setting>``: critical-difference diagram (Friedman + Nemenyi), only where the
  Friedman test rejects.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .. import registry  # noqa: E402
from ..costs.fields import COST_FIELDS  # noqa: E402
from ..io import write_atomic  # noqa: E402
from ..metrics.spec import MetricSpec, headline  # noqa: E402
from .ranks import RankResult, rankings  # noqa: E402
from .rows import (column_labels, eval_resolutions, image_counts, method_labels, ok_rows,  # noqa: E402
                   recorded_ints, setting_groups, setting_slug, settings)

_MPL = tuple(int(p) for p in matplotlib.__version__.split(".")[:2])
COLUMN_WIDTH_IN = 3.4  # one column of a two-column paper
PAGE_WIDTH_IN = 7.0  # both columns
MIN_FONT_PT = 7.0
#: Okabe & Ito (2008), the colour-blind-safe qualitative palette, without its yellow (#F0E442),
#: which is unreadable as a line on white
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000")
#: fifteen marker shapes: 15 and the 7 colours are coprime, so the first 105 methods each get
#: their own (colour, marker) pair, and methods that share a colour also differ in line style
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "*", "H", "d", "8")
LINESTYLES = ("-", "--", ":", "-.")
#: the colours of the size figure's bars, one per cost field it shows (``CostField.size_figure``)
SIZE_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#D55E00", "#56B4E9")

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "figure.titlesize": 8, "legend.title_fontsize": 7,
    "pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType, never Type 3 (IEEE PDF eXpress)
    "savefig.dpi": 200, "axes.spines.top": False, "axes.spines.right": False})


class Style:
    """One (colour, marker, line style) per method, never shared by two methods: its index
    among every registered method and every method in the rows (sorted, so stable across the
    reports of one installation) picks colour ``i mod 7``, marker ``i mod 15`` and line style
    ``i div 7``. The track is the marker fill (filled: supervised, open: unsupervised).
    ``setting`` names the training setting a per-setting figure shows, and ``suffix`` is what
    its file names end with ("-supervised-k5") when a run holds several settings."""

    def __init__(self, methods: list[str], setting: str = "", suffix: str = "", counts: str = ""):
        try:
            known = set(registry.methods())
        except Exception:  # a broken plugin must not cost the report its figures
            known = set()
        names = sorted(known | set(methods))
        self.index = {m: i for i, m in enumerate(names)}
        self.setting, self.suffix, self.counts = setting, suffix, counts

    def for_setting(self, setting: str, suffix: str, counts: str) -> Style:
        """The same colours and markers, for the figures of one training setting."""
        other = copy.copy(self)
        other.setting, other.suffix, other.counts = setting, suffix, counts
        return other

    def colour(self, method: str) -> str:
        return OKABE_ITO[self.index.get(method, 0) % len(OKABE_ITO)]

    def marker(self, method: str) -> str:
        return MARKERS[self.index.get(method, 0) % len(MARKERS)]

    def linestyle(self, method: str) -> str:
        return LINESTYLES[(self.index.get(method, 0) // len(OKABE_ITO)) % len(LINESTYLES)]

    def point(self, method: str, track: str) -> dict[str, Any]:
        """plot keywords: colour, marker, line style; filled for supervised, open for unsupervised."""
        c = self.colour(method)
        filled = track == "supervised"
        return {"color": c, "marker": self.marker(method), "linestyle": self.linestyle(method),
                "markerfacecolor": c if filled else "white", "markeredgecolor": c}

    def heading(self) -> str:
        """The line a per-setting figure carries: its setting and test set."""
        return ", ".join(p for p in (f"{self.setting} setting" if self.setting else "", self.counts) if p)


def _save(fig: plt.Figure, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.pdf", out_dir / f"{name}.png"]
    for p in paths:  # atomically, like every report file; no bbox="tight": the page keeps its 3.4 or 7 in width
        write_atomic(p, lambda fh, fmt=p.suffix[1:]: fig.savefig(fh, format=fmt))
    plt.close(fig)
    return paths


def _axis_title(fig: plt.Figure, text: str) -> None:
    """The x-axis title, centred on the figure rather than on the axes (long method names on
    the y axis push the axes right, and a title centred on them ran off the page), each line
    wrapped to the figure's width."""
    fig.supxlabel(_wrap(fig, text, plt.rcParams["axes.labelsize"]), fontsize=plt.rcParams["axes.labelsize"])


def _wrap(fig: plt.Figure, text: str, fontsize: float) -> str:
    """``text`` with each line wrapped to the figure's width (about 0.62 em per character)."""
    import textwrap

    width = int(fig.get_figwidth() * 72 / (0.62 * fontsize))
    return "\n".join(w for line in text.split("\n") for w in textwrap.wrap(line, width))


def _log_x(ax: Any, low: float, high: float) -> None:
    """A log x axis whose labels read as plain numbers (0.5, 1, 2, 5, 10): 1-2-5 steps over at
    most two decades, decades only beyond."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    decades = np.log10(max(high, 1e-12) / max(low, 1e-12))
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(low / 1.5, high * 1.5)


def _labels(ok: pd.DataFrame) -> pd.Series:
    """Legend names: the method alone when each method ran in one setting at one evaluation
    resolution (the marker fill already shows the track), else the tables' label."""
    one_setting = settings(ok).groupby(ok["method"]).nunique().max() <= 1
    one_resolution = eval_resolutions(ok).dropna().nunique() <= 1
    return method_labels(ok) if one_setting and one_resolution else column_labels(ok)


def _method_and_track(ok: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Each legend name's method (its colour and marker) and track (its marker fill)."""
    labels = _labels(ok)
    return dict(zip(labels, ok["method"])), dict(zip(labels, ok["track"].fillna("unsupervised")))


def _na(ax: Any, x: float, y: float) -> None:
    ax.text(x, y, " n/a", va="center", ha="left", fontsize=MIN_FONT_PT, color="0.35")


def _heading(fig: plt.Figure, style: Style) -> None:
    """A per-setting figure's top line: its setting and test set (figures of different settings
    score different test images, so each says which)."""
    if style.heading():
        fig.suptitle(_wrap(fig, style.heading(), MIN_FONT_PT), fontsize=MIN_FONT_PT, color="0.25")


# -- costs -----------------------------------------------------------------------------
def _per_method_costs(ok: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    present = [c for c in cols if c in ok]
    if not present:
        return pd.DataFrame()
    t = ok.groupby("method")[present].median(numeric_only=True)
    return t.reindex(columns=cols)


def _cost_names(ok: pd.DataFrame, named: bool = True) -> tuple[dict[str, str], str]:
    """Each method's name on a cost axis and the figure's size line: the one input size of
    every cost figure or, when sizes differ, a warning, and (``named``) each method's own size
    after its name."""
    names = dict(zip(ok["method"], method_labels(ok)))
    sizes = ok.groupby("method")["input_size"].median() if "input_size" in ok else pd.Series(dtype=float)
    found = recorded_ints(sizes.to_frame(), "input_size")
    if len(found) > 1:
        if named:
            names = {m: f"{n} ({int(sizes[m])} px)" if m in sizes and not pd.isna(sizes[m]) else n
                     for m, n in names.items()}
        return names, (f"costs at unequal input sizes ({found[0]}–{found[-1]} px"
                       + (", after each name)" if named else "; costs.csv names each)"))
    return names, f"costs at {found[0]} px input" if found else "input size not recorded"


def latency_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """Median batch-1 latency per method as a point, whiskers from the first to the third
    quartile of the single passes, on a log axis; the axis names device, threads, input size
    and where the figures come from."""
    t = _per_method_costs(ok, ["latency_ms", "latency_q1_ms", "latency_q3_ms"])
    if t.empty or t["latency_ms"].isna().all():
        return []
    t = t.sort_values("latency_ms", na_position="first")
    track = dict(zip(ok["method"], ok["track"].fillna("unsupervised")))
    names, sizes = _cost_names(ok)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.2 * len(t) + 1.2), layout="constrained")
    measured = t["latency_ms"].dropna()
    low = float(np.nanmin(t[["latency_ms", "latency_q1_ms"]].to_numpy(dtype=float)))
    high = float(np.nanmax(t[["latency_ms", "latency_q3_ms"]].to_numpy(dtype=float)))
    for i, m in enumerate(t.index):
        med = t.at[m, "latency_ms"]
        if pd.isna(med):
            _na(ax, low, i)
            continue
        q1, q3 = t.at[m, "latency_q1_ms"], t.at[m, "latency_q3_ms"]
        if not (pd.isna(q1) or pd.isna(q3)):
            ax.hlines(i, q1, q3, color=style.colour(m), lw=1.0)
        kw = style.point(m, track.get(m, "unsupervised"))
        kw.pop("linestyle")
        ax.plot([med], [i], ms=4.5, lw=0, **kw)
    ax.set_yticks(range(len(t)), [names.get(m, m) for m in t.index])
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.grid(axis="x", which="major", color="0.9", lw=0.5)
    _log_x(ax, low, high)
    device = ", ".join(sorted(ok["device"].dropna().astype(str).unique())) if "device" in ok else "?"
    threads = recorded_ints(ok, "costs_torch_threads")
    source = "adbench profile" if ok.get("costs_source", pd.Series(dtype=object)).astype(str).str.startswith(
        "adbench profile").any() else "run rows"
    quartiles = "" if t[["latency_q1_ms", "latency_q3_ms"]].notna().all(axis=1)[measured.index].all() else \
        " (rows without quartiles: no whisker)"
    _axis_title(fig, f"latency at batch 1 (ms, log): median, whiskers Q1–Q3{quartiles}\n{sizes}; {device}, "
                     f"{'/'.join(map(str, threads)) or '?'} thread(s), {source}")
    return _save(fig, out_dir, "latency")


def model_size_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """Two axes at column width: inference parameters (millions), and the figures in MiB
    (``CostField.size_figure``: ONNX file, peak forward and backward memory of one training
    step), each method a row of points on log axes; n/a where a figure was not measured."""
    fields = [f for f in COST_FIELDS if f.size_figure]
    params = [f for f in fields if f.unit == "M"]
    mib = [f for f in fields if f.unit == "MiB"]
    t = _per_method_costs(ok, [f.key for f in fields])
    if t.empty or t.isna().all().all():
        return []
    t = t.copy()
    for f in fields:
        t[f.key] = t[f.key] / f.scale
    t = t.sort_values(params[0].key if params else mib[0].key, na_position="first")
    names, sizes = _cost_names(ok)
    panels = [(p, "millions") for p in ([params] if params else [])] + ([(mib, "MiB")] if mib else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(COLUMN_WIDTH_IN, 0.2 * len(t) + 1.5), layout="constrained",
                             sharey=True, squeeze=False)
    shapes = ("o", "s", "^", "D", "v")
    batches = recorded_ints(ok, "memory_batch")
    for ax, (group, unit) in zip(axes[0], panels):
        vals = t[[f.key for f in group]].to_numpy(dtype=float)
        good = vals[np.isfinite(vals) & (vals > 0)]
        low, high = (float(good.min()), float(good.max())) if good.size else (0.1, 1.0)
        for k, f in enumerate(group):
            colour = SIZE_COLOURS[k % len(SIZE_COLOURS)] if len(group) > 1 else "0.2"
            v = t[f.key].to_numpy(dtype=float)
            ok_ = np.isfinite(v) & (v > 0)
            ax.plot(v[ok_], np.arange(len(t))[ok_], lw=0, marker=shapes[k % len(shapes)], ms=4, color=colour,
                    markerfacecolor="white" if k else colour, label=f.title if len(group) > 1 else None)
            if len(group) == 1:
                for i in np.nonzero(~ok_)[0]:
                    _na(ax, low, i)
        ax.grid(axis="x", which="major", color="0.9", lw=0.5)
        _log_x(ax, low, high)
        ax.set_xlabel(f"{group[0].title}" if len(group) == 1 else f"{unit} (log)")
        if len(group) > 1:
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=MIN_FONT_PT, ncol=1,
                      borderaxespad=0.2)
    axes[0][0].set_yticks(range(len(t)), [names.get(m, m) for m in t.index])
    axes[0][0].set_ylim(-0.6, len(t) - 0.4)
    memory = f"; memory at training batch {'/'.join(map(str, batches))}" if batches else ""
    _axis_title(fig, f"{sizes}{memory}")
    return _save(fig, out_dir, "model_size")


def pareto_front(cost: Any, score: Any) -> list[int]:
    """Indices not dominated by a point that is both cheaper-or-equal and better-or-equal."""
    cost, score = np.asarray(cost, float), np.asarray(score, float)
    keep = []
    for i in range(len(cost)):
        dominated = np.any((cost <= cost[i]) & (score >= score[i]) & ((cost < cost[i]) | (score > score[i])))
        if not dominated:
            keep.append(i)
    return keep


def _place_labels(fig: plt.Figure, ax: Any, texts: list[Any], points: tuple[np.ndarray, np.ndarray]) -> None:
    """Move point labels so that none overlaps another or a point (adjustText), with a thin
    leader line where a label moved away from its point."""
    from adjustText import adjust_text

    if not texts:
        return
    fig.canvas.draw()  # the layout first: adjustText works in display space
    fig.set_layout_engine("none")  # and then fixed, so a later draw does not move the axes under the labels
    renderer = fig.canvas.get_renderer()
    for expand in ((1.15, 1.3), (1.3, 1.6), (1.5, 2.0)):  # wider margins until no two labels touch
        adjust_text(texts, x=points[0], y=points[1], ax=ax, expand=expand, ensure_inside_axes=True,
                    iter_lim=300, arrowprops={"arrowstyle": "-", "color": "0.55", "lw": 0.4})
        boxes = [t.get_window_extent(renderer) for t in texts]
        if not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            break


def pareto_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """The headline image metric (``MetricSpec.headline``; mean over categories, std as error
    bars clipped to the metric's range [0, 1]) against latency and against inference parameters
    of one training setting; labels placed so none overlaps, the Pareto front drawn on top."""
    spec = headline(registry.metrics(), "image")
    if spec is None or spec.name not in ok:
        return []
    ok = ok.assign(label=_labels(ok))
    acc = ok.groupby(["label", "category", "dataset"])[spec.name].mean().groupby("label").agg(["mean", "std"])
    costs = ok.groupby("label")[[c for c in ("latency_ms", "params_inference") if c in ok]].median(numeric_only=True)
    t = acc.join(costs)
    panels = [(c, x) for c, x in (("latency_ms", "latency at batch 1 (ms, log)"),
                                  ("params_inference", "inference parameters (M, log)"))
              if c in t and t[c].notna().any()]
    t = t.dropna(subset=["mean"])
    if not panels or t.empty:
        return []
    method, track = _method_and_track(ok)
    _, sizes = _cost_names(ok, named=False)
    fig, axes = plt.subplots(1, len(panels), figsize=(PAGE_WIDTH_IN, 3.0), layout="constrained", squeeze=False)
    placed = []
    for ax, (col, xlabel) in zip(axes[0], panels):
        sub = t.dropna(subset=[col])
        x = sub[col] / (1e6 if col == "params_inference" else 1.0)
        mean, std = sub["mean"], sub["std"].fillna(0.0)
        below, above = np.minimum(std, mean - 0.0), np.minimum(std, 1.0 - mean)  # inside the metric's range
        texts = []
        for lab in sub.index:
            kw = style.point(method[lab], track[lab])
            kw.pop("linestyle")
            ax.errorbar(x[lab], mean[lab], yerr=[[below[lab]], [above[lab]]], ms=5, lw=0, elinewidth=0.6,
                        capsize=1.5, zorder=3, alpha=0.9, **kw)
            texts.append(ax.text(x[lab], mean[lab], lab, fontsize=MIN_FONT_PT, color="0.15", zorder=5))
        front = sub.iloc[pareto_front(x.to_numpy(), mean.to_numpy())]
        fx = x[front.index].sort_values()
        (line,) = ax.step(fx, front.loc[fx.index, "mean"], where="post", color="#D55E00", lw=1.4, ls="-",
                          zorder=4, alpha=0.8, label="Pareto front")
        _log_x(ax, float(x.min()), float(x.max()))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{spec.title} (mean ± std)")
        lo, hi = float((mean - below).min()), float((mean + above).max())
        ax.set_ylim(max(0.0, lo - 0.03), min(1.0, hi + 0.03) + 0.005)
        placed.append((ax, texts, (x.to_numpy(dtype=float), mean.to_numpy(dtype=float))))
    _heading(fig, style)
    _track_legend(fig, set(track.values()), extra=[line], note=sizes)
    for ax, texts, points in placed:
        _place_labels(fig, ax, texts, points)
    return _save(fig, out_dir, "pareto" + style.suffix)


def _track_legend(fig: plt.Figure, tracks: set[str], extra: list[Any] = (), note: str = "") -> None:
    """A legend below the axes, outside the data: the marker fill (filled = supervised,
    open = unsupervised), any ``extra`` handles (such as the Pareto front) and a ``note``."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", lw=0, color="0.3", markerfacecolor="0.3" if t == "supervised" else "white",
                      label=f"{t} (marker {'filled' if t == 'supervised' else 'open'})") for t in sorted(tracks)]
    handles += list(extra)
    if note:
        handles.append(Line2D([], [], lw=0, label=note))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), frameon=False)


# -- accuracy ----------------------------------------------------------------------------
def heatmap_figure(ok: pd.DataFrame, out_dir: Path, spec: MetricSpec, style: Style | None = None) -> list[Path]:
    """Method × category of one registered metric, plus a mean column; the colour range
    follows the data (scores in [0, 1]: its minimum and maximum rounded out to 0.05), so no
    cell is clipped, and every cell prints its value."""
    metric = spec.name
    if metric not in ok or ok[metric].isna().all():
        return []
    ok = ok.assign(label=_labels(ok), col=np.where(ok["dataset"].nunique() > 1, ok["dataset"] + "/", "")
                   + ok["category"])
    t = ok.pivot_table(index="label", columns="col", values=metric, aggfunc="mean")
    t = t.dropna(how="all")
    t["mean"] = t.mean(axis=1, skipna=False)
    values = t.to_numpy(dtype=float)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    extend = "neither"  # the scale follows the data: no cell is clipped to the colour of an end
    if 0.0 <= lo and hi <= 1.0:  # a score: the data's range, widened to whole 0.05 steps
        vmin, vmax = np.floor(lo * 20) / 20, min(1.0, np.ceil(hi * 20) / 20)
        vmin, vmax = (vmin, vmax) if vmax > vmin else (max(0.0, vmin - 0.05), min(1.0, vmax + 0.05))
    else:
        vmin, vmax = lo, hi if hi > lo else lo + 1e-9
    width = COLUMN_WIDTH_IN if t.shape[1] <= 7 else PAGE_WIDTH_IN
    fig, ax = plt.subplots(figsize=(width, 0.24 * t.shape[0] + 1.2), layout="constrained")
    cmap = plt.get_cmap("viridis" if spec.higher_is_better else "viridis_r").copy()
    im = ax.imshow(values, vmin=vmin, vmax=vmax, aspect="auto", cmap=cmap)
    ax.set_xticks(range(t.shape[1]), t.columns, rotation=30, ha="right")
    ax.set_yticks(range(t.shape[0]), t.index)
    ax.axvline(t.shape[1] - 1.5, color="white", lw=1.5)  # the mean column stands apart
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            frac = (min(max(v, vmin), vmax) - vmin) / (vmax - vmin or 1.0)
            bright = frac > 0.6 if spec.higher_is_better else frac < 0.4
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=MIN_FONT_PT, color="k" if bright else "w")
    ax.spines[:].set_visible(False)
    fig.colorbar(im, ax=ax, label=spec.title, extend=extend, shrink=0.9)
    style = style or Style([])
    _heading(fig, style)
    return _save(fig, out_dir, f"heatmap_{metric}{style.suffix}")


def _curve_to(x: np.ndarray, y: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """The curve up to x = limit, interpolated at the limit."""
    keep = x <= limit
    xs, ys = x[keep], y[keep]
    if len(xs) and xs[-1] < limit and (~keep).any():
        xs, ys = np.append(xs, limit), np.append(ys, np.interp(limit, x, y))
    return xs, ys


#: the curves a row carries (``curves.<key>``): file-name prefix, y values' key, y-axis label,
#: the pixel-FPR limit drawn (None: the whole curve)
CURVES = {"image_roc": ("roc", "tpr", "true-positive rate", None),
          "pro": ("pro", "pro", "per-region overlap", 0.3)}


def curve_figures(ok: pd.DataFrame, style: Style, out_dir: Path, curve: str = "image_roc") -> list[Path]:
    """Per category, the stored ``curve`` of every method, for each metric that is the area
    under it (``MetricSpec.curve``: image ROC for image AUROC, PRO for AU-PRO); each legend
    entry gives the metric, and PRO is drawn only up to its FPR limit."""
    if "curves" not in ok:
        return []
    ok = ok.assign(label=_labels(ok))
    drawn = [(spec, *CURVES[spec.curve]) for spec in registry.metrics() if spec.curve == curve]
    written = []
    for (dataset, category), sub in ok.groupby(["dataset", "category"]):
        for spec, kind, y_key, ylab, fpr_limit in drawn:
            key = spec.curve
            curves = [r for _, r in sub.iterrows() if isinstance(r.get("curves"), dict) and key in r["curves"]]
            if not curves:
                continue
            fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.3 + 0.13 * ((len(curves) + 1) // 2)),
                                   layout="constrained")
            for r in curves:
                c = r["curves"][key]
                x, y = np.asarray(c["fpr"], float), np.asarray(c[y_key], float)
                if fpr_limit is not None:
                    x, y = _curve_to(x, y, fpr_limit)
                auc = r.get(spec.name)
                kw = style.point(r["method"], r.get("track", "unsupervised"))
                ax.plot(x, y, lw=0.9, ms=3, markevery=max(1, len(x) // 5),
                        label=f"{r['label']} ({auc:.3f})" if auc is not None and not pd.isna(auc) else r["label"], **kw)
            if fpr_limit is None:
                ax.plot([0, 1], [0, 1], color="0.7", lw=0.5, ls=":")
            else:
                ax.set_xlim(0, fpr_limit)
            ax.set_ylim(0, 1.01)
            ax.set_xlabel("false-positive rate" + (" (images)" if spec.level == "image" else " (pixels)"))
            ax.set_ylabel(ylab)
            ax.set_title(f"{dataset}/{category}: " + (f"{kind.upper()} to FPR {fpr_limit:g}" if fpr_limit
                                                       else f"{spec.level} {kind.upper()}"))
            _heading(fig, style)
            fig.legend(loc="outside lower center", ncol=2, frameon=False, title=f"method ({spec.title})")
            written += _save(fig, out_dir, f"{kind}_{dataset}_{category}{style.suffix}")
    return written


def imbalance_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """Supervised image AUROC against the anomalous training images actually used (mean over
    categories, std as error bars); settings that drew the same training anomalies in every
    category are one point, labelled with all their ratios or k."""
    spec = headline(registry.metrics(), "image")
    sup = ok[ok["track"] == "supervised"] if "track" in ok else ok.iloc[0:0]
    if spec is None or spec.name not in sup or sup.empty or "n_train_anomalous" not in sup \
            or settings(sup).nunique() < 2:
        return []
    sup = sup.assign(setting=settings(sup))
    names = dict(zip(sup["method"], method_labels(sup)))
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.6), layout="constrained")
    lows, highs = [], []
    tags: dict[float, set[str]] = {}  # x → the settings drawn there, written once above the data
    for method, g in sup.groupby("method"):
        per_cat = g.groupby(["setting", "dataset", "category"]).agg(n=("n_train_anomalous", "mean"),
                                                                    auroc=(spec.name, "mean")).reset_index()
        points: dict[tuple, dict[str, Any]] = {}
        for setting, s in per_cat.groupby("setting"):
            drawn = tuple(sorted(zip(s["dataset"], s["category"], s["n"])))  # what training got, per category
            p = points.setdefault(drawn, {"settings": [], "n": s["n"].mean(), "auroc": s["auroc"]})
            p["settings"].append(setting.split(", ", 1)[1].replace("ratio ", "r=") if ", " in setting else setting)
        xs = sorted(points.values(), key=lambda p: p["n"])
        x = [p["n"] for p in xs]
        y = [p["auroc"].mean() for p in xs]
        e = [p["auroc"].std() if len(p["auroc"]) > 1 else 0.0 for p in xs]
        ax.errorbar(x, y, yerr=e, lw=0.9, ms=4, capsize=2, elinewidth=0.6, label=names.get(method, method),
                    **style.point(method, "supervised"))
        for p, xv in zip(xs, x):
            tags.setdefault(round(float(xv), 6), set()).update(p["settings"])
        lows += [a - b for a, b in zip(y, e)]
        highs += [a + b for a, b in zip(y, e)]
    lo, hi = min(lows), max(highs)
    pad = max(0.0, 0.25 - (hi - lo)) / 2 + 0.02  # the axis spans at least 0.25 AUROC
    ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad) if hi + pad > lo - pad else lo + 0.25)
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    for xv, tag in sorted(tags.items()):
        ax.text(xv, 1.01, "/".join(sorted(tag, key=lambda t: float(t.split("=")[-1]) if "=" in t else 0)),
                transform=top, ha="center", va="bottom", fontsize=MIN_FONT_PT, color="0.35")
    ax.set_xlabel("anomalous training images (mean over categories)")
    ax.set_ylabel(f"{spec.title} (mean ± std)")
    fig.legend(loc="outside lower center", ncol=3, frameon=False)
    return _save(fig, out_dir, "imbalance_sweep")


def qualitative_figures(ok: pd.DataFrame, style: Style, out_dir: Path, rows_max: int = 5) -> list[Path]:
    """Per data set, category and track: rows are the same test images for every method
    (chosen without looking at any method's scores), columns are the image, its ground truth
    and one map per method; each method column has its own colour scale and colour bar, and
    the ground truth is drawn as a contour on every map."""
    if "maps_path" not in ok:
        return []
    written = []
    ok = ok.dropna(subset=["maps_path"]).assign(label=_labels(ok.dropna(subset=["maps_path"])))
    for (dataset, category, track), sub in ok.groupby(["dataset", "category", "track"]):
        loaded = {}
        for _, r in sub.sort_values("label").iterrows():
            path = Path(r["maps_path"])
            if path.is_file() and r["label"] not in loaded:
                with np.load(path) as z:
                    loaded[r["label"]] = {k: z[k] for k in z.files}
        if not loaded:
            continue
        common = set.intersection(*(set(map(str, z["paths"])) for z in loaded.values()))
        first = next(iter(loaded.values()))
        chosen = _grid_images(first, common, rows_max)
        if not chosen:
            continue
        name = f"qualitative_{dataset}_{category}" + ("" if track == "unsupervised" else f"_{track}")
        labels = list(loaded)
        parts = -(-len(labels) // QUALITATIVE_METHODS_MAX)  # a page holds this many map columns
        for p in range(parts):
            share = labels[p * len(labels) // parts:(p + 1) * len(labels) // parts]
            written += _qualitative_grid({m: loaded[m] for m in share}, chosen,
                                         name if p == 0 else f"{name}_part{p + 1}", out_dir)
    return written


#: map columns per qualitative figure: more methods are split over several figures of the same
#: images, so a tile stays about 0.7 in wide on a 7 in page
QUALITATIVE_METHODS_MAX = 8


def _grid_images(z: dict[str, np.ndarray], common: set[str], rows_max: int) -> list[str]:
    """Paths of up to ``rows_max`` shared images: one anomalous image per defect type, then a
    normal one."""
    paths = [str(p) for p in z["paths"]]
    defects = [str(d) for d in z["defect_types"]] if "defect_types" in z else ["anomalous"] * len(paths)
    picked, seen = [], set()
    for i in np.argsort(paths):
        p = paths[i]
        if p in common and z["labels"][i] == 1 and defects[i] not in seen:
            seen.add(defects[i])
            picked.append(p)
    normals = [paths[i] for i in np.argsort(paths) if paths[i] in common and z["labels"][i] == 0]
    return picked[: rows_max - 1] + normals[:1]


def _scale_labels(vmin: float, vmax: float) -> tuple[list[str], str]:
    """A colour bar's two end labels and their common power of ten ("×1e-5", empty when none is
    needed), so a bar reads "0 – 8.7, ×1e-5" rather than "0 – 8.7e-05"."""
    top = max(abs(vmin), abs(vmax))
    exp = int(np.floor(np.log10(top))) if top > 0 and not 1e-2 <= top < 1e3 else 0
    a, b = vmin / 10.0 ** exp, vmax / 10.0 ** exp
    digits = 2
    while f"{a:.{digits}g}" == f"{b:.{digits}g}" and digits < 8:
        digits += 1
    return [f"{a:.{digits}g}", f"{b:.{digits}g}"], (f"×1e{exp}" if exp else "")


def _qualitative_grid(loaded: dict[str, dict[str, np.ndarray]], chosen: list[str], name: str,
                      out_dir: Path) -> list[Path]:
    """Tiles of equal size with thin gaps: the image, its mask, then one map per method, a row per
    image; each method's column shares one colour scale, shown by a bar under it."""
    import textwrap

    methods = list(loaded)
    ref = max(loaded.values(), key=lambda z: z["images"].shape[-1])  # the sharpest stored image
    ref_index = {str(p): i for i, p in enumerate(ref["paths"])}
    ncols = 2 + len(methods)
    left, right, top, bottom, gap = 0.2, 0.05, 0.36, 0.42, 0.03  # inches
    tile = (PAGE_WIDTH_IN - left - right - gap * (ncols - 1)) / ncols
    height = top + bottom + len(chosen) * tile + gap * (len(chosen) - 1)
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, height))
    grid = fig.add_gridspec(len(chosen), ncols, left=left / PAGE_WIDTH_IN, right=1 - right / PAGE_WIDTH_IN,
                            top=1 - top / height, bottom=bottom / height, wspace=gap / tile, hspace=gap / tile)
    chars = max(6, int(tile * 72 / (0.55 * MIN_FONT_PT)))  # characters a title line holds over one tile
    extent = (0, 1, 1, 0)
    for r, path in enumerate(chosen):
        i = ref_index[path]
        rgb = np.transpose(ref["images"][i], (1, 2, 0))
        mask = ref["masks"][i].astype(float)
        defect = str(ref["defect_types"][i]) if "defect_types" in ref else ("anomalous" if ref["labels"][i] else "good")
        for c in range(ncols):
            ax = fig.add_subplot(grid[r, c])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if c == 0:
                ax.imshow(rgb, extent=extent)
                ax.set_ylabel(textwrap.shorten(defect, chars + 4, placeholder="…"), fontsize=MIN_FONT_PT, labelpad=2)
            elif c == 1:
                ax.imshow(mask, cmap="gray", vmin=0, vmax=1, extent=extent)
            else:
                z = loaded[methods[c - 2]]
                j = [str(p) for p in z["paths"]].index(path)
                maps = z["maps"].astype(np.float32)
                sel = [[str(p) for p in z["paths"]].index(q) for q in chosen]
                vmin, vmax = float(maps[sel].min()), float(maps[sel].max())
                vmax = vmax if vmax > vmin else vmin + 1e-6
                im = ax.imshow(maps[j], cmap="inferno", vmin=vmin, vmax=vmax, extent=extent)
                if mask.any():
                    ax.contour(np.linspace(0, 1, mask.shape[1]), np.linspace(0, 1, mask.shape[0]), mask,
                               levels=[0.5], colors="#56B4E9", linewidths=0.5)
                if r == len(chosen) - 1:
                    box = ax.get_position()
                    cax = fig.add_axes((box.x0, box.y0 - 0.12 / height, box.width, 0.06 / height))
                    bar = fig.colorbar(im, cax=cax, orientation="horizontal")
                    labels, power = _scale_labels(vmin, vmax)
                    bar.set_ticks([vmin, vmax], labels=labels)
                    bar.ax.tick_params(labelsize=MIN_FONT_PT, length=1, pad=1)
                    for tick, ha in zip(bar.ax.get_xticklabels(), ("left", "right")):
                        tick.set_ha(ha)  # both ends inside the bar's width: neighbours never collide
                    if power:
                        bar.ax.set_xlabel(power, fontsize=MIN_FONT_PT, labelpad=1)
            if r == 0:
                title = ["image", "mask"][c] if c < 2 else methods[c - 2]
                ax.set_title("\n".join(textwrap.wrap(title, chars)[:2]), fontsize=MIN_FONT_PT, pad=2)
    return _save(fig, out_dir, name)


def _text_inches(fig: plt.Figure, text: str, fontsize: float) -> tuple[float, float]:
    """(width, height) in inches of ``text`` as ``fig`` would draw it."""
    t = fig.text(0, 0, text, fontsize=fontsize)
    box = t.get_window_extent(fig.canvas.get_renderer())
    t.remove()
    return box.width / fig.dpi, box.height / fig.dpi


def cd_figure(result: RankResult, spec: MetricSpec, setting: str, out_dir: Path) -> list[Path]:
    """Demšar's critical-difference diagram: average ranks on one axis (1 = best, left), methods
    joined by a bar when their ranks differ by less than the Nemenyi CD.

    The names' room is measured, not guessed: the rank axis gets what the longest name on each
    side leaves of the column (the page width when a column cannot hold both), so no name
    leaves the page however many methods there are; rank labels thin out to stay legible."""
    ranks = result.avg_ranks.sort_values()
    k = len(ranks)
    half = (k + 1) // 2
    labels = [f"{name} ({rank:.2f})" if i < half else f"({rank:.2f}) {name}" for i, (name, rank) in enumerate(ranks.items())]
    height = 1.3 + 0.17 * half
    fig = plt.figure(figsize=(COLUMN_WIDTH_IN, height))
    left_in = max(_text_inches(fig, t, MIN_FONT_PT)[0] for t in labels[:half])
    right_in = max((_text_inches(fig, t, MIN_FONT_PT)[0] for t in labels[half:]), default=0.0)
    gap_in, pad_in, min_axis_in = 0.04, 0.05, 1.2
    width = COLUMN_WIDTH_IN
    if left_in + right_in + 2 * (gap_in + pad_in) + min_axis_in > width:
        width = PAGE_WIDTH_IN
        fig.set_size_inches(width, height)
    title = (f"{spec.title}, {setting}\nFriedman p = {result.p_value:.3g} over {result.n_blocks} cells; "
             f"Nemenyi α = {result.alpha:g}")
    fig.suptitle(title, fontsize=MIN_FONT_PT, y=1 - 0.03 / height, va="top")
    title_in = _text_inches(fig, title, MIN_FONT_PT)[1] + 0.1
    axis_in = width - 2 * pad_in
    ax = fig.add_axes((pad_in / width, 0.02, axis_in / width, 1 - 0.02 - title_in / height))
    # data units: the ranks 1..k, the elbows beyond them, and the CD bar, which may be longer
    lo, hi = 1 - 0.08 * (k - 1), max(k + 0.08 * (k - 1), 1 + result.cd)
    span = (hi - lo) / max(1 - (left_in + right_in + 2 * gap_in) / axis_in, 0.2)
    per_in = span / axis_in
    ax.set_xlim(lo - (left_in + gap_in) * per_in, lo - (left_in + gap_in) * per_in + span)
    ax.set_ylim(-(half + 1.2), 1.4)
    ax.axis("off")
    ax.hlines(0, 1, k, color="k", lw=0.8)
    tick_in = _text_inches(fig, str(k), MIN_FONT_PT)[0] + 0.06  # a rank label and some air
    step = next(s for s in (1, 2, 5, 10, 20, 50, k) if s / per_in >= tick_in)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.15, color="k", lw=0.8)
        if (r - 1) % step == 0:
            ax.text(r, 0.3, str(r), ha="center", va="bottom", fontsize=MIN_FONT_PT)
    for i, ((name, rank), label) in enumerate(zip(ranks.items(), labels)):
        left = i < half
        level = -(i + 1) if left else -(k - i)
        end = 1 - 0.08 * (k - 1) if left else k + 0.08 * (k - 1)
        ax.plot([rank, rank, end], [0, level, level], color="0.25", lw=0.6)
        ax.text(end - gap_in * per_in if left else end + gap_in * per_in, level, label,
                ha="right" if left else "left", va="center", fontsize=MIN_FONT_PT)
    for n, clique in enumerate(result.cliques()):
        a, b = ranks[clique[0]], ranks[clique[-1]]
        ax.hlines(-0.35 - 0.22 * n, a - 0.05, b + 0.05, color="#D55E00", lw=2)
    ax.hlines(1.1, 1, 1 + result.cd, color="k", lw=1)
    ax.text(1 + result.cd / 2, 1.15, f"CD = {result.cd:.2f}", ha="center", va="bottom", fontsize=MIN_FONT_PT)
    ax.set_clip_on(False)
    return _save(fig, out_dir, f"cd_{spec.name}_{setting_slug(setting)}")


def per_image_figures(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """Per category, a box plot of each method's per-image values of every metric that has them
    (``MetricSpec.per_image``; built-in: AUPIMO), methods side by side, best median on top, as
    the AUPIMO paper shows them."""
    from .paired_views import per_image_frame

    written = []
    for spec in (s for s in registry.metrics() if s.per_image is not None):
        values = per_image_frame(ok, spec.name)
        if values.empty:
            continue
        method_of = dict(zip(column_labels(ok), ok["method"]))
        for (dataset, category), sub in values.groupby(["dataset", "category"]):
            order = sub.groupby("label")["value"].median().sort_values(ascending=not spec.higher_is_better).index
            data = [sub.loc[sub["label"] == lab, "value"].to_numpy() for lab in order][::-1]
            fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.2 * len(order) + 1.3), layout="constrained")
            sideways = {"orientation": "horizontal"} if _MPL >= (3, 10) else {"vert": False}  # renamed in 3.10
            parts = ax.boxplot(data, widths=0.6, patch_artist=True, showfliers=True, **sideways,
                               flierprops={"markersize": 2, "alpha": 0.6}, medianprops={"color": "k", "lw": 1})
            for box, lab in zip(parts["boxes"], list(order)[::-1]):
                box.set(facecolor=style.colour(method_of.get(lab, lab)), alpha=0.55, lw=0.6)
            ax.set_yticks(range(1, len(order) + 1), list(order)[::-1])
            ax.set_xlim(-0.02, 1.02)
            ax.set_xlabel(f"{spec.title} per anomalous image")
            ax.set_title(f"{dataset}/{category}", fontsize=MIN_FONT_PT + 1)
            _heading(fig, style)
            written += _save(fig, out_dir, f"per_image_{spec.name}_{dataset}_{category}{style.suffix}")
    return written


def heatmap_figures(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """One heatmap per registered metric flagged ``heatmap`` (the default, a plugin's included)."""
    return [p for spec in registry.metrics() if spec.heatmap for p in heatmap_figure(ok, out_dir, spec, style)]


def cd_figures(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """A critical-difference diagram per ``ranked`` metric and training setting, drawn only
    where the Friedman test rejects equal ranks at its α: otherwise one bar would join every
    method, and the rankings table says instead that no difference is significant."""
    return [p for spec, setting, result in rankings(ok) if result.significant
            for p in cd_figure(result, spec, setting, out_dir)]


#: the built-in figures, registered by the core plugin as a plugin registers its own:
#: (name = file-name prefix, function, caption of at most 40 words for the HTML and
#: docs/gallery.md, drawn per training setting)
BUILTIN_FIGURES = (
    ("latency", latency_figure,
     "Inference latency at batch 1: median (point) and first to third quartile (whiskers) of single forward "
     "passes, log axis. Filled markers: supervised methods, open: unsupervised. Input size, device and threads "
     "below the axis.", False),
    ("model_size", model_size_figure,
     "Inference parameters (left) and, in MiB, the ONNX file and the peak forward and backward memory of one "
     "training step (right), log axes; n/a or a missing point: not measured. Input size and memory batch below the axes.", False),
    ("pareto", pareto_figure,
     "The headline image metric (mean over categories; error bars: std, clipped to [0, 1]) against latency and "
     "parameters, one training setting. The line is the Pareto front: no other method is both cheaper and better.",
     True),
    ("heatmap", heatmap_figures,
     "One metric per method and category in one training setting, the mean in the last column; each cell prints "
     "its value, and the colour bar spans the values shown.", True),
    ("roc", functools.partial(curve_figures, curve="image_roc"),
     "Image-level ROC curves of one category and training setting; the legend gives each method's image AUROC.",
     True),
    ("pro", functools.partial(curve_figures, curve="pro"),
     "Per-region-overlap curves of one category and training setting up to FPR 0.3; the legend gives each "
     "method's AU-PRO@0.3.", True),
    ("per_image", per_image_figures,
     "Per-image values of one metric (built-in: AUPIMO) in one category and training setting: a box per "
     "method (median, quartiles, whiskers to 1.5 IQR), best median on top, as the AUPIMO paper compares "
     "methods.", True),
    ("imbalance_sweep", imbalance_figure,
     "Supervised image AUROC against the anomalous training images used (mean over categories, std as error "
     "bars). Each point tests on the images its setting left out, so the test sets differ.", False),
    ("qualitative", qualitative_figures,
     "The same test images (one per defect type and a normal one, chosen without any score) for every method; "
     "each method's maps share one colour scale (bar below); the blue outline is the ground truth.", False),
    ("cd", cd_figures,
     "Critical-difference diagram (Demšar 2006), drawn only where the Friedman test rejects equal ranks: average "
     "rank over data set × category cells (1 = best); a bar joins methods that do not differ (Nemenyi, α = 0.05).",
     False),
)


def figure_caption(stem: str) -> str:
    """The caption of a figure file (by its name): that of the registered figure whose name is
    the longest prefix of ``stem``, for the HTML and the gallery."""
    entries = sorted(registry.figures().in_order(), key=lambda e: len(e.name), reverse=True)
    for e in entries:
        if stem == e.name or stem.startswith((e.name + "_", e.name + "-")):  # a part, or a setting's figure
            return str(e.options.get("caption", ""))
    return ""


def write_figures(df: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Every registered figure the rows allow; figures whose data are missing are skipped. A
    figure registered with ``per_setting=True`` is drawn once per training setting (its files
    end in ``-<setting>`` when the rows hold several), so no figure compares methods tested
    on different images."""
    ok = ok_rows(df)
    if ok.empty:
        return []
    if "track" not in ok:
        ok = ok.assign(track="unsupervised")
    style = Style(list(ok["method"].unique()))
    groups = setting_groups(ok)
    written: list[Path] = []
    for entry in registry.figures().in_order():
        if not entry.options.get("per_setting"):
            written += entry.obj(ok, style, out_dir)
            continue
        for setting, rows in groups:
            suffix = f"-{setting_slug(setting)}" if len(groups) > 1 and setting else ""
            written += entry.obj(rows, style.for_setting(setting or "", suffix, image_counts(rows)), out_dir)
    return written
