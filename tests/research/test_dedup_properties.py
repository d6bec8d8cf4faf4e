"""Properties of the de-duplication fingerprints: SimHash distance 0 for identical text, small
for a one-word edit, about half the bits for unrelated text; MinHash (datasketch) estimates
within 3 standard errors, 3·sqrt(J(1-J)/k), of the exact Jaccard similarity."""

from __future__ import annotations

import math
import random
import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from codex.research.dedup import (
    FINGERPRINT_BITS,
    hamming,
    jaccard,
    minhash,
    near_duplicate_pages,
    shingles,
    simhash,
)

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9)
# Cheap to draw: word numbers from a large vocabulary, turned into words. Distinct words: a
# page that repeats one word 200 times has a single shingle, and one edit is then a third
# of its shingles, not a small change.
DOCUMENT = st.lists(st.integers(0, 20_000), min_size=200, max_size=300, unique=True).map(
    lambda numbers: [f"w{n}" for n in numbers])


@given(DOCUMENT)
@settings(max_examples=40, deadline=None)
def test_identical_text_distance_zero(tokens: list[str]) -> None:
    text = " ".join(tokens)
    assert hamming(simhash(text), simhash(text)) == 0


@given(DOCUMENT, st.data())
@settings(max_examples=60, deadline=None)
def test_one_word_edit_is_small(tokens: list[str], data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(tokens) - 1))
    edited = [*tokens]
    edited[position] = "zzzreplacedzzz"
    assert hamming(simhash(" ".join(tokens)), simhash(" ".join(edited))) <= 12


def test_unrelated_texts_differ_in_about_half_the_bits() -> None:
    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(5000)]
    distances = [hamming(simhash(" ".join(rng.choices(vocabulary, k=300))),
                         simhash(" ".join(rng.choices(vocabulary, k=300))))
                 for _ in range(60)]
    assert abs(statistics.mean(distances) - FINGERPRINT_BITS / 2) < 4
    assert min(distances) > 16


@given(st.lists(WORD, min_size=30, max_size=120, unique=True), st.data())
@settings(max_examples=80, deadline=None)
def test_minhash_estimate_within_three_standard_errors(tokens: list[str],
                                                       data: st.DataObject) -> None:
    cut = data.draw(st.integers(5, len(tokens) - 5))
    keep = data.draw(st.integers(cut, len(tokens)))
    left = " ".join(tokens[:keep])
    right = " ".join(tokens[cut - 5:])
    exact = jaccard(left, right)
    k = 256
    estimate = minhash(left, k).jaccard(minhash(right, k))
    bound = 3 * math.sqrt(exact * (1 - exact) / k)
    # One shingle of slack covers the 1/k granularity of an estimate at J near 0 or 1.
    assert abs(estimate - exact) <= bound + 1 / k, (exact, estimate)
    assert len(shingles(left)) > 0


def test_mirror_merges_and_distinct_page_stays() -> None:
    base = " ".join(f"word{n}" for n in range(300))
    mirror = base.replace("word150", "changed")
    other = " ".join(f"term{n}" for n in range(300))
    merges = near_duplicate_pages([base, other, mirror], max_distance=8)
    assert [(m.kept, m.dropped) for m in merges] == [(0, 2)]
