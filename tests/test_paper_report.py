"""The report of a real `adbench run all --profile smoke` (every built-in method, real names,
two categories: a texture and an object) is paper-ready: LaTeX compiles with no error and
no overfull box, figures use TrueType fonts at 3.4 or 7 in with no text under 7 pt, and the
report holds per-defect tables, confidence intervals, a CD diagram and the qualitative grid."""

from __future__ import annotations

import json
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
    run = base / "run"
    res = run_cli(["run", "all", "--profile", "smoke", "--category", CATEGORIES, "--out", str(run)])
    assert res.returncode == 0, res.stderr[-3000:]
    fonts: dict[str, float] = {}
    overlaps: dict[str, list[str]] = {}
    layout: dict[str, list[str]] = {}
    contents: dict[str, dict] = {}
    original = figures._save

    def recording_save(fig, out_dir, name):
        fig.canvas.draw()
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
            "stdout": res.stdout, "contents": contents}


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
    methods = set(ok["method"])
    c = paper_report["contents"]
    strip = lambda labels: {re.sub(r"[†‡]$", "", t) for t in labels}  # noqa: E731 - the fidelity marks
    assert strip(c["latency"]["yticks"][0]) == set(ok.loc[ok["latency_ms"].notna(), "method"])
    heat = c["heatmap_image_auroc"]
    n_labels = len(heat["yticks"][0])
    assert heat["images"] == [(n_labels, len(CATEGORIES.split(",")) + 1)]  # categories and their mean
    assert {re.sub(r"[†‡]$", "", t.split(" (")[0]) for t in heat["yticks"][0]} == methods
    for m in methods:
        assert any(t.startswith(m) for t in c["pareto"]["texts"]), f"{m} has no Pareto label"
    from adbench.report.ranks import rankings

    (result,) = [r for spec, setting, r in rankings(rows) if spec.name == "image_auroc" and setting == "unsupervised"]
    assert ("cd_image_auroc_unsupervised" in c) == result.significant, "a CD diagram only where Friedman rejects"
    if result.significant:
        cd_names = {re.sub(r"[†‡]$", "", re.sub(r"^\(\d+\.\d\d\) | \(\d+\.\d\d\)$", "", t))
                    for t in c["cd_image_auroc_unsupervised"]["texts"]}
        assert set(ok.loc[ok["track"] == "unsupervised", "method"]) <= cd_names
    pill = ok[(ok["category"] == "pill") & ok["curves"].map(lambda v: isinstance(v, dict) and "image_roc" in v)]
    assert len(c["roc_synthetic_pill"]["legend"]) == len(pill)


def test_every_tex_compiles_together_without_errors_or_overfull_boxes(paper_report, tmp_path):
    out = paper_report["out"]
    tex_files = sorted(out.glob("*.tex"))
    names = {p.name for p in tex_files}
    assert {"image_auroc-unsupervised.tex", "image_auroc-supervised-k5.tex", "au_pro-unsupervised.tex",
            "summary.tex", "costs.tex"} <= names
    body = (out / "image_auroc-unsupervised.tex").read_text()
    # real names, escaped, as rows; a reading carries its dagger
    assert "pyramidal\\_ae\\textdagger{} &" in body and "unet\\_ronneberger &" in body
    assert "unet2\\textdaggerdbl{} &" in body and "\\textdaggerdbl{} a substitute" in body
    assert "\\label{tab:image-auroc-unsupervised}" in body and "\\toprule" in body
    assert "exact, divided by 0.3" in (out / "au_pro-unsupervised.tex").read_text()
    assert "native resolution" in (out / "pixel_auroc-unsupervised.tex").read_text()
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (.ci/run installs texlive); the markup was checked, not compiled")
    doc = tmp_path / "paper.tex"
    # a two-column paper: the narrowest common layout (IEEEtran's columns are wider)
    doc.write_text("\\documentclass[twocolumn]{article}\\usepackage{booktabs}\\begin{document}\n"
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
    assert "pyramidal_ae†" in md and "unetpp‡" in md
    assert re.search(r"\bvtadl\b(?![†‡])", md) and not re.search(r"vtadl[†‡]", md)  # faithful: no mark
    assert "† a reading" in md and "‡ a substitute" in md
    summary = pd.read_csv(out / "summary.csv", index_col="method")
    assert "pyramidal_ae† (uns)" in summary.index and "capsnet2021† (sup)" in summary.index
    assert "† a reading" in (out / "summary.md").read_text()
    assert "† a reading" in (out / "index.html").read_text()
    console = paper_report["stdout"]  # the run's own summary
    assert "pyramidal_ae† (uns)" in console and "† a reading" in console and "‡ a substitute" in console


def test_legends_sit_outside_every_axes(paper_report):
    assert "pareto" in paper_report["legend_overlaps"]
    inside = {name: texts for name, texts in paper_report["legend_overlaps"].items() if texts}
    assert not inside, f"legends over the data: {inside}"


def test_summary_gives_mean_and_std_over_categories(paper_report):
    import pandas as pd

    from adbench.results.store import load_rows

    summary = pd.read_csv(paper_report["out"] / "summary.csv", index_col="method")
    rows = load_rows([paper_report["run"]])
    convae = rows[(rows["method"] == "convae") & (rows["status"] == "ok")].set_index("category")["image_auroc"]
    label = "convae (uns)"  # a run of both tracks labels each method with its track
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
    assert "synthetic/fabric/" in per_defect and "pyramidal_ae" in per_defect
    assert (out / "per_defect_pixel_auroc-unsupervised.csv").is_file()
    ci = (out / "ci.csv").read_text().splitlines()
    assert ci[0] == "method,setting,dataset,category,seed,metric,value,ci_low,ci_high"
    assert any(",pixel_auroc," in line for line in ci) and any(",image_auroc," in line for line in ci)
    figs = out / "figures"
    for name in ("qualitative_synthetic_fabric", "qualitative_synthetic_pill",
                 "model_size", "pareto", "heatmap_pixel_auroc", "heatmap_au_pro", "latency"):
        assert (figs / f"{name}.pdf").is_file() and name in paper_report["contents"], name
    heat = paper_report["contents"]["heatmap_au_pro"]
    assert heat["images"] and heat["images"][0][0] == len(heat["yticks"][0])  # one row per method
    html = (out / "index.html").read_text()
    assert "<nav><h2>Contents</h2>" in html and "Confidence intervals" in html and "Per defect type" in html
    assert "Rankings" in html and "Friedman" in html
    assert "Nemenyi" in html or "no critical-difference diagram is drawn" in html
    assert "divided by 0.3" in html and "native resolution" in html
    assert "<figcaption><b>qualitative_synthetic_fabric</b> (<a href='figures/qualitative_synthetic_fabric.pdf'>" in html
    assert "the blue contour is the ground truth" in html
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
    such grids are now split over figures of at most 12 method columns."""
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
