"""Paper figures from result rows (matplotlib; PDF with TrueType fonts + PNG).

Every figure is exactly 3.4 in (one column) or 7 in (two columns) wide, with no text below
7 pt at that size; each method keeps one Okabe–Ito colour and one marker in every figure,
and the track shows as the marker style (filled: supervised, open: unsupervised; bars of
supervised methods are hatched). Legends sit outside the data. Figures
(docs/gallery.md shows each):

* ``latency``: batch-1 inference time per method, IQR whiskers (the seed paper's figure 5);
* ``model_size``: inference parameters, ONNX size and peak forward/backward memory, grouped
  bars on a log axis, n/a marked (figure 6);
* ``pareto``: image AUROC against latency and against parameters, points labelled, front drawn;
* ``heatmap_<metric>``: method × category with a mean column and an extended colour bar;
* ``roc_<dataset>_<category>`` / ``pro_<…>``: curves with the AUC in the legend, PRO to FPR 0.3;
* ``imbalance_sweep``: image AUROC against the training anomalies actually used;
* ``qualitative_<dataset>_<category>``: the same test images for every method, one colour
  scale (and colour bar) per method, ground truth as a contour;
* ``cd_<metric>_<setting>``: critical-difference diagram (Friedman + Nemenyi).
"""

from __future__ import annotations

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
from .rows import column_labels, eval_resolutions, method_labels, ok_rows, setting_slug, settings  # noqa: E402

COLUMN_WIDTH_IN = 3.4  # one column of a two-column paper
PAGE_WIDTH_IN = 7.0  # both columns
MIN_FONT_PT = 7.0
#: Okabe & Ito (2008), the colour-blind-safe qualitative palette
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")
#: the colours of the size figure's bars, one per cost field it shows (``CostField.size_figure``)
SIZE_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#D55E00", "#56B4E9")

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "figure.titlesize": 8, "legend.title_fontsize": 7,
    "pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType, never Type 3 (IEEE PDF eXpress)
    "savefig.dpi": 200, "axes.spines.top": False, "axes.spines.right": False})


class Style:
    """One colour and marker per method (stable: sorted over every registered method and every
    method in the rows), one marker fill per track."""

    def __init__(self, methods: list[str]):
        try:
            known = set(registry.methods())
        except Exception:  # a broken plugin must not cost the report its figures
            known = set()
        names = sorted(known | set(methods))
        self.index = {m: i for i, m in enumerate(names)}

    def colour(self, method: str) -> str:
        return OKABE_ITO[self.index.get(method, 0) % len(OKABE_ITO)]

    def marker(self, method: str) -> str:
        return MARKERS[self.index.get(method, 0) % len(MARKERS)]

    def point(self, method: str, track: str) -> dict[str, Any]:
        """scatter/plot keywords: filled for supervised, open for unsupervised."""
        c = self.colour(method)
        filled = track == "supervised"
        return {"color": c, "marker": self.marker(method), "markerfacecolor": c if filled else "white",
                "markeredgecolor": c}


def _save(fig: plt.Figure, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.pdf", out_dir / f"{name}.png"]
    for p in paths:  # atomically, like every report file; no bbox="tight": the page keeps its 3.4 or 7 in width
        write_atomic(p, lambda fh, fmt=p.suffix[1:]: fig.savefig(fh, format=fmt))
    plt.close(fig)
    return paths


def _axis_title(fig: plt.Figure, text: str) -> None:
    """The x-axis title, centred on the figure rather than on the axes: long method names on
    the y axis push the axes right, and a title centred on them ran off the page."""
    fig.supxlabel(text, fontsize=plt.rcParams["axes.labelsize"])


def _log_x(ax: Any) -> None:
    from matplotlib.ticker import LogFormatterSciNotation, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(2, 0.4)))
    ax.xaxis.set_minor_formatter(NullFormatter())


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


# -- costs -----------------------------------------------------------------------------
def _per_method_costs(ok: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    present = [c for c in cols if c in ok]
    if not present:
        return pd.DataFrame()
    t = ok.groupby("method")[present].median(numeric_only=True)
    return t.reindex(columns=cols)


def latency_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """Median batch-1 latency per method with IQR whiskers (centred on the median); the axis
    names device, threads and where the figures come from."""
    t = _per_method_costs(ok, ["latency_ms", "latency_iqr_ms"])
    if t.empty or t["latency_ms"].isna().all():
        return []
    t = t.sort_values("latency_ms", na_position="first")
    supervised = set(ok.loc[ok["track"] == "supervised", "method"])
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.22 * len(t) + 1.1), layout="constrained")
    y = np.arange(len(t))
    measured = t["latency_ms"].notna().to_numpy()
    iqr = t["latency_iqr_ms"].fillna(0.0).to_numpy()
    for i, m in enumerate(t.index):
        if measured[i]:
            ax.barh(i, t["latency_ms"].iloc[i], xerr=iqr[i] / 2, capsize=2, color=style.colour(m),
                    hatch="///" if m in supervised else None, edgecolor="white", error_kw={"lw": 0.7})
        else:
            _na(ax, np.nanmin(t["latency_ms"]), i)
    ax.set_yticks(y, t.index)
    _log_x(ax)
    device = ", ".join(sorted(ok["device"].dropna().astype(str).unique())) if "device" in ok else "?"
    threads = sorted({int(v) for v in ok.get("costs_torch_threads", pd.Series(dtype=float)).dropna()})
    source = "adbench profile" if ok.get("costs_source", pd.Series(dtype=object)).astype(str).str.startswith(
        "adbench profile").any() else "run rows"
    _axis_title(fig, f"latency at batch 1 (ms): median, IQR whiskers\n{device}, "
                     f"{'/'.join(map(str, threads)) or '?'} thread(s), {source}")
    return _save(fig, out_dir, "latency")


def model_size_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """The cost fields flagged ``size_figure`` (inference parameters in M, ONNX file size and
    peak forward/backward memory of a training step in MiB) as grouped bars on one log axis;
    what was not measured is marked n/a."""
    parts = {f.key: (f.title, SIZE_COLOURS[i % len(SIZE_COLOURS)], f.scale)
             for i, f in enumerate(f for f in COST_FIELDS if f.size_figure)}
    t = _per_method_costs(ok, list(parts))
    if t.empty or t.isna().all().all():
        return []
    t = t.copy()
    for col, (_, _, scale) in parts.items():
        t[col] = t[col] / scale
    t = t.sort_values(next(iter(parts)), na_position="first")
    positive = t.to_numpy()[np.isfinite(t.to_numpy()) & (t.to_numpy() > 0)]
    low = float(positive.min()) if positive.size else 1.0
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.42 * len(t) + 1.3), layout="constrained")
    height = 0.8 / len(parts)
    batches = sorted({int(b) for b in ok.get("memory_batch", pd.Series(dtype=float)).dropna()})
    for k, (col, (label, colour, _)) in enumerate(parts.items()):
        pos = np.arange(len(t)) + (k - (len(parts) - 1) / 2) * height
        vals = t[col].to_numpy(dtype=float)
        good = np.isfinite(vals) & (vals > 0)
        ax.barh(pos[good], vals[good], height=height, color=colour, label=label)
        for p in pos[~good]:
            _na(ax, low, p)
    ax.set_yticks(np.arange(len(t)), t.index)
    _log_x(ax)
    memory = f"\nmemory at the training batch ({'/'.join(map(str, batches))})" if batches else ""
    _axis_title(fig, f"millions of parameters, or MiB (log scale){memory}")
    fig.legend(loc="outside upper center", ncol=2, frameon=False)
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


def pareto_figure(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """The headline image metric (``MetricSpec.headline``; mean over categories, std as error
    bars) against latency and against inference parameters; each point labelled, the Pareto
    front drawn as a step line."""
    spec = headline(registry.metrics(), "image")
    if spec is None or spec.name not in ok:
        return []
    ok = ok.assign(label=_labels(ok))
    acc = ok.groupby(["label", "category", "dataset"])[spec.name].mean().groupby("label").agg(["mean", "std"])
    costs = ok.groupby("label")[[c for c in ("latency_ms", "params_inference") if c in ok]].median(numeric_only=True)
    t = acc.join(costs)
    panels = [(c, x) for c, x in (("latency_ms", "latency at batch 1 (ms)"),
                                  ("params_inference", "inference parameters (M)")) if c in t and t[c].notna().any()]
    t = t.dropna(subset=["mean"])
    if not panels or t.empty:
        return []
    method, track = _method_and_track(ok)
    fig, axes = plt.subplots(1, len(panels), figsize=(PAGE_WIDTH_IN, 2.8), layout="constrained", squeeze=False)
    for ax, (col, xlabel) in zip(axes[0], panels):
        sub = t.dropna(subset=[col])
        x = sub[col] / (1e6 if col == "params_inference" else 1.0)
        for lab in sub.index:
            kw = style.point(method[lab], track[lab])
            ax.errorbar(x[lab], sub.at[lab, "mean"], yerr=0 if pd.isna(sub.at[lab, "std"]) else sub.at[lab, "std"],
                        ms=5, lw=0, elinewidth=0.6, capsize=1.5, zorder=3, **kw)
            ax.annotate(lab, (x[lab], sub.at[lab, "mean"]), xytext=(3, 3), textcoords="offset points",
                        fontsize=MIN_FONT_PT, color="0.2")
        front = sub.iloc[pareto_front(x.to_numpy(), sub["mean"].to_numpy())]
        fx = x[front.index].sort_values()
        (line,) = ax.step(fx, front.loc[fx.index, "mean"], where="post", color="0.5", lw=0.8, ls="--", zorder=2,
                          label="Pareto front")
        _log_x(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{spec.title}\n(mean ± std over categories)")  # one line does not fit 2.8 in
    _track_legend(fig, set(track.values()), extra=[line])
    return _save(fig, out_dir, "pareto")


def _track_legend(fig: plt.Figure, tracks: set[str], extra: list[Any] = ()) -> None:
    """A legend below the axes, outside the data: the marker fill (filled = supervised,
    open = unsupervised) and any ``extra`` handles (such as the Pareto front)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", lw=0, color="0.3", markerfacecolor="0.3" if t == "supervised" else "white",
                      label=f"{t} (marker {'filled' if t == 'supervised' else 'open'})") for t in sorted(tracks)]
    handles += list(extra)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)


# -- accuracy ----------------------------------------------------------------------------
def heatmap_figure(ok: pd.DataFrame, out_dir: Path, spec: MetricSpec) -> list[Path]:
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
    return _save(fig, out_dir, f"heatmap_{metric}")


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
                                                       else f"{spec.level} {kind.upper()}")
                         + f", legend: {spec.title}")
            fig.legend(loc="outside lower center", ncol=2, frameon=False)
            written += _save(fig, out_dir, f"{kind}_{dataset}_{category}")
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
        ax.errorbar(x, y, yerr=e, lw=0.9, ms=4, capsize=2, elinewidth=0.6, label=method,
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
#: images (17 columns on 7 in collapsed every axis to zero width)
QUALITATIVE_METHODS_MAX = 12


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


def _qualitative_grid(loaded: dict[str, dict[str, np.ndarray]], chosen: list[str], name: str,
                      out_dir: Path) -> list[Path]:
    methods = list(loaded)
    ref = max(loaded.values(), key=lambda z: z["images"].shape[-1])  # the sharpest stored image
    ref_index = {str(p): i for i, p in enumerate(ref["paths"])}
    ncols = 2 + len(methods)
    cell = min(0.62, PAGE_WIDTH_IN / ncols)
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, cell * (len(chosen) + 0.15) + 1.0), layout="constrained")
    grid = fig.add_gridspec(len(chosen) + 1, ncols, height_ratios=[1.0] * len(chosen) + [0.15])
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
                ax.set_ylabel(defect, fontsize=MIN_FONT_PT)
            elif c == 1:
                ax.imshow(mask, cmap="gray", vmin=0, vmax=1, extent=extent)
            else:
                z = loaded[methods[c - 2]]
                j = [str(p) for p in z["paths"]].index(path)
                maps = z["maps"].astype(np.float32)
                sel = [[str(p) for p in z["paths"]].index(q) for q in chosen]
                vmin, vmax = float(maps[sel].min()), float(maps[sel].max())
                im = ax.imshow(maps[j], cmap="inferno", vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1e-6,
                               extent=extent)
                if mask.any():
                    ax.contour(np.linspace(0, 1, mask.shape[1]), np.linspace(0, 1, mask.shape[0]), mask,
                               levels=[0.5], colors="#56B4E9", linewidths=0.6)
                if r == len(chosen) - 1:
                    bar = fig.colorbar(im, cax=fig.add_subplot(grid[-1, c]), orientation="horizontal")
                    digits = 2
                    while f"{vmin:.{digits}g}" == f"{vmax:.{digits}g}" and digits < 8:
                        digits += 1
                    bar.set_ticks([vmin, vmax], labels=[f"{vmin:.{digits}g}", f"{vmax:.{digits}g}"])
                    bar.ax.tick_params(labelsize=MIN_FONT_PT, length=1, rotation=30)
            if r == 0:
                title = ["image", "mask"][c] if c < 2 else methods[c - 2]
                ax.set_title(title, fontsize=MIN_FONT_PT, rotation=35 if c >= 2 else 0,
                             ha="left" if c >= 2 else "center", loc="left" if c >= 2 else "center")
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


def heatmap_figures(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """One heatmap per registered metric, a plugin's included."""
    return [p for spec in registry.metrics() for p in heatmap_figure(ok, out_dir, spec)]


def cd_figures(ok: pd.DataFrame, style: Style, out_dir: Path) -> list[Path]:
    """A critical-difference diagram per ``ranked`` metric and training setting, drawn only
    where the Friedman test rejects equal ranks at its α: otherwise one bar would join every
    method, and the rankings table says instead that no difference is significant."""
    return [p for spec, setting, result in rankings(ok) if result.significant
            for p in cd_figure(result, spec, setting, out_dir)]


#: the built-in figures, registered by the core plugin as a plugin registers its own:
#: (name = file-name prefix, function, caption for the HTML and docs/gallery.md)
BUILTIN_FIGURES = (
    ("latency", latency_figure,
     "Inference latency at batch 1: median of single forward passes, whiskers span the IQR (centred on the "
     "median); device, threads and the figures' source on the axis. Hatched bars: supervised methods."),
    ("model_size", model_size_figure,
     "Model size and memory on one log axis: inference parameters (millions), ONNX file size and peak forward / "
     "backward memory of one training step (MiB); n/a marks a figure that could not be measured."),
    ("pareto", pareto_figure,
     "The headline image metric (mean over categories, error bars: std over categories) against latency and "
     "against inference parameters; the dashed step line is the Pareto front (no method is both cheaper and "
     "better). Filled markers: supervised, open: unsupervised."),
    ("heatmap", heatmap_figures,
     "Method × category with the mean over categories in the last column; every cell prints its value, and the "
     "colour bar spans the values shown (no cell is clipped)."),
    ("roc", functools.partial(curve_figures, curve="image_roc"),
     "Image-level ROC curves of one category; the legend gives each method's image AUROC."),
    ("pro", functools.partial(curve_figures, curve="pro"), "Per-region-overlap curves of one category up to the FPR limit of AU-PRO (0.3); the legend gives "
                  "each method's AU-PRO@0.3 (normalised by 0.3)."),
    ("imbalance_sweep", imbalance_figure,
     "Supervised image AUROC against the number of anomalous training images actually used (mean over "
     "categories, std as error bars); settings that drew the same training images are one point, labelled with "
     "all their ratios."),
    ("qualitative", qualitative_figures,
     "The same test images (one per defect type, and a normal one; chosen without looking at any score) for "
     "every method: each method's maps share one colour scale, shown by the bar below its column; the blue "
     "contour is the ground truth."),
    ("cd", cd_figures,
     "Critical-difference diagram (Demšar 2006), drawn only where the Friedman test rejects equal ranks: average "
     "rank over the data set × category cells (1 = best); methods joined by a bar do not differ significantly "
     "(Nemenyi post-hoc, α = 0.05); CD is the critical difference."),
)


def figure_caption(stem: str) -> str:
    """The caption of a figure file (by its name): that of the registered figure whose name is
    the longest prefix of ``stem``, for the HTML and the gallery."""
    entries = sorted(registry.figures().in_order(), key=lambda e: len(e.name), reverse=True)
    for e in entries:
        if stem == e.name or stem.startswith(e.name + "_"):
            return str(e.options.get("caption", ""))
    return ""


def write_figures(df: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Every registered figure the rows allow; figures whose data are missing are skipped."""
    ok = ok_rows(df)
    if ok.empty:
        return []
    if "track" not in ok:
        ok = ok.assign(track="unsupervised")
    style = Style(list(ok["method"].unique()))
    written: list[Path] = []
    for entry in registry.figures().in_order():
        written += entry.obj(ok, style, out_dir)
    return written
