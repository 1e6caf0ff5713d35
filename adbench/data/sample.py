"""What adapters return: references to images on disk, decoded only by the loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


class DatasetError(Exception):
    """A data set that cannot be used as configured; the message says where and how to fix it."""


class DatasetNotConfigured(DatasetError):
    """The data set's root is unset or missing; ``run all`` skips it with this message."""


@dataclass(frozen=True)
class Sample:
    """One image: label 0 (normal) or 1 (anomalous), its defect type and optional mask file."""

    path: Path
    label: int
    defect_type: str
    mask_path: Path | None = None

    def load_image(self) -> np.ndarray:
        """uint8 ``(H,W,3)``; grey and palette images become 3 channels."""
        return read_rgb(self.path)

    def load_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """bool ``(H,W)``; an all-False mask when there is no mask file."""
        if self.mask_path is None:
            return np.zeros(shape, dtype=bool)
        return read_mask(self.mask_path)


def read_rgb(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as exc:
        raise DatasetError(
            f"cannot read image {path}: {exc}. Replace or delete the file and run "
            f"`adbench data check` again."
        ) from exc


def read_mask(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L")) > 0
    except Exception as exc:
        raise DatasetError(
            f"cannot read mask {path}: {exc}. Replace or delete the file and run "
            f"`adbench data check` again."
        ) from exc
