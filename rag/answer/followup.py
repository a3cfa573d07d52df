"""Follow-up questions in a chat: "그럼 부산은?" after "인천시는 얼마를 받았어?" means
"부산은 얼마를 받았어?". Retrieval only sees one question, so an elliptical follow-up is
rewritten into a full one by carrying the previous question's frame over and swapping its
topic entity for the new one. Anything that is a question of its own passes through, and so
does anything in doubt: a wrong rewrite sends retrieval after a question nobody asked, while
an unrewritten follow-up still carries its own words. A turn counts as a follow-up only when
it is one entity (with a particle, or after an opener like "그럼"); one that names its topic
together with what it asks about ("목포시 케이블카 예산은?") stands on its own."""

import re

from kiwipiepy import Token

from rag.ingest.korean import get_kiwi

#: Openers that mark a turn as continuing the conversation.
_CONNECTIVES = {
    "그럼",
    "그러면",
    "그렇다면",
    "그건",
    "그거",
    "근데",
    "그런데",
    "그리고",
    "그래서",
    "또",
}
#: Words that ask for something: a turn containing one has a frame of its own.
_QUESTION_WORDS = {
    "얼마",
    "얼마나",
    "몇",
    "언제",
    "누구",
    "누가",
    "어디",
    "무엇",
    "무얼",
    "뭐",
    "뭘",
    "무슨",
    "어떤",
    "어느",
    "왜",
    "어떻게",
}
#: Tags of tokens that can make up an entity ("부산", "의정부시", "2022년", "고용 노동부").
_NOUN_TAGS = {"NNP", "NNG", "NNB", "NR", "SN", "SL", "SH", "XSN", "XPN"}
#: "대구는 어때?" asks "what about Daegu?": its only predicate adds nothing to the frame.
_EMPTY_PREDICATES = {"어떻", "어떠하", "어떠"}
_TOPIC_PARTICLES = {"은", "는", "이", "가", "도", "ᆫ"}
_PLACE_NOUN = re.compile(r".+(시|도|군|구|부|청|원)$")
#: Earlier turns consulted when a follow-up follows another follow-up.
MAX_DEPTH = 8


def _has_batchim(word: str) -> bool | None:
    """Whether the last syllable ends in a consonant (picks 은 vs 는); None if not Hangul."""
    last = word[-1] if word else ""
    if "가" <= last <= "힣":
        return (ord(last) - ord("가")) % 28 != 0
    return None


def _particle(kind: str, entity: str) -> str:
    """The particle of ``kind`` (은/는, 이/가, 도) that fits after ``entity``."""
    if kind in ("도", ""):
        return kind
    batchim = _has_batchim(entity)
    if kind in ("은", "는", "ᆫ"):
        return "는" if batchim is False else "은"
    return "가" if batchim is False else "이"


def _names_one_entity(run: list[Token]) -> bool:
    """Whether a noun run is one entity that can stand in for the previous topic ("부산",
    "2023년 인천시", "고용 노동부"), not a topic plus what is asked about ("부산시 사업비",
    "목포시 케이블카 예산"): the frame swap only ever replaces an entity, so anything else
    would come out as nonsense ("…예산은 언제까지 케이블카를 개통해?")."""
    while len(run) > 1 and run[-1].tag == "XSN":
        run = run[:-1]
    head = run[-1]
    year = head.tag in ("NNB", "NR") and len(run) > 1 and run[-2].tag == "SN"
    place = head.tag == "NNG" and _PLACE_NOUN.fullmatch(head.form) is not None
    if not (head.tag in ("NNP", "SL", "SH", "SN") or year or place):
        return False  # "예산은?", "케이블카 예산은?": an attribute, not a topic
    named = False
    for t in run:
        if t.tag in ("NNP", "SL", "SH"):
            named = True
        elif t.tag == "NNG" and named:
            return False  # a common noun after a name: "부산시 사업비", "경기도 교육청"
    return True


def _new_entity(question: str) -> tuple[str, str] | None:
    """The entity and particle of an elliptical follow-up ("그럼 부산은?" → ("부산", "은")),
    or None when the turn is a full question (it has a predicate or question word, or names
    more than one entity's worth of nouns) or might be one: when in doubt it stays as is."""
    tokens = get_kiwi().tokenize(question)
    opened = False
    while tokens and (tokens[0].form in _CONNECTIVES or tokens[0].tag in ("MAJ", "SP")):
        tokens = tokens[1:]
        opened = True
    while opened and tokens and tokens[0].tag.startswith("J"):  # the ㄴ of "그건"
        tokens = tokens[1:]
    while tokens and tokens[-1].tag in ("SF", "SP", "SE", "SS"):
        tokens = tokens[:-1]
    predicates = [
        t for t in tokens if t.tag[:2] in ("VV", "VA", "VX", "VC", "XS") and t.tag != "XSN"
    ]
    if any(t.form in _QUESTION_WORDS for t in tokens):
        return None
    if any(t.form not in _EMPTY_PREDICATES for t in predicates):
        return None
    nouns = [i for i, t in enumerate(tokens) if t.tag in _NOUN_TAGS]
    if not nouns:
        return None
    first, last = nouns[0], nouns[-1]
    if any(t.tag not in _NOUN_TAGS for t in tokens[first : last + 1]):
        return None  # more than one noun phrase: not a bare "X는?"
    if not _names_one_entity(tokens[first : last + 1]):
        return None
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    particle = after.form if after is not None and after.form in _TOPIC_PARTICLES else ""
    if not (opened or particle in ("은", "는", "도", "ᆫ") or predicates):
        return None
    entity = question[tokens[first].start : tokens[last].start + tokens[last].len]
    return entity, particle


def _topic_span(question: str, entity: str) -> tuple[int, int, str] | None:
    """Where the previous question's topic is: (start, end, particle) covering the entity
    and its particle, preferring a proper or place noun marked by 은/는/이/가/도; for a
    year follow-up ("2022년은?") the previous question's year."""
    tokens = get_kiwi().tokenize(question)
    is_year = re.fullmatch(r"\d{4}\s*년", entity) is not None
    runs: list[tuple[int, int]] = []  # [first, last] token indexes of noun runs
    for i, t in enumerate(tokens):
        if t.tag in _NOUN_TAGS:
            if runs and runs[-1][1] == i - 1:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
    candidates = []
    for first, last in runs:
        span = tokens[first : last + 1]
        if is_year:
            years = [
                j for j, t in enumerate(span[:-1]) if t.tag == "SN" and span[j + 1].form == "년"
            ]
            if years:
                a, b = span[years[0]], span[years[0] + 1]
                candidates.append((0, a.start, b.start + b.len, ""))
            continue
        # Only the head of the run names the topic when it follows modifiers ("2023년 인천시는").
        head = next((j for j in range(len(span)) if span[j].tag == "NNP"), None)
        if head is None and _PLACE_NOUN.fullmatch(span[-1].form):
            head = 0
        if head is None:
            continue
        tail = head
        while tail + 1 < len(span) and span[tail + 1].tag in ("NNP", "SL", "SH", "XSN"):
            tail += 1
        start = span[head].start
        end = span[tail].start + span[tail].len
        if tail < len(span) - 1:
            # "인천시 일자리 예산은": the name alone is the topic; the attribute stays.
            candidates.append((1, start, end, ""))
            continue
        after = tokens[last + 1] if last + 1 < len(tokens) else None
        marked = after is not None and after.form in _TOPIC_PARTICLES and after.tag.startswith("J")
        if marked:
            candidates.append((0, start, after.start + after.len, after.form))
        else:
            candidates.append((1, start, end, ""))
    if not candidates:
        return None
    _, start, end, particle = min(candidates, key=lambda c: (c[0], c[1]))
    return start, end, particle


def resolve_followup(question: str, history: list[str]) -> str:
    """The question to answer: ``question`` itself, or for an elliptical follow-up the
    previous question (itself resolved against the turns before it) with its topic
    replaced by the follow-up's entity."""
    earlier = [h for h in history if h and h.strip()][-MAX_DEPTH:]
    if not earlier or not question.strip():
        return question
    found = _new_entity(question.strip())
    if found is None:
        return question
    entity, particle = found
    previous = resolve_followup(earlier[-1].strip(), earlier[:-1])
    topic = _topic_span(previous, entity)
    if topic is None:
        return f"{entity}{_particle(particle or '은', entity)} {previous}"
    start, end, old_particle = topic
    if old_particle:
        kind = particle if particle == "도" else old_particle
        replacement = entity + _particle(kind, entity)
    else:
        replacement = entity
    return previous[:start] + replacement + previous[end:]
