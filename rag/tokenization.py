"""Korean-aware lexical terms for BM25 and answer matching.

Kiwi splits Korean words into morphemes; we keep the ones that carry meaning (nouns,
verb/adjective stems, numbers, foreign words, hanja) and drop particles and endings, so
"인천시는" and "인천시가" both become "인천시".
"""

from collections.abc import Iterable

from rag.korean import get_kiwi

# Noun (NN*), numeral (NR), number (SN), foreign (SL), hanja (SH), root (XR), verb and
# adjective stems (VV, VA); suffixes like 하다 (XSV) and particles/endings are dropped.
_CONTENT_TAG_PREFIXES = ("NN", "NR", "SN", "SL", "SH", "XR", "VV", "VA", "MM")
_STEM_TAG_PREFIXES = ("VV", "VA")


def _terms(tokens) -> list[str]:
    return [
        token.form + "다" if token.tag.startswith(_STEM_TAG_PREFIXES) else token.form.lower()
        for token in tokens
        if token.tag.startswith(_CONTENT_TAG_PREFIXES)
    ]


def content_terms(text: str) -> list[str]:
    """The content morphemes of ``text``, lower-cased; verb/adjective stems as lemmas."""
    return _terms(get_kiwi().tokenize(text))


def content_terms_batch(texts: Iterable[str]) -> list[list[str]]:
    """``content_terms`` over many texts, using Kiwi's batch analysis."""
    return [_terms(tokens) for tokens in get_kiwi().tokenize(list(texts))]
