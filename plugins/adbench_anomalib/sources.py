"""Outside images anomalib's models train with, from texture sources in datasets.toml:
DRAEM's anomaly source (DTD, or anomalib's own Perlin-noise fallback) and EfficientAD's
penalty images (Imagenette, or noise). Each choice is recorded in the row."""

from __future__ import annotations

import tempfile
from typing import Any

PERLIN = "perlin"
DTD = "dtd"


def _textures(name: str = "dtd") -> Any:
    """The ``textures`` adapter of the catalogue's ``[name]`` table."""
    from adbench import registry
    from adbench.config import dataset_spec, load_catalogue

    return registry.adapter_for(dataset_spec(load_catalogue(), name))


def anomaly_source_dir(kind: str) -> str:
    """The folder anomalib's ``Draem(dtd_dir=...)`` reads. Always an existing folder, so
    anomalib never downloads DTD: the configured DTD root, or an empty folder, with which its
    ``PerlinAnomalyGenerator`` pastes Perlin noise as the anomaly texture."""
    if kind == DTD:
        textures = _textures()
        textures.images()  # a missing or empty folder fails here, naming the fix
        return str(textures.root())
    if kind == PERLIN:
        return tempfile.mkdtemp(prefix="adbench-draem-no-textures-")
    raise ValueError(f"anomaly_source must be {DTD!r} (the [dtd] table of datasets.toml) or {PERLIN!r}, not {kind!r}")


def describe(kind: str) -> str:
    """What the row records about the anomaly source."""
    if kind == DTD:
        textures = _textures()
        return f"dtd: {textures.root()} ({len(textures.images())} images)"
    return "perlin: anomalib's Perlin-noise texture (no DTD), a declared deviation from the paper's DTD"


IMAGENETTE = "imagenette"
NOISE = "noise"


class PenaltyImages:
    """EfficientAD's penalty images, one ``(1,3,size,size)`` tensor per ``next()``:
    Imagenette from the ``[imagenette]`` table of datasets.toml with anomalib's transform
    (resize to twice the size, 30 % greyscale, centre crop), or uniform noise (a declared
    stand-in for ``smoke``/``quick``, which download nothing)."""

    def __init__(self, kind: str, size: int, gen: Any):
        if kind not in (IMAGENETTE, NOISE):
            raise ValueError(f"penalty_source must be {IMAGENETTE!r} (the [imagenette] table of datasets.toml) "
                             f"or {NOISE!r}, not {kind!r}")
        self.kind, self.size, self.gen = kind, size, gen
        self.files = _textures(IMAGENETTE).images() if kind == IMAGENETTE else []
        self.root = str(_textures(IMAGENETTE).root()) if kind == IMAGENETTE else ""

    def __iter__(self) -> "PenaltyImages":
        return self

    def __next__(self) -> Any:
        import torch

        if self.kind == NOISE:
            return torch.rand(1, 3, self.size, self.size, generator=self.gen)
        from PIL import Image
        from torchvision.transforms import v2

        path = self.files[int(torch.randint(len(self.files), (1,), generator=self.gen))]
        transform = v2.Compose([v2.Resize((2 * self.size, 2 * self.size)), v2.RandomGrayscale(p=0.3),
                                v2.CenterCrop(self.size), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
        with Image.open(path) as im:
            return transform(im.convert("RGB"))[None]

    def describe(self) -> str:
        if self.kind == NOISE:
            return "noise: uniform noise images instead of Imagenette, a declared deviation"
        return f"imagenette: {self.root} ({len(self.files)} images)"


def penalty_images(kind: str, size: int, gen: Any) -> PenaltyImages:
    return PenaltyImages(kind, size, gen)
