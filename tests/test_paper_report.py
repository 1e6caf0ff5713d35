"""The report of a real `adbench run all --profile smoke` (every built-in method, real names,
two categories: a texture and an object) is paper-ready: LaTeX compiles with no error and
no overfull box, figures use TrueType fonts at 3.4 or 7 in with no text under 7 pt, and the
report holds per-defect tables, confidence intervals, a CD diagram and the qualitative grid."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import matplotlib.text
import numpy as np
import pandas as pd
import pytest

from adbench.report import figures
from adbench.report.build import build_report
from conftest import run_cli

CATEGORIES = "fabric,pill"


@pytest.fixture(scope="module")
def paper_report(tmp_path_factory) -> dict:
    """One smoke `run all` and its full report; every figure's smallest font is recorded as it
    is saved (at the size it is saved at)."""
    base = tmp_path_factory.mktemp("paper")
    # ADBENCH_PAPER_RUN_DIR: a run folder to write or resume (while working on the report)
    run = Path(os.environ.get("ADBENCH_PAPER_RUN_DIR") or base / "run")
    res = run_cli(["run", "all", "--profile", "smoke", "--category", CATEGORIES, "--out", str(run)])
    assert res.returncode == 0, res.stderr[-3000:]
    fonts: dict[str, float] = {}
    boxes: dict[str, dict] = {}
    styles: dict[str, list] = {}
    overlaps: dict[str, list[str]] = {}
    layout: dict[str, list[str]] = {}
    contents: dict[str, dict] = {}
    original = figures._save

    drawn: list = []
    original_draw = matplotlib.text.Text.draw

    def recording_draw(self, renderer):  # the texts a figure really draws, where it draws them
        original_draw(self, renderer)
        if self.get_visible() and self.get_text().strip() and renderer is not None:
            drawn.append((self.get_text(), self.get_window_extent(renderer)))

    def recording_save(fig, out_dir, name):
        drawn.clear()
        with pytest.MonkeyPatch.context() as texts:
            texts.setattr(matplotlib.text.Text, "draw", recording_draw)
            fig.canvas.draw()
        width, height = fig.canvas.get_width_height()
        boxes[name] = {"texts": list(drawn), "size": (width, height)}
        styles[name] = [sorted((str(line.get_color()), str(line.get_marker()), str(line.get_linestyle()))
                               for line in ax.get_lines() if line.get_marker() not in (None, "None", "", "_", "|")
                               and len(line.get_xdata()))
                        for ax in fig.axes]
        contents[name] = {
            "yticks": [[t.get_text() for t in ax.get_yticklabels()] for ax in fig.axes],
            "texts": [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible()],
            "images": [tuple(im.get_array().shape) for ax in fig.axes for im in ax.get_images()],
            "clipped": [int(((arr < im.get_clim()[0] - 1e-12) | (arr > im.get_clim()[1] + 1e-12)).sum())
                        for ax in fig.axes for im in ax.get_images()
                        for arr in [np.ma.filled(im.get_array().astype(float), np.nan)]],
            "legend": [t.get_text() for leg in [*fig.legends, *(ax.get_legend() for ax in fig.axes
                                                                if ax.get_legend() is not None)]
                       for t in leg.get_texts()],
            "lines": sum(len(ax.get_lines()) for ax in fig.axes)}
        sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
                 if t.get_visible() and t.get_text().strip()]
        fonts[name] = min(sizes) if sizes else 99.0
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
        overlaps[name] = [leg.get_texts()[0].get_text() for leg in legends for ax in fig.axes
                          if leg.get_window_extent().overlaps(ax.get_window_extent())]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            paths = original(fig, out_dir, name)
        layout[name] = [str(w.message) for w in caught if "layout" in str(w.message)]
        return paths

    mp = pytest.MonkeyPatch()
    mp.setattr(figures, "_save", recording_save)
    try:
        out = base / "report"
        written = build_report([run], out, ("csv", "md", "tex", "html"))
    finally:
        mp.undo()
    return {"run": run, "out": out, "written": written, "fonts": fonts, "legend_overlaps": overlaps, "layout": layout,
            "stdout": res.stdout, "contents": contents, "boxes": boxes, "styles": styles}


def test_heatmap_colour_scales_clip_no_cell(paper_report):
    """Every heatmap's colour range holds every value it shows (a fixed 0.5–1 scale painted
    most pixel-AP cells the colour of its lower end)."""
    heatmaps = {n: c for n, c in paper_report["contents"].items() if n.startswith("heatmap_")}
    assert len(heatmaps) >= 7
    assert {n: c["clipped"] for n, c in heatmaps.items() if any(c["clipped"])} == {}


def test_figures_show_every_method_of_the_run(paper_report):
    """What the figures hold, not only that a file exists: every method of the real run appears
    where it should (latency bars, heatmap rows and cells, Pareto labels, CD names, ROC legend)."""
    from adbench.results.store import load_rows

    rows = load_rows([paper_report["run"]])
    ok = rows[rows["status"] == "ok"]
    shown = dict(zip(ok["method"], ok["method_display"]))  # each method's display name
    c = paper_report["contents"]
    strip = lambda labels: {re.sub(r"[†‡]$", "", re.sub(r" \(\d+ px\)$", "", t)) for t in labels}  # noqa: E731
    assert strip(c["latency"]["yticks"][0]) == {shown[m] for m in ok.loc[ok["latency_ms"].notna(), "method"]}
    for setting, track in (("unsupervised", "unsupervised"), ("supervised-k5", "supervised")):
        heat = c[f"heatmap_image_auroc-{setting}"]
        n_labels = len(heat["yticks"][0])
        assert heat["images"] == [(n_labels, len(CATEGORIES.split(",")) + 1)]  # categories and their mean
        assert strip(heat["yticks"][0]) == {shown[m] for m in ok.loc[ok["track"] == track, "method"]}
        for m in set(ok.loc[ok["track"] == track, "method"]):
            assert any(t.startswith(shown[m]) for t in c[f"pareto-{setting}"]["texts"]), f"{m} has no Pareto label"
    from adbench.report.ranks import rankings

    (result,) = [r for spec, setting, r in rankings(rows) if spec.name == "image_auroc" and setting == "unsupervised"]
    assert ("cd_image_auroc_unsupervised" in c) == result.significant, "a CD diagram only where Friedman rejects"
    if result.significant:
        cd_names = {re.sub(r"[†‡]$", "", re.sub(r"^\(\d+\.\d\d\) | \(\d+\.\d\d\)$", "", t))
                    for t in c["cd_image_auroc_unsupervised"]["texts"]}
        assert set(ok.loc[ok["track"] == "unsupervised", "method"]) <= cd_names
    pill = ok[(ok["category"] == "pill") & ok["curves"].map(lambda v: isinstance(v, dict) and "image_roc" in v)]
    assert len(c["roc_synthetic_pill-unsupervised"]["legend"]) == (pill["track"] == "unsupervised").sum()
    assert len(c["roc_synthetic_pill-supervised-k5"]["legend"]) == (pill["track"] == "supervised").sum()


def test_every_tex_compiles_together_without_errors_or_overfull_boxes(paper_report, tmp_path):
    out = paper_report["out"]
    tex_files = sorted(out.glob("*.tex"))
    names = {p.name for p in tex_files}
    assert {"image_auroc-unsupervised.tex", "image_auroc-supervised-k5.tex", "au_pro-unsupervised.tex",
            "summary.tex", "costs.tex"} <= names
    body = (out / "image_auroc-unsupervised.tex").read_text()
    # display names as rows, each citing its paper; a reading carries its dagger
    assert "Pyramidal AE\\textdagger{}~\\citep{mishra2020pyramidal} &" in body
    assert "U-Net~\\citep{ronneberger2015unet} &" in body
    assert "Refined UNet v2\\textdaggerdbl{}~\\citep{jiao2020refinedunet2} &" in body
    assert "\\textdaggerdbl{} substitute network" in body
    assert "\\label{tab:image-auroc-unsupervised}" in body and "\\toprule" in body
    assert "exact, divided by 0.3" in (out / "notes.md").read_text()
    assert "native resolution" in (out / "pixel_auroc-unsupervised.tex").read_text()
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (.ci/run installs texlive); the markup was checked, not compiled")
    doc = tmp_path / "paper.tex"
    # a two-column paper: the narrowest common layout (IEEEtran's columns are wider)
    doc.write_text("\\documentclass[twocolumn]{article}\\usepackage{booktabs}\\usepackage[numbers]{natbib}"
                   "\\begin{document}\n"
                   + "".join(f"\\input{{{p}}}\\clearpage\n" for p in tex_files) + "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=tmp_path, capture_output=True, timeout=180)
    log = (tmp_path / "paper.log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    overfull = [line for line in log.splitlines() if line.startswith("Overfull \\hbox")]
    assert not errors, errors[:5]
    assert not overfull, overfull[:5]
    assert (tmp_path / "paper.pdf").stat().st_size > 0


def test_figures_are_truetype_at_column_or_page_width_with_text_of_at_least_7pt(paper_report):
    pdfs = sorted((paper_report["out"] / "figures").glob("*.pdf"))
    assert len(pdfs) >= 10
    for name, smallest in paper_report["fonts"].items():
        assert smallest >= figures.MIN_FONT_PT, f"{name}: text of {smallest} pt"
    if shutil.which("pdffonts") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils is not installed (.ci/run installs it); font sizes were checked, fonts were not")
    for pdf in pdfs:
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "Type 3" not in fonts, f"{pdf.name} embeds a Type 3 font:\n{fonts}"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        width_in = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1)) / 72
        assert min(abs(width_in - 3.4), abs(width_in - 7.0)) < 0.01, f"{pdf.name} is {width_in:.2f} in wide"


def test_readings_and_substitutes_are_marked_with_a_footnote(paper_report):
    """#20: fidelity travels with the numbers, from each row to every table and figure."""
    import pandas as pd

    from adbench.results.store import load_rows

    rows = load_rows([paper_report["run"]])
    fidelity = rows.groupby("method")["fidelity"].first()
    assert fidelity["pyramidal_ae"] == fidelity["capsnet2021"] == "reading"
    assert fidelity["unet"] == fidelity["unetpp"] == fidelity["unet2"] == "substitute"
    assert fidelity["vtadl"] == fidelity["piade"] == fidelity["convae"] == "faithful"
    out = paper_report["out"]
    md = (out / "image_auroc-unsupervised.md").read_text()
    assert "Pyramidal AE†" in md and "U-Net++‡" in md
    assert re.search(r"\bVT-ADL\b(?![†‡])", md) and not re.search(r"VT-ADL[†‡]", md)  # faithful: no mark
    assert "† a reading" in md and "‡ a substitute" in md
    summary = pd.read_csv(out / "summary.csv", index_col="method")
    assert "Pyramidal AE† (uns)" in summary.index and "CapsNet-2021† (sup)" in summary.index
    assert "† a reading" in (out / "summary.md").read_text()
    assert "† a reading" in (out / "index.html").read_text()
    console = paper_report["stdout"]  # the run's own summary
    assert "Pyramidal AE† (uns)" in console and "† a reading" in console and "‡ a substitute" in console


def test_legends_sit_outside_every_axes(paper_report):
    assert "pareto-unsupervised" in paper_report["legend_overlaps"]
    inside = {name: texts for name, texts in paper_report["legend_overlaps"].items() if texts}
    assert not inside, f"legends over the data: {inside}"


def test_summary_gives_mean_and_std_over_categories(paper_report):
    import pandas as pd

    from adbench.results.store import load_rows

    summary = pd.read_csv(paper_report["out"] / "summary.csv", index_col="method")
    rows = load_rows([paper_report["run"]])
    convae = rows[(rows["method"] == "convae") & (rows["status"] == "ok")].set_index("category")["image_auroc"]
    label = "ConvAE (uns)"  # a run of both tracks labels each method with its track
    assert summary.at[label, "categories"] == 2
    assert summary.at[label, "image_auroc"] == pytest.approx(convae.mean(), abs=1e-6)
    assert summary.at[label, "image_auroc_std_categories"] == pytest.approx(convae.std(ddof=1), abs=1e-6)
    md = (paper_report["out"] / "summary.md").read_text()
    shown = f"{convae.mean():.3f} ({convae.std(ddof=1):.3f})"
    assert re.search(rf"^\| {re.escape(label)} .*{re.escape(shown)}", md, re.M), md
    assert "in parentheses the sample std (n − 1) over categories" in md
    assert "in parentheses the sample std (n $-$ 1) over categories" in (paper_report["out"] / "summary.tex").read_text()
    html = (paper_report["out"] / "index.html").read_text()
    assert shown in html


def test_report_holds_per_defect_tables_intervals_cd_diagram_and_qualitative_grid(paper_report):
    out = paper_report["out"]
    per_defect = (out / "per_defect_image_auroc-unsupervised.md").read_text()
    assert "synthetic/fabric/" in per_defect and "Pyramidal AE" in per_defect
    assert (out / "per_defect_pixel_auroc-unsupervised.csv").is_file()
    ci = (out / "ci.csv").read_text().splitlines()
    assert ci[0] == "method,label,setting,dataset,category,seed,metric,value,ci_low,ci_high"
    assert any(",pixel_auroc," in line for line in ci) and any(",image_auroc," in line for line in ci)
    figs = out / "figures"
    for name in ("qualitative_synthetic_fabric", "qualitative_synthetic_pill",
                 "model_size", "pareto-unsupervised", "heatmap_pixel_auroc-unsupervised",
                 "heatmap_au_pro-unsupervised", "latency"):
        assert (figs / f"{name}.pdf").is_file() and name in paper_report["contents"], name
    heat = paper_report["contents"]["heatmap_au_pro-unsupervised"]
    assert heat["images"] and heat["images"][0][0] == len(heat["yticks"][0])  # one row per method
    html = (out / "index.html").read_text()
    assert "<nav><h2>Contents</h2>" in html and "Confidence intervals" in html and "Per defect type" in html
    assert "Rankings" in html and "Friedman" in html
    assert "Nemenyi" in html or "no critical-difference diagram is drawn" in html
    assert "divided by 0.3" in html and "native resolution" in html
    assert "<figcaption><b>qualitative_synthetic_fabric</b> (<a href='figures/qualitative_synthetic_fabric.pdf'>" in html
    assert "the blue outline is the ground truth" in html
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True,
                         text=True).stdout.strip()
    if cpu:
        assert cpu.split()[0] in html  # the CPU model, not just "x86_64"


def test_summary_bolds_best_only_within_a_training_setting_in_every_format(paper_report):
    """The summary bolds each metric's best within each training setting, and the Markdown,
    LaTeX and HTML bold the same cells (one view, one bold mask)."""
    from adbench.report.build import view_tables
    from adbench.results.store import load_rows

    (summary,) = [t for t in view_tables(load_rows([paper_report["run"]])) if t.name == "summary"]
    sup = [m for m in summary.text.index if "(sup" in m]
    uns = [m for m in summary.text.index if "(uns" in m]
    assert sup and uns
    for part in (sup, uns):
        numbers = summary.data.loc[part, "image_auroc"].round(3)
        assert summary.bold.loc[part, "image_auroc"].tolist() == (numbers == numbers.max()).tolist()
    bold_methods = [m for m in summary.text.index if summary.bold.at[m, "image_auroc"]]
    md = (paper_report["out"] / "summary.md").read_text()
    html = (paper_report["out"] / "index.html").read_text()
    for m in bold_methods:
        cell = summary.text.at[m, "image_auroc"]
        assert f"**{cell}**" in md and f"<b>{cell}</b>" in html


def test_rows_carry_bootstrap_intervals_of_image_and_pixel_auroc(paper_report):
    from adbench.results.store import load_rows

    rows = load_rows([paper_report["run"]])
    ok = rows[rows["status"] == "ok"]
    assert ok["image_auroc_ci"].map(lambda c: isinstance(c, list) and len(c) == 2 and c[0] <= c[1]).all()
    maps = ok[ok["pixel_auroc"].notna()]
    assert len(maps) and maps["pixel_auroc_ci"].map(lambda c: c[0] <= c[1]).all()
    assert {b["resamples"] for b in ok["bootstrap"]} == {1000}


def test_transpose_puts_categories_in_rows(paper_report, tmp_path):
    res = run_cli(["report", str(paper_report["run"]), "--format", "tex", "--transpose", "--out", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    tex = (tmp_path / "image_auroc-unsupervised.tex").read_text()
    assert re.search(r"^fabric & ", tex, re.M) and re.search(r"^category & ", tex, re.M)


def test_no_figure_collapses_its_layout(paper_report):
    """With the anomalib extra a real `run all` ranks 17 methods: a qualitative grid of 19
    columns on one page collapsed every axis to zero (matplotlib's constrained-layout warning);
    such grids are now split over figures of at most 8 method columns (tiles of about 0.7 in)."""
    assert {n: w for n, w in paper_report["layout"].items() if w} == {}
    rows = [json.loads(p.read_text()) for p in (paper_report["run"] / "cells").glob("*.json")]
    with_maps = {r["method"] for r in rows if r["track"] == "unsupervised" and r["extra"].get("maps_file")}
    grids = [n for n in paper_report["layout"] if n.startswith("qualitative_synthetic_pill") and "supervised" not in n]
    assert len(grids) == -(-len(with_maps) // figures.QUALITATIVE_METHODS_MAX), (grids, sorted(with_maps))


def test_main_table_holds_the_headline_metrics_per_setting_with_every_tie_bold(paper_report):
    """``main-<setting>``: method × image AUROC, pixel AUROC and AU-PRO (the headline metrics),
    the summary's means, bold exactly where a value ties the column's best at 3 decimals."""
    out = paper_report["out"]
    main = pd.read_csv(out / "main-unsupervised.csv", index_col="method")
    summary = pd.read_csv(out / "summary.csv", index_col="method")
    assert list(main.columns) == ["image_auroc", "pixel_auroc", "au_pro"]
    uns = [m for m in summary.index if m.endswith("(uns)")]
    assert len(main) == len(uns)
    md = (out / "main-unsupervised.md").read_text()
    for metric in main.columns:
        best = main[metric].round(3).max()
        for method, value in main[metric].items():
            assert value == pytest.approx(summary.at[f"{method} (uns)", metric])
            cell = f"**{value:.3f}**"
            row = next(line for line in md.splitlines() if line.startswith(f"| {method} "))
            assert (cell in row) == (round(value, 3) == best), (metric, method)
    assert "\\label{tab:main-unsupervised}" in (out / "main-unsupervised.tex").read_text()


def _overlaps(a, b, slack: float = 0.5) -> bool:
    """Whether two drawn text boxes intersect by more than ``slack`` pixels each way."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def test_no_two_texts_of_a_figure_overlap_and_none_leaves_the_page(paper_report):
    """Every text a saved figure draws (labels, ticks, legends, titles, cell values, point labels
    placed by adjustText) keeps clear of every other and stays on the page, with every method of
    the real smoke run (17 with the anomalib extra)."""
    boxes = paper_report["boxes"]
    assert {"pareto-unsupervised", "latency", "model_size", "qualitative_synthetic_pill"} <= set(boxes)
    clashes, outside = {}, {}
    for name, found in boxes.items():
        texts, (width, height) = found["texts"], found["size"]
        bad = [(a[0], b[0]) for i, a in enumerate(texts) for b in texts[i + 1:] if _overlaps(a[1], b[1])]
        off = [t for t, box in texts if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1]
        if bad:
            clashes[name] = bad[:4]
        if off:
            outside[name] = off[:4]
    assert not clashes, clashes
    assert not outside, outside


def test_no_method_style_is_reused_within_a_figure(paper_report):
    """Colour × marker (× line style) identifies a method: within one axes no two methods' points
    or curves share a colour and a marker, however many methods the run holds."""
    rows = [json.loads(p.read_text()) for p in (paper_report["run"] / "cells").glob("*.json")]
    assert len({r["method"] for r in rows}) >= 12
    reused = {}
    for name, axes in paper_report["styles"].items():
        for lines in axes:
            pairs = [(colour, marker) for colour, marker, _ in lines]
            if len(pairs) != len(set(pairs)):
                reused[name] = sorted(p for p in set(pairs) if pairs.count(p) > 1)
    assert not reused, reused
    assert "#F0E442" not in figures.OKABE_ITO  # yellow on white is unreadable as a line
    style = figures.Style([f"m{i}" for i in range(40)])
    triples = {(style.colour(m), style.marker(m), style.linestyle(m)) for m in style.index}
    assert len(triples) == len(style.index)  # every registered method and 40 more, each its own


def test_every_cost_caption_and_cost_figure_names_its_input_size(paper_report):
    """Costs compare methods at different input sizes only with a warning that says so, in the
    table's caption and on every cost figure; memory names its batch."""
    out = paper_report["out"]
    costs = pd.read_csv(out / "costs.csv")
    sizes = sorted(set(costs["input_size"].dropna().astype(int)))
    assert len(sizes) > 1  # the smoke profiles differ (32 and 64 px): the warning case
    caption = re.search(r"\\caption\{(.*?)\}\n", (out / "costs.tex").read_text()).group(1)
    assert f"at unequal input sizes ({sizes[0]}--{sizes[-1]} px" in caption.replace("–", "--")
    assert "batch" in caption and " px " in (out / "costs.tex").read_text().split("\\midrule")[0] + " "
    texts = {name: " ".join(t for t, _ in found["texts"]) for name, found in paper_report["boxes"].items()}
    for name in ("latency", "model_size", "pareto-unsupervised"):
        assert "input sizes" in texts[name] and "px" in texts[name], name
    assert "memory at training batch" in texts["model_size"]


def test_captions_keep_to_the_word_limit_and_notes_hold_the_rest(paper_report):
    """Every table caption (each format, LaTeX included) and every registered figure caption is at
    most 40 words; the definitions and footnotes are in notes.md."""
    from adbench import registry
    from adbench.report.build import view_tables
    from adbench.report.rows import CAPTION_WORDS, words
    from adbench.results.store import load_rows

    tables = view_tables(load_rows([paper_report["run"]]))
    long = {t.name: words(c) for t in tables for c in (t.caption, t.latex_caption or "")
            if words(c) > CAPTION_WORDS and (t.formats is None or {"md", "tex", "html"} & set(t.formats))}
    assert not long, long
    long = {e.name: words(e.options["caption"]) for e in registry.figures().in_order()
            if words(e.options["caption"]) > CAPTION_WORDS}
    assert not long, long
    for tex in paper_report["out"].glob("*.tex"):  # as written, less the key of abbreviated headings
        caption = re.search(r"\\caption\{(.*?)\}\n", tex.read_text(), re.S).group(1)
        prose = re.split(r" (?:Categories|Defects): \S+ = ", re.sub(r"\\[a-z]+\{\}|\$[^$]*\$", "", caption))[0]
        assert words(prose) <= CAPTION_WORDS, (tex.name, prose)
    notes = (paper_report["out"] / "notes.md").read_text()
    assert "exact, divided by 0.3" in notes and "† a reading" in notes and "## Costs (`costs`)" in notes


def test_a_mixed_track_run_never_compares_supervised_with_unsupervised_methods(paper_report):
    """Each table, ranking and per-setting figure holds the methods of one training setting: its
    rows' tracks agree, and a figure of several settings is drawn once per setting."""
    from adbench.report.build import view_tables
    from adbench.report.rows import method_labels, settings
    from adbench.results.store import load_rows

    rows = load_rows([paper_report["run"]])
    ok = rows[rows["status"] == "ok"]
    setting_of = {}
    for label, setting in zip(method_labels(ok), settings(ok)):
        setting_of.setdefault(label, set()).add(setting)
    assert {len(s) for s in setting_of.values()} == {1}  # run all: each method in its own track
    for table in view_tables(rows):
        if table.methods_on is None or table.name in ("summary", "costs"):
            continue  # the summary labels each method with its setting; costs do not depend on a test set
        labels = table.text.columns if table.methods_on == "columns" else table.text.index
        found = {next(iter(setting_of[lab])) for lab in labels if lab in setting_of}
        assert len(found) == 1, (table.name, found)
    names = set(paper_report["boxes"])
    for prefix in ("pareto", "heatmap_image_auroc", "roc_synthetic_pill"):
        assert {f"{prefix}-unsupervised", f"{prefix}-supervised-k5"} <= names, prefix
        assert prefix not in names  # no figure of both settings
    html = (paper_report["out"] / "index.html").read_text()
    for name in ("pareto-unsupervised", "pareto-supervised-k5"):  # each setting's figure keeps its caption
        part = html.split(f"<figcaption><b>{name}</b>", 1)[1].split("</figcaption>", 1)[0]
        assert "Pareto front: no other method is both cheaper and better" in part, part
    heading = " ".join(t for t, _ in paper_report["boxes"]["pareto-supervised-k5"]["texts"])
    n_test = int(ok.loc[ok["track"] == "supervised", "n_test"].iloc[0])
    assert f"supervised, k=5 setting, {n_test} test images" in heading.replace("\n", " ")


def test_a_two_column_paper_with_main_table_costs_and_two_figures_compiles_with_citations(paper_report, tmp_path):
    """What a co-author \\input s: the main table and the costs table, two figures at column and
    page width, citations from the written references.bib; 0 errors, 0 overfull boxes, no
    undefined citation."""
    out = paper_report["out"]
    bib = (out / "references.bib").read_text()
    main = (out / "main-unsupervised.tex").read_text()
    keys = set(re.findall(r"\\citep\{([^}]+)\}", main))
    assert {"mishra2021vtadl", "long2015fcn", "roth2022patchcore"} <= keys
    assert all(f"{{{k}," in bib for k in keys)
    assert "VT-ADL~\\citep{mishra2021vtadl}" in main and "ConvAE &" in main  # no paper, no citation
    if shutil.which("pdflatex") is None or shutil.which("bibtex") is None:
        pytest.skip("pdflatex/bibtex are not installed (.ci/run installs texlive); the markup was checked")
    for name in ("main-unsupervised.tex", "costs.tex", "references.bib"):
        shutil.copy(out / name, tmp_path / name)
    for name in ("latency.pdf", "pareto-unsupervised.pdf"):
        shutil.copy(out / "figures" / name, tmp_path / name)
    (tmp_path / "paper.tex").write_text(
        "\\documentclass[twocolumn]{article}\\usepackage{booktabs,graphicx}\\usepackage[numbers]{natbib}\n"
        "\\begin{document}\n\\input{main-unsupervised}\n\\input{costs}\n"
        "\\begin{figure}\\centering\\includegraphics[width=\\columnwidth]{latency.pdf}\\caption{Latency.}"
        "\\end{figure}\n\\begin{figure*}\\centering\\includegraphics[width=\\textwidth]{pareto-unsupervised.pdf}"
        "\\caption{Pareto.}\\end{figure*}\n"
        "\\bibliographystyle{plainnat}\\bibliography{references}\n\\end{document}\n")
    for cmd in (["pdflatex"], ["bibtex"], ["pdflatex"], ["pdflatex"]):
        subprocess.run(cmd + (["paper"] if cmd == ["bibtex"] else ["-interaction=nonstopmode", "paper.tex"]),
                       cwd=tmp_path, capture_output=True, timeout=180)
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert not [line for line in log.splitlines() if line.startswith("!")]
    assert not [line for line in log.splitlines() if line.startswith(("Overfull \\hbox", "Overfull \\vbox"))]
    assert "undefined" not in log.lower(), [line for line in log.splitlines() if "undefined" in line.lower()]
    blg = (tmp_path / "paper.blg").read_text(errors="replace")
    assert "error" not in blg.lower(), blg
