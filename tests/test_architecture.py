"""The seams of the core (docs/architecture.md): a plugin's metric reaches every table, a
plugin's executor gets its options from every source, the Python API runs without click,
and the core names no executor, no method and no document outside the repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
from pathlib import Path

import pandas as pd
import pytest

from adbench import registry
from adbench.executors.base import Executor, ExecutorOption, ExecutorOptionError
from adbench.method import Method, MethodConfig
from adbench.results.row import ROW_SCHEMA, BadRow, Row
from conftest import REPO, make_distribution, run_cli

EXTRAS = '''
import json, os
from adbench import hookimpl
from adbench.executors.base import Executor, ExecutorOption, run_one
from adbench.metrics import MetricSpec


def score_gap(scores, labels):
    """Mean score of the anomalous images minus that of the normal ones."""
    return float(scores[labels == 1].mean() - scores[labels == 0].mean())


class Recorder(Executor):
    """Runs cells in this process and writes the options it was built with next to the rows."""
    name = "recorder"
    description = "test executor"
    options = (ExecutorOption("tag", str, "default", "a label", flag="--tag"),
               ExecutorOption("repeat", int, 1, "how often to say hello", minimum=1),
               ExecutorOption("loud", bool, False, "say it loudly"))

    def run(self, cells, spec):
        spec.run_dir.mkdir(parents=True, exist_ok=True)
        (spec.run_dir / "executor.json").write_text(json.dumps(self.config))
        return [run_one(cell, spec) for cell in cells]


@hookimpl
def adbench_register_metrics(register):
    register(MetricSpec("score_gap", "Score gap", "image", True, score_gap,
                        "mean anomalous image score minus mean normal image score",
                        per_defect=True, bootstrap=True, ranked=True))


def gap_view(df):
    """Cells per method: a table view of the plugin's own."""
    import pandas as pd
    from adbench.report.table import Table

    counts = df.groupby("method").size().rename("cells").to_frame()
    return [Table(name="gap_cells", title="Cells per method", data=counts, text=counts.astype(str),
                  caption="How many cells each method ran (a plugin's view).", section="Plugin views")]


def gap_figure(ok, style, out_dir):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.4, 2))
    for m, sub in ok.groupby("method"):
        ax.plot(range(len(sub)), sub["score_gap"], color=style.colour(m), marker=style.marker(m), label=m)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "gap_lines.pdf", out_dir / "gap_lines.png"]
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths


@hookimpl
def adbench_register_views(register):
    register("gap_cells", gap_view)


@hookimpl
def adbench_register_figures(register):
    register("gap_lines", gap_figure, caption="Score gap of every cell, one line per method (a plugin's figure).")


@hookimpl
def adbench_register_executors(register):
    register("recorder", Recorder)
'''


@pytest.fixture(scope="module")
def extras_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_distribution(tmp_path_factory.mktemp("extras"), "adbench_extras", "adbench_extras", EXTRAS,
                             {"extras": "adbench_extras"})


@pytest.fixture(scope="module")
def plugin_run(extras_site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """``adbench run`` with the plugin's executor (options from a config file, a flag and
    --executor-opt), then a full report."""
    tmp = tmp_path_factory.mktemp("plugin_run")
    cfg = tmp / "executors.toml"
    cfg.write_text('[executor.recorder]\nrepeat = 3\ntag = "from the file"\nloud = true\n')
    out = tmp / "run"
    res = run_cli(["run", "convae", "--profile", "smoke", "--category", "fabric", "--out", str(out),
                   "--executor", "recorder", "--executor-config", str(cfg), "--tag", "from the flag",
                   "--executor-opt", "repeat=5"], site=extras_site)
    assert res.returncode == 0, res.stderr
    rep = run_cli(["report", str(out), "--format", "csv,md,tex,html"], site=extras_site)
    assert rep.returncode == 0, rep.stderr
    return out, res


def test_plugin_executor_takes_options_from_file_flag_and_executor_opt(plugin_run):
    out, _ = plugin_run
    got = json.loads((out / "executor.json").read_text())
    # --executor-opt beats the flag beats the file; an option only in the file comes from it, typed
    assert got == {"tag": "from the flag", "repeat": 5, "loud": True}


def test_plugin_metric_reaches_rows_summary_every_table_and_a_figure_with_its_definition(plugin_run):
    out, res = plugin_run
    (row_file,) = (out / "cells").glob("*.json")
    row = json.loads(row_file.read_text())
    assert row["schema"] == ROW_SCHEMA and isinstance(row["metrics"]["score_gap"], float)
    header = next(line for line in res.stdout.splitlines() if line.startswith("| method"))
    assert "score_gap" in header, "the run summary has the plugin's metric as a column"
    tables = out / "tables"
    definition = "mean anomalous image score minus mean normal image score"
    assert "score_gap" in (tables / "summary.csv").read_text().splitlines()[0]
    md = (tables / "summary.md").read_text()
    assert "score_gap" in md.splitlines()[2] and f"Score gap: {definition}" in md
    tex = (tables / "summary.tex").read_text()
    assert "Score gap &" in tex or "& Score gap" in tex
    assert f"Score gap: {definition}" in (tables / "score_gap.md").read_text()
    assert "Score gap per category" in (tables / "score_gap.tex").read_text()  # the caption names it ...
    assert f"Score gap: {definition}" in (tables / "notes.md").read_text()  # ... and the notes define it
    assert (tables / "score_gap.csv").is_file()
    html = (tables / "index.html").read_text()
    assert re.search(r"<h3[^>]*>Score gap(, unsupervised)?</h3>", html) and definition in html
    assert re.search(r"<th[^>]*>score_gap</th>", html), "a column of the HTML summary"
    assert (tables / "figures" / "heatmap_score_gap.pdf").is_file() and "heatmap_score_gap" in html


def test_flagged_plugin_metric_is_computed_per_defect_and_bootstrapped_in_the_row(plugin_run):
    out, _ = plugin_run
    (row_file,) = (out / "cells").glob("*.json")
    extra = json.loads(row_file.read_text())["extra"]
    assert extra["per_defect"] and all("score_gap" in v for v in extra["per_defect"].values())
    low, high = extra["score_gap_ci"]
    assert low <= high


@pytest.fixture(scope="module")
def ranked_report(extras_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``adbench report`` with the plugin over rows of three methods on two categories (enough
    for a ranking), each with the plugin metric, its per-defect values and its interval."""
    from adbench.results.store import ResultStore

    run = tmp_path_factory.mktemp("ranked")
    store = ResultStore(run)
    categories = ("fabric", "wood", "metal", "pill", "grid", "tile")  # enough for the Friedman test to reject
    for i, (method, category) in enumerate((m, c) for m in ("m1", "m2", "m3") for c in categories):
        gap = 0.1 * (i // len(categories) + 1) + 0.01 * categories.index(category)
        store.write({"cell_key": f"k{i}", "method": method, "dataset": "synthetic", "category": category,
                     "track": "unsupervised", "seed": 0, "profile": "smoke", "status": "ok", "image_auroc": 0.5 + gap,
                     "score_gap": gap, "score_gap_ci": [gap - 0.05, gap + 0.05],
                     "per_defect": {"scratch": {"score_gap": gap + 0.02}, "hole": {"score_gap": gap - 0.02}}})
    rep = run_cli(["report", str(run), "--format", "csv,md,tex,html", "--out", str(run / "rep")], site=extras_site)
    assert rep.returncode == 0, rep.stderr
    return run / "rep"


def test_plugin_metric_reaches_per_defect_ci_rankings_and_cd_diagram(ranked_report):
    rep = ranked_report
    per_defect = (rep / "per_defect_score_gap.md").read_text()
    assert "Score gap per defect type" in per_defect and "synthetic/fabric/scratch" in per_defect
    assert "0.320" in per_defect  # m3 on fabric: 0.3 + 0.02 (the scratch images)
    assert "0.300 [0.250, 0.350]" in (rep / "ci_score_gap.md").read_text()
    ranks = pd.read_csv(rep / "ranks_score_gap_unsupervised.csv", index_col="method")["average rank"]
    assert ranks.to_dict() == {"m3": 1.0, "m2": 2.0, "m1": 3.0}
    assert (rep / "figures" / "cd_score_gap_unsupervised.png").is_file()
    html = (rep / "index.html").read_text()
    assert "Score gap per defect type" in html and "cd_score_gap_unsupervised" in html


def test_plugin_view_and_figure_reach_the_report_and_the_html_with_captions(ranked_report):
    rep = ranked_report
    assert pd.read_csv(rep / "gap_cells.csv", index_col="method")["cells"].to_dict() == {"m1": 6, "m2": 6, "m3": 6}
    assert "How many cells each method ran" in (rep / "gap_cells.md").read_text()
    assert "\\caption{How many cells each method ran" in (rep / "gap_cells.tex").read_text()
    html = (rep / "index.html").read_text()
    assert re.search(r"<h2[^>]*>Plugin views</h2>", html) and re.search(r"<h3[^>]*>Cells per method</h3>", html)
    assert (rep / "figures" / "gap_lines.png").is_file()
    assert "<b>gap_lines</b>" in html and "one line per method (a plugin&#x27;s figure)" in html


def test_executor_options_are_checked_and_name_the_fix():
    class Tiny(Executor):
        name = "tiny"
        options = (ExecutorOption("n", int, 1, "n", minimum=1),)

        def run(self, cells, spec):
            return []

    assert Tiny.from_sources({"n": 2}, None, {"n": "4"}).config == {"n": 4}
    with pytest.raises(ExecutorOptionError, match="no option colour; its options: n"):
        Tiny(colour="red")
    with pytest.raises(ExecutorOptionError, match="n = 'x' must be int"):
        Tiny(n="x")
    with pytest.raises(ExecutorOptionError, match="must be at least 1"):
        Tiny(n=0)


def test_cli_rejects_an_executor_flag_of_another_executor(tmp_path):
    res = run_cli(["run", "convae", "--profile", "smoke", "--partition", "gpu", "--out", str(tmp_path)])
    assert res.returncode == 2 and "--partition is an option of executor submitit" in res.stderr
    assert "Traceback" not in res.stderr
    res = run_cli(["run", "convae", "--profile", "smoke", "--executor-opt", "colour=red", "--out", str(tmp_path)])
    assert res.returncode == 2 and "no option colour" in res.stderr


def test_run_benchmark_runs_without_click(tmp_path):
    """The Python API: a smoke benchmark in a fresh interpreter that never imports click."""
    code = f"""
import sys
from adbench import run_benchmark
s = run_benchmark(methods=["convae"], profile="smoke", categories=["fabric"], out={str(tmp_path / 'run')!r},
                  device="cpu", log=lambda m: None)
assert s.ok and len(s.rows) == 1 and s.rows["status"].tolist() == ["ok"], s.rows
assert 0.0 <= s.table.loc["ConvAE", "image_auroc"] <= 1.0  # rows are labelled with display names
assert any(p.name == "image_auroc.csv" for p in s.written)
assert "click" not in sys.modules, "the session must not need the CLI"
print("ok", s.table.loc["ConvAE", "image_auroc"])
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok ")


def test_cli_names_no_executor_and_the_core_no_method():
    cli = (REPO / "adbench" / "cli.py").read_text()
    for entry in registry.executors():
        assert not re.search(rf"['\"]{entry.name}['\"]|\b{entry.name}\.py", cli), entry.name
    assert not re.search(r"\b(submitit|slurm|pool)\b", cli, re.I)
    core = "\n".join(line for p in (REPO / "adbench").rglob("*.py") for line in p.read_text().splitlines()
                     if not line.lstrip().startswith(">>>"))  # usage examples in docstrings may name one
    for method in registry.methods().names():
        assert not re.search(rf"['\"]{method}['\"]", core), f"the core names method {method!r}"
    assert not any("VT-ADL" in p.read_text() for p in (REPO / "adbench" / "report").glob("*.py"))


def test_no_reference_to_documents_outside_the_repository():
    hits = [str(p) for root in ("adbench", "plugins") for p in (REPO / root).rglob("*.py")
            if "DESIGN §" in p.read_text()]
    assert not hits


def test_row_schema_round_trip_and_migration_of_flat_rows(tmp_path):
    flat = {"cell_key": "k1", "method": "m", "dataset": "d", "category": "c", "track": "unsupervised", "seed": 1,
            "profile": "smoke", "status": "ok", "image_auroc": 0.75, "latency_ms": 3.0, "host": "h"}
    row = Row.from_flat(flat, metric_names=["image_auroc"])
    assert row.metrics == {"image_auroc": 0.75} and row.costs == {"latency_ms": 3.0} and row.extra == {"host": "h"}
    assert Row.from_json(json.loads(json.dumps(row.to_json()))) == row
    assert Row.from_json(flat).flat()["image_auroc"] == 0.75  # schema 1: flat, sorted into the blocks
    assert row.flat()["seed"] == 1 and row.flat()["latency_ms"] == 3.0


@pytest.mark.parametrize("change, says", [
    ({"seed": "one"}, "seed = 'one' must be int"),
    ({"status": "maybe"}, "status = 'maybe' must be one of 'ok', 'error', 'running'"),
    ({"anomaly_ratio": "x"}, "anomaly_ratio = 'x' must be float or null"),
    ({"metrics": {"image_auroc": "high"}}, "metric image_auroc = 'high' is not a number"),
    ({"schema": 99}, "newer than this adbench reads"),
    ({"colour": 1}, "unknown top-level key(s) colour"),
    ({"costs": [1]}, "costs must be an object"),
])
def test_row_validation_names_the_file_the_field_and_the_fix(change, says):
    good = Row("k", "m", "d", "c", "unsupervised", 0, "smoke", "ok").to_json()
    with pytest.raises(BadRow) as err:
        Row.from_json({**good, **change}, "/runs/x/cells/k.json")
    assert says in str(err.value) and "/runs/x/cells/k.json" in str(err.value)


def test_method_config_is_typed_read_only_and_extensible():
    cfg = MethodConfig({"image_size": 32, "width": 8})
    assert cfg.image_size == 32 and cfg["width"] == 8 and cfg.width == 8 and cfg.eval_batch_size == 16
    assert dict(cfg) == {"image_size": 32, "width": 8}, "defaults are not written into the stored config"
    assert MethodConfig({"image_size": 32, "eval_batch_size": 4}).eval_batch_size == 4
    with pytest.raises(AttributeError, match="read-only"):
        cfg.image_size = 64
    with pytest.raises(ValueError, match="image_size = '32' must be int"):
        MethodConfig({"image_size": "32"})

    class WideConfig(MethodConfig):
        width: int
        dropout: float = 0.0

    class Wide(Method):
        name = "wide"
        config_class = WideConfig
        profiles = {"smoke": {"image_size": 16, "width": 4}}

    got = Wide.config_for("smoke", {"width": "6", "image_size": "24"})
    assert isinstance(got, WideConfig) and got.width == 6 and got.image_size == 24 and got.dropout == 0.0
    with pytest.raises(ValueError, match="WideConfig: the profile has no 'width'"):
        WideConfig({"image_size": 16})
    with pytest.raises(ValueError, match="dropout = 'x' must be float"):
        WideConfig({"image_size": 16, "width": 1, "dropout": "x"})

    class ChoiceConfig(MethodConfig):
        mode: typing.Literal["a", "b"] = "a"

    assert ChoiceConfig({"image_size": 16, "mode": "b"}).mode == "b"
    with pytest.raises(ValueError, match="mode = 'c' must be one of 'a', 'b'"):
        ChoiceConfig({"image_size": 16, "mode": "c"})


def test_method_notes_travel_in_rows_to_the_tables(tmp_path):
    from adbench.report.build import write_report
    from adbench.results.store import ResultStore, load_rows

    store = ResultStore(tmp_path)
    for i, (method, notes) in enumerate([("m1", {"pixel_auroc": "our paper calls this PRO"}), ("m2", {})]):
        store.write({"cell_key": f"k{i}", "method": method, "dataset": "d", "category": "c", "track": "unsupervised",
                     "seed": 0, "profile": "smoke", "status": "ok", "image_auroc": 0.5 + i / 10,
                     "pixel_auroc": 0.6, "method_notes": notes})
    write_report(load_rows([tmp_path]), tmp_path / "tables", ("md", "html", "fig"))
    assert "m1: our paper calls this PRO" in (tmp_path / "tables" / "pixel_auroc.md").read_text()
    assert "our paper calls this PRO" not in (tmp_path / "tables" / "image_auroc.md").read_text()
    assert "m1: our paper calls this PRO" in (tmp_path / "tables" / "index.html").read_text()


def test_vtadl_declares_its_pro_note():
    cls = registry.methods().get("vtadl").obj
    assert "pixel AUROC" in cls.notes["pixel_auroc"]


def _literal_keys(config_class: type) -> dict[str, tuple]:
    from adbench.method import _typed_keys

    return {k: typing.get_args(v) for k, v in _typed_keys(config_class).items()
            if typing.get_origin(v) is typing.Literal}


@pytest.mark.parametrize("method", sorted(registry.methods().names()))
def test_every_choice_of_every_builtin_method_rejects_an_unknown_value_with_the_allowed_ones(method):
    """Each ``Literal`` key of each built-in method's config refuses a value outside its
    choices when the config is built (which the planner does before any cell runs), naming
    the key and every allowed value."""
    cls = registry.methods().get(method).obj
    choices = {k: v for k, v in _literal_keys(cls.config_class).items() if k in cls.profiles["smoke"]}
    for key, allowed in choices.items():
        bad = 999 if all(isinstance(a, int) for a in allowed) else "no_such_choice"
        with pytest.raises(ValueError) as err:
            cls.config_for("smoke", {key: bad})
        assert f"{key} = {bad!r} must be one of" in str(err.value)
        assert all(repr(a) in str(err.value) for a in allowed)


def test_vtadl_score_typo_fails_before_training_naming_the_allowed_values(tmp_path):
    res = run_cli(["run", "vtadl", "--profile", "smoke", "--category", "fabric", "--set", "score=map_top",
                   "--out", str(tmp_path / "run")], env={"ADBENCH_CACHE": str(tmp_path / "cache")})
    assert res.returncode != 0
    assert "score = 'map_top' must be one of 'map_topk', 'authors'" in res.stderr
    assert not (tmp_path / "run" / "cells").exists() or not list((tmp_path / "run" / "cells").glob("*.json"))
    assert "Traceback" not in res.stderr


def test_row_status_choices_are_the_statuses():
    from adbench.results.row import STATUSES

    assert STATUSES == typing.get_args(typing.get_type_hints(Row)["status"]) == ("ok", "error", "running")


def test_list_views_and_figures_names_the_builtin_and_the_plugin_ones(extras_site):
    views = run_cli(["list", "views"], site=extras_site)
    figs = run_cli(["list", "figures"], site=extras_site)
    assert views.returncode == 0 and figs.returncode == 0, views.stderr + figs.stderr
    names = {line.split()[0] for line in views.stdout.splitlines() if line.strip()}
    assert {"summary", "metrics", "per_defect", "ci", "ranks", "costs", "failures", "gap_cells"} <= names
    assert re.search(r"^gap_lines\s+adbench_extras\s+Score gap of every cell", figs.stdout, re.M)
    assert re.search(r"^cd\s+adbench\s+Critical-difference diagram", figs.stdout, re.M)
