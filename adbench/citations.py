"""BibTeX entries that methods declare (``Method.bibtex``): the key LaTeX tables cite and the
``references.bib`` a report writes, so a paper's table cites each method it names."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ENTRY = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s{}]+)\s*,", re.S)


def bibtex_key(entry: str) -> str:
    """The citation key of one BibTeX entry (``@inproceedings{roth2022patchcore, …}`` →
    ``roth2022patchcore``); ValueError naming what is wrong otherwise."""
    match = _ENTRY.match(entry or "")
    if match is None:
        raise ValueError(f"not a BibTeX entry (expected '@type{{key, …}}'): {entry[:60]!r}")
    if entry.count("{") != entry.count("}"):
        raise ValueError(f"BibTeX entry {match.group(2)!r}: unbalanced braces")
    return match.group(2)


def key_or_none(entry: object) -> str | None:
    """The entry's key, or None when ``entry`` is not a well-formed BibTeX entry (a row's broken
    entry is neither cited nor written to the .bib; the contract test checks every method's)."""
    if not isinstance(entry, str) or not entry.strip():
        return None
    try:
        return bibtex_key(entry)
    except ValueError:
        return None


def bibliography(entries: Iterable[str]) -> str:
    """One ``.bib`` file holding each distinct entry once, sorted by key."""
    by_key = {}
    for entry in entries:
        if entry:
            by_key.setdefault(bibtex_key(entry), entry.strip())
    return "".join(f"{by_key[k]}\n\n" for k in sorted(by_key))
