"""Published numbers beside the run's own: the plugins' files, and the report's table on rows
from a fixture MVTec AD tree with the real methods' names, in every format; its LaTeX compiles."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adbench import registry
from adbench.published import PublishedFileError, load_published, published_for
from adbench.results.store import load_row
from conftest import run_cli


def test_every_published_file_loads_and_names_registered_methods_and_metrics():
    metrics = {s.name for s in registry.metrics()}
    files = {e.obj.published_file for e in registry.methods() if e.obj.published_file}
    assert len(files) >= 3, "VT-ADL, PIADE and the anomalib zoo declare what their publications report"
    for path in files:
        for p in load_published(Path(path)):
            assert p.method in registry.methods() and p.metric in metrics and p.source
    vtadl = published_for(registry.methods().get("vtadl").obj, "mvtec_ad")
    assert vtadl[0]["metric"] == "pixel_auroc" and vtadl[0]["values"]["mean"] == 0.807
    assert published_for(registry.methods().get("convae").obj, "mvtec_ad") == []


def test_a_malformed_file_is_named_with_its_entry(tmp_path):
    bad = tmp_path / "published.toml"
    bad.write_text('[[published]]\nmethod = "x"\ndataset = "mvtec_ad"\nmetric = "image_auroc"\nsource = "s"\n'
                   'tolerance = 0.05\nvalues = { bottle = 97 }\n')
    with pytest.raises(PublishedFileError, match="entry 1"):
        load_published(bad)
    bad.write_text('[[published]]\nmethod = "x"\n')
    with pytest.raises(PublishedFileError, match="lacks dataset"):
        load_published(bad)


def _mvtec_tree(root: Path, categories=("bottle", "wood"), size=64) -> Path:
    rng = np.random.default_rng(0)
    for cat in categories:
        for split, kind, n in (("train", "good", 6), ("test", "good", 3), ("test", "broken", 3)):
            for i in range(n):
                a = (rng.random((size, size, 3)) * 80).astype(np.uint8)
                p = root / cat / split / kind / f"{i:03d}.png"
                p.parent.mkdir(parents=True, exist_ok=True)
                if kind == "broken":
                    a[10:20, 10:30] = 240
                    m = np.zeros((size, size), np.uint8)
                    m[10:20, 10:30] = 255
                    mp = root / cat / "ground_truth" / kind / f"{i:03d}_mask.png"
                    mp.parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(m).save(mp)
                Image.fromarray(a).save(p)
    return root


def test_the_report_sets_published_values_beside_the_run_and_its_latex_compiles(tmp_path):
    root = _mvtec_tree(tmp_path / "mvtec")
    catalogue = tmp_path / "datasets.toml"
    catalogue.write_text(f'[mvtec_ad]\nadapter = "mvtec_ad"\nroot = "{root}"\ncategories = ["bottle", "wood"]\n')
    out = tmp_path / "run"
    res = run_cli(["run", "vtadl", "piade", "convae", "--dataset", "mvtec_ad", "--datasets", str(catalogue),
                   "--profile", "smoke", "--out", str(out)])
    assert res.returncode == 0, res.stderr[-2000:]
    rows = {r["method"]: r for r in (load_row(p) for p in (out / "cells").glob("*.json")) if r["category"] == "wood"}
    assert rows["vtadl"]["published"][0]["values"]["wood"] == 0.781 and rows["convae"]["published"] == []
    rep = tmp_path / "rep"
    res = run_cli(["report", str(out), "--format", "csv,md,tex,html", "--out", str(rep)])
    assert res.returncode == 0, res.stderr
    md = (rep / "published_vtadl_mvtec_ad.md").read_text()
    assert "VT-ADL, Pixel AUROC on mvtec_ad" in md and "0.781" in md and "0.949" in md and "0.807" in md
    assert "published |" in md and "within ±0.05" in md and "Mishra et al., ISIE 2021" in md
    run_wood = next(r for r in (load_row(p) for p in (out / "cells").glob("*.json"))
                    if r["method"] == "vtadl" and r["category"] == "wood")["pixel_auroc"]
    csv = (rep / "published_vtadl_mvtec_ad.csv").read_text()
    assert f"{run_wood - 0.781:.6f}" in csv or f"{run_wood - 0.781:.5f}" in csv
    assert (rep / "published_piade_mvtec_ad.tex").exists() and not list(rep.glob("published_convae*"))
    assert "Published vs this run" in (rep / "index.html").read_text()
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (.ci/run installs texlive); the markup was checked")
    for name in ("published_vtadl_mvtec_ad.tex", "published_piade_mvtec_ad.tex"):
        shutil.copy(rep / name, tmp_path / name)
    (tmp_path / "doc.tex").write_text("\\documentclass[twocolumn]{article}\\usepackage{booktabs}\n\\begin{document}\n"
                                      "\\input{published_vtadl_mvtec_ad}\n\\input{published_piade_mvtec_ad}\n"
                                      "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path, capture_output=True, timeout=180)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert not [line for line in log.splitlines() if line.startswith("!")], log[-3000:]
    assert not [line for line in log.splitlines() if line.startswith("Overfull \\hbox")]
