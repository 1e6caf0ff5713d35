"""Row selection and grouping for every report view and figure: which rows count, how each is
labelled, and how rows split into settings and evaluation resolutions that are never mixed.

The bottom module of ``report/``: it imports nothing else from it (docs/architecture.md,
"Reports").
"""

from __future__ import annotations

import pandas as pd

from .. import registry
from ..metrics.spec import MetricSpec


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The successful rows (a row written without a seed counts as seed 0)."""
    ok = df[df["status"] == "ok"] if "status" in df else df.iloc[0:0]
    return ok if "seed" in ok else ok.assign(seed=0)


#: the mark a method's fidelity (``Method.fidelity``, in its rows) puts after its name in every
#: table and figure, and the footnote that explains it
FIDELITY_MARKS = {
    "reading": ("†", "a reading: the publication leaves choices open and adbench made them (the plugin's README "
                     "lists each)"),
    "substitute": ("‡", "a substitute: another network stands in for the published method (the plugin's README "
                        "says which)"),
}


def display_names(df: pd.DataFrame) -> pd.Series:
    """Each row's method as tables and figures show it: its display name (``Method.display_name``,
    recorded as ``method_display``), else its identifier. A display name that two
    methods of the rows share is followed by the identifier, so no two methods look alike."""
    shown = df["method"].astype(str)
    if "method_display" in df:
        given = df["method_display"].where(df["method_display"].map(lambda v: isinstance(v, str) and bool(v.strip())))
        shown = given.fillna(shown).astype(str)
    owners = pd.DataFrame({"shown": shown, "method": df["method"]}).groupby("shown")["method"].nunique()
    shared = shown.map(lambda v: owners.get(v, 1) > 1)
    return shown.where(~shared, shown + " (" + df["method"].astype(str) + ")")


def method_labels(df: pd.DataFrame) -> pd.Series:
    """Each row's display name with its fidelity mark (``Pyramidal AE†``, ``U-Net (smp)‡``)."""
    names = display_names(df)
    if "fidelity" not in df:
        return names
    marks = df["fidelity"].map(lambda f: FIDELITY_MARKS[f][0] if isinstance(f, str) and f in FIDELITY_MARKS else "")
    return names + marks


def citation_keys(df: pd.DataFrame) -> dict[str, str]:
    """Shown method label → the BibTeX key of its publication (``method_bibtex``), for every form a
    table labels a method with (with and without its setting), so LaTeX can ``\\citep`` it."""
    if "method_bibtex" not in df or df.empty:
        return {}
    from ..citations import key_or_none

    keys: dict[str, str] = {}
    for labels in (method_labels(df), column_labels(df)):
        for label, entry in zip(labels, df["method_bibtex"]):
            key = key_or_none(entry)
            if key is not None:
                keys.setdefault(str(label), key)
    return keys


#: the words a caption spends on the fidelity marks; the notes file gives the full footnotes
FIDELITY_SHORT = {"reading": "† our reading", "substitute": "‡ substitute network"}


def fidelity_legend(df: pd.DataFrame) -> str:
    """" † our reading of the paper; ‡ a substitute network." for the marks ``df``'s methods
    carry (empty for none): the caption's share of the fidelity footnotes."""
    present = set(df["fidelity"].dropna()) if "fidelity" in df else set()
    parts = [text for level, text in FIDELITY_SHORT.items() if level in present]
    return f" {'; '.join(parts)}." if parts else ""


def _span(values: pd.Series) -> str:
    lo, hi = int(values.min()), int(values.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def image_counts(df: pd.DataFrame) -> str:
    """The test set of ``df``'s ok rows per category, for captions: "40 test images (25
    anomalous) per category", with ranges where categories differ; empty when not recorded."""
    ok = ok_rows(df)
    if "n_test" not in ok or ok["n_test"].isna().all():
        return ""
    counts = ok.dropna(subset=["n_test"])
    anomalous = counts["n_test_anomalous"].dropna() if "n_test_anomalous" in counts else pd.Series(dtype=float)
    return (f"{_span(counts['n_test'])} test images" + (f" ({_span(anomalous)} anomalous)" if len(anomalous) else "")
            + " per category")


def recorded_ints(df: pd.DataFrame, key: str) -> list[int]:
    """The distinct integer values column ``key`` records (input sizes, memory batches, threads),
    sorted; [] when the column is absent."""
    return sorted({int(v) for v in df[key].dropna()}) if key in df else []


def words(text: str) -> int:
    """How many words a caption has (what the reports keep to :data:`CAPTION_WORDS`)."""
    return len(text.split())


#: the most words a table or figure caption may have; everything else goes to ``notes.md``
CAPTION_WORDS = 40


def fidelity_notes(df: pd.DataFrame) -> list[str]:
    """The footnotes of the fidelity marks that ``df``'s methods carry."""
    present = set(df["fidelity"].dropna()) if "fidelity" in df else set()
    return [f"{mark} {text}." for level, (mark, text) in FIDELITY_MARKS.items() if level in present]


def method_notes(df: pd.DataFrame, metric: str) -> list[str]:
    """What methods say about this metric (``Method.notes``, recorded in their rows)."""
    if "method_notes" not in df:
        return []
    found: dict[str, str] = {}
    for method, notes in zip(df["method"], df["method_notes"]):
        if isinstance(notes, dict) and notes.get(metric):
            found.setdefault(method, str(notes[metric]))
    return [f"{m}: {n}" for m, n in sorted(found.items())]


def settings(df: pd.DataFrame) -> pd.Series:
    """Each row's training setting: its track and, on the supervised track, how many anomalies
    went into training ("supervised, k=5", "supervised, ratio 0.05"). Rows of different
    settings are never averaged together, and no table mixes them when a run has several."""
    def column(name: str) -> pd.Series:
        return df[name] if name in df else pd.Series(None, index=df.index, dtype=object)

    def given(v: object) -> bool:
        return v is not None and not pd.isna(v)

    def one(track: object, k: object, r: object, shots: object, noise: object) -> str:
        track = str(track) if isinstance(track, str) else "unsupervised"
        if track == "supervised":
            track += (f", ratio {float(r):g}" if given(r) else f", k={int(k)}" if given(k) else "")
        if given(shots):
            track += f", {int(shots)}-shot"
        if given(noise):
            track += f", contamination {float(noise):g}"
        return track

    track = df["track"] if "track" in df else pd.Series("unsupervised", index=df.index)
    return pd.Series([one(*v) for v in zip(track, column("k_anomalies"), column("anomaly_ratio"),
                                            column("train_shots"), column("contamination"))],
                     index=df.index, dtype=object)


def setting_slug(setting: str) -> str:
    """A setting as a file-name part: ``supervised-k5``, ``supervised-ratio0.05``,
    ``unsupervised-8shot``, ``unsupervised-contamination0.1``."""
    return (setting.replace(", k=", "-k").replace(", ratio ", "-ratio").replace(", contamination ", "-contamination")
            .replace("-shot", "shot").replace(", ", "-").replace(" ", ""))


def setting_groups(df: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """``(setting, rows)`` per training setting found in ``df``, sorted; one group holding
    every row when there is at most one (its setting, or None for no rows)."""
    setting = settings(df) if len(df) else pd.Series(dtype=object)
    found = sorted(set(setting))
    if len(found) <= 1:
        return [(found[0] if found else None, df)]
    return [(value, df[setting == value]) for value in found]


def _short_setting(setting: str, detailed: bool) -> str:
    short = setting[:3]
    if detailed and "," in setting:
        short += " " + setting.split(", ", 1)[1].replace("ratio ", "r=")
    return short


def column_labels(df: pd.DataFrame) -> pd.Series:
    """Method label; the setting is added when one run mixes settings (track, and the amount
    of supervision when several supervised settings meet, so ratios are never averaged), and
    the evaluation resolution when rows scored at different resolutions meet."""
    label = method_labels(df)
    setting = settings(df)
    if setting.nunique() > 1:
        detailed = setting[setting.str.startswith("supervised")].nunique() > 1
        label = label + " (" + setting.map(lambda v: _short_setting(v, detailed)) + ")"
    res = eval_resolutions(df)
    if res.dropna().nunique() > 1:
        label = label + res.map(lambda r: f" @{r}" if isinstance(r, str) else "")
    return label


#: what each evaluation resolution means, for every pixel-metric caption
RESOLUTION_NOTES = {
    "native": "Scored at native resolution: each test image's map is upsampled (bilinear) to its own "
              "ground-truth size, and masks are never resized, so every method is scored on the same pixels.",
    "input": "Scored at each method's input size (masks resized with nearest-neighbour): methods with different "
             "input sizes are scored on different pixels, and small defects can vanish.",
}


def eval_resolutions(df: pd.DataFrame) -> pd.Series:
    """Each row's evaluation resolution: ``eval_resolution``, or "input" for rows with pixel
    values written before it was recorded; None for rows without maps."""
    res = df["eval_resolution"] if "eval_resolution" in df else pd.Series(None, index=df.index, dtype=object)
    pixel_cols = [spec.name for spec in registry.metrics() if spec.level == "pixel" and spec.name in df]
    scored = df[pixel_cols].notna().any(axis=1) if pixel_cols else pd.Series(False, index=df.index)
    return res.where(res.notna() | ~scored, "input")


def resolution_notes(df: pd.DataFrame) -> list[str]:
    """One line per evaluation resolution found in the rows, for summaries that span metrics."""
    return [f"Pixel metrics: {RESOLUTION_NOTES[r]}" for r in sorted(set(eval_resolutions(df).dropna()))]


def resolution_groups(df: pd.DataFrame, spec: MetricSpec) -> list[tuple[str | None, pd.DataFrame]]:
    """A pixel metric's rows split by evaluation resolution (one table each, never mixed);
    rows without a value (failed, not run) go with every group, for the missing notes."""
    if spec.level != "pixel":
        return [(None, df)]
    if spec.from_evaluator is None:  # never streamed: every row scored it at the method's input size
        return [("input", df)]
    res = eval_resolutions(df)
    found = sorted(set(res.dropna()))
    if len(found) <= 1:
        return [(found[0] if found else None, df)]
    return [(r, df[(res == r) | res.isna()]) for r in found]


def table_groups(df: pd.DataFrame, spec: MetricSpec) -> list[tuple[str, str | None, str | None, pd.DataFrame]]:
    """``(file name, resolution, setting, rows)`` per table of one metric: split by evaluation
    resolution (pixel metrics) and, when the rows hold several, by training setting."""
    out = []
    res_groups = resolution_groups(df, spec)
    for resolution, rows in res_groups:
        name = spec.name if len(res_groups) == 1 else f"{spec.name}-{resolution}"
        groups = setting_groups(rows)
        for value, part in groups:
            out.append((f"{name}-{setting_slug(value)}" if len(groups) > 1 else name, resolution, value, part))
    return out


def metric_caption(spec: MetricSpec, resolution: str | None = None) -> str:
    """"Title: definition." for captions and notes, and where pixels were scored, if given."""
    return (f"{spec.title}: {spec.definition}" + ("" if spec.definition.endswith(".") else ".")
            + ("" if spec.higher_is_better else " Lower is better.")
            + (f" {RESOLUTION_NOTES[resolution]}" if resolution else ""))


def metric_title(spec: MetricSpec, resolution: str | None = None) -> str:
    """A metric table's heading, naming the evaluation resolution when there is one."""
    return spec.title + (f" ({resolution} resolution)" if resolution else "")
