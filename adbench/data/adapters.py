"""Data set adapters: they list and validate the files of a published layout, nothing more.

Decoding, resizing and caching happen once, in :mod:`adbench.data.loading`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..config import DatasetSpec, cache_dir
from .sample import DatasetError, DatasetNotConfigured, Sample
from . import synthetic

IMAGE_EXTS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class Problem:
    """One finding of ``adbench data check``: ``level`` is "error" or "warning"."""

    level: str
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


class DatasetAdapter:
    """Base class: subclasses set ``name``, ``DEFAULT_CATEGORIES`` and implement ``samples``."""

    name: ClassVar[str] = ""
    DEFAULT_CATEGORIES: ClassVar[tuple[str, ...]] = ()
    #: environment variable named in the "how to configure" message
    ROOT_ENV: ClassVar[str] = ""

    def __init__(self, spec: DatasetSpec):
        self.spec = spec

    def root(self) -> Path:
        """The validated root folder; raises :class:`DatasetNotConfigured` with the fix."""
        path = self.spec.root_path
        where = self.spec.source or "datasets.toml"
        hint = (f"set {self.ROOT_ENV}=/path/to/the/extracted/data or edit root = \"...\" in "
                f"[{self.spec.name}] of {where}")
        if path is None:
            raise DatasetNotConfigured(
                f"data set {self.spec.name!r}: root {self.spec.root!r} is not set; {hint}")
        if not path.is_dir():
            raise DatasetNotConfigured(
                f"data set {self.spec.name!r}: root {path} does not exist; {hint}")
        return path

    def categories(self) -> list[str]:
        return list(self.spec.categories or self.DEFAULT_CATEGORIES)

    def samples(self, category: str, split: str) -> list[Sample]:
        raise NotImplementedError

    def check(self, category: str) -> list[Problem]:
        """Every problem with its file path; the default only checks that listing works."""
        try:
            train, test = self.samples(category, "train"), self.samples(category, "test")
        except DatasetError as exc:
            return [Problem("error", self.root() / category, str(exc))]
        problems = []
        if not train:
            problems.append(Problem("error", self.root() / category, "no training images"))
        if not any(s.label for s in test):
            problems.append(Problem("error", self.root() / category, "no anomalous test images"))
        return problems


class MVTecAD(DatasetAdapter):
    """``<root>/<category>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png}``."""

    name = "mvtec_ad"
    ROOT_ENV = "MVTEC_AD_ROOT"
    DEFAULT_CATEGORIES = ("bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather",
                          "metal_nut", "pill", "screw", "tile", "toothbrush", "transistor",
                          "wood", "zipper")

    def category_dir(self, category: str) -> Path:
        folder = self.root() / category
        if not folder.is_dir():
            raise DatasetError(f"data set {self.spec.name!r}: category folder {folder} is missing; "
                               f"expected the MVTec AD layout <root>/{category}/train/good/*.png")
        return folder

    def samples(self, category: str, split: str) -> list[Sample]:
        base = self.category_dir(category)
        if split == "train":
            folder = base / "train" / "good"
            if not folder.is_dir():
                raise DatasetError(f"{folder} is missing: MVTec AD keeps training images in "
                                   f"<root>/{category}/train/good/")
            return [Sample(p, 0, "good") for p in list_images(folder)]
        test = base / "test"
        if not test.is_dir():
            raise DatasetError(f"{test} is missing: MVTec AD keeps test images in "
                               f"<root>/{category}/test/<defect>/")
        out = []
        for defect_dir in sorted(d for d in test.iterdir() if d.is_dir()):
            defect = defect_dir.name
            for img in list_images(defect_dir):
                if defect == "good":
                    out.append(Sample(img, 0, "good"))
                    continue
                mask = base / "ground_truth" / defect / f"{img.stem}_mask.png"
                if not mask.is_file():
                    raise DatasetError(f"mask {mask} for anomalous image {img} is missing; restore "
                                       f"it from the original archive or remove the image")
                out.append(Sample(img, 1, defect, mask))
        return out


class Synthetic(MVTecAD):
    """The embedded procedural data set, generated once into the cache in the MVTec layout."""

    name = "synthetic"
    DEFAULT_CATEGORIES = tuple(synthetic.CATEGORIES)

    def root(self) -> Path:
        if getattr(self, "_root", None) is None:
            self._root = self._generate()
        return self._root

    def _generate(self) -> Path:
        base = self.spec.root_path or cache_dir() / "synthetic"
        opts = self.spec.options
        return synthetic.ensure_generated(
            base,
            categories=self.categories(),
            seed=int(opts.get("seed", 0)),
            size=int(self.spec.image_size or 128),
            n_train=int(opts.get("n_train", 60)),
            n_test_good=int(opts.get("n_test_good", 16)),
            n_per_defect=int(opts.get("n_per_defect", 10)),
        )
