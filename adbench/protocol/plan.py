"""Expand ``adbench run`` arguments into the list of cells, in a deterministic order."""

from __future__ import annotations

from typing import Any, Sequence

from .. import registry
from ..config import DatasetSpec, dataset_spec
from ..data.sample import DatasetNotConfigured
from .cells import EVAL_RESOLUTIONS, Cell


class OverrideError(ValueError):
    """A ``--set`` value that no selected method can take; raised before any cell runs."""


def resolve_methods(names: Sequence[str]) -> list[str]:
    """The method names ``names`` selects: ``all`` is every registered method except those
    that declare ``left_out_of_all`` (which still run when named next to it)."""
    reg = registry.methods()
    named = [n for n in names if n != "all"]
    for n in named:
        reg.get(n)  # raises with the list of known names
    if "all" in names:
        return list(dict.fromkeys([n for n in reg.names() if not reg.get(n).obj.left_out_of_all] + named))
    return list(dict.fromkeys(named))


def left_out_notes(names: Sequence[str]) -> list[str]:
    """One note per method that ``all`` left out, with its reason and how to run it."""
    if "all" not in names:
        return []
    return [f"{e.name} is not part of `all`: {e.obj.left_out_of_all}; name it to run it (adbench run {e.name})"
            for e in registry.methods() if e.obj.left_out_of_all and e.name not in names]


def plan_cells(methods: Sequence[str], catalogue: dict[str, DatasetSpec], *, datasets: Sequence[str],
               categories: Sequence[str], track: str | None, profile: str, seeds: Sequence[int],
               k_anomalies: int = 5, ratios: Sequence[float] = (),
               overrides: dict[str, Any] | None = None,
               eval_resolution: str = "native",
               validation_fraction: float | None = None,
               au_pro_limits: Sequence[float] = (), train_shots: int | None = None,
               contamination: float | None = None) -> tuple[list[Cell], list[str]]:
    """Cells for every method × data set × category × track × seed (× ratio), plus notes on
    what was skipped and why (an unconfigured data set, an unsupported track).

    ``--set`` overrides go to the methods whose profile has that key; a key no selected
    method has is an error (a typo must not pass silently)."""
    notes: list[str] = left_out_notes(methods)
    if eval_resolution not in EVAL_RESOLUTIONS:
        raise ValueError(f"evaluation resolution {eval_resolution!r}: use {' or '.join(EVAL_RESOLUTIONS)}")
    names = resolve_methods(methods)
    overrides = dict(overrides or {})
    known = {n: set(registry.methods().get(n).obj.profiles.get(profile, {})) for n in names}
    unused = [k for k in overrides if not any(k in keys for keys in known.values())]
    if unused:
        raise OverrideError(f"{', '.join(unused)}: no selected method has such a hyper-parameter in profile "
                            f"{profile!r}")
    for n in names:  # a value of the wrong type fails here, not in every cell
        mine = {k: v for k, v in overrides.items() if k in known[n]}
        try:
            registry.methods().get(n).obj.config_for(profile, mine)
        except (TypeError, ValueError) as exc:
            raise OverrideError(f"{', '.join(f'{k}={v}' for k, v in mine.items())} for method {n!r}: {exc}") from exc
    ds_names = list(catalogue) if "all" in datasets else list(datasets)
    cells: list[Cell] = []
    for ds in ds_names:
        adapter = registry.adapter_for(dataset_spec(catalogue, ds))
        if not adapter.benchmark:
            if "all" in datasets:
                continue
            raise ValueError(f"{ds!r} is a texture source for augmentation-based methods (adapter "
                             f"{adapter.name!r}), not a benchmark data set; pick one of "
                             f"{', '.join(n for n in catalogue if n != ds)}")
        try:
            adapter.root()
        except DatasetNotConfigured as exc:
            if "all" in datasets:
                notes.append(f"skipping {exc}")
                continue
            raise
        limits = extra_au_pro_limits([*au_pro_limits, *(adapter.spec.au_pro_limits or [])])
        cats = list(dict.fromkeys(categories)) or adapter.categories()  # -c wood,wood is one cell
        unknown = [c for c in cats if c not in adapter.categories()]
        if unknown:
            raise ValueError(f"data set {ds!r} has no categories {unknown}; it has: {', '.join(adapter.categories())}")
        for name in names:
            cls = registry.methods().get(name).obj
            tracks = list(cls.tracks) if track == "all" else [track or cls.track]
            for tr in tracks:
                if tr not in cls.tracks:
                    notes.append(f"skipping {name}: it does not support track {tr!r}")
                    continue
                sweep: list[tuple[int | None, float | None]] = [(None, None)]
                if tr == "supervised":
                    sweep = [(None, r) for r in ratios] or [(k_anomalies, None)]
                mine = tuple(sorted((k, v) for k, v in overrides.items() if k in known[name]))
                for cat in cats:
                    for seed in seeds:
                        for k, ratio in sweep:
                            cells.append(Cell(name, ds, cat, tr, seed, profile, k, ratio, mine,
                                              eval_resolution=eval_resolution,
                                              validation_fraction=validation_fraction,
                                              au_pro_limits=limits, train_shots=train_shots,
                                              contamination=contamination))
    return cells, notes


def extra_au_pro_limits(limits: Sequence[float]) -> tuple[float, ...]:
    """The AU-PRO limits asked for that no registered metric already covers, sorted, once each."""
    from ..metrics.spec import au_pro_name

    registered = {s.name for s in registry.metrics()}
    return tuple(sorted({float(v) for v in limits if au_pro_name(v) not in registered}))
