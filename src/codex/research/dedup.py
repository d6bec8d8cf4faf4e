"""Near-duplicate pages (SimHash over page text) and repeated passages (MinHash + LSH).

SimHash: 64-bit fingerprints of word 3-shingles; two pages whose fingerprints differ in at
most `max_distance` bits are the same document (a mirror, a syndicated copy) and are merged
into the first one seen. MinHash with LSH banding finds passages that repeat across the
remaining sources, so the model is not shown the same paragraph twice.

MinHash and LSH are our own (standard library) rather than `datasketch`: datasketch needs numpy
and scipy, ~160 MB installed and far more than the native build's whole 40 MB package budget
(the platform package is 39.6 MB packed without them), for two short algorithms. datasketch
stays a test dependency: the tests check our estimates against it and against exact Jaccard.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

_WORD = re.compile(r"\w+", re.UNICODE)
FINGERPRINT_BITS = 64


def words(text: str) -> list[str]:
    """Lower-cased word tokens (punctuation and spacing do not change a fingerprint)."""
    return _WORD.findall(text.lower())


def shingles(text: str, size: int = 3) -> set[str]:
    """The set of `size`-word shingles of `text` (the whole text when it is shorter)."""
    tokens = words(text)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def _hash64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")


def simhash(text: str) -> int:
    """The 64-bit SimHash of `text`'s shingles (0 for text without words)."""
    weights = [0] * FINGERPRINT_BITS
    for shingle in shingles(text):
        value = _hash64(shingle)
        for bit in range(FINGERPRINT_BITS):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit, weight in enumerate(weights) if weight > 0)


def hamming(left: int, right: int) -> int:
    """Bits in which two fingerprints differ."""
    return (left ^ right).bit_count()


_PRIME = (1 << 61) - 1  # a Mersenne prime above every 32-bit shingle hash
_MAX_HASH = (1 << 32) - 1


@cache
def _permutations(num_perm: int, seed: int) -> tuple[tuple[int, int], ...]:
    """`num_perm` random hash functions h(x) = (a*x + b) mod p, the same for every text."""
    rng = random.Random(seed)
    return tuple((rng.randrange(1, _PRIME), rng.randrange(0, _PRIME)) for _ in range(num_perm))


class MinHash:
    """The minimum of each of `num_perm` hash functions over a set: the share of positions
    where two sketches agree estimates the sets' Jaccard similarity."""

    def __init__(self, hashvalues: tuple[int, ...]) -> None:
        self.hashvalues = hashvalues

    @classmethod
    def of(cls, items: set[str], num_perm: int, seed: int = 1) -> MinHash:
        hashes = [int.from_bytes(hashlib.blake2b(item.encode(), digest_size=4).digest(),
                                 "little") for item in items]
        if not hashes:
            return cls((_MAX_HASH,) * num_perm)
        return cls(tuple(min(((a * h + b) % _PRIME) & _MAX_HASH for h in hashes)
                         for a, b in _permutations(num_perm, seed)))

    def jaccard(self, other: MinHash) -> float:
        if len(self.hashvalues) != len(other.hashvalues):
            raise ValueError("MinHash sketches of different sizes cannot be compared")
        same = sum(1 for x, y in zip(self.hashvalues, other.hashvalues, strict=True) if x == y)
        return same / len(self.hashvalues)


@cache
def lsh_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) for LSH banding that best separates pairs above `threshold` from those
    below: the least false-positive plus false-negative area under the candidate curve
    1 - (1 - s^rows)^bands (each integral by the midpoint rule)."""
    def area(low: float, high: float, bands: int, rows: int, positive: bool) -> float:
        steps = 200
        width = (high - low) / steps
        total = 0.0
        for i in range(steps):
            s = low + (i + 0.5) * width
            candidate = 1 - (1 - s ** rows) ** bands
            total += candidate if positive else 1 - candidate
        return total * width

    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            error = area(0.0, threshold, bands, rows, True) + \
                area(threshold, 1.0, bands, rows, False)
            if best is None or error < best[0]:
                best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


class MinHashLSH:
    """Candidate pairs by banding: sketches that agree on every row of some band."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.bands, self.rows = lsh_shape(threshold, num_perm)
        self._buckets: list[dict[tuple[int, ...], list[int]]] = [{} for _ in range(self.bands)]

    def _keys(self, sketch: MinHash) -> list[tuple[int, ...]]:
        values = sketch.hashvalues
        return [values[band * self.rows:(band + 1) * self.rows] for band in range(self.bands)]

    def insert(self, key: int, sketch: MinHash) -> None:
        for bucket, band_key in zip(self._buckets, self._keys(sketch), strict=True):
            bucket.setdefault(band_key, []).append(key)

    def query(self, sketch: MinHash) -> set[int]:
        found: set[int] = set()
        for bucket, band_key in zip(self._buckets, self._keys(sketch), strict=True):
            found.update(bucket.get(band_key, ()))
        return found


def minhash(text: str, num_perm: int) -> MinHash:
    """The MinHash of `text`'s shingles with `num_perm` permutations (fixed seed)."""
    return MinHash.of(shingles(text), num_perm)


def jaccard(left: str, right: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (the check on MinHash)."""
    a, b = shingles(left), shingles(right)
    return len(a & b) / len(a | b) if a | b else 1.0


@dataclass(frozen=True)
class Merge:
    """Item `dropped` was merged into item `kept` (indexes into the caller's list)."""

    kept: int
    dropped: int
    distance: float


def near_duplicate_pages(texts: Sequence[str], max_distance: int) -> list[Merge]:
    """Pages whose SimHash is within `max_distance` bits of an earlier kept page."""
    kept: list[tuple[int, int]] = []
    merges: list[Merge] = []
    for index, text in enumerate(texts):
        fingerprint = simhash(text)
        match = next(((k, d) for k, fp in kept
                      if (d := hamming(fp, fingerprint)) <= max_distance), None)
        if match is None:
            kept.append((index, fingerprint))
        else:
            merges.append(Merge(kept=match[0], dropped=index, distance=match[1]))
    return merges


def repeated_passages(passages: Sequence[str], threshold: float, num_perm: int) -> list[Merge]:
    """Passages that LSH finds similar (estimated Jaccard >= `threshold`) to an earlier one."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sketches: dict[int, MinHash] = {}
    merges: list[Merge] = []
    for index, text in enumerate(passages):
        sketch = minhash(text, num_perm)
        candidates = sorted(lsh.query(sketch))
        best = max(candidates, key=lambda c: sketch.jaccard(sketches[c]), default=None)
        if best is not None and sketch.jaccard(sketches[best]) >= threshold:
            merges.append(Merge(kept=best, dropped=index,
                                distance=round(sketch.jaccard(sketches[best]), 3)))
            continue
        sketches[index] = sketch
        lsh.insert(index, sketch)
    return merges
