"""A texture source in datasets.toml (DTD for DRAEM) is material for methods, not a benchmark:
`--dataset all` leaves it out, naming it is a clear error, and `adbench list datasets` shows it."""

from __future__ import annotations

import pytest

from adbench import registry
from adbench.config import load_catalogue
from adbench.protocol.plan import plan_cells
from conftest import run_cli


@pytest.fixture()
def catalogue(tmp_path):
    path = tmp_path / "datasets.toml"
    path.write_text(f'[dtd]\nadapter = "textures"\nroot = "{tmp_path}"\n')
    return load_catalogue(path)


def _plan(catalogue, datasets):
    return plan_cells(["convae"], catalogue, datasets=datasets, categories=[], track=None, profile="smoke",
                      seeds=[0])


def test_dataset_all_leaves_a_texture_source_out(catalogue):
    cells, _ = _plan(catalogue, ["all"])
    assert cells and {c.dataset for c in cells} == {"synthetic"}


def test_naming_a_texture_source_as_a_benchmark_is_a_clear_error(catalogue):
    with pytest.raises(ValueError, match="'dtd' is a texture source .* not a benchmark data set; pick one of synthetic"):
        _plan(catalogue, ["dtd"])


def test_the_shipped_catalogue_has_dtd_with_its_checksum():
    spec = load_catalogue()["dtd"]
    assert spec.adapter == "textures" and spec.url.endswith("dtd-r1.0.1.tar.gz") and len(spec.sha256) == 64
    assert registry.datasets().get("textures").obj.benchmark is False
    res = run_cli(["list", "datasets"])
    assert res.returncode == 0 and "dtd" in res.stdout
