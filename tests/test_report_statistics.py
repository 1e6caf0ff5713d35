"""Bootstrap intervals (checked against scikit-learn on the same resamples), the Friedman /
Nemenyi ranking (against scipy and Demšar's table) and the LaTeX layout rules."""

from __future__ import annotations

import re

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from adbench.metrics.bootstrap import PairSamples, bootstrap_auroc, image_pairs
from adbench.report.latex import COLUMN_PT, TEXT_PT, LatexTable, abbreviations, render
from adbench.report.ranks import critical_difference


def _maps(seed: int = 1, n: int = 12):
    rng = np.random.default_rng(seed)
    maps = np.round(rng.random((n, 16, 16)), 2)  # rounded: many ties
    masks = np.zeros((n, 16, 16), bool)
    labels = np.array([0] * (n // 2) + [1] * (n - n // 2))
    for i in np.nonzero(labels)[0]:
        masks[i, 3:7, 4:9] = True
        maps[i][masks[i]] += 0.3
    return maps, masks, labels


def test_pair_counts_give_scikit_learns_pixel_auroc_on_any_resample_of_images():
    maps, masks, _ = _maps()
    pairs = PairSamples(per_class=10**6)  # keeps every pixel: exact
    for m, g in zip(maps, masks):
        pairs.add(m, g)
    u = pairs.pair_matrix()
    rng = np.random.default_rng(5)
    for _ in range(5):
        w = rng.multinomial(len(maps), np.full(len(maps), 1 / len(maps))).astype(float)
        if not (w[6:] > 0).any():
            continue
        ours = (w @ u @ w) / ((w @ np.array(pairs.n_pos)) * (w @ np.array(pairs.n_neg)))
        idx = np.repeat(np.arange(len(maps)), w.astype(int))
        assert ours == pytest.approx(roc_auc_score(masks[idx].ravel(), maps[idx].ravel()), abs=1e-12)


def test_image_interval_is_seeded_contains_the_estimate_and_narrows_with_more_images():
    rng = np.random.default_rng(0)
    widths = []
    for n in (40, 400):
        y = np.array([0, 1] * (n // 2))
        s = rng.normal(size=n) + 1.0 * y
        ci = bootstrap_auroc(image_pairs(s, y), y, seed=3)
        assert ci == bootstrap_auroc(image_pairs(s, y), y, seed=3)  # same seed, same interval
        assert ci.low <= roc_auc_score(y, s) <= ci.high
        widths.append(ci.high - ci.low)
    assert widths[1] < widths[0] / 2


def test_subsampled_pixel_interval_is_close_to_the_exact_one():
    maps, masks, labels = _maps(n=30)
    exact, sampled = PairSamples(per_class=10**6), PairSamples(per_class=64, seed=0)
    for m, g in zip(maps, masks):
        exact.add(m, g)
        sampled.add(m, g)
    a, b = bootstrap_auroc(exact, labels), bootstrap_auroc(sampled, labels)
    assert abs(a.low - b.low) < 0.02 and abs(a.high - b.high) < 0.02


def test_no_interval_without_both_classes():
    assert bootstrap_auroc(image_pairs(np.array([0.1, 0.2]), np.array([0, 0])), np.array([0, 0])) is None


def test_friedman_and_nemenyi_match_scipy_and_demsars_table():
    rng = np.random.default_rng(0)
    blocks = pd.DataFrame(rng.random((6, 4)) + np.array([0.3, 0.2, 0.1, 0.0]), columns=list("abcd"))
    blocks.iloc[0, 1] = blocks.iloc[0, 2]  # a tie shares its mean rank
    res = critical_difference(blocks)
    from scipy import stats

    expected = stats.friedmanchisquare(*blocks.to_numpy().T)
    assert res.statistic == pytest.approx(expected.statistic) and res.p_value == pytest.approx(expected.pvalue)
    ranks = blocks.rank(axis=1, ascending=False).mean()
    assert res.avg_ranks.to_dict() == pytest.approx(ranks.to_dict())
    # Demšar (2006), Table 5(a): q_0.05 = 2.569 for k = 4; CD = q·sqrt(k(k+1)/(6N))
    assert res.cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 36), abs=2e-3)
    lower = critical_difference(blocks, higher_is_better=False)
    assert lower.avg_ranks.to_dict() == pytest.approx((5 - ranks).to_dict())


def test_cliques_join_methods_closer_than_the_critical_difference():
    from adbench.report.ranks import RankResult

    res = RankResult(pd.Series({"a": 1.0, "b": 1.5, "c": 3.0, "d": 3.2}), 0.0, 1.0, cd=1.0, n_blocks=5)
    assert res.cliques() == [["a", "b"], ["c", "d"]]
    with pytest.raises(ValueError, match="at least 3 methods"):
        critical_difference(pd.DataFrame({"a": [1, 2], "b": [2, 1]}))


#: the names a real `run all` with the anomalib extra ranks: 12 built-in and 5 anomalib methods
REAL_METHODS = ["convae", "vtadl", "pyramidal_ae", "piade", "capsnet", "capsnet2021", "unet", "unetpp",
                "unet_ronneberger", "unet2", "fcn32s", "segnet", "anomalib_patchcore", "anomalib_padim",
                "anomalib_stfpm", "anomalib_fastflow", "anomalib_draem"]


@pytest.mark.parametrize("k", [3, 12, 17])
def test_cd_diagram_keeps_every_name_on_the_page_and_rank_labels_apart(tmp_path, monkeypatch, k):
    import matplotlib.pyplot as plt

    from adbench import registry
    from adbench.report import figures
    from adbench.report.ranks import RankResult

    rng = np.random.default_rng(k)
    result = critical_difference(pd.DataFrame(rng.random((4, k)), columns=REAL_METHODS[:k]))
    assert isinstance(result, RankResult)
    seen = {}

    def inspect(fig, out_dir, name):
        fig.canvas.draw()
        page = fig.bbox
        texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent"))
                 if t.get_visible() and str(t.get_text()).strip()]
        boxes = {t.get_text(): t.get_window_extent() for t in texts}
        seen["outside"] = [s for s, b in boxes.items() if b.x0 < page.x0 - 1 or b.x1 > page.x1 + 1
                           or b.y0 < page.y0 - 1 or b.y1 > page.y1 + 1]
        ranks = sorted((b for s, b in boxes.items() if s.isdigit()), key=lambda b: b.x0)
        seen["rank_labels"] = len(ranks)
        seen["crowded"] = [(a.x1, b.x0) for a, b in zip(ranks, ranks[1:]) if a.x1 > b.x0]
        seen["width_in"] = fig.get_size_inches()[0]
        plt.close(fig)
        return []

    monkeypatch.setattr(figures, "_save", inspect)
    spec = next(m for m in registry.metrics() if m.name == "image_auroc")
    figures.cd_figure(result, spec, "supervised, k=5", tmp_path)
    assert seen["outside"] == [], f"texts off the page: {seen['outside']}"
    assert seen["crowded"] == [] and seen["rank_labels"] >= 2
    assert seen["width_in"] in (figures.COLUMN_WIDTH_IN, figures.PAGE_WIDTH_IN)


MVTEC = ["bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal_nut", "pill", "screw",
         "tile", "toothbrush", "transistor", "wood", "zipper"]


def _table(columns: list[str], cell: str = "0.912") -> LatexTable:
    rows = [[m] + [cell] * len(columns) for m in ("pyramidal_ae", "unet_ronneberger", "capsnet2021")]
    return LatexTable(["method"] + columns, rows, caption="A caption.", label="tab:x", abbreviate=True)


def test_layout_picks_column_page_abbreviations_then_panels():
    assert render(_table(["pill", "fabric"])).startswith("\\begin{table}\n")
    assert render(_table(["pill", "fabric", "wood", "metal", "mean"])).startswith("\\begin{table*}")
    wide = render(_table(MVTEC + ["mean"]))
    assert "Categories:" not in wide  # key_title default is "Columns"
    assert "met = metal\\_nut" in wide and "\\textbackslash" not in wide
    panels = render(_table(MVTEC + ["mean"], cell="0.912 ± 0.013"))
    assert panels.count("\\begin{tabular}") >= 2  # mean ± std cells cannot fit in one row of columns
    assert abbreviations(["capsule", "carpet", "capture"]) == {"capsule": "caps", "carpet": "carp", "capture": "capt"}
    assert abbreviations(["bottle", "mean", "wood"]) == {"bottle": "bot", "mean": "mean", "wood": "wood"}
    assert COLUMN_PT < TEXT_PT


def test_layouts_compile_without_overfull_boxes(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (.ci/run installs texlive)")
    tables = [_table(["pill", "fabric"]), _table(MVTEC + ["mean"]), _table(MVTEC + ["mean"], cell="0.912 ± 0.013")]
    (tmp_path / "t.tex").write_text("\\documentclass[twocolumn]{article}\\usepackage{booktabs}\\begin{document}\n"
                                    + "\n\\clearpage\n".join(render(t) for t in tables) + "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert not [ln for ln in log.splitlines() if ln.startswith("!") or ln.startswith("Overfull \\hbox")]


@pytest.mark.parametrize("shift", [0.0, 0.4])
def test_ranks_p_value_and_critical_difference_match_autorank(shift):
    """The same block table through autorank (the reference implementation of Demšar's
    procedure): equal Friedman p, mean ranks and Nemenyi CD, whether or not the test rejects."""
    import warnings

    from autorank import autorank

    rng = np.random.default_rng(1)
    blocks = pd.DataFrame(rng.random((8, 5)) + shift * np.arange(5)[::-1], columns=list("abcde"))
    res = critical_difference(blocks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = autorank(blocks, alpha=0.05, verbose=False, force_mode="nonparametric", order="descending")
    assert ref.omnibus == "friedman" and res.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.avg_ranks.to_dict() == pytest.approx(ref.rankdf["meanrank"].to_dict())
    assert res.cd == pytest.approx(ref.cd, rel=1e-4)
    assert res.significant == (ref.pvalue < 0.05)


def test_cd_diagram_only_where_the_friedman_test_rejects(tmp_path):
    """Without a significant difference the diagram is not drawn and the rankings table says
    so; with one, it is drawn and the caption gives the critical difference."""
    from adbench.report.build import write_report, view_tables
    from adbench.results.store import ResultStore, load_rows

    for name, gaps in (("equal", [0.0, 0.0, 0.0]), ("apart", [0.0, 0.2, 0.4])):
        store = ResultStore(tmp_path / name)
        rng = np.random.default_rng(0)
        for c in range(6):
            for m, gap in zip(("m1", "m2", "m3"), gaps):
                store.write({"cell_key": f"{m}-{c}", "method": m, "dataset": "synthetic", "category": f"c{c}",
                             "status": "ok", "image_auroc": 0.5 + gap + 0.05 * rng.random()})
        rows = load_rows([tmp_path / name])
        written = {p.name for p in write_report(rows, tmp_path / name / "rep", ("md", "fig"))}
        (table,) = [t for t in view_tables(rows) if t.name == "ranks_image_auroc_unsupervised"]
        if name == "equal":
            assert "cd_image_auroc_unsupervised.png" not in written
            assert "no difference is significant at α = 0.05" in table.caption
            assert any("no critical-difference diagram is drawn" in n for n in table.notes)
        else:
            assert "cd_image_auroc_unsupervised.png" in written
            assert re.search(r"Nemenyi critical difference \d\.\d\d at α = 0\.05", table.caption), table.caption
