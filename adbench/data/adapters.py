"""Data set adapters: they list and validate the files of a published layout, nothing more.

Each adapter implements ``scan(category, split) -> (samples, problems)``. ``samples``
raises on the first error-level problem (the run cannot go on); ``check`` (``adbench data
check``) collects every problem of every file, with its path, plus per-file reading checks.
Decoding, resizing and caching happen once, in :mod:`adbench.data.loading`.
"""

from __future__ import annotations

import csv
import os
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from PIL import Image

from ..config import DatasetSpec, cache_dir
from .sample import DatasetError, DatasetNotConfigured, Sample, is_binary, read_mask_values
from . import synthetic

IMAGE_EXTS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")
IGNORED = {".DS_Store", "Thumbs.db", "license.txt", "readme.txt", "LICENSE.txt", "README.txt"}


@dataclass
class Problem:
    """One finding of ``adbench data check``: ``level`` is "error" or "warning"."""

    level: str
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


def list_images(folder: Path, problems: list[Problem] | None = None) -> list[Path]:
    """Image files of a folder, sorted; other files are reported as stray (warning)."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in IMAGE_EXTS:
            out.append(p)
        elif problems is not None and p.name not in IGNORED and not p.name.startswith("."):
            problems.append(Problem("warning", p, "stray entry: not an image, ignored"))
    return out


class DatasetAdapter:
    """Base class: subclasses set ``name``, ``DEFAULT_CATEGORIES`` and implement ``scan``."""

    name: ClassVar[str] = ""
    DEFAULT_CATEGORIES: ClassVar[tuple[str, ...]] = ()
    #: environment variable named in the "how to configure" message
    ROOT_ENV: ClassVar[str] = ""
    LAYOUT: ClassVar[str] = ""
    #: the splits ``scan`` knows; a "validation" split is optional (see :meth:`validation`)
    SPLITS: ClassVar[tuple[str, ...]] = ("train", "test")
    #: False for a catalogue entry that is material for methods (DRAEM's texture source), not a
    #: benchmark: ``--dataset all`` leaves it out and naming it is an error
    benchmark: ClassVar[bool] = True

    def __init__(self, spec: DatasetSpec):
        self.spec = spec

    def root(self) -> Path:
        """The validated root folder; raises :class:`DatasetNotConfigured` with the fix."""
        path = self.spec.root_path
        where = self.spec.source or "datasets.toml"
        from_env = self.ROOT_ENV and self.ROOT_ENV in (self.spec.root or "")
        env = f"set {self.ROOT_ENV}=/path/to/the/extracted/data or " if from_env or path is None else ""
        hint = f"{env}edit root = \"...\" in [{self.spec.name}] of {where}"
        if path is None:
            raise DatasetNotConfigured(f"data set {self.spec.name!r}: root {self.spec.root!r} is not set; {hint}")
        if path.exists() and not path.is_dir():
            raise DatasetNotConfigured(f"data set {self.spec.name!r}: root {path} is a file, not a folder; {hint}")
        if path.is_symlink() and not path.exists():
            raise DatasetNotConfigured(f"data set {self.spec.name!r}: root {path} is a symbolic link that leads "
                                       f"nowhere (broken, or a loop: {os.readlink(path)}); point it at the extracted "
                                       f"data, or {hint}")
        if not path.is_dir():
            raise DatasetNotConfigured(f"data set {self.spec.name!r}: root {path} does not exist; {hint}")
        return path

    def root_status(self) -> str:
        """Where the data are, for ``adbench list datasets`` (does not generate or scan anything)."""
        path = self.spec.root_path
        if path is None:
            return f"{self.spec.root!r} (not set)"
        return f"{path}" + ("" if path.is_dir() else " (missing)")

    def categories(self) -> list[str]:
        return list(self.spec.categories or self.DEFAULT_CATEGORIES)

    def category_dir(self, category: str) -> Path:
        """``<root>/<category>``; a missing folder is an error that shows the expected layout."""
        folder = self.root() / category
        if not folder.is_dir():
            raise DatasetError(f"data set {self.spec.name!r}: category folder {folder} is missing; "
                               f"expected the layout {self.LAYOUT}")
        return folder

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        raise NotImplementedError

    def samples(self, category: str, split: str) -> list[Sample]:
        samples, problems = self.scan(category, split)
        errors = [p for p in problems if p.level == "error"]
        if errors:
            more = f" (and {len(errors) - 1} more; run `adbench data check {self.spec.name}`)" if len(errors) > 1 else ""
            raise DatasetError(f"{errors[0]}{more}")
        if not samples:
            raise DatasetError(f"data set {self.spec.name!r}: no {split} images in {self.category_dir(category)}; "
                               f"expected the layout {self.LAYOUT}")
        return samples

    def validation(self, category: str) -> list[Sample]:
        """The normal validation images the data set declares for a category (MVTec AD 2, LOCO
        and the synthetic set: ``validation/good``); [] when it declares none."""
        samples, problems = self.scan(category, "validation") if "validation" in self.SPLITS else ([], [])
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise DatasetError(str(errors[0]))
        return samples

    def check(self, category: str) -> list[Problem]:
        """Every problem of a category with its file path, including unreadable images,
        masks whose size differs from their image and empty masks of anomalous images."""
        problems: list[Problem] = []
        found = []
        for split in self.SPLITS:
            try:
                samples, probs = self.scan(category, split)
            except DatasetError as exc:
                return [Problem("error", self.root(), str(exc))]
            problems += probs
            found += samples
            if not samples and split != "validation":
                problems.append(Problem("error", self.root() / category, f"empty category: no {split} images"))
            elif split == "test":
                problems += [Problem("error", self.root() / category, f"the test split holds no {kind} image: no "
                                                                      f"ranking metric is defined on it; add {kind} "
                                                                      f"test images")
                             for kind in missing_classes(samples)]
        for s in found:
            problems += check_sample(s)
        return problems


def missing_classes(samples: list[Sample]) -> list[str]:
    """"normal" and/or "anomalous" when ``samples`` hold no image of that class: a test split
    needs both, as every ranking metric compares them (``data check`` and the runner ask)."""
    return [kind for label, kind in ((0, "normal"), (1, "anomalous")) if not any(s.label == label for s in samples)]


def missing_mask(mask: Path, image: Path) -> Problem:
    """The error of an anomalous image whose mask file is not where its layout puts it."""
    return Problem("error", mask, f"missing mask of anomalous image {image}; restore it from the original archive "
                                  f"or remove the image")


def normal_samples(folder: Path, problems: list[Problem], missing: str) -> list[Sample]:
    """The normal images of ``folder``; a missing folder adds the error ``missing``."""
    if not folder.is_dir():
        problems.append(Problem("error", folder, missing))
        return []
    return [Sample(p, 0, "good") for p in list_images(folder, problems)]


#: an image side below this many pixels is reported: it would be scaled up many times over
TINY_SIDE = 8


def check_sample(s: Sample) -> list[Problem]:
    try:
        with Image.open(s.path) as im:
            size = im.size
            im.verify()  # must come right after open
        with Image.open(s.path) as im:
            orientation = im.getexif().get(0x0112, 1)
    except Exception as exc:
        return [Problem("error", s.path, f"unreadable image ({type(exc).__name__}: {exc})")]
    notes = []
    if orientation not in (1, None):
        notes.append(Problem("warning", s.path, f"EXIF orientation tag {orientation}: adbench uses the pixels as "
                                                f"stored, unrotated, as it does the mask; rotate the file itself if "
                                                f"its pixels are not upright"))
    if min(size) < TINY_SIDE:
        notes.append(Problem("warning", s.path, f"image is only {size[0]}x{size[1]} px: every method scales it up "
                                                f"to its input size; check that it belongs to this data set"))
    if s.mask_path is None:
        return notes
    return notes + _check_mask(s, size)


def _check_mask(s: Sample, size: tuple[int, int]) -> list[Problem]:
    if s.mask_path.is_dir():
        return check_channels(s, size)
    try:
        with Image.open(s.mask_path) as m:
            msize = m.size
            values = mask_values(m)
    except Exception as exc:
        return [Problem("error", s.mask_path, f"unreadable mask ({type(exc).__name__}: {exc})")]
    if msize != size:
        return [Problem("error", s.mask_path, f"mask is {msize[0]}x{msize[1]} but its image {s.path.name} "
                                              f"is {size[0]}x{size[1]}")]
    problems = []
    if not is_binary(values):
        problems.append(Problem("warning", s.mask_path, f"mask holds values {sorted(values)[:8]} other than 0 and "
                                                         f"255; thresholded at > 0 (every non-zero pixel is anomalous)"))
    if values <= {0} and s.label == 1:
        problems.append(Problem("warning", s.mask_path, "empty mask for an anomalous image: it counts for image "
                                                        "metrics but adds no anomalous pixels"))
    return problems


def check_channels(s: Sample, size: tuple[int, int]) -> list[Problem]:
    """A folder of ground-truth channels (MVTec LOCO): each one readable, of its image's size,
    holding 0 and one defect value that the category's ``defects_config.json`` lists."""
    from .loco import read_channels, read_defects_config

    files = s.mask_files
    if not files:
        return [Problem("error", s.mask_path, f"no .png channel for anomalous image {s.path.name}; restore the "
                                              f"folder from the original archive")]
    problems = []
    for f in files:
        try:
            with Image.open(f) as m:
                if m.size != size:
                    problems.append(Problem("error", f, f"channel is {m.size[0]}x{m.size[1]} but its image "
                                                        f"{s.path.name} is {size[0]}x{size[1]}"))
        except Exception as exc:
            problems.append(Problem("error", f, f"unreadable channel ({type(exc).__name__}: {exc})"))
    if problems or s.defects_config is None:
        return problems
    try:
        read_channels(s.mask_path, read_defects_config(s.defects_config))
    except DatasetError as exc:
        problems.append(Problem("error", s.mask_path, str(exc)))
    return problems


def mask_values(mask: Image.Image) -> set[int]:
    """The distinct values of a mask image (its first band)."""
    import numpy as np

    a = np.asarray(mask if mask.mode.startswith("I") or mask.mode in ("L", "1", "P") else mask.convert("L"))
    return {int(v) for v in np.unique(a)}


class MVTecAD(DatasetAdapter):
    """``<root>/<category>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png}``."""

    name = "mvtec_ad"
    ROOT_ENV = "MVTEC_AD_ROOT"
    SPLITS = ("train", "test", "validation")
    #: the mask file of an anomalous image ``<stem>``, in the order tried
    MASK_NAMES: ClassVar[tuple[str, ...]] = ("{stem}_mask.png",)
    LAYOUT = "<root>/<category>/train/good/*.png, test/<defect>/*.png, ground_truth/<defect>/<stem>_mask.png"
    DEFAULT_CATEGORIES = ("bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather",
                          "metal_nut", "pill", "screw", "tile", "toothbrush", "transistor", "wood", "zipper")

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        base = self.category_dir(category)
        problems: list[Problem] = []
        if split == "train":
            missing = "missing: MVTec AD keeps training images in train/good/"
            return normal_samples(base / "train" / "good", problems, missing), problems
        if split == "validation":  # MVTec AD has none; a tree in the MVTec AD 2 / LOCO way does
            folder = base / "validation" / "good"
            return ([Sample(p, 0, "good") for p in list_images(folder, problems)] if folder.is_dir() else []), problems
        test = base / "test"
        if not test.is_dir():
            return [], [Problem("error", test, "missing: MVTec AD keeps test images in test/<defect>/")]
        out = []
        for defect_dir in sorted(d for d in test.iterdir() if d.is_dir()):
            defect = defect_dir.name
            stems = {p.stem for p in list_images(defect_dir)}
            gt = base / "ground_truth" / defect
            for orphan in sorted(gt.glob("*_mask.png")) if defect != "good" and gt.is_dir() else []:
                if orphan.name[: -len("_mask.png")] not in stems:
                    problems.append(Problem("warning", orphan, f"mask without an image (no "
                                                               f"{orphan.name[: -len('_mask.png')]}.* in {defect_dir}); "
                                                               f"ignored"))
            for img in list_images(defect_dir, problems):
                if defect == "good":
                    out.append(Sample(img, 0, "good"))
                    continue
                found = [gt / name.format(stem=img.stem) for name in self.MASK_NAMES
                         if (gt / name.format(stem=img.stem)).is_file()]
                if not found:
                    problems.append(missing_mask(gt / self.MASK_NAMES[0].format(stem=img.stem), img))
                    continue
                out.append(Sample(img, 1, defect, found[0]))
        return out, problems


class MPDD(MVTecAD):
    """MPDD (metal parts): the MVTec AD layout, masks named ``<stem>_mask.png`` or ``<stem>.png``."""

    name = "mpdd"
    ROOT_ENV = "MPDD_ROOT"
    MASK_NAMES = ("{stem}_mask.png", "{stem}.png")
    LAYOUT = "<root>/<category>/train/good/*.png, test/<defect>/*.png, ground_truth/<defect>/<stem>[_mask].png"
    DEFAULT_CATEGORIES = ("bracket_black", "bracket_brown", "bracket_white", "connector", "metal_plate", "tubes")


class TrainValidationTest(DatasetAdapter):
    """A release with ``<category>/{train,validation}/good`` beside its own test layout (MVTec
    AD 2, MVTec LOCO): ``scan`` reads the two normal splits, ``scan_test`` the test split."""

    SPLITS = ("train", "test", "validation")
    #: the release's name in "missing" messages
    RELEASE: ClassVar[str] = ""

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        base = self.category_dir(category)
        if split == "test":
            return self.scan_test(base)
        problems: list[Problem] = []
        missing = f"missing: {self.RELEASE} keeps its {split} images in {split}/good/"
        return normal_samples(base / split / "good", problems, missing), problems

    def scan_test(self, base: Path) -> tuple[list[Sample], list[Problem]]:
        raise NotImplementedError


class MVTecAD2(TrainValidationTest):
    """MVTec AD 2 as it unpacks: ``<root>/<category>/{train/good, validation/good,
    test_public/{good, bad}, test_public/ground_truth/bad/<stem>_mask.png}``. ``test_private``
    and ``test_private_mixed`` have no public ground truth: they are not scored here (the
    MVTec benchmark server scores them)."""

    name = "mvtec_ad2"
    ROOT_ENV = "MVTEC_AD2_ROOT"
    RELEASE = "MVTec AD 2"
    LAYOUT = ("<root>/<category>/train/good/*.png, validation/good/*.png, test_public/{good,bad}/*.png, "
              "test_public/ground_truth/bad/<stem>_mask.png")
    DEFAULT_CATEGORIES = ("can", "fabric", "fruit_jelly", "rice", "sheet_metal", "vial", "wallplugs", "walnuts")

    def scan_test(self, base: Path) -> tuple[list[Sample], list[Problem]]:
        problems: list[Problem] = []
        public = base / "test_public"
        if not public.is_dir():
            return [], [Problem("error", public, "missing: MVTec AD 2 keeps its scored test images in "
                                                 "test_public/{good,bad}/")]
        out = [Sample(p, 0, "good") for p in list_images(public / "good", problems)] if (public / "good").is_dir() else []
        for img in list_images(public / "bad", problems) if (public / "bad").is_dir() else []:
            mask = public / "ground_truth" / "bad" / f"{img.stem}_mask.png"
            if not mask.is_file():
                problems.append(missing_mask(mask, img))
                continue
            out.append(Sample(img, 1, "bad", mask))
        return out, problems


class KSDD2(DatasetAdapter):
    """Kolektor Surface-Defect Dataset 2: ``<root>/{train,test}/<id>.png`` with ``<id>_GT.png``;
    an image is anomalous when its ground truth has any nonzero pixel. One category, ``ksdd2``;
    the anomalous training images are left out of unsupervised training like any anomaly."""

    name = "ksdd2"
    ROOT_ENV = "KSDD2_ROOT"
    LAYOUT = "<root>/{train,test}/<id>.png and <id>_GT.png"
    DEFAULT_CATEGORIES = ("ksdd2",)

    def category_dir(self, category: str) -> Path:
        if category not in self.DEFAULT_CATEGORIES:
            raise DatasetError(f"data set {self.spec.name!r} (KSDD2) has one category, 'ksdd2', not {category!r}")
        return self.root()

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        folder = self.category_dir(category) / split
        if not folder.is_dir():
            return [], [Problem("error", folder, f"missing: KSDD2 keeps its {split} images in {split}/")]
        problems: list[Problem] = []
        out = []
        for img in list_images(folder, problems):
            if img.stem.endswith("_GT"):
                continue
            gt = folder / f"{img.stem}_GT.png"
            if not gt.is_file():
                problems.append(Problem("error", gt, f"missing ground truth of {img}; restore it from the archive"))
                continue
            try:
                anomalous = bool(read_mask_values(gt).any())
            except DatasetError as exc:
                problems.append(Problem("error", gt, str(exc)))
                continue
            out.append(Sample(img, 1, "defect", gt) if anomalous else Sample(img, 0, "good", gt))
        return out, problems


class MVTecLOCO(TrainValidationTest):
    """``<root>/<category>/{train/good, validation/good, test/{good, logical_anomalies,
    structural_anomalies}}/NNN.png``, each anomalous image's channels in
    ``ground_truth/<type>/<NNN>/000.png, 001.png, …`` and the saturation of each defect in
    ``<category>/defects_config.json`` (MVTec LOCO AD as it unpacks)."""

    name = "mvtec_loco"
    ROOT_ENV = "MVTEC_LOCO_ROOT"
    RELEASE = "MVTec LOCO"
    LAYOUT = ("<root>/<category>/train/good/*.png, validation/good/*.png, test/{good,logical_anomalies,"
              "structural_anomalies}/*.png, ground_truth/<type>/<stem>/000.png…, defects_config.json")
    DEFAULT_CATEGORIES = ("breakfast_box", "juice_bottle", "pushpins", "screw_bag", "splicing_connectors")
    TYPES = ("logical_anomalies", "structural_anomalies")

    def scan_test(self, base: Path) -> tuple[list[Sample], list[Problem]]:
        problems: list[Problem] = []
        test, config = base / "test", base / "defects_config.json"
        if not test.is_dir():
            return [], [Problem("error", test, "missing: MVTec LOCO keeps test images in test/<type>/")]
        if not config.is_file():
            problems.append(Problem("error", config, "missing: MVTec LOCO gives each defect's saturation in "
                                                     "<category>/defects_config.json; restore it from the archive"))
        out = []
        for kind_dir in sorted(d for d in test.iterdir() if d.is_dir()):
            kind = kind_dir.name
            if kind != "good" and kind not in self.TYPES:
                problems.append(Problem("warning", kind_dir, f"unknown folder: MVTec LOCO's test types are good, "
                                                             f"{', '.join(self.TYPES)}; ignored"))
                continue
            for img in list_images(kind_dir, problems):
                if kind == "good":
                    out.append(Sample(img, 0, "good"))
                    continue
                channels = base / "ground_truth" / kind / img.stem
                if not channels.is_dir():
                    problems.append(Problem("error", channels, f"missing ground-truth folder of anomalous image "
                                                               f"{img}; restore it from the original archive"))
                    continue
                out.append(Sample(img, 1, kind, channels, config))
        return out, problems


class BTAD(DatasetAdapter):
    """BTAD (beanTech): ``<root>/<product>/{train/ok, test/ok, test/ko, ground_truth/ko}``.

    The public archive unpacks into ``BTech_Dataset_transformed/``; the root may be that
    folder or the one above it. Masks match their image by stem, whatever the extension
    (product 01: .bmp images, .png masks; 02: .png both; 03: .bmp both).
    """

    name = "btad"
    ROOT_ENV = "BTAD_ROOT"
    LAYOUT = "<root>/<product>/train/ok/, test/ok/, test/ko/, ground_truth/ko/<stem>.<bmp|png>"
    DEFAULT_CATEGORIES = ("01", "02", "03")

    def root(self) -> Path:
        path = super().root()
        inner = path / "BTech_Dataset_transformed"
        return inner if inner.is_dir() and not (path / "01").is_dir() else path

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        base = self.category_dir(category)
        problems: list[Problem] = []
        if split == "train":
            return normal_samples(base / "train" / "ok", problems,
                                  "missing: BTAD keeps training images in train/ok/"), problems
        out = normal_samples(base / "test" / "ok", problems, "missing: BTAD keeps normal test images in test/ok/")
        ko, gt = base / "test" / "ko", base / "ground_truth" / "ko"
        masks = {p.stem: p for p in list_images(gt, problems)} if gt.is_dir() else {}
        if not gt.is_dir():
            problems.append(Problem("error", gt, "missing: BTAD keeps masks in ground_truth/ko/"))
        images = list_images(ko, problems) if ko.is_dir() else []
        if not ko.is_dir():
            problems.append(Problem("error", ko, "missing: BTAD keeps anomalous test images in test/ko/"))
        for img in images:
            if img.stem not in masks:
                problems.append(Problem("error", gt / f"{img.stem}.*", f"missing mask of anomalous image {img}"))
                continue
            out.append(Sample(img, 1, "ko", masks.pop(img.stem)))
        for stem, mask in sorted(masks.items()):
            problems.append(Problem("warning", mask, "mask without an image in test/ko/ (stray)"))
        return out, problems


class VisA(DatasetAdapter):
    """VisA through the public split file ``<root>/split_csv/1cls.csv``
    (columns ``object,split,label,image,mask``; paths relative to the root)."""

    name = "visa"
    ROOT_ENV = "VISA_ROOT"
    LAYOUT = "<root>/split_csv/1cls.csv with columns object,split,label,image,mask"
    DEFAULT_CATEGORIES = ("candle", "capsules", "cashew", "chewinggum", "fryum", "macaroni1", "macaroni2",
                          "pcb1", "pcb2", "pcb3", "pcb4", "pipe_fryum")

    def _rows(self) -> list[dict[str, str]]:
        path = self.root() / "split_csv" / "1cls.csv"
        if not path.is_file():
            raise DatasetError(f"data set {self.spec.name!r}: {path} is missing; expected the layout {self.LAYOUT}")
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"object", "split", "label", "image", "mask"} - set(reader.fieldnames or [])
            if missing:
                raise DatasetError(f"{path}: missing columns {sorted(missing)}; expected object,split,label,image,mask")
            return list(reader)

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        root = self.root()
        out, problems = [], []
        for row in self._rows():
            if row["object"] != category or row["split"] != split:
                continue
            img = root / row["image"]
            anomalous = row["label"].strip().lower() in ("anomaly", "1", "bad")
            if not img.is_file():
                problems.append(Problem("error", img, "listed in split_csv/1cls.csv but missing"))
                continue
            mask = root / row["mask"] if anomalous and row.get("mask") else None
            if anomalous and (mask is None or not mask.is_file()):
                problems.append(Problem("error", mask or img, f"missing mask of anomalous image {img}"))
                continue
            out.append(Sample(img, int(anomalous), "anomaly" if anomalous else "good", mask))
        return out, problems


class Folder(DatasetAdapter):
    """A user's own product line: ``<root>/<category>/good/``, ``bad/`` (optionally
    ``bad/<defect>/``) and optional ``masks/<stem>.<ext>``.

    Normal images are split into train and test by a hash of their file name (fraction
    ``test_fraction``, default 0.2), so the split is stable when images are added. Every
    bad image is a test image; a bad image without a mask gets an empty mask (it counts
    for image metrics only) and a warning.
    """

    name = "folder"
    LAYOUT = "<root>/<category>/good/*, bad/* or bad/<defect>/*, optional masks/<stem>.*"

    def categories(self) -> list[str]:
        if self.spec.categories:
            return list(self.spec.categories)
        return sorted(p.name for p in self.root().iterdir() if (p / "good").is_dir())

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        base = self.root() / category
        good = base / "good"
        if not good.is_dir():
            raise DatasetError(f"data set {self.spec.name!r}: {good} is missing; expected the layout {self.LAYOUT}")
        problems: list[Problem] = []
        frac = float(self.spec.options.get("test_fraction", 0.2))

        def in_test(p: Path) -> bool:
            return int(hashlib.sha256(p.name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < frac

        goods = list_images(good, problems)
        if split == "train":
            return [Sample(p, 0, "good") for p in goods if not in_test(p)], problems
        out = [Sample(p, 0, "good") for p in goods if in_test(p)]
        masks_dir = base / "masks"
        masks = {p.stem: p for p in list_images(masks_dir, problems)} if masks_dir.is_dir() else {}
        bad = base / "bad"
        if not bad.is_dir():
            problems.append(Problem("error", bad, "missing: anomalous images go in bad/ or bad/<defect>/"))
            return out, problems
        groups = [(d.name, d) for d in sorted(bad.iterdir()) if d.is_dir()] or [("bad", bad)]
        if groups[0][1] != bad:
            list_images(bad, problems)  # loose files next to defect folders are stray
        for defect, folder in groups:
            for img in list_images(folder, problems if folder != bad or len(groups) == 1 else None):
                mask = masks.get(img.stem)
                if mask is None:
                    problems.append(Problem("warning", img, "anomalous image without a mask in masks/: it "
                                                            "counts for image metrics only"))
                out.append(Sample(img, 1, defect, mask))
        return out, problems


class Synthetic(MVTecAD):
    """The embedded procedural data set, generated once into the cache in the MVTec layout."""

    name = "synthetic"
    DEFAULT_CATEGORIES = tuple(synthetic.CATEGORIES)

    def root(self) -> Path:
        if getattr(self, "_root", None) is None:
            self._root = self._generate()
        return self._root

    def root_status(self) -> str:
        return "(generated into the cache)"

    def _generate(self) -> Path:
        base = self.spec.root_path or cache_dir() / "synthetic"
        opts = self.spec.options
        return synthetic.ensure_generated(
            base,
            categories=self.categories(),
            seed=int(opts.get("seed", 0)),
            size=int(self.spec.image_size or 128),
            n_train=int(opts.get("n_train", 60)),
            n_test_good=int(opts.get("n_test_good", 30)),
            n_per_defect=int(opts.get("n_per_defect", 10)),
            n_val=int(opts.get("n_val", 20)),
        )


class TextureSource(DatasetAdapter):
    """A folder of texture images (any depth) that augmentation-based methods paste as anomaly
    sources, e.g. DTD for DRAEM; not a benchmark (``benchmark = False``)."""

    name = "textures"
    ROOT_ENV = "DTD_ROOT"
    LAYOUT = "<root>/**/*.jpg|png (DTD: <root>/images/<class>/*.jpg)"
    benchmark = False

    def categories(self) -> list[str]:
        return []

    def images(self) -> list[Path]:
        """Every image under the root, sorted; an empty folder is an error naming the fix."""
        root = self.root()
        found = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())
        if not found:
            raise DatasetError(f"texture source {self.spec.name!r}: no images under {root}; expected {self.LAYOUT}. "
                               f"Fetch it with `adbench data download {self.spec.name} --to DIR`")
        return found

    def scan(self, category: str, split: str) -> tuple[list[Sample], list[Problem]]:
        raise DatasetError(f"{self.spec.name!r} is a texture source for augmentation, not a benchmark data set")
