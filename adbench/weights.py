"""Published pretrained weights: where each file lives, how it is fetched, what a row records.

Weights come through the libraries' own weight APIs into their standard local caches:
torchvision's ``Weights`` files into ``$TORCH_HOME/hub/checkpoints`` (``torch.hub``), and the
segmentation-models-pytorch encoder files into the Hugging Face hub cache (``$HF_HUB_CACHE``,
smp's ``smp-hub/<encoder>.<tag>`` repositories at smp's pinned revision). Only
``adbench weights download`` reaches the network; a run only reads the caches, and a
profile whose file is not cached fails before training with one line naming the file, where
it goes and both fixes (:class:`WeightsMissing`). Every file loaded in a cell is recorded
in the row with its sha256 (``pretrained_weights``). docs/architecture.md, "Pretrained weights".
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import WeightsMissing

__all__ = ["Weights", "WeightsMissing", "torchvision_weights", "smp_encoder_weights", "timm_weights", "archive_weights",
           "require", "load_state_dict", "recorded", "start_recording", "sha256_of"]


@dataclass(frozen=True)
class Weights:
    """One published weights file: ``name`` (e.g. ``torchvision:ResNet50_Weights.IMAGENET1K_V1``),
    the library that serves it, and its address there."""

    name: str
    source: str  # "torchvision", "smp", "timm" (the last two in the Hugging Face hub cache) or "archive"
    url: str = ""  # torchvision: the file's URL; archive: the archive's URL
    repo_id: str = ""  # smp, timm: the Hugging Face repository
    revision: str = ""  # smp: the pinned commit; timm: "main", as timm itself asks for
    filename: str = ""  # archive: the member's path inside the archive
    sha256: str = ""  # archive: the archive's published checksum

    def location(self) -> Path:
        """Where the library's cache keeps the file (whether or not it is there)."""
        if self.source == "torchvision":
            import torch

            return Path(torch.hub.get_dir()) / "checkpoints" / self.filename
        if self.source == "archive":
            return self._archive_folder() / self.filename
        folder = _hf_cache() / ("models--" + self.repo_id.replace("/", "--"))
        ref = folder / "refs" / self.revision  # a branch name resolves to a commit through refs/
        if ref.is_file():
            commit = ref.read_text().strip()
        else:  # a pinned commit names its own folder; an unresolved branch is shown as such
            commit = self.revision if len(self.revision) == 40 else f"<{self.revision}'s commit>"
        return folder / "snapshots" / commit / self.filename

    def _archive_folder(self) -> Path:
        """Where an archive is extracted: no library serves it, so adbench's own cache, one
        folder per archive (``$ADBENCH_CACHE/weights/<archive name>``)."""
        from .config import cache_dir

        name = self.url.rsplit("/", 1)[-1]
        for suffix in (".zip", ".tar.gz", ".tgz", ".tar.xz", ".tar"):
            name = name.removesuffix(suffix)
        return cache_dir() / "weights" / name

    def cached(self) -> Path | None:
        """The cached file, or None; never touches the network."""
        if self.source in ("torchvision", "archive"):
            path = self.location()
            return path if path.is_file() else None
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(self.repo_id, self.filename, revision=self.revision,
                                       cache_dir=str(_hf_cache()))
        return Path(found) if isinstance(found, str) else None

    def download(self) -> Path:
        """Fetch the file into its cache through the library's own API (network)."""
        if self.source == "torchvision":
            import torch

            torch.hub.load_state_dict_from_url(self.url, progress=True, check_hash=True, map_location="cpu")
            return self.location()
        if self.source == "archive":
            from .data.download import download

            download(self.url, self.sha256, self._archive_folder())
            if self.cached() is None:
                raise FileNotFoundError(f"{self.url} holds no {self.filename}")
            return self.location()
        from huggingface_hub import hf_hub_download

        if self.source == "smp":
            hf_hub_download(self.repo_id, filename="config.json", revision=self.revision, cache_dir=str(_hf_cache()))
        return Path(hf_hub_download(self.repo_id, filename=self.filename, revision=self.revision,
                                    cache_dir=str(_hf_cache())))


def archive_weights(name: str, url: str, sha256: str, member: str) -> Weights:
    """A weights file inside a published archive (``member``: its path in the archive), fetched
    by ``adbench weights download`` (checksum verified, extracted safely) into
    ``$ADBENCH_CACHE/weights/<archive name>/``."""
    return Weights(name, "archive", url=url, filename=member, sha256=sha256)


def _hf_cache() -> Path:
    """The Hugging Face hub cache, read from the environment at call time (tests set it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def torchvision_weights(enum_name: str) -> Weights:
    """A torchvision ``Weights`` member by name, e.g. ``"ResNet50_Weights.IMAGENET1K_V1"``."""
    import torchvision

    enum, member = enum_name.split(".")
    url = getattr(getattr(torchvision.models, enum), member).url
    return Weights(f"torchvision:{enum_name}", "torchvision", url=url, filename=url.rsplit("/", 1)[-1])


def smp_encoder_weights(encoder: str, tag: str = "imagenet") -> Weights:
    """An smp encoder's pretrained weights (``smp.encoders``' own settings: repository and revision)."""
    from segmentation_models_pytorch.encoders import encoders

    settings = encoders[encoder]["pretrained_settings"][tag]
    return Weights(f"smp:{encoder}.{tag}", "smp", repo_id=settings["repo_id"], revision=settings["revision"],
                   filename="model.safetensors")


def timm_weights(model_name: str) -> Weights:
    """A timm model's default pretrained weights (its ``pretrained_cfg``: ``timm/<model>.<tag>``
    on the Hugging Face hub), e.g. ``timm_weights("resnet18")``. Reads timm's registry only."""
    import timm

    repo_id = timm.models.get_pretrained_cfg(model_name).hf_hub_id  # type: ignore[union-attr]
    if not repo_id:
        raise ValueError(f"timm model {model_name!r} publishes no Hugging Face weights")
    return Weights(f"timm:{repo_id.removeprefix('timm/')}", "timm", repo_id=repo_id, revision="main",
                   filename="model.safetensors")


def require(weights: Weights, method: str = "") -> Path:
    """The cached file, or :class:`WeightsMissing` (one line: file, place, both fixes)."""
    path = weights.cached()
    if path is None:
        who = f" {method}" if method else ""
        raise WeightsMissing(
            f"{weights.name} is not cached: expected {weights.location()}; run `adbench weights download{who}` "
            f"on a machine with internet (then copy the file there), or run with `--set pretrained=false`")
    return path


_SHA: dict[tuple[str, int, int], str] = {}
_USED: dict[str, dict[str, Any]] = {}


def sha256_of(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so a run hashes each file once."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _SHA[key] = digest.hexdigest()
    return _SHA[key]


def load_state_dict(weights: Weights, method: str = "") -> dict[str, Any]:
    """The cached file's tensors (CPU), recorded for the cell's row; never downloads."""
    import torch

    path = require(weights, method)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path), device="cpu")
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    _USED[weights.name] = {"name": weights.name, "file": str(path), "sha256": sha256_of(path)}
    return state


def start_recording() -> None:
    """Forget the files loaded so far (the runner calls this before building a cell's method)."""
    _USED.clear()


def recorded() -> list[dict[str, Any]]:
    """The weights files loaded since :func:`start_recording`, with their sha256."""
    return [dict(v) for v in _USED.values()]
