"""Paper figures from result rows (matplotlib, PDF + PNG, one colour per method throughout).

* ``latency``: inference time per method (the seed paper's figure 5);
* ``memory``: peak forward and backward memory of a training step (figure 6), n/a marked;
* ``pareto``: image AUROC against latency, Pareto front marked;
* ``heatmap``: image AUROC per category and method;
* ``roc_<dataset>_<category>`` / ``pro_<…>``: curves per category;
* ``ratio_sweep``: AUROC against the supervised anomaly ratio;
* ``qualitative_<method>``: image, ground truth and heat-map overlay with score, for the
  best- and worst-scored anomalous test images (figures 1 and 4 of the papers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .. import registry  # noqa: E402
from ..metrics.spec import MetricSpec  # noqa: E402
from .tables import ok_rows  # noqa: E402

COLUMN_WIDTH_IN = 3.4  # one column of a two-column paper
plt.rcParams.update({"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 6,
                     "xtick.labelsize": 7, "ytick.labelsize": 7, "savefig.bbox": "tight", "savefig.dpi": 200})


def method_colours(methods: list[str]) -> dict[str, Any]:
    """The same colour for a method in every figure of a report (sorted names → tab20)."""
    cmap = plt.get_cmap("tab20" if len(methods) > 10 else "tab10")
    return {m: cmap(i % cmap.N) for i, m in enumerate(sorted(methods))}


def _log_x(ax: Any) -> None:
    """Log x axis labelled with plain numbers, without crowded minor labels."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _save(fig: plt.Figure, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.pdf", out_dir / f"{name}.png"]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    return paths


def _per_method(ok: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    present = [c for c in cols if c in ok]
    return ok.groupby("method")[present].mean(numeric_only=True) if present else pd.DataFrame()


def latency_figure(ok: pd.DataFrame, colours: dict, out_dir: Path) -> list[Path]:
    """Median latency per method with IQR whiskers; the axis names device, threads and the
    source of the figures (run rows or ``adbench profile``)."""
    t = _per_method(ok, ["latency_ms", "latency_iqr_ms"])
    if t.empty or "latency_ms" not in t or t["latency_ms"].isna().all():
        return []
    t = t.sort_values("latency_ms", na_position="first")
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.25 * len(t) + 0.9))
    measured = t["latency_ms"].notna()
    iqr = t.get("latency_iqr_ms", pd.Series(0.0, index=t.index)).fillna(0.0)
    ax.barh(t.index[measured], t["latency_ms"][measured], xerr=iqr[measured] / 2, capsize=2,
            color=[colours[m] for m in t.index[measured]], error_kw={"lw": 0.6})
    _log_x(ax)
    for m in t.index[~measured]:
        ax.text(t["latency_ms"].min(), m, " n/a", va="center", fontsize=6, color="grey")
    device = ", ".join(sorted(ok.get("device", pd.Series(["?"])).dropna().astype(str).unique()))
    threads = sorted({int(v) for v in ok.get("costs_torch_threads", pd.Series(dtype=float)).dropna()})
    source = "adbench profile" if ok.get("costs_source", pd.Series(dtype=object)).astype(str).str.startswith(
        "adbench profile").any() else "run rows"
    ax.set_xlabel(f"latency, batch 1 (ms; median, IQR whiskers)\n{device}, "
                  f"{'/'.join(map(str, threads)) or '?'} thread(s); from {source}")
    return _save(fig, out_dir, "latency")


def memory_figure(ok: pd.DataFrame, colours: dict, out_dir: Path) -> list[Path]:
    """Peak forward and backward memory of one training step, grouped bars on a log axis;
    a figure that could not be measured is marked n/a, never drawn as 0."""
    parts = {"forward_mb": "forward pass", "backward_mb": "backward pass"}
    t = _per_method(ok, list(parts))
    if t.empty or t.isna().all().all():
        return []
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.35 * len(t) + 1.0))
    y = np.arange(len(t))
    height = 0.8 / len(parts)
    low = np.nanmin(t.to_numpy()[t.to_numpy() > 0]) if (t.to_numpy() > 0).any() else 1.0
    for i, (col, label) in enumerate(parts.items()):
        if col not in t:
            continue
        vals = t[col].to_numpy(dtype=float)
        pos = y + (i - 0.5) * height
        ok_vals = ~np.isnan(vals)
        ax.barh(pos[ok_vals], vals[ok_vals], height=height, label=label, color=plt.get_cmap("Set2")(i))
        for p in pos[~ok_vals]:
            ax.text(low, p, " n/a", va="center", fontsize=6, color="grey")
    ax.set_yticks(y, t.index)
    _log_x(ax)
    batches = sorted({int(b) for b in ok.get("memory_batch", pd.Series(dtype=float)).dropna()})
    ax.set_xlabel(f"peak MiB of one training step (batch {'/'.join(map(str, batches)) or '?'})")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)  # outside the bars
    return _save(fig, out_dir, "memory")


def pareto_figure(ok: pd.DataFrame, colours: dict, out_dir: Path) -> list[Path]:
    t = _per_method(ok, ["latency_ms", "image_auroc"]).dropna()
    if len(t) < 1 or "latency_ms" not in t:
        return []
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.4))
    for m, r in t.iterrows():
        ax.scatter(r["latency_ms"], r["image_auroc"], color=colours[m], label=m, s=18, zorder=3)
    front = pareto_front(t["latency_ms"].to_numpy(), t["image_auroc"].to_numpy())
    ft = t.iloc[front].sort_values("latency_ms")
    ax.step(ft["latency_ms"], ft["image_auroc"], where="post", color="grey", lw=0.8, ls="--", zorder=2)
    ax.scatter(ft["latency_ms"], ft["image_auroc"], s=70, facecolors="none", edgecolors="k", lw=0.8,
               label="Pareto front", zorder=4)
    _log_x(ax)
    ax.set_xlabel("latency, batch 1 (ms)")
    ax.set_ylabel("image AUROC (mean)")
    ax.legend(frameon=False, ncol=2)
    return _save(fig, out_dir, "pareto")


def pareto_front(cost: np.ndarray, score: np.ndarray) -> list[int]:
    """Indices not dominated by a point that is both cheaper-or-equal and better-or-equal."""
    keep = []
    for i in range(len(cost)):
        dominated = any((cost[j] <= cost[i] and score[j] >= score[i]) and (cost[j] < cost[i] or score[j] > score[i])
                        for j in range(len(cost)))
        if not dominated:
            keep.append(i)
    return keep


def heatmap_figure(ok: pd.DataFrame, out_dir: Path, spec: MetricSpec) -> list[Path]:
    """Category × method of one registered metric (the best end of the colour map is bright)."""
    metric = spec.name
    if metric not in ok or ok[metric].isna().all():
        return []
    t = ok.assign(row=ok["dataset"] + "/" + ok["category"]).pivot_table(index="row", columns="method",
                                                                          values=metric, aggfunc="mean")
    values = t.to_numpy(dtype=float)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if 0.0 <= lo and hi <= 1.0:  # a score in [0, 1]: the usual 0.5-1 range, widened to show every value
        lo, hi = min(lo, 0.5), 1.0
    fig, ax = plt.subplots(figsize=(max(COLUMN_WIDTH_IN, 0.45 * t.shape[1] + 1.5), 0.3 * t.shape[0] + 1.2))
    im = ax.imshow(values, vmin=lo, vmax=hi if hi > lo else lo + 1e-9, aspect="auto",
                   cmap="viridis" if spec.higher_is_better else "viridis_r")
    ax.set_xticks(range(t.shape[1]), t.columns, rotation=45, ha="right")
    ax.set_yticks(range(t.shape[0]), t.index)
    for (i, j), v in np.ndenumerate(t.to_numpy()):
        if np.isfinite(v):
            frac = (v - lo) / (hi - lo or 1.0)  # where the value sits on the colour scale
            bright = frac > 0.6 if spec.higher_is_better else frac < 0.4
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=5, color="k" if bright else "w")
    fig.colorbar(im, ax=ax, label=spec.title)
    return _save(fig, out_dir, f"heatmap_{metric}")


def curve_figures(ok: pd.DataFrame, colours: dict, out_dir: Path) -> list[Path]:
    if "curves" not in ok:
        return []
    written = []
    for (dataset, category), sub in ok.groupby(["dataset", "category"]):
        for kind, key, ylab in (("roc", "image_roc", "TPR"), ("pro", "pro", "PRO")):
            curves = [(r["method"], r["curves"][key]) for _, r in sub.iterrows()
                      if isinstance(r.get("curves"), dict) and key in r["curves"]]
            if not curves:
                continue
            fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN / 1.6, COLUMN_WIDTH_IN / 1.6))
            for m, c in curves:
                ax.plot(c["fpr"], c["tpr" if kind == "roc" else "pro"], color=colours[m], lw=0.9, label=m)
            if kind == "pro":
                ax.axvline(0.3, color="grey", lw=0.5, ls=":")
            ax.set_xlabel("FPR")
            ax.set_ylabel(ylab)
            ax.set_title(f"{category} ({'image ROC' if kind == 'roc' else 'pixel PRO'})")
            ax.legend(frameon=False, fontsize=5)
            written += _save(fig, out_dir, f"{kind}_{dataset}_{category}")
    return written


def ratio_sweep_figure(ok: pd.DataFrame, colours: dict, out_dir: Path) -> list[Path]:
    if "anomaly_ratio" not in ok or ok["anomaly_ratio"].isna().all():
        return []
    sub = ok.dropna(subset=["anomaly_ratio"])
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.2))
    for m, g in sub.groupby("method"):
        t = g.groupby("anomaly_ratio")["image_auroc"].mean()
        ax.plot(t.index, t.values, marker="o", ms=3, color=colours[m], label=m)
    ax.set_xscale("log")
    ax.set_xlabel("anomalous fraction moved into training")
    ax.set_ylabel("image AUROC (mean)")
    ax.legend(frameon=False)
    return _save(fig, out_dir, "ratio_sweep")


def qualitative_figures(ok: pd.DataFrame, out_dir: Path, per_method: int = 4) -> list[Path]:
    """Image | ground truth | overlay (score) for the best and worst anomalous samples."""
    if "maps_path" not in ok:
        return []
    written = []
    for method, sub in ok.dropna(subset=["maps_path"]).groupby("method"):
        samples = []
        for _, r in sub.iterrows():
            path = Path(r["maps_path"])
            if not path.is_file():
                continue
            with np.load(path) as z:
                anom = np.nonzero(z["labels"] == 1)[0]
                if len(anom) == 0:
                    continue
                order = anom[np.argsort(-z["scores"][anom])]
                for tag, i in (("best", order[0]), ("worst", order[-1])):
                    samples.append((f"{r['category']} {tag}", z["images"][i], z["masks"][i],
                                    z["maps"][i].astype(np.float32), float(z["scores"][i])))
        samples = samples[: 2 * per_method]
        if not samples:
            continue
        fig, axes = plt.subplots(len(samples), 3, figsize=(COLUMN_WIDTH_IN, 1.1 * len(samples)), squeeze=False)
        for row, (title, img, mask, amap, score) in zip(axes, samples):
            rgb = np.transpose(img, (1, 2, 0))
            row[0].imshow(rgb)
            row[0].set_ylabel(title, fontsize=5)
            row[1].imshow(mask, cmap="gray", vmin=0, vmax=1)
            row[2].imshow(rgb)
            row[2].imshow(amap, cmap="jet", alpha=0.5)
            row[2].set_title(f"score {score:.3g}", fontsize=5, pad=1)
            for a in row:
                a.set_xticks([])
                a.set_yticks([])
        axes[0][0].set_title("image", fontsize=6)
        axes[0][1].set_title("ground truth", fontsize=6)
        written += _save(fig, out_dir, f"qualitative_{method}")
    return written


def write_figures(df: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Every figure the rows allow; figures whose data are missing are skipped."""
    ok = ok_rows(df)
    if ok.empty:
        return []
    colours = method_colours(list(ok["method"].unique()))
    written: list[Path] = []
    written += latency_figure(ok, colours, out_dir)
    written += memory_figure(ok, colours, out_dir)
    written += pareto_figure(ok, colours, out_dir)
    for spec in registry.metrics():  # one heatmap per registered metric, a plugin's included
        written += heatmap_figure(ok, out_dir, spec)
    written += curve_figures(ok, colours, out_dir)
    written += ratio_sweep_figure(ok, colours, out_dir)
    written += qualitative_figures(ok, out_dir)
    return written
