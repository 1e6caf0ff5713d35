"""Plugin discovery through real entry points, duplicates, ADBENCH_LOAD_PLUGINS, broken plugins."""

from __future__ import annotations

from pathlib import Path

from conftest import make_distribution, run_cli


def test_builtin_plugin_loads_through_entry_point():
    res = run_cli(["list", "plugins"])
    assert res.returncode == 0, res.stderr
    line = next(l for l in res.stdout.splitlines() if l.startswith("convae"))
    assert "adbench" in line and "adbench_register_methods" in line and "method:convae" in line


def test_third_party_entry_point_is_discovered(test_plugin_site: Path):
    res = run_cli(["list", "methods"], site=test_plugin_site)
    assert res.returncode == 0, res.stderr
    names = {l.split()[0]: l for l in res.stdout.splitlines()}
    assert {"convae", "crashy", "nanscores", "sleepy"} <= set(names)
    assert "adbench_testplugins 0.1" in names["crashy"]


def test_load_plugins_env_limits_entry_points(test_plugin_site: Path):
    res = run_cli(["list", "methods"], site=test_plugin_site, env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
    names = {l.split()[0] for l in res.stdout.splitlines()}
    assert "crashy" in names and "convae" not in names
    res = run_cli(["list", "methods"], site=test_plugin_site, env={"ADBENCH_LOAD_PLUGINS": "adbench"})
    names = {l.split()[0] for l in res.stdout.splitlines()}
    assert "convae" in names and "crashy" not in names


def test_duplicate_method_name_names_both_plugins(tmp_path: Path):
    source = '''
from adbench import hookimpl
from adbench_convae.method import ConvAE

class Clone(ConvAE):
    pass

@hookimpl
def adbench_register_methods(register):
    register(Clone)
'''
    site = make_distribution(tmp_path, "clone_dist", "clone_plugin", source, {"clone": "clone_plugin"})
    res = run_cli(["list", "methods"], site=site)
    assert res.returncode != 0
    assert "'convae' is registered twice" in res.stderr
    assert "'convae'" in res.stderr and "'clone'" in res.stderr


def test_broken_plugin_warns_without_crashing(tmp_path: Path):
    site = make_distribution(tmp_path, "broken_dist", "broken_plugin", "raise ImportError('no such dep')",
                             {"broken": "broken_plugin"})
    res = run_cli(["list", "plugins"], site=site)
    assert res.returncode == 0, res.stderr
    assert "broken" in res.stdout and "FAILED TO LOAD" in res.stdout
    assert "failed to import" in res.stderr
    assert "convae" in res.stdout


def test_misspelt_hook_is_rejected(tmp_path: Path):
    source = '''
from adbench import hookimpl

@hookimpl
def adbench_register_method(register):
    pass
'''
    site = make_distribution(tmp_path, "typo_dist", "typo_plugin", source, {"typo": "typo_plugin"})
    res = run_cli(["list", "methods"], site=site)
    assert res.returncode != 0
    assert "adbench_register_method" in res.stderr and "typo" in res.stderr


def test_trace_plugins_prints_hook_calls():
    res = run_cli(["list", "methods"], env={"ADBENCH_TRACE_PLUGINS": "1"})
    assert res.returncode == 0
    assert "adbench_register_methods" in res.stderr


def test_every_builtin_method_has_its_own_display_name_and_cites_its_paper():
    """The report's names and citations: one display name per built-in method, each published
    method with a BibTeX entry (the reference baseline has no paper), keys shared only by
    methods of the same paper (U-Net: smp's and Ronneberger's)."""
    from adbench import registry
    from adbench.citations import bibliography, bibtex_key

    methods = {e.name: e.obj for e in registry.methods().in_order()}
    shown = [m.display_name for m in methods.values()]
    assert all(shown) and len(set(shown)) == len(shown), shown
    keys = {name: bibtex_key(m.bibtex) for name, m in methods.items() if m.bibtex}
    assert set(methods) - set(keys) == {"convae"}
    assert keys["unet"] == keys["unet_ronneberger"] == "ronneberger2015unet"
    assert len(set(keys.values())) == len(keys) - 1
    bib = bibliography(m.bibtex for m in methods.values())
    assert bib.count("@") == len(set(keys.values())) and "{mishra2021vtadl," in bib
