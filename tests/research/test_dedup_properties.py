"""Properties of the de-duplication fingerprints: SimHash distance 0 for identical text, small
for a one-word edit, about half the bits for unrelated text; our MinHash's estimates within 3
standard errors, 3·sqrt(J(1-J)/k), of the exact Jaccard similarity, as close as datasketch's
(the well-known implementation, a test-only oracle here), and our LSH banding finding what
datasketch's finds."""

from __future__ import annotations

import math
import random
import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from codex.research.dedup import (
    FINGERPRINT_BITS,
    MinHashLSH,
    hamming,
    jaccard,
    lsh_shape,
    minhash,
    near_duplicate_pages,
    repeated_passages,
    shingles,
    simhash,
)

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


def test_minhash_estimate_within_three_standard_errors() -> None:
    """3·sqrt(J(1-J)/k) holds for 99.7 % of estimates (a normal approximation), not for every
    one: a search for the worst case (hypothesis) always finds a pair outside it. So: 400
    seeded pairs of overlapping word lists, and at least 98.5 % inside the bound (fewer than
    that has a probability below 1e-4 for a correct estimator); the mean error stays near 0."""
    rng = random.Random(20261204)
    vocabulary = ["".join(rng.choices("abcdefghij", k=rng.randint(3, 6))) for _ in range(3000)]
    k, inside, errors = 256, 0, []
    for _ in range(400):
        tokens = rng.sample(vocabulary, rng.randint(30, 120))
        cut = rng.randint(5, len(tokens) - 5)
        left = " ".join(tokens[:rng.randint(cut, len(tokens))])
        right = " ".join(tokens[cut - 5:])
        exact = jaccard(left, right)
        estimate = minhash(left, k).jaccard(minhash(right, k))
        errors.append(estimate - exact)
        # One step of slack covers the 1/k granularity of an estimate at J near 0 or 1.
        inside += abs(estimate - exact) <= 3 * math.sqrt(exact * (1 - exact) / k) + 1 / k
    assert inside >= 394, inside
    assert abs(statistics.mean(errors)) < 0.005


def test_mirror_merges_and_distinct_page_stays() -> None:
    base = " ".join(f"word{n}" for n in range(300))
    mirror = base.replace("word150", "changed")
    other = " ".join(f"term{n}" for n in range(300))
    merges = near_duplicate_pages([base, other, mirror], max_distance=8)
    assert [(m.kept, m.dropped) for m in merges] == [(0, 2)]


def _datasketch_estimate(left: str, right: str, k: int) -> float:
    from datasketch import MinHash as Oracle

    sketches = []
    for text in (left, right):
        sketch = Oracle(num_perm=k, seed=1)
        sketch.update_batch([s.encode() for s in shingles(text)])
        sketches.append(sketch)
    return float(sketches[0].jaccard(sketches[1]))


def test_estimates_are_as_close_to_exact_as_datasketch() -> None:
    """Over many pairs, our mean absolute error is within 20 % (+ one step) of datasketch's."""
    rng = random.Random(11)
    vocabulary = [f"w{n}" for n in range(400)]
    ours, oracle = [], []
    k = 128
    for _ in range(150):
        left = " ".join(rng.sample(vocabulary, 120))
        right = " ".join(rng.sample(vocabulary, 60) + left.split()[:rng.randrange(0, 120)])
        exact = jaccard(left, right)
        ours.append(abs(minhash(left, k).jaccard(minhash(right, k)) - exact))
        oracle.append(abs(_datasketch_estimate(left, right, k) - exact))
    assert statistics.mean(ours) <= 1.2 * statistics.mean(oracle) + 1 / k, (
        statistics.mean(ours), statistics.mean(oracle))


def test_lsh_shape_matches_datasketch_and_finds_what_it_finds() -> None:
    from datasketch import MinHashLSH as OracleLSH

    for threshold, k in ((0.5, 128), (0.8, 128), (0.9, 64)):
        oracle = OracleLSH(threshold=threshold, num_perm=k)
        assert lsh_shape(threshold, k) == (oracle.b, oracle.r)
    base = [f"passage {n} " + " ".join(f"t{n}x{i}" for i in range(100)) for n in range(30)]
    copies = [text.replace("x5 ", "y5 ") for text in base[:10]]  # one word edited
    merges = repeated_passages([*base, *copies], threshold=0.8, num_perm=128)
    assert sorted((m.kept, m.dropped) for m in merges) == [(n, 30 + n) for n in range(10)]
    lsh = MinHashLSH(0.8, 128)
    lsh.insert(0, minhash(base[0], 128))
    assert lsh.query(minhash(base[1], 128)) == set()  # unrelated: not even a candidate
