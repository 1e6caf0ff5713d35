"""What adapters return: references to images on disk, decoded only by the loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


from ..errors import DatasetError, DatasetNotConfigured  # noqa: F401  (re-exported: adapters raise them)


@dataclass(frozen=True)
class Sample:
    """One image: label 0 (normal) or 1 (anomalous), its defect type and optional mask: a file,
    or a folder of ground-truth channels (MVTec LOCO: one PNG per defect, holding that defect's
    value; the mask is their union). ``defects_config``: the JSON file that gives each channel
    value its saturation (MVTec LOCO's ``defects_config.json``), for AU-sPRO."""

    path: Path
    label: int
    defect_type: str
    mask_path: Path | None = None
    defects_config: Path | None = None

    @property
    def mask_files(self) -> list[Path]:
        """The mask's files: the channels of a mask folder (sorted), or the one mask file."""
        if self.mask_path is None:
            return []
        return sorted(self.mask_path.glob("*.png")) if self.mask_path.is_dir() else [self.mask_path]

    def load_image(self) -> np.ndarray:
        """uint8 ``(H,W,3)``; grey and palette images become 3 channels, deep images are scaled."""
        return read_rgb(self.path)

    def load_mask(self, shape: tuple[int, int], warn: bool = True) -> np.ndarray:
        """bool ``(H,W)`` of the image's ``shape``; an all-False mask when there is no mask file.
        With ``warn=False`` the values are not surveyed (no note is wanted): only thresholded."""
        return self.load_mask_noted(shape, warn, survey=warn)[0]

    def load_mask_noted(self, shape: tuple[int, int], warn: bool = True,
                        survey: bool = True) -> tuple[np.ndarray, str | None]:
        """The mask and its decode note (see :func:`read_mask_noted`; none without ``survey``);
        a mask file of another size than its image's ``shape`` (H, W) is an error naming both files."""
        if self.mask_path is None:
            return np.zeros(shape, dtype=bool), None
        if self.mask_path.is_dir():  # channels hold defect ids, not 0/255: their union, with no note
            files = self.mask_files
            if not files:
                raise DatasetError(f"ground-truth folder {self.mask_path} of anomalous image {self.path} holds no "
                                   f".png channel; restore it from the original archive")
            mask = np.zeros(shape, dtype=bool)
            for f in files:
                mask |= self._sized(read_mask_values(f) > 0, f, shape)
            return mask, None
        mask, note = read_mask_noted(self.mask_path, warn) if survey else (read_mask_values(self.mask_path) > 0, None)
        return self._sized(mask, self.mask_path, shape), note

    def _sized(self, mask: np.ndarray, path: Path, shape: tuple[int, int]) -> np.ndarray:
        if mask.shape != tuple(shape):
            raise DatasetError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]} but image {self.path} "
                               f"is {shape[1]}x{shape[0]}; they must match")
        return mask


#: note recorded for an image whose samples had more than 8 bits
HIGH_BIT_DEPTH_NOTE = "more than 8 bits per sample, scaled to 8 bits by the full range of its type"


def read_rgb(path: Path) -> np.ndarray:
    """uint8 ``(H,W,3)`` with correct values for 1-, 8-, 16- and 32-bit grey, RGB, RGBA and
    palette images in any format Pillow reads (PNG, TIFF, BMP, JPEG, ...)."""
    return read_rgb_noted(path)[0]


def read_rgb_noted(path: Path) -> tuple[np.ndarray, str | None]:
    """The image as uint8 ``(H,W,3)``, and a note when its samples had more than 8 bits.

    Pillow's ``convert("RGB")`` clips 16-bit grey to 255 (an all-white image), so deep
    images are scaled here instead: by 255 / 65535 for 16-bit, 255 / 2³² − 1 for 32-bit
    integers; float images must already lie in [0, 1]. Alpha is dropped, palettes expanded.
    """
    try:
        with Image.open(path) as im:
            im.load()
            return _to_rgb8(im)
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(
            f"cannot read image {path}: {exc}. Replace or delete the file and run "
            f"`adbench data check` again."
        ) from exc


def _to_rgb8(im: Image.Image) -> tuple[np.ndarray, str | None]:
    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im)
        if mode == "F":
            if np.nanmin(a) < 0 or np.nanmax(a) > 1:
                raise DatasetError(f"cannot read image {im.filename}: a floating-point image must hold values "
                                   f"in [0, 1], found {np.nanmin(a):g}..{np.nanmax(a):g}; convert it to 8- or "
                                   f"16-bit first")
            grey = np.round(np.nan_to_num(a) * 255.0)
        else:
            top = 65535.0 if mode.startswith("I;16") or (a.min() >= 0 and a.max() <= 65535) else 2.0**32 - 1
            grey = np.round(a.astype(np.float64) * (255.0 / top))
        grey = grey.astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2), HIGH_BIT_DEPTH_NOTE
    if mode in ("RGB", "RGBA", "RGBX", "L", "LA", "P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(im.convert("RGB")), None
    raise DatasetError(f"cannot read image {im.filename}: unsupported pixel mode {mode!r}; save it as 8- or "
                       f"16-bit grey or RGB (PNG or TIFF)")


#: note recorded for a mask with values other than 0 and 255 (or 0/1, 0/65535)
NON_BINARY_MASK_NOTE = "mask with values other than 0 and 255, thresholded at > 0"


def is_binary(values: set[int]) -> bool:
    """A mask written as 0/255 (8-bit), 0/1 or 0/65535 (16-bit)."""
    return any(values <= ok for ok in ({0, 255}, {0, 1}, {0, 65535}))


def read_mask(path: Path) -> np.ndarray:
    """bool ``(H,W)``: every pixel above 0 is anomalous (deep masks are read correctly too)."""
    return read_mask_noted(path)[0]


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header (nothing is decoded)."""
    try:
        with Image.open(path) as im:
            return im.size
    except Exception as exc:
        raise DatasetError(f"cannot read image {path}: {exc}. Replace or delete the file and run "
                           f"`adbench data check` again.") from exc


def read_mask_values(path: Path) -> np.ndarray:
    """The mask file's values: 8-bit grey, or the file's own type for deeper masks."""
    try:
        with Image.open(path) as im:
            im.load()
            deep = im.mode.startswith("I;16") or im.mode in ("I", "F")
            return np.asarray(im if deep or im.mode == "L" else im.convert("L"))
    except Exception as exc:
        raise DatasetError(
            f"cannot read mask {path}: {exc}. Replace or delete the file and run "
            f"`adbench data check` again."
        ) from exc


def read_mask_noted(path: Path, warn: bool = True) -> tuple[np.ndarray, str | None]:
    """The mask thresholded at > 0, and a note (with a warning naming the file and the
    values seen) when it is not a plain binary mask."""
    a = read_mask_values(path)
    values = ({int(v) for v in np.flatnonzero(np.bincount(a.ravel(), minlength=256))} if a.dtype == np.uint8
              else {int(v) for v in np.unique(a)[:1000]})  # a histogram is 3x faster than a sort for 8 bits
    if is_binary(values):
        return a > 0, None
    if not warn:
        return a > 0, NON_BINARY_MASK_NOTE
    import sys

    print(f"warning: mask {path} holds values {sorted(values)[:8]}{' …' if len(values) > 8 else ''} other than "
          f"0 and 255; every pixel above 0 counts as anomalous", file=sys.stderr)
    return a > 0, NON_BINARY_MASK_NOTE
