"""The cost view: method × device, every :data:`~adbench.costs.fields.COST_FIELDS` figure (median
over the run's cells), in the one ``costs.csv`` layout, with the titles, LaTeX headings and
missing-figure reasons that the cost fields declare."""

from __future__ import annotations

import pandas as pd

from ..costs.fields import COST_FIELD, COST_FIELDS, FITTED_WEIGHTS
from ..costs.table import in_layout
from .rows import fidelity_legend, fidelity_notes, method_labels, ok_rows, recorded_ints
from .table import Table

NOISY_MARK = "*"


def cost_table(df: pd.DataFrame) -> pd.DataFrame:
    """Method × device in the costs.csv layout (raw units): parameters, fvcore GMACs, latency
    (median and IQR of single passes), peak memory of a training step, ONNX size; ``errors``
    says why a figure is missing."""
    ok = ok_rows(df)
    cols = [f.key for f in COST_FIELDS if f.key in ok]
    if ok.empty or not cols:
        return pd.DataFrame()
    groups = ok.groupby(["method", "device"])
    t = groups[cols].median(numeric_only=True)
    t["latency_noisy"] = groups["latency_noisy"].agg(lambda s: bool(s.fillna(False).any())) \
        if "latency_noisy" in ok else False
    t["errors"] = groups.apply(_na_reasons, include_groups=False)
    for key in ("latency_batch", "costs_torch_threads", "costs_cpu_model", "costs_gpu_name", "costs_torch_build",
                "profiled_weights", "memory_method", "costs_source"):
        if key in ok:
            t[key] = groups[key].first()
    t = t.reset_index().rename(columns={"latency_batch": "batch"})
    t["precision"], t["status"] = "fp32", "ok"  # what the rows measured: fp32, from ok rows
    if "costs_source" not in t:
        t["costs_source"] = "the run rows"
    return in_layout(t)


def _na_reasons(rows: pd.DataFrame) -> str:
    """"figure: error" for each cost figure these rows could not measure."""
    reasons = []
    for f in COST_FIELDS:
        if f.error_key is None or f.key not in rows or not rows[f.key].isna().all():
            continue
        err = rows[f.error_key].dropna() if f.error_key in rows else pd.Series(dtype=object)
        note = rows["memory_note"].dropna() if f.key == "backward_mb" and "memory_note" in rows else err
        reason = str((err if len(err) else note).iloc[0]) if len(err) or len(note) else "not measured"
        reasons.append(f"{f.title}: {reason.splitlines()[0][:160]}")
    return "; ".join(dict.fromkeys(reasons))


def cost_display(costs: pd.DataFrame, digits: int = 3) -> tuple[pd.DataFrame, list[str]]:
    """The cost table as text, one column per cost field under its title: "n/a" for a figure
    that could not be measured, ``*`` after a noisy latency (IQR above a quarter of the median),
    plus the footnotes that explain both."""
    shown = pd.DataFrame({"method": costs["method"], "device": costs["device"]})
    for f in COST_FIELDS:
        if f.key in costs:
            shown[f.title] = [("n/a" if pd.isna(v) else f"{v / f.scale:.{digits}g}") for v in costs[f.key]]
    notes = []
    lat = COST_FIELD["latency_ms"].title
    if "latency_noisy" in costs and costs["latency_noisy"].fillna(False).astype(bool).any() and lat in shown:
        shown.loc[costs["latency_noisy"].fillna(False).astype(bool).to_numpy(), lat] += NOISY_MARK
        notes.append(f"{NOISY_MARK} noisy latency: the IQR of its single passes is above 25 % of the median.")
    for m, d, r in zip(costs["method"], costs["device"], costs.get("errors", pd.Series([""] * len(costs)))):
        if isinstance(r, str) and r:
            notes.append(f"n/a for {m} ({d}): {r}")
    return shown, notes


def costs_caption(df: pd.DataFrame) -> str:
    """Where the cost figures come from and how they were measured, for every cost caption."""
    ok = ok_rows(df)
    sources = sorted(set(ok["costs_source"].dropna())) if "costs_source" in ok else []
    threads = recorded_ints(ok, "costs_torch_threads")
    cpus = sorted(set(ok["costs_cpu_model"].dropna())) if "costs_cpu_model" in ok else []
    profiled = ok["profiled_weights"].dropna().astype(str) if "profiled_weights" in ok else pd.Series(dtype=str)
    on_fitted = profiled.str.startswith(FITTED_WEIGHTS)
    weights = sorted(set(profiled[~on_fitted]))
    fitted_methods = sorted(set(ok.loc[on_fitted[on_fitted].index, "method"]))
    if fitted_methods:  # one bank per category: one entry per method, not one per bank
        weights.append(f"each cell's fitted model for {', '.join(fitted_methods)} (their cost follows the fitted "
                       f"state, e.g. a memory bank, given per cell in the rows' fitted_state; the table shows the "
                       f"median over cells)")
    return (f"Cost figures from {', '.join(sources) or 'the run rows'}; "
            f"CPU {', '.join(cpus) or 'unknown'}, {', '.join(map(str, threads)) or '?'} torch thread(s); "
            f"weights: {', '.join(weights) or 'unknown'}. Latency: median and IQR of single forward passes at "
            f"batch 1 (at least 1 s and 20 passes timed). Memory: peak allocated bytes of one training step "
            f"at the method's training batch size. Parameters: what inference uses (total includes "
            f"training-only parts). fvcore counts one multiply-add as one flop (GMACs).")


def sizes_caption(ok: pd.DataFrame) -> str:
    """What every cost caption says about size: the one input size and memory batch of the
    figures, or a warning that they differ (then the columns name each method's)."""
    sizes, batches = recorded_ints(ok, "input_size"), recorded_ints(ok, "memory_batch")
    if len(sizes) == 1:
        size = f"all at {sizes[0]} px input"
    elif sizes:
        size = f"at unequal input sizes ({sizes[0]}–{sizes[-1]} px, column px; profile --input-size N gives one)"
    else:
        size = "input size not recorded"
    batch = (f"memory: a training step at batch {batches[0]}" if len(batches) == 1 else
             "memory: a training step at its batch (column batch)" if batches else "")
    return f"{size}. Latency: median at batch 1" + (f"; {batch}" if batch else "") + "."


def cost_tables(df: pd.DataFrame) -> list[Table]:
    """``costs``: the cost table (costs.csv in the one layout; text with n/a and noise marks)."""
    costs = cost_table(df)
    if costs.empty:
        return []
    shown, notes = cost_display(costs)
    ok = ok_rows(df)
    devices = sorted(set(shown["device"]))
    where = f" on {devices[0]}" if len(devices) == 1 else ""
    if len(devices) == 1:
        shown = shown.drop(columns=["device"])
    caption = f"Costs{where}, {sizes_caption(ok)} n/a: see notes." + fidelity_legend(ok)
    labels = dict(zip(ok["method"], method_labels(ok)))  # display names and fidelity marks, as in every table
    shown["method"] = shown["method"].map(lambda m: labels.get(m, m))
    notes = [costs_caption(df), *notes, *fidelity_notes(ok)]
    text = shown.set_index("method")
    short = {f.title: f.short for f in COST_FIELDS if f.title in text.columns}
    notes.append("Columns: " + ", ".join(f"{s} = {t}" for t, s in short.items()) + ".")
    return [Table(name="costs", title="Costs", data=costs, text=text, caption=caption, notes=notes, section="Costs",
                  csv_index=False, csv_float="%.6g", latex_columns=short, methods_on="index")]
