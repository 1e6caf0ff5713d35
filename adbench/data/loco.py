"""MVTec LOCO's ground truth: channels (one PNG per defect of an image) and the category's
``defects_config.json``, read as MVTec's LOCO evaluation code reads them (``src/image.py``:
``DefectConfig``, ``GroundTruthChannel``, ``GroundTruthMap.read_from_png_dir``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetError


@dataclass(frozen=True)
class DefectConfig:
    """One entry of a LOCO category's ``defects_config.json``."""

    defect_name: str
    pixel_value: int
    saturation_threshold: float
    relative_saturation: bool

    def saturation_area(self, defect_area: int) -> int:
        """The area at which the channel's sPRO saturates (``GroundTruthChannel.get_saturation_area``)."""
        if self.relative_saturation:
            return int(self.saturation_threshold * defect_area)
        return int(min(self.saturation_threshold, defect_area))


def read_defects_config(path: Path) -> dict[int, DefectConfig]:
    """``defects_config.json`` as pixel value → entry; a malformed file or entry is an error
    naming the file, the entry and the rule (those of ``DefectConfig.__init__`` in the official code)."""
    try:
        entries = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}; restore it from the MVTec LOCO archive") from exc
    if not isinstance(entries, list):
        raise DatasetError(f"{path}: expected a JSON list of defect entries, got {type(entries).__name__}")
    out: dict[int, DefectConfig] = {}
    for i, e in enumerate(entries):
        try:
            entry = DefectConfig(str(e["defect_name"]), e["pixel_value"], e["saturation_threshold"],
                                 e["relative_saturation"])
        except (KeyError, TypeError) as exc:
            raise DatasetError(f"{path}: entry {i} lacks {exc}; each entry needs defect_name, pixel_value, "
                               f"saturation_threshold and relative_saturation") from None
        rel, thr = entry.relative_saturation, entry.saturation_threshold
        ok = (isinstance(entry.pixel_value, int) and 1 <= entry.pixel_value <= 255 and isinstance(rel, bool)
              and ((rel and isinstance(thr, float) and 0 < thr <= 1)
                   or (not rel and isinstance(thr, int) and not isinstance(thr, bool))))
        if not ok:
            raise DatasetError(f"{path}: entry {i} ({entry.defect_name!r}) is invalid: pixel_value must be an integer "
                               f"in 1..255, and saturation_threshold a float in (0, 1] when relative_saturation is "
                               f"true, else an integer area")
        out[entry.pixel_value] = entry
    return out


def read_channels(folder: Path, config: dict[int, DefectConfig]) -> list[tuple[np.ndarray, DefectConfig]]:
    """The ground-truth channels of one image: every PNG of ``folder`` (sorted), each holding
    one defect value and zeros (``GroundTruthChannel.create_from_integer_array``)."""
    from PIL import Image

    out = []
    for png in sorted(Path(folder).glob("*.png")):
        with Image.open(png) as im:
            a = np.asarray(im)
        values = sorted(int(v) for v in np.unique(a))
        defect = values[-1]
        if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer) or values not in ([defect], [0, defect]) \
                or defect == 0:
            raise DatasetError(f"ground-truth channel {png} must be a single-channel integer image holding 0 and "
                               f"one defect value, found values {values[:6]}")
        if defect not in config:
            raise DatasetError(f"ground-truth channel {png} has pixel value {defect}, which defects_config.json "
                               f"does not list (it lists {sorted(config)})")
        out.append((a.astype(bool), config[defect]))
    if not out:
        raise DatasetError(f"ground-truth folder {folder} holds no .png channel")
    return out


