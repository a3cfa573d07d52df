"""Near-duplicate articles: one press release rewritten by several outlets.

Each document gets a MinHash signature of its 5-character shingles (spaces collapsed),
computed once at index time and kept with the document, so any store can regroup its
documents after an update without re-reading their texts. Documents whose estimated
Jaccard similarity reaches ``THRESHOLD`` are one group (transitively): rewrites of one
release share most of their sentences, while two articles on one topic from different
sources share a few phrases (the seeds' articles on the 2023 jobs awards: 0.02-0.04).
"""

import base64
from collections.abc import Mapping

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE = 5
PERMUTATIONS = 128
#: Jaccard similarity of shingle sets from which two documents are one article.
THRESHOLD = 0.5
#: Named, not left to datasketch's default: stored signatures must stay comparable.
SCHEME = "affine32"


def shingles(text: str) -> set[str]:
    """The ``SHINGLE``-character pieces of ``text`` with whitespace runs as one space
    (line breaks and indentation differ between outlets' pages)."""
    flat = " ".join(text.split())
    if len(flat) <= SHINGLE:
        return {flat} if flat else set()
    return {flat[i : i + SHINGLE] for i in range(len(flat) - SHINGLE + 1)}


def signature(text: str) -> str | None:
    """The text's MinHash as base64 (a JSON-friendly 684 characters); ``None`` for an
    empty text, which is a duplicate of nothing."""
    pieces = shingles(text)
    if not pieces:
        return None
    minhash = MinHash(num_perm=PERMUTATIONS, scheme=SCHEME)
    minhash.update_batch([p.encode("utf-8") for p in pieces])
    return base64.b64encode(minhash.hashvalues.astype("<u4").tobytes()).decode("ascii")


def signature_values(encoded: str) -> np.ndarray:
    """The ``PERMUTATIONS`` hash values of a signature: two documents' estimated Jaccard
    similarity is the share of positions where their values are equal."""
    return np.frombuffer(base64.b64decode(encoded), dtype="<u4")


def _minhash(encoded: str) -> MinHash:
    return MinHash(num_perm=PERMUTATIONS, hashvalues=signature_values(encoded), scheme=SCHEME)


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(_minhash(a).jaccard(_minhash(b)))


def duplicate_groups(signatures: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    """For every document id, the other members of its near-duplicate group (sorted;
    empty for most). LSH proposes candidate pairs; each is checked against
    ``THRESHOLD`` before being joined."""
    hashes = {k: _minhash(v) for k, v in signatures.items() if v}
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERMUTATIONS)
    parent = {k: k for k in hashes}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for doc_id, minhash in sorted(hashes.items()):
        for other in lsh.query(minhash):
            if minhash.jaccard(hashes[other]) >= THRESHOLD:
                parent[root(doc_id)] = root(other)
        lsh.insert(doc_id, minhash)
    members: dict[str, list[str]] = {}
    for doc_id in sorted(hashes):
        members.setdefault(root(doc_id), []).append(doc_id)
    groups = {doc_id: () for doc_id in signatures}
    for group in members.values():
        for doc_id in group:
            groups[doc_id] = tuple(d for d in group if d != doc_id)
    return groups
