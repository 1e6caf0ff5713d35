"""DRAEM's anomaly source: DTD from the ``[dtd]`` table of datasets.toml, or anomalib's own
Perlin-noise fallback (declared, and recorded in the row)."""

from __future__ import annotations

import tempfile

PERLIN = "perlin"
DTD = "dtd"


def _textures():
    from adbench import registry
    from adbench.config import dataset_spec, load_catalogue

    return registry.adapter_for(dataset_spec(load_catalogue(), DTD))


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
