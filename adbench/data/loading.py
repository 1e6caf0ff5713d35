"""Decode, resize and cache a list of samples as tensors, once.

The cache key fingerprints every file (path, mtime, size) and the transform, so editing a
file or changing the size invalidates the entry. Entries are written atomically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from ..config import cache_dir
from ..io import cached_entry, write_atomic
from .sample import Sample, read_rgb_noted

LOADER_VERSION = 2  # 2: deep (16-bit) images scaled instead of clipped; decode notes kept


@dataclass
class SplitTensors:
    """A decoded split: uint8 images ``(N,3,S,S)``, bool masks ``(N,S,S)``, int64 labels."""

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    defect_types: list[str]
    paths: list[str]
    #: how many images needed a conversion worth recording, by note (e.g. 16-bit scaled)
    decode_notes: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    def float_images(self) -> torch.Tensor:
        return self.images.float().div_(255.0)


def _identity(path: Path | None) -> list:
    if path is None:
        return [None]
    if path.is_dir():  # a folder of mask channels: every channel file's identity
        return [str(path.resolve()), [_identity(p) for p in sorted(path.glob("*.png"))]]
    st = path.stat()
    return [str(path.resolve()), st.st_mtime_ns, st.st_size]


def cache_key(samples: Sequence[Sample], size: int) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"v": LOADER_VERSION, "size": size, "resize": "bilinear+nearest"}).encode())
    for s in samples:
        h.update(json.dumps([_identity(s.path), _identity(s.mask_path), s.label, s.defect_type]).encode())
    return h.hexdigest()[:32]


def decode_sample(sample: Sample, size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One image and its mask resized to ``size``, and the notes of their decoding (16-bit
    scaled, a non-binary mask thresholded); a mask of another size is an error naming both files."""
    img, note = read_rgb_noted(sample.path)
    mask, mask_note = sample.load_mask_noted(img.shape[:2])  # a mask of another size raises
    im = np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))
    mk = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((size, size), Image.NEAREST)) > 127
    return im, mk, [n for n in (note, mask_note) if n]


def load_samples(samples: Sequence[Sample], size: int, *, use_cache: bool = True) -> SplitTensors:
    """Tensors for ``samples`` at ``size``×``size``, from the cache when it is fresh."""
    labels = torch.tensor([s.label for s in samples], dtype=torch.long)
    defects = [s.defect_type for s in samples]
    paths = [str(s.path) for s in samples]
    if use_cache:
        images, masks, notes = cached_entry(cache_dir() / "tensors" / f"{cache_key(samples, size)}.npz",
                                            _read_entry, lambda: _decode_all(samples, size), _write_entry)[0]
    else:
        images, masks, notes = _decode_all(samples, size)
    return SplitTensors(torch.from_numpy(images), torch.from_numpy(masks), labels, defects, paths, notes)


Decoded = tuple[np.ndarray, np.ndarray, dict[str, int]]


def _read_entry(path: Path) -> Decoded:
    with np.load(path) as z:
        return z["images"], z["masks"], json.loads(str(z["notes"]))


def _write_entry(path: Path, arrays: Decoded) -> None:
    """Atomically: a reader sees the old state or the whole entry."""
    write_atomic(path, lambda fh: np.savez(fh, images=arrays[0], masks=arrays[1],
                                           notes=np.array(json.dumps(arrays[2]))))


def _decode_all(samples: Sequence[Sample], size: int) -> Decoded:
    images = np.zeros((len(samples), size, size, 3), np.uint8)
    masks = np.zeros((len(samples), size, size), bool)
    notes: dict[str, int] = {}
    for i, s in enumerate(samples):
        images[i], masks[i], found = decode_sample(s, size)
        for note in found:
            notes[note] = notes.get(note, 0) + 1
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), masks, notes
