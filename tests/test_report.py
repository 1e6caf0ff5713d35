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
    assert "–" in md and "beta on synthetic/weave: RuntimeError: out of memory" in md
    assert "**0.950**" in md  # best value of the disc row in bold


def test_latex_is_booktabs_and_compiles_where_pdflatex_exists(report, tmp_path):
    tex = (report / "image_auroc.tex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\bfseries 0.990" in tex
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed; the booktabs markup was checked, compilation was not")
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tex + "\n\\end{document}\n")
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=tmp_path, capture_output=True)
    assert res.returncode == 0 and (tmp_path / "doc.pdf").stat().st_size > 0


def test_latex_of_a_real_run_with_real_method_names_compiles_without_errors(tmp_path):
    """Names such as pyramidal_ae and unet_ronneberger once broke pdflatex 32 times: every
    .tex a real run's report writes goes into one document, which must compile with no error."""
    out = tmp_path / "run"
    res = run_cli(["run", "pyramidal_ae", "unet_ronneberger", "capsnet", "--profile", "smoke", "--category", "weave",
                   "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rep = run_cli(["report", str(out), "--format", "tex", "--out", str(tmp_path / "tex")])
    assert rep.returncode == 0, rep.stderr
    tex_files = sorted((tmp_path / "tex").glob("*.tex"))
    assert {"image_auroc.tex", "au_pro.tex", "summary.tex", "costs.tex"} <= {p.name for p in tex_files}
    assert "pyramidal\\_ae" in (tmp_path / "tex" / "image_auroc.tex").read_text()
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed; the escaping was checked, compilation was not")
    doc = tmp_path / "doc" / "all.tex"
    doc.parent.mkdir()
    doc.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n"
                   + "".join(f"\\input{{{p}}}\n" for p in tex_files) + "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=doc.parent, capture_output=True, timeout=120)
    log = (doc.parent / "all.log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert not errors and (doc.parent / "all.pdf").stat().st_size > 0, errors[:5]


def test_every_figure_is_written_and_non_empty(report):
    figs = report / "figures"
    expected = ["latency", "memory", "pareto", "heatmap_image_auroc", "roc_synthetic_disc", "pro_synthetic_disc",
                "qualitative_alpha", "qualitative_beta"]
    for name in expected:
        for ext in ("pdf", "png"):
            assert (figs / f"{name}.{ext}").stat().st_size > 1000, name


def test_ratio_sweep_figure_from_supervised_rows(tmp_path):
    from adbench.results.store import ResultStore

    store = ResultStore(tmp_path)
    for i, (ratio, auroc) in enumerate([(0.01, 0.6), (0.05, 0.7), (0.1, 0.8)]):
        store.write({"cell_key": f"r{i}", "method": "capsnet", "dataset": "synthetic", "category": "disc",
                     "track": "supervised", "status": "ok", "anomaly_ratio": ratio, "image_auroc": auroc})
    written = build_report([tmp_path], tmp_path / "rep", ("fig",))
    assert (tmp_path / "rep" / "figures" / "ratio_sweep.png") in written


def test_pareto_front():
    assert sorted(pareto_front([1, 2, 3, 4], [0.5, 0.9, 0.8, 0.95])) == [0, 1, 3]


def test_html_is_self_contained_and_lists_failures(report):
    html = (report / "index.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert html.count("<img") >= 8 and "data:image/png;base64," in html
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
    assert int(total.group(1)) >= 8 and ok.group(1) == total.group(1), "every image must load"
    assert dom.count("<table") >= 4


def test_report_cli_merges_run_folders_and_builds_with_failures(tmp_path):
    a = write_fixture_rows(tmp_path / "a", with_maps=False)
    b = tmp_path / "b"
    from adbench.results.store import ResultStore

    ResultStore(b).write({"cell_key": "other", "method": "gamma", "dataset": "synthetic", "category": "disc",
                          "track": "unsupervised", "status": "ok", "image_auroc": 0.5, "seed": 0})
    res = run_cli(["report", str(a), str(b), "--out", str(tmp_path / "merged"), "--format", "csv,md"])
    assert res.returncode == 0, res.stderr
    csv = (tmp_path / "merged" / "image_auroc.csv").read_text()
    assert csv.splitlines()[0] == "category,alpha,beta,gamma"
    assert (tmp_path / "merged" / "failures.md").read_text().count("out of memory") == 1
