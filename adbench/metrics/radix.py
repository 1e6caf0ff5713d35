"""Exact counts of float32 scores in bounded memory: a two-level radix histogram.

Every float32 maps to a 32-bit key whose unsigned order is the float order (``-0.0`` is
counted as ``+0.0``). The high 16 bits pick a bucket; each occupied bucket holds a dense
count per low 16 bits (256 KiB of ``uint32``), so the memory is bounded by the range the
scores span, never by how many pixels are counted: an anomaly map over [0, 1] with noise
occupies a few thousand buckets (about 1 GiB) whether it covers 10⁸ or 10¹⁰ pixels. The
number of values below any float32 threshold is then exact: the buckets below it, plus the
counts below its low bits inside its own bucket.

Values are held back and counted :data:`PENDING` at a time: a counting sort by bucket, then
one pass per bucket over its own row, so the increments hit a row in cache instead of a
random place in a table far larger than the caches. The loops are compiled with numba
(docs/benchmarks.md, "Streaming pixel metrics"; NumPy alone needs a sort per batch and is
about 20× slower).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

_BUCKETS = 1 << 16
#: rows (occupied high buckets) reserved at first: 2 GiB of address space, touched only as used
INITIAL_SLOTS = 8192
#: values held back and counted together: each row visited once per 16 M values rather than
#: once per image (64 MiB of keys plus 32 MiB of grouped low bits while counting)
PENDING = 1 << 24


@njit(cache=True, nogil=True)
def _key(u: np.uint32) -> np.uint32:
    if u == np.uint32(0x80000000):  # -0.0 is +0.0
        u = np.uint32(0)
    if u >> np.uint32(31):
        return ~u
    return u | np.uint32(0x80000000)


@njit(cache=True, nogil=True, parallel=True)
def _bucket_sizes(bits: np.ndarray, sizes: np.ndarray) -> None:
    """``sizes[p, h]``: how many values of part ``p`` (the ``p``-th of ``sizes.shape[0]``
    equal slices of ``bits``, one per thread) fall in high-16-bit bucket ``h``."""
    parts = sizes.shape[0]
    step = (bits.size + parts - 1) // parts
    for p in prange(parts):
        for i in range(p * step, min(bits.size, (p + 1) * step)):
            sizes[p, _key(bits[i]) >> np.uint32(16)] += 1


@njit(cache=True, nogil=True, parallel=True)
def _group_low_bits(bits: np.ndarray, fill: np.ndarray, lows: np.ndarray) -> None:
    """The low 16 bits of every value, grouped by bucket (a counting sort by the high bits):
    part ``p`` writes its values of bucket ``h`` from ``lows[fill[p, h]]`` on."""
    parts = fill.shape[0]
    step = (bits.size + parts - 1) // parts
    for p in prange(parts):
        for i in range(p * step, min(bits.size, (p + 1) * step)):
            k = _key(bits[i])
            h = k >> np.uint32(16)
            lows[fill[p, h]] = np.uint16(k & np.uint32(0xFFFF))
            fill[p, h] += 1


@njit(cache=True, nogil=True, parallel=True)
def _count_groups(buckets: np.ndarray, starts: np.ndarray, lows: np.ndarray, slot_of: np.ndarray,
                  table: np.ndarray) -> None:
    """Count each bucket's low bits into its own row: one row at a time stays in cache, and
    threads own whole rows, so the increments need no atomics."""
    for b in prange(buckets.size):
        h = buckets[b]
        row = slot_of[h]
        for j in range(starts[h], starts[h + 1]):
            table[row, lows[j]] += 1


@njit(cache=True, nogil=True)
def _count_below(keys_sorted: np.ndarray, inclusive: bool, slot_of: np.ndarray, table: np.ndarray,
                 below_bucket: np.ndarray, out: np.ndarray) -> None:
    """``out[i]``: values below (or up to, ``inclusive``) ``keys_sorted[i]``; one pass over the
    low-bit counts of each bucket that holds a threshold."""
    i, n = 0, keys_sorted.size
    while i < n:
        h = keys_sorted[i] >> np.uint32(16)
        slot = slot_of[h]
        running = np.int64(0)
        lo_done = 0  # counts of low bits < lo_done are in running
        while i < n and (keys_sorted[i] >> np.uint32(16)) == h:
            target = np.int64(keys_sorted[i] & np.uint32(0xFFFF)) + (1 if inclusive else 0)
            if slot >= 0:
                while lo_done < target:
                    running += table[slot, lo_done]
                    lo_done += 1
            out[i] = below_bucket[h] + running
            i += 1


@njit(cache=True, nogil=True)
def _keys_of(bits: np.ndarray, out: np.ndarray) -> None:
    for i in range(bits.size):
        out[i] = _key(bits[i])


def float32_keys(values: np.ndarray) -> np.ndarray:
    """The order-preserving 32-bit keys of float32 ``values`` (the same :func:`_key` the counting uses)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    out = np.empty(bits.shape, np.uint32)
    _keys_of(bits.reshape(-1), out.reshape(-1))
    return out


class RadixCounts:
    """How many of the float32 values added so far lie below any threshold, exactly."""

    def __init__(self) -> None:
        self.slot_of = np.full(_BUCKETS, -1, np.int64)
        self.table = np.zeros((0, _BUCKETS), np.uint32)
        self.n_slots = 0
        self.size = 0
        self._below_bucket: np.ndarray | None = None
        self._pending: np.ndarray | None = None  # raw bits not yet counted
        self._n_pending = 0
        self._pending_touched = 0  # the most values the hold-back buffer has held: its pages in use

    def add(self, values: np.ndarray) -> None:
        """Count ``values`` (float32, any shape; finite). They are held back and counted with
        the next ones (:data:`PENDING` at a time); every query counts what is held first."""
        bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32)
        while bits.size:
            if self._pending is None:  # address space: pages are touched only as they fill
                self._pending = np.empty(PENDING, np.uint32)
            if self._n_pending == self._pending.size:
                self._flush()
            take = bits[: self._pending.size - self._n_pending]
            self._pending[self._n_pending: self._n_pending + take.size] = take
            self._n_pending += take.size
            self._pending_touched = max(self._pending_touched, self._n_pending)
            self.size += int(take.size)
            bits = bits[take.size:]
        self._below_bucket = None

    def _flush(self) -> None:
        """Count the held-back values: bucket sizes, new rows, low bits grouped by bucket, then
        each bucket's row once (docs/benchmarks.md, "Streaming pixel metrics")."""
        if not self._n_pending:
            return
        bits = self._pending[: self._n_pending]
        if self.table.dtype == np.uint32 and self.size >= np.iinfo(np.uint32).max:
            self.table = self.table.astype(np.uint64)  # one value could now be counted 2³² times
        parts = get_num_threads()
        sizes = np.zeros((parts, _BUCKETS), np.int64)
        _bucket_sizes(bits, sizes)
        total = sizes.sum(axis=0)
        occupied = np.flatnonzero(total)
        new = occupied[self.slot_of[occupied] < 0]
        if new.size:
            self._grow(self.n_slots + new.size)
            self.slot_of[new] = np.arange(self.n_slots, self.n_slots + new.size)
            self.n_slots += new.size
        starts = np.zeros(_BUCKETS + 1, np.int64)
        np.cumsum(total, out=starts[1:])
        fill = starts[:-1] + np.cumsum(sizes, axis=0) - sizes  # where each part's values of a bucket begin
        lows = np.empty(bits.size, np.uint16)
        _group_low_bits(bits, fill, lows)
        _count_groups(occupied, starts, lows, self.slot_of, self.table)
        self._n_pending = 0

    def _grow(self, rows: int) -> None:
        if rows <= self.table.shape[0]:
            return
        # np.zeros maps pages lazily: rows not yet used cost address space, not memory, so a
        # generous first capacity spares the copies that growing a filled table would cost
        bigger = np.zeros((max(rows, 2 * self.table.shape[0], INITIAL_SLOTS), _BUCKETS), self.table.dtype)
        bigger[: self.n_slots] = self.table[: self.n_slots]
        self.table = bigger

    @property
    def nbytes(self) -> int:
        """Memory in use: the rows of occupied buckets (reserved, untouched rows cost none) and
        the part of the hold-back buffer ever filled (its untouched pages cost none either)."""
        held = self._pending_touched * self._pending.itemsize if self._pending is not None else 0
        return int(self.n_slots * self.table.shape[1] * self.table.itemsize + self.slot_of.nbytes + held)

    def count_less(self, thresholds: np.ndarray, side: str) -> np.ndarray:
        """How many values are < (``side="left"``) or <= (``"right"``) each threshold; the
        thresholds must be float32 values (those of the positives are)."""
        t = np.asarray(thresholds, dtype=np.float64)
        if not np.array_equal(t.astype(np.float32).astype(np.float64), t):
            raise ValueError("RadixCounts thresholds must be float32 values")
        self._flush()
        if self._below_bucket is None:
            per_bucket = np.zeros(_BUCKETS, np.int64)
            occupied = np.flatnonzero(self.slot_of >= 0)
            per_slot = self.table[: self.n_slots].sum(axis=1, dtype=np.int64)  # a view: no copy of the table
            per_bucket[occupied] = per_slot[self.slot_of[occupied]]
            self._below_bucket = np.concatenate([[0], np.cumsum(per_bucket)[:-1]])
        keys = float32_keys(t).ravel()
        order = np.argsort(keys, kind="stable")
        found = np.empty(keys.size, np.int64)
        _count_below(keys[order], side == "right", self.slot_of, self.table, self._below_bucket, found)
        out = np.empty(keys.size, np.int64)
        out[order] = found
        return out.reshape(t.shape)
