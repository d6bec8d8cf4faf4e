"""Near-duplicate pages (SimHash over page text) and repeated passages (MinHash + LSH).

SimHash: 64-bit fingerprints of word 3-shingles; two pages whose fingerprints differ in at
most `max_distance` bits are the same document (a mirror, a syndicated copy) and are merged
into the first one seen. MinHash/LSH (datasketch) finds passages that repeat across the
remaining sources, so the model is not shown the same paragraph twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

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


def minhash(text: str, num_perm: int) -> MinHash:
    """The MinHash of `text`'s shingles with `num_perm` permutations (fixed seed)."""
    sketch = MinHash(num_perm=num_perm, seed=1)
    sketch.update_batch([shingle.encode() for shingle in shingles(text)])
    return sketch


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
        candidates = sorted(int(key) for key in lsh.query(sketch))
        best = max(candidates, key=lambda c: sketch.jaccard(sketches[c]), default=None)
        if best is not None and sketch.jaccard(sketches[best]) >= threshold:
            merges.append(Merge(kept=best, dropped=index,
                                distance=round(sketch.jaccard(sketches[best]), 3)))
            continue
        sketches[index] = sketch
        lsh.insert(str(index), sketch)
    return merges
