"""Lexical terms as sparse vectors, for a store that scores BM25 itself (Qdrant).

A term's dimension is a 32-bit hash of it: no shared vocabulary, so index workers need
no coordination (two terms share a dimension about once per 4 billion pairs). A passage's
value for a term is BM25's term-frequency part with bm25s's constants; the store
multiplies in the inverse document frequency (Qdrant's ``Modifier.IDF`` is BM25's, the
one bm25s uses), and a query's value is how often the term occurs in it. The sum over
shared dimensions is then the bm25s score, given the same average passage length.
"""

import hashlib
from collections import Counter
from collections.abc import Sequence

#: bm25s's defaults, as ``rag.index.store.make_bm25`` builds it.
K1 = 1.5
B = 0.75
HASH = "blake2b-32"


def term_dimension(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little")


def _by_dimension(weights: dict[str, float]) -> tuple[list[int], list[float]]:
    merged: Counter[int] = Counter()
    for term, weight in weights.items():
        merged[term_dimension(term)] += weight
    dims = sorted(merged)
    return dims, [merged[d] for d in dims]


def passage_vector(terms: Sequence[str], avg_length: float) -> tuple[list[int], list[float]]:
    """BM25 term-frequency weights of a passage's terms, by dimension."""
    norm = K1 * (1 - B + B * len(terms) / avg_length)
    return _by_dimension({t: tf / (norm + tf) for t, tf in Counter(terms).items()})


def query_vector(terms: Sequence[str]) -> tuple[list[int], list[float]]:
    """A query's terms, each weighted by how often it occurs."""
    return _by_dimension({t: float(n) for t, n in Counter(terms).items()})
