"""Exact counts of float32 scores in bounded memory: a two-level radix histogram.

Every float32 maps to a 32-bit key whose unsigned order is the float order (``-0.0`` is
counted as ``+0.0``). The high 16 bits pick a bucket; each occupied bucket holds a dense
count per low 16 bits (256 KiB of ``uint32``), so the memory is bounded by the range the
scores span, never by how many pixels are counted: an anomaly map over [0, 1] with noise
occupies a few thousand buckets (about 1 GiB) whether it covers 10⁸ or 10¹⁰ pixels. The
number of values below any float32 threshold is then exact: the buckets below it, plus the
counts below its low bits inside its own bucket.

The counting loop is compiled with numba (docs/benchmarks.md, "Streaming pixel metrics";
NumPy alone needs a sort per batch and is about 20× slower).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

_BUCKETS = 1 << 16
#: rows (occupied high buckets) reserved at first: 2 GiB of address space, touched only as used
INITIAL_SLOTS = 8192


@njit(cache=True, nogil=True)
def _key(u: np.uint32) -> np.uint32:
    if u == np.uint32(0x80000000):  # -0.0 is +0.0
        u = np.uint32(0)
    if u >> np.uint32(31):
        return ~u
    return u | np.uint32(0x80000000)


@njit(cache=True, nogil=True, parallel=True)
def _count_known(bits: np.ndarray, slot_of: np.ndarray, table: np.ndarray, missing: np.ndarray,
                 bounds: np.ndarray) -> bool:
    """Count every value whose bucket has a slot; flag the buckets that have none. Thread
    ``p`` owns the buckets in ``[bounds[p], bounds[p+1])``: it reads every value but writes only
    its own rows, so the increments need no atomics and the random writes run in parallel."""
    parts = bounds.size - 1
    flags = np.zeros(parts, np.bool_)
    for p in prange(parts):
        first, last = bounds[p], bounds[p + 1]
        for i in range(bits.size):
            k = _key(bits[i])
            h = k >> np.uint32(16)
            if h < first or h >= last:
                continue
            slot = slot_of[h]
            if slot < 0:
                missing[h] = True
                flags[p] = True
            else:
                table[slot, k & np.uint32(0xFFFF)] += 1
    return flags.any()


@njit(cache=True, nogil=True)
def _count_only(bits: np.ndarray, slot_of: np.ndarray, table: np.ndarray, only: np.ndarray) -> None:
    """Count the values whose bucket is flagged in ``only`` (those the first pass skipped)."""
    for i in range(bits.size):
        k = _key(bits[i])
        if only[k >> np.uint32(16)]:
            table[slot_of[k >> np.uint32(16)], k & np.uint32(0xFFFF)] += 1


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


def _split_points(bits: np.ndarray, parts: int) -> np.ndarray:
    """Bucket boundaries that give each of ``parts`` threads about as many values (quantiles
    of a strided sample of this batch's keys)."""
    if parts <= 1 or bits.size < 65536:
        return np.array([0, _BUCKETS], np.int64)
    sample = float32_keys(bits[:: max(1, bits.size // 4096)].view(np.float32)) >> np.uint32(16)
    inner = np.quantile(sample, np.arange(1, parts) / parts).astype(np.int64)
    return np.unique(np.concatenate([[0], inner, [_BUCKETS]]))


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

    def add(self, values: np.ndarray) -> None:
        """Count ``values`` (float32, any shape; finite)."""
        bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32)
        if bits.size == 0:
            return
        if self.size + bits.size >= np.iinfo(self.table.dtype).max and self.table.dtype == np.uint32:
            self.table = self.table.astype(np.uint64)  # one value could now be counted 2³² times
        missing = np.zeros(_BUCKETS, np.bool_)
        if _count_known(bits, self.slot_of, self.table, missing, _split_points(bits, get_num_threads())):
            # new buckets: give them slots, then count the values that fell in them
            new = np.flatnonzero(missing)
            self._grow(self.n_slots + new.size)
            self.slot_of[new] = np.arange(self.n_slots, self.n_slots + new.size)
            self.n_slots += new.size
            _count_only(bits, self.slot_of, self.table, missing)
        self.size += int(bits.size)
        self._below_bucket = None

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
        """Memory in use: the rows of occupied buckets (reserved, untouched rows cost none)."""
        return int(self.n_slots * self.table.shape[1] * self.table.itemsize + self.slot_of.nbytes)

    def count_less(self, thresholds: np.ndarray, side: str) -> np.ndarray:
        """How many values are < (``side="left"``) or <= (``"right"``) each threshold; the
        thresholds must be float32 values (those of the positives are)."""
        t = np.asarray(thresholds, dtype=np.float64)
        if not np.array_equal(t.astype(np.float32).astype(np.float64), t):
            raise ValueError("RadixCounts thresholds must be float32 values")
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
