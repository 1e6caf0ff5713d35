"""Reports from rows alone: golden tables, LaTeX, figures, HTML in a real browser, failures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from adbench.report.build import build_report
from adbench.report.figures import pareto_front
from conftest import REPO, run_cli
from report_fixture import write_fixture_rows

GOLDEN = REPO / "tests" / "golden"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run = write_fixture_rows(tmp_path_factory.mktemp("run"))
    out = run / "report"
    build_report([run], out, ("csv", "md", "tex", "html"))
    return out


@pytest.mark.parametrize("name", ["image_auroc.csv", "image_auroc.md", "au_pro.md", "costs.csv"])
def test_tables_match_golden_files(report, name):
    assert (report / name).read_text() == (GOLDEN / name).read_text()


def test_missing_cell_has_a_dash_and_the_reason_in_a_footnote(report):
    md = (report / "image_auroc.md").read_text()
    assert "–" in md and "beta on synthetic/fabric: RuntimeError: out of memory" in md
    assert "**0.950**" in md  # best value of the pill row in bold


def test_latex_is_booktabs_and_compiles_where_pdflatex_exists(report, tmp_path):
    tex = (report / "image_auroc.tex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\textbf{0.990}" in tex
    assert "\\label{tab:image-auroc}" in tex and "alpha & " in tex  # methods are rows
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed; the booktabs markup was checked, compilation was not")
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tex + "\n\\end{document}\n")
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=tmp_path, capture_output=True)
    assert res.returncode == 0 and (tmp_path / "doc.pdf").stat().st_size > 0


def test_every_figure_is_written_at_column_or_page_width(report):
    """Each figure exists as PDF and PNG, and the PNG is 3.4 or 7 in wide at 200 dpi (the
    paper-report tests check what each figure holds on a real run)."""
    from matplotlib import image

    figs = report / "figures"
    expected = ["latency", "model_size", "pareto", "heatmap_image_auroc", "roc_synthetic_pill", "pro_synthetic_pill",
                "qualitative_synthetic_pill"]
    for name in expected:
        assert (figs / f"{name}.pdf").read_bytes().startswith(b"%PDF"), name
        height, width = image.imread(figs / f"{name}.png").shape[:2]
        assert width in (680, 1400) and height > 100, (name, width, height)


def test_imbalance_sweep_one_table_per_ratio_no_averaging_and_equal_splits_merged(tmp_path, monkeypatch):
    """Ratios 0.01 and 0.05 drew the same training anomalies (n_train_anomalous) in every
    category: one point in the figure; still one table per ratio, and a summary line each."""
    from adbench.report import figures
    from adbench.results.store import ResultStore, load_rows

    store = ResultStore(tmp_path)
    cells = [(0.01, "pill", 1, 0.6), (0.05, "pill", 1, 0.6), (0.1, "pill", 3, 0.8),
             (0.01, "fabric", 1, 0.7), (0.05, "fabric", 1, 0.7), (0.1, "fabric", 2, 0.9)]
    for i, (ratio, cat, n, auroc) in enumerate(cells):
        store.write({"cell_key": f"r{i}", "method": "capsnet", "dataset": "synthetic", "category": cat,
                     "track": "supervised", "status": "ok", "anomaly_ratio": ratio, "image_auroc": auroc,
                     "n_train_anomalous": n})
    written = build_report([tmp_path], tmp_path / "rep", ("csv", "md", "fig"))
    names = {p.name for p in written}
    assert {"image_auroc-supervised-ratio0.01.csv", "image_auroc-supervised-ratio0.05.csv",
            "image_auroc-supervised-ratio0.1.csv", "imbalance_sweep.png"} <= names
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "capsnet (sup r=0.01)" in summary and "capsnet (sup r=0.1)" in summary
    assert "0.850" in summary and "0.650" in summary and "0.700" not in summary  # never averaged across ratios
    captured = {}
    monkeypatch.setattr(figures, "_save", lambda fig, out_dir, name: captured.setdefault("fig", fig) and [])
    figures.imbalance_figure(figures.ok_rows(load_rows([tmp_path])), figures.Style(["capsnet"]), tmp_path / "fig")
    (container,) = captured["fig"].axes[0].containers  # one method: one error-bar series
    line = container.lines[0]
    assert list(line.get_xdata()) == [1.0, 2.5]  # two points: the equal splits of 0.01 and 0.05 merged
    assert list(line.get_ydata()) == pytest.approx([0.65, 0.85])
    texts = [t.get_text() for t in captured["fig"].axes[0].texts]
    assert "r=0.01/r=0.05" in texts and "r=0.1" in texts
    lo, hi = captured["fig"].axes[0].get_ylim()
    assert hi - lo >= 0.25  # the axis never zooms into a sliver


def test_pareto_front():
    assert sorted(pareto_front([1, 2, 3, 4], [0.5, 0.9, 0.8, 0.95])) == [0, 1, 3]


def test_html_is_self_contained_and_lists_failures(report):
    html = (report / "index.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert html.count("<img") >= 7 and "data:image/png;base64," in html
    assert "out of memory" in html and "abc123" in html and "Failures (1)" in html


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_html_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium); browser check skipped")
    res = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                          "--virtual-time-budget=10000", "--dump-dom", (report / "index.html").as_uri()],
                         capture_output=True, text=True, timeout=120)
    dom = res.stdout
    total = re.search(r'data-images-total="(\d+)"', dom)
    ok = re.search(r'data-images-ok="(\d+)"', dom)
    assert total and ok, res.stderr[-2000:]
    assert int(total.group(1)) >= 7 and ok.group(1) == total.group(1), "every image must load"
    assert dom.count("<table") >= 4


def test_report_cli_merges_run_folders_and_builds_with_failures(tmp_path):
    a = write_fixture_rows(tmp_path / "a", with_maps=False)
    b = tmp_path / "b"
    from adbench.results.store import ResultStore

    ResultStore(b).write({"cell_key": "other", "method": "gamma", "dataset": "synthetic", "category": "pill",
                          "track": "unsupervised", "status": "ok", "image_auroc": 0.5, "seed": 0})
    res = run_cli(["report", str(a), str(b), "--out", str(tmp_path / "merged"), "--format", "csv,md"])
    assert res.returncode == 0, res.stderr
    csv = (tmp_path / "merged" / "image_auroc.csv").read_text()
    assert csv.splitlines()[0] == "category,alpha,beta,gamma"
    assert (tmp_path / "merged" / "failures.md").read_text().count("out of memory") == 1


def test_costs_caption_names_fitted_model_profiles_once_per_method_not_once_per_bank():
    """Memory-bank methods are costed on each cell's fitted model, whose bank differs per
    category: the caption says so once per method, says the table shows the median over cells,
    and keeps the fixed-weights entries as they are."""
    import pandas as pd

    from adbench.report.cost_views import costs_caption

    df = pd.DataFrame([
        {"status": "ok", "method": "convae", "profiled_weights": "random init (seed 0)"},
        {"status": "ok", "method": "anomalib_patchcore",
         "profiled_weights": "this cell's fitted model (memory_bank 768x384)"},
        {"status": "ok", "method": "anomalib_patchcore",
         "profiled_weights": "this cell's fitted model (memory_bank 1024x384)"},
    ])
    caption = costs_caption(df)
    assert "weights: random init (seed 0), each cell's fitted model for anomalib_patchcore" in caption
    assert "median over cells" in caption and "memory_bank 768x384" not in caption
