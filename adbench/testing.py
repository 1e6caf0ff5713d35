"""``MethodContractTests``: the shared contract test every method plugin subclasses.

Like segmentation_models_pytorch's model testers: one line per plugin,

    class TestMyMethod(MethodContractTests):
        method_name = "mymethod"

checks registration, ``fit`` on a tiny synthetic split, ``model()`` output shapes, dtypes
and finiteness, that scores depend on the input, determinism for a seed, a checkpoint
round trip, ONNX export (or an explained refusal) and that the cost profiler runs.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from . import registry
from .method import FIDELITY, PROFILES, AnomalyOutput, Method, MethodConfig, RunContext, TrainData


def tiny_synthetic_split(root: Path, size: int, track: str = "unsupervised", category: str = "wood",
                         seed: int = 0) -> tuple[TrainData, Any]:
    """A few images of one synthetic category at ``size`` px: (train data, test tensors)."""
    from .data import synthetic
    from .data.adapters import MVTecAD
    from .config import DatasetSpec
    from .data.loading import load_samples
    from .protocol.splits import supervised_split, unsupervised_split

    tree = synthetic.ensure_generated(root, categories=[category], seed=seed, size=max(size, 32), n_train=8,
                                      n_test_good=3, n_per_defect=3)
    adapter = MVTecAD(DatasetSpec("tiny", "mvtec_ad", root=str(tree)))
    train, test = adapter.samples(category, "train"), adapter.samples(category, "test")
    split = (supervised_split(train, test, seed=seed, category=category, k=1) if track == "supervised"
             else unsupervised_split(train, test))
    tr, te = load_samples(split.train, size, use_cache=False), load_samples(split.test, size, use_cache=False)
    return TrainData(tr.float_images(), tr.labels, tr.masks, tr.defect_types), te


class MethodContractTests:
    """Subclass with ``method_name = "..."``; override ``profile``/``overrides`` if needed."""

    method_name: str = ""
    profile: str = "smoke"
    overrides: dict[str, Any] = {}
    #: set False for a method whose export is known to fail; the refusal must still be explained
    onnx_expected: bool = True
    atol: float = 1e-4

    # -- fixtures ---------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def method_cls(cls) -> type[Method]:
        return registry.methods().get(cls.method_name).obj

    @pytest.fixture(scope="class")
    @classmethod
    def cfg(cls, method_cls: type[Method]) -> MethodConfig:
        return method_cls.config_for(cls.profile, cls.overrides)

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls, method_cls: type[Method], cfg: MethodConfig, tmp_path_factory: pytest.TempPathFactory):
        return tiny_synthetic_split(tmp_path_factory.mktemp("tiny"), cfg.image_size, method_cls.track)

    @classmethod
    def _fit(cls, method_cls: type[Method], cfg: MethodConfig, train: TrainData, tmp: Path, seed: int = 0):
        torch.manual_seed(seed)
        method = method_cls(cfg, RunContext(device="cpu", seed=seed, profile=cls.profile, track=method_cls.track))
        method.build()  # right after the seed, as the cell runner does
        return method, method.fit(train)

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, method_cls, cfg, data, tmp_path_factory):
        return cls._fit(method_cls, cfg, data[0], tmp_path_factory.mktemp("work"))

    def _run(self, model: torch.nn.Module, images: torch.Tensor) -> AnomalyOutput:
        with torch.inference_mode():
            return AnomalyOutput(*model.eval()(images))

    # -- the contract -----------------------------------------------------------------
    def test_registered(self, method_cls: type[Method]) -> None:
        assert issubclass(method_cls, Method) and method_cls.name == self.method_name
        assert set(PROFILES) <= set(method_cls.profiles), "smoke, quick and paper profiles are required"
        for name in method_cls.profiles:  # builds the typed config: a missing or mistyped key fails here
            assert method_cls.config_for(name).image_size > 0, f"profile {name} needs a positive image_size"
        assert method_cls.track in method_cls.tracks
        assert method_cls.description, "a one-line description for `adbench list methods`"
        assert method_cls.fidelity in FIDELITY, f"fidelity must be one of {FIDELITY}"
        for name in method_cls.profiles:  # every declared weights file has a name and a place in a cache
            for w in method_cls.required_weights(method_cls.config_for(name)):
                assert w.name and w.location().name, f"profile {name}: weights {w!r} need a name and a file"

    def test_display_name_and_citation(self, method_cls: type[Method]) -> None:
        """What tables show and cite: a short display name, and a BibTeX entry that parses (or
        none, for a method without a publication)."""
        from .citations import bibtex_key

        shown = method_cls.display_name or method_cls.name
        assert shown.strip() == shown and 0 < len(shown) <= 24, f"display name {shown!r}: 1–24 characters"
        if method_cls.bibtex:
            key = bibtex_key(method_cls.bibtex)  # raises with what is wrong
            assert key.isascii() and " " not in key

    def test_every_profile_key_is_typed(self, method_cls: type[Method]) -> None:
        """Each profile key is an annotated key of the method's config class, so its type and
        allowed values are checked before a run (``--set`` included); an undeclared key fails."""
        from .method import _typed_keys

        typed = _typed_keys(method_cls.config_class)
        for name, profile in method_cls.profiles.items():
            untyped = sorted(set(profile) - set(typed))
            assert not untyped, (f"profile {name} of {method_cls.name}: {', '.join(untyped)} not declared in "
                                 f"{method_cls.config_class.__name__} (annotate each key with its type)")

    def test_fit_report(self, fitted, cfg) -> None:
        """``fit`` reports what it did: the profile's epoch budget exactly, when it has one."""
        from .method import FitReport

        _, report = fitted
        assert isinstance(report, FitReport), f"fit must return a FitReport, got {type(report).__name__}"
        if cfg.epochs is not None:
            assert report.epochs == cfg.epochs, f"trained {report.epochs} epochs; the profile says {cfg.epochs}"
        assert report.wall_s >= 0
        assert all(torch.isfinite(torch.tensor(report.losses))) if report.losses else True

    def test_output_shapes_dtypes_finite(self, method_cls, fitted, data) -> None:
        method, _ = fitted
        images = data[1].float_images()[:4]
        out = self._run(method.model(), images)
        assert out.image_scores.shape == (4,) and out.image_scores.dtype.is_floating_point
        assert torch.isfinite(out.image_scores).all()
        if method_cls.produces_maps:
            assert out.anomaly_maps is not None
            assert out.anomaly_maps.shape == (4, *images.shape[-2:])
            assert out.anomaly_maps.dtype.is_floating_point and torch.isfinite(out.anomaly_maps).all()
        else:
            assert out.anomaly_maps is None

    def test_scores_depend_on_input(self, fitted, data) -> None:
        method, _ = fitted
        images = data[1].float_images()
        scores = self._run(method.model(), images).image_scores
        assert scores.std() > 0, "every test image got the same score"

    def test_deterministic_for_a_seed(self, method_cls, cfg, data, tmp_path) -> None:
        images = data[1].float_images()[:4]
        a = self._run(self._fit(method_cls, cfg, data[0], tmp_path / "a")[0].model(), images)
        b = self._run(self._fit(method_cls, cfg, data[0], tmp_path / "b")[0].model(), images)
        torch.testing.assert_close(a.image_scores, b.image_scores, atol=self.atol, rtol=1e-3)

    def test_checkpoint_round_trip(self, method_cls, cfg, fitted, data, tmp_path) -> None:
        method, _ = fitted
        path = tmp_path / "ckpt.pt"
        torch.save(method.state_dict(), path)
        fresh = method_cls(cfg, RunContext(device="cpu", profile=self.profile))
        fresh.load_state_dict(torch.load(path, weights_only=True))
        images = data[1].float_images()[:4]
        torch.testing.assert_close(self._run(fresh.model(), images).image_scores,
                                   self._run(method.model(), images).image_scores)

    def test_onnx_export_or_explained_refusal(self, fitted, cfg) -> None:
        from .costs.onnx_export import export_and_check

        method, _ = fitted
        size = cfg.image_size
        res = export_and_check(copy.deepcopy(method.model()), torch.rand(1, 3, size, size), reps=2)
        if self.onnx_expected:
            assert res["onnx_ok"], res.get("onnx_error")
            assert res["onnx_max_abs_err"] < 1e-3
        else:
            assert res["onnx_ok"] or res["onnx_error"], "a refusal must say why"

    # -- stored reference outputs (smp's model testers keep them too) -------------------
    #: where a plugin's reference outputs live: next to its test module
    reference_file_name: str = "reference_outputs.json"
    reference_rtol: float = 1e-4

    def _reference_outputs(self, method_cls: type[Method], cfg: MethodConfig, fitted: Any) -> dict[str, Any]:
        """The fresh pipeline (weights from seed 0) on a seeded input: image scores and map
        statistics, to compare against the stored ones. A method whose pipeline means nothing
        before ``fit`` (``costs_after_fit``: a memory bank, a fitted Gaussian) is taken fitted
        on the tiny split with seed 0; no gradient step is involved there."""
        if method_cls.costs_after_fit:
            method = fitted[0]
        else:
            torch.manual_seed(0)
            method = method_cls(cfg, RunContext(device="cpu", seed=0, profile=self.profile, track=method_cls.track))
            method.build()
        size = cfg.image_size
        x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
        out = self._run(method.model(), x)
        ref: dict[str, Any] = {"image_scores": [float(v) for v in out.image_scores.double()]}
        if out.anomaly_maps is not None:
            maps = out.anomaly_maps.double()
            ref.update(map_mean=float(maps.mean()), map_std=float(maps.std()), map_max=float(maps.max()))
        return ref

    def test_reference_outputs(self, method_cls, cfg, fitted) -> None:
        """A change that alters the untrained network's output fails here, instead of passing
        silently. ``ADBENCH_WRITE_REFERENCES=1`` (re)writes the stored values; a plugin
        without a stored file skips, saying how to make one."""
        path = Path(inspect.getfile(type(self))).with_name(self.reference_file_name)
        stored = json.loads(path.read_text()) if path.is_file() else {}
        key = f"{self.method_name}/{self.profile}" + (f"/{json.dumps(self.overrides, sort_keys=True)}"
                                                      if self.overrides else "")
        got = self._reference_outputs(method_cls, cfg, fitted)
        if os.environ.get("ADBENCH_WRITE_REFERENCES") == "1":
            stored[key] = got
            path.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
            return
        if key not in stored:
            pytest.skip(f"no reference outputs for {key} in {path}; store them with ADBENCH_WRITE_REFERENCES=1")
        want = stored[key]
        assert set(got) == set(want), f"{key}: outputs {sorted(got)} but stored {sorted(want)}"
        for name, value in want.items():
            torch.testing.assert_close(torch.tensor(got[name], dtype=torch.float64),
                                       torch.tensor(value, dtype=torch.float64), rtol=self.reference_rtol,
                                       atol=self.reference_rtol * 1e-2, msg=lambda m: f"{key} {name}: {m}")

    def test_model_before_fit_and_cost_profiler(self, method_cls, cfg, tmp_path) -> None:
        """``model()`` works before ``fit`` (profiling needs no data), and the profiler runs."""
        from .costs.measure import measure_model

        model = method_cls(cfg, RunContext(device="cpu", profile=self.profile)).model()
        res = measure_model(model, cfg.image_size, min_time=0.01, onnx=False,
                            train_batch=int(cfg.get("batch_size", 1)))
        s = res["summary"]
        # a non-parametric method (buffers only) has no parameters but a non-zero size
        assert 0 <= s["params_inference"] <= s["params_total"] and s["model_size_mb"] > 0
        assert s["gmacs"] >= 0
        # memory is a measured peak or n/a with its reason, never a silent 0
        for key in ("forward_mb", "backward_mb"):
            assert (s[key] or 0) > 0 or s.get("memory_error") or s.get("memory_note"), (key, s)
        assert res["latency"][0]["status"] == "ok" and res["latency"][0]["latency_reps"] >= 20
