"""Synthetic news questions: the question word stands where the answer was, the answer is a
verbatim slice of the passage, and no question comes from a held-out article or its copy."""

import random
from pathlib import Path

import pytest

from rag.ingest.korean import get_kiwi
from rag.training.synthetic import (
    article_questions,
    as_question,
    number_spans,
    unseen_articles,
)


def _spans(sentence: str) -> list[tuple[str, str]]:
    tokens = get_kiwi().tokenize(sentence)
    return [(sentence[s:e], word) for s, e, word in number_spans(tokens)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("신규 확진자 수는 1만8147명으로 집계됐다.", [("1만8147명", "몇 명")]),
        ("총 14억 원 규모의 비용은 양사가 부담한다.", [("14억 원", "얼마")]),
        ("이 회사는 2019년 3월 설립된 기업이다.", [("2019년 3월", "언제")]),
        ("고용률은 67.7%를 기록했다.", [("67.7%", "몇 %")]),
        ("18년 만에 승인받은 치료제다.", [("18년", "몇 년")]),
        ("전국 5천800여 개 아파트에서 송출한다.", [("5천800여 개", "몇 개")]),
        ("날씨가 맑고 바람이 불었다.", []),
    ],
)
def test_amounts_counts_and_dates_get_their_question_word(
    sentence: str, expected: list[tuple[str, str]]
) -> None:
    assert _spans(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "casual", "question"),
    [
        ("확진자는 몇 명으로 집계됐다.", False, "확진자는 몇 명으로 집계됐나?"),
        ("확진자는 몇 명으로 집계됐다.", True, "확진자는 몇 명으로 집계됐어?"),
        ("설립은 언제 예정이다.", False, "설립은 언제 예정인가?"),
        ("설립은 언제 예정이다.", True, "설립은 언제 예정이야?"),
        ("행사는 언제 열렸나?", False, None),
    ],
)
def test_a_declarative_ending_becomes_a_question_ending(
    sentence: str, casual: bool, question: str | None
) -> None:
    assert as_question(sentence, get_kiwi().tokenize(sentence), casual) == question


ARTICLE = (
    "인천시 일자리 성과 발표\n\n"
    "인천시는 지난해 일자리 14만8962개를 만들었다고 3일 밝혔다. "
    "목표였던 13만7394개를 넘어선 수치다. "
    "시는 올해 예산 1200억 원을 들여 청년 일자리 사업을 넓힌다. "
    "이번 사업은 2025년 12월까지 이어진다."
)


def test_each_question_hides_its_answer_which_is_a_verbatim_slice() -> None:
    made = article_questions(ARTICLE, random.Random(0), per_article=4, casual_rate=0.5)
    assert len(made) == 4
    for ex in made:
        assert ex.answer is not None
        answer = ex.context[ex.answer[0] : ex.answer[1]]
        assert answer in ARTICLE and any(c.isdigit() for c in answer)
        assert answer not in ex.question
        assert ex.question.endswith("?")
        assert any(w in ex.question for w in ("언제", "얼마", "몇 "))


def test_held_out_articles_and_their_copies_give_no_questions(tmp_path: Path) -> None:
    held = "서울시는 4일 시청에서 청년 창업 박람회를 열고 120개 기업이 참가했다고 밝혔다. " * 3
    copy = held.replace("서울시는", "서울특별시는", 1)
    seed = "부산시는 올해 관광 예산으로 1234억 원을 확보했다고 밝혔다. " * 3
    other = "대전시는 과학 축제를 8월에 연다. 관람객 30만 명이 찾을 것으로 본다. " * 3
    for name, text in {
        "held.txt": held,
        "copy.txt": copy,
        "seed.txt": seed,
        "other.txt": other,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    kept = unseen_articles(tmp_path, ["held.txt"], [seed])
    assert [p.name for p in kept] == ["other.txt"]
