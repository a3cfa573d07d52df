"""Korean-aware lexical terms for BM25 and answer matching.

Kiwi splits Korean words into morphemes; we keep the ones that carry meaning (nouns,
verb/adjective stems, numbers, foreign words, hanja) and drop particles and endings, so
"인천시는" and "인천시가" both become "인천시".
"""

from collections.abc import Iterable

from rag.ingest.korean import get_kiwi

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


# Everyday words in questions and the words news articles use for the same thing
# ("부산은 돈 얼마 챙겼어?" ~ "사업비 8500만원을 확보"). Used to widen questions only.
COLLOQUIAL: dict[str, tuple[str, ...]] = {
    "돈": ("사업비", "예산", "인센티브", "국비", "원"),
    "챙기다": ("확보", "받다"),
    "타다": ("수상", "받다"),
    "받다": ("수상", "확보"),
    "해주다": ("지원", "시행"),
    "주다": ("지원", "제공"),
    "만들다": ("창출", "조성"),
    "뽑다": ("선정",),
    "일자리": ("고용",),
    "회사": ("기업",),
    "상금": ("인센티브", "사업비"),
}


def expand_question_terms(terms: list[str]) -> list[list[str]]:
    """Each question term with the article words that may stand for it."""
    return [[term, *COLLOQUIAL.get(term, ())] for term in terms]
