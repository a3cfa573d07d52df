"""Synthetic news questions from unlabelled articles: more of the product's domain for the reader.

Korean keeps the question word where the answer stood ("1만8147명으로 집계됐다" → "몇 명으로
집계됐나?"), so a declarative news sentence becomes a question by putting a question word in
place of one of its amounts, counts or dates and turning its final ending into a question
ending (Kiwi re-joins the morphemes: "밝혔다" → "밝혔나" / "밝혔어"). The answer is the
replaced span, verbatim in the article. Only articles outside the val and test splits, and
not near-duplicates of them, are read: the same press release rewritten by another outlet
would otherwise teach the reader the facts it is tested on.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from kiwipiepy import Token

from rag.index.duplicates import signature, signature_values
from rag.ingest.korean import get_kiwi
from rag.training.reader import Example

#: Units that make a count "몇 <unit>"; money and dates get their own question words.
DATE_UNITS = {"년", "월", "일"}
#: After a date unit these make it a duration ("18년 만에", "3년 연속"): "몇 년", not "언제".
DURATION_AFTER = {
    "만",
    "간",
    "새",
    "동안",
    "째",
    "연속",
    "전",
    "후",
    "뒤",
    "마다",
    "여",
    "이상",
    "이내",
    "미만",
    "가량",
}
MONEY_UNITS = {"원", "달러", "엔", "위안", "유로"}
#: Characters of article text kept on each side of the question's sentence.
CONTEXT_CHARS = 150
#: Sentences outside this length (characters) make poor questions.
SENTENCE_CHARS = (15, 110)
#: A near-duplicate for leakage is looser than the product's 0.5: any shared release.
LEAK_SIMILARITY = 0.2
#: Declarative final endings that can be turned into a question.
DECLARATIVE = {"다", "ᆫ다", "는다"}


def number_spans(tokens: list[Token]) -> list[tuple[int, int, str]]:
    """(start, end, question word) of each amount, count or date: digits with their
    number words ("1만8147명", "14억 원", "5천800여 개", "67.7%") and runs of date parts
    ("2019년 3월")."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        # the second number of a range whose "~" the source stripped ("1 3월") is no answer
        if tokens[i].tag != "SN" or (i and tokens[i - 1].tag == "SN"):
            i += 1
            continue
        start, j, unit = tokens[i].start, i + 1, None
        while j < len(tokens):
            t = tokens[j]
            if t.tag in ("SN", "NR") or (t.tag == "XSN" and t.form == "여"):
                j += 1
            elif t.tag == "NNB" or (t.tag == "SW" and t.form == "%"):
                unit = t.form
                j += 1
                # date parts run on: "2019년 3월 1일"
                next_unit = j + 1 < len(tokens) and tokens[j].tag == "SN" and tokens[j + 1].form
                if unit in DATE_UNITS and next_unit in DATE_UNITS:
                    j += 1
                    continue
                break
            else:
                break
        after = tokens[j].form if j < len(tokens) else ""
        # a number split by a space ("2 3분", "1시 29분") is not one answer
        if unit is not None and not (j < len(tokens) and tokens[j].tag == "SN"):
            end = tokens[j - 1].end
            word = (
                "언제"
                if unit in DATE_UNITS and after not in DURATION_AFTER
                else "얼마"
                if unit in MONEY_UNITS
                else "몇 %"
                if unit == "%"
                else f"몇 {unit}"
            )
            out.append((start, end, word))
        i = max(j, i + 1)
    return out


def as_question(sentence: str, tokens: list[Token], casual: bool) -> str | None:
    """``sentence`` with its final declarative ending turned into a question ending
    ("…밝혔나?", casual "…밝혔어?"); ``None`` when it does not end in one."""
    body = [t for t in tokens if t.tag not in ("SF", "SS", "SW")]
    if not body or body[-1].tag != "EF" or body[-1].form not in DECLARATIVE:
        return None
    last_space = sentence.rfind(" ", 0, body[-1].start)
    word = [t for t in body if t.start > last_space]
    copula = len(word) > 1 and word[-2].tag == "VCP"
    ending = ("야" if copula else "어") if casual else ("ᆫ가" if copula else "나")
    morphs = [(t.form, t.tag) for t in word[:-1]] + [(ending, "EF")]
    return sentence[: last_space + 1] + get_kiwi().join(morphs) + "?"


def article_questions(
    text: str, rng: random.Random, per_article: int, casual_rate: float
) -> list[Example]:
    """Up to ``per_article`` questions, each from a different sentence of ``text``, with
    the sentence's neighbourhood as the passage."""
    kiwi = get_kiwi()
    candidates = []
    for sent in kiwi.split_into_sents(text, return_tokens=True):
        if not SENTENCE_CHARS[0] <= len(sent.text) <= SENTENCE_CHARS[1]:
            continue
        tokens = list(sent.tokens)
        for start, end, word in number_spans(tokens):
            candidates.append((sent, tokens, start, end, word))
    rng.shuffle(candidates)
    out: list[Example] = []
    used: set[int] = set()
    for sent, tokens, start, end, word in candidates:
        if len(out) >= per_article:
            break
        if sent.start in used:
            continue
        s, e = start - sent.start, end - sent.start
        # the byline the source data glued to the first sentence ("서울 뉴시스 … 기자 ")
        byline = sent.text.find(" 기자 ", 0, s)
        particle = next((t for t in tokens if t.start == end and t.tag.startswith("J")), None)
        # 언제/얼마 end in a vowel: "6월을" → "언제를", "10억원이" → "얼마가"; 몇 keeps its unit
        if particle is not None and " " not in word:
            word = kiwi.join([(word, "NNG"), (particle.form, particle.tag)])
            e = particle.end - sent.start
        cloze = sent.text[byline + 4 if byline >= 0 else 0 : s] + word + sent.text[e:]
        question = as_question(cloze, kiwi.tokenize(cloze), rng.random() < casual_rate)
        if question is None:
            continue
        used.add(sent.start)
        lo = text.rfind(" ", 0, max(0, sent.start - CONTEXT_CHARS)) + 1
        hi = text.find(" ", sent.end + CONTEXT_CHARS)
        context = text[lo : hi if hi >= 0 else len(text)]
        out.append(Example(question, context, (start - lo, end - lo)))
    return out


def unseen_articles(
    articles: Path, held_out: Iterable[str], also_unseen: Iterable[str]
) -> list[Path]:
    """The corpus's articles that are neither ``held_out`` nor a near-duplicate of one of
    them or of the ``also_unseen`` texts (e.g. the seed articles)."""
    held = set(held_out)
    paths = sorted(articles.glob("*.txt"))
    sigs = {p.name: signature(p.read_text(encoding="utf-8")) for p in paths}
    guarded = [sigs.get(n) for n in held] + [signature(t) for t in also_unseen]
    against = np.stack([signature_values(g) for g in guarded if g])
    kept = []
    for p in paths:
        sig = sigs[p.name]
        if p.name in held or not sig:
            continue
        if (signature_values(sig)[None, :] == against).mean(axis=1).max() < LEAK_SIMILARITY:
            kept.append(p)
    return kept


def synthetic_examples(
    articles: list[Path],
    limit: int,
    rng: random.Random,
    per_article: int = 2,
    casual_rate: float = 0.3,
) -> list[Example]:
    """Up to ``limit`` questions, ``per_article`` at most from each article, articles in
    a seeded random order."""
    order = list(articles)
    rng.shuffle(order)
    out: list[Example] = []
    for path in order:
        if len(out) >= limit:
            break
        out.extend(
            article_questions(path.read_text(encoding="utf-8"), rng, per_article, casual_rate)
        )
    return out[:limit]
