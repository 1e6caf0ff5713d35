"""Outside images anomalib's models train with, from texture sources in datasets.toml:
DRAEM's anomaly source (DTD, or anomalib's own Perlin-noise fallback) and EfficientAD's
penalty images (Imagenette, or noise). Each choice is recorded in the row."""

from __future__ import annotations

import functools
import tempfile
from typing import Any

PERLIN = "perlin"
DTD = "dtd"
IMAGENETTE = "imagenette"
NOISE = "noise"


def texture_folder(name: str) -> tuple[str, list[Any]]:
    """The root of the catalogue's ``[name]`` texture source and its images, scanned once; a
    missing or empty folder fails here, naming the fix."""
    from adbench import registry
    from adbench.config import dataset_spec, load_catalogue

    textures = registry.adapter_for(dataset_spec(load_catalogue(), name))
    files = textures.images()
    return str(textures.root()), files


@functools.lru_cache(maxsize=None)
def _empty_folder() -> str:
    """One empty folder per process: anomalib finds no texture in it and uses Perlin noise."""
    return tempfile.mkdtemp(prefix="adbench-draem-no-textures-")


def anomaly_source(kind: str) -> tuple[str, str]:
    """DRAEM's anomaly source: the folder anomalib's ``Draem(dtd_dir=...)`` reads, and what the
    row records about it. Always an existing folder, so anomalib never downloads DTD: the
    configured DTD root, or an empty folder, with which its ``PerlinAnomalyGenerator`` pastes
    Perlin noise as the anomaly texture."""
    if kind == DTD:
        root, files = texture_folder(DTD)
        return root, f"dtd: {root} ({len(files)} images)"
    if kind == PERLIN:
        return _empty_folder(), ("perlin: anomalib's Perlin-noise texture (no DTD), a declared deviation from "
                                 "the paper's DTD")
    raise ValueError(f"anomaly_source must be {DTD!r} (the [dtd] table of datasets.toml) or {PERLIN!r}, not {kind!r}")


class PenaltyImages:
    """EfficientAD's penalty images, one ``(1,3,size,size)`` tensor per ``next()``:
    Imagenette from the ``[imagenette]`` table of datasets.toml with anomalib's transform
    (resize to twice the size, 30 % greyscale, centre crop), or uniform noise (a declared
    stand-in for ``smoke``/``quick``, which download nothing)."""

    def __init__(self, kind: str, size: int, gen: Any):
        import torch
        from torchvision.transforms import v2

        if kind not in (IMAGENETTE, NOISE):
            raise ValueError(f"penalty_source must be {IMAGENETTE!r} (the [imagenette] table of datasets.toml) "
                             f"or {NOISE!r}, not {kind!r}")
        self.kind, self.size, self.gen = kind, size, gen
        self.root, self.files = texture_folder(IMAGENETTE) if kind == IMAGENETTE else ("", [])
        self.transform = v2.Compose([v2.Resize((2 * size, 2 * size)), v2.RandomGrayscale(p=0.3), v2.CenterCrop(size),
                                     v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])

    def __iter__(self) -> "PenaltyImages":
        return self

    def __next__(self) -> Any:
        import torch
        from PIL import Image

        if self.kind == NOISE:
            return torch.rand(1, 3, self.size, self.size, generator=self.gen)
        path = self.files[int(torch.randint(len(self.files), (1,), generator=self.gen))]
        with Image.open(path) as im:
            return self.transform(im.convert("RGB"))[None]

    def describe(self) -> str:
        if self.kind == NOISE:
            return "noise: uniform noise images instead of Imagenette, a declared deviation"
        return f"imagenette: {self.root} ({len(self.files)} images)"
