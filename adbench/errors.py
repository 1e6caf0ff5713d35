"""Exceptions the CLI turns into one clear line (no traceback): each message names the file
or setting at fault and the fix."""

from __future__ import annotations


class DatasetError(Exception):
    """A data set that cannot be used as configured; the message says where and how to fix it."""


class DatasetNotConfigured(DatasetError):
    """The data set's root is unset or missing; ``run all`` skips it with this message."""


class UnknownDataset(DatasetError, ValueError):
    """A data set name that ``datasets.toml`` does not configure."""

    def __init__(self, name: str, configured: list[str]):
        super().__init__(f"unknown data set {name!r}; configured in datasets.toml: {', '.join(configured)} "
                         f"(see `adbench list datasets`)")
        self.name = name


class WeightsMissing(RuntimeError):
    """A profile needs a pretrained weights file that is not in the local cache; the message
    names the file, where it goes, and both fixes (download it, or ``--set pretrained=false``)."""
