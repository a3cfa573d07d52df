"""Unit tests for rag.answer.extract: question typing and short extractive answer spans.

Sentences are copied verbatim from the seed articles in seeds/; only Kiwi is used (no
embedding model), so the whole file runs in seconds.
"""

import dataclasses
import re
from pathlib import Path

import pytest

from rag.answer.extract import (
    QuestionType,
    Span,
    asked_counter,
    asks_for_sentence,
    classify_question,
    counts_otherwise,
    extract_span,
)

SEEDS = Path(__file__).parents[2] / "seeds"

# --- sentences from the seed articles ------------------------------------------------------
BUSAN_FUND = (
    "부산시는 이번 일자리 대상 수상으로 고용노동부로부터 사업비 8500만원을 확보, "
    "지역 일자리 사업 등에 활용할 계획이다."
)
INCHEON_AWARD = (
    "인천광역시(시장 유정복)는 2일 ‘2023년 전국 지방자치단체 일자리대상’ 일자리 공시제 부문 "
    "대상을 차지해 국무총리상을 수상과 함께 인센티브 사업비 2억4,000만 원을 확보했다고 밝혔다."
)
INCHEON_JOBS = (
    "2022년 지역 일자리 13만 7,394개 창출, 고용률(15~64세) 67.7% 달성을 목표로 설정한 "
    "인천시는 일자리 14만8,962개 창출(108.4%), 고용율 69.4%(1.7%p)를 기록해 목표치를 상회했다."
)
INCHEON_SINCE = (
    "인천시는 고용노동부가 전국 지방자치단체의 일자리 정책 추진실적을 평가한 2012년부터 매년 "
    "꾸준히 수상해 왔으나 일자리  공시제 부문에서 국무총리상을 받은 것은 올해가 처음이다."
)
INCHEON_JO = (
    "조인권 인천시 경제산업본부장은 “인천시는 체계적인 일자리대책을 추진, 시민을 위한 균형잡힌 "
    "고용서비스와 일자리정책의 사각지대를 없애, 15~64세 고용률, 청년고용률, 여성고용률 광역시 "
    "1위라는 쾌거를 이뤄냈다”고 설명했다."
)
INCHEON_DREAM = (
    "특히, 구직단계에서 드림체크카드, 취업단계에서 드림포인트, 근속단계에서 드림포 통장 등 "
    "단계별 맞춤형 전략 '3단계 드림패키지'를 시행했다."
)
INCHEON_SONGDO = (
    "인천시는 남동국가산단 등 지역제조업을 대표하는 뿌리산업과 송도 바이오클러스터를 비롯한 "
    "미래산업의 조화로운 발전을 모색하고, 노인과 청년, 여성 등 세대를 아우르는 일자리대책을 "
    "빈틈없이 추진하면서도, 산업현장의 목소리에 더욱 귀를 기울여서 시민들이 행복한 일자리를 "
    "만들어 나가는데 모든 핵심역량을 집중할 예정이다."
)
INCHEON_DEPUTY = (
    "박덕수 시 행정부시장은 이날 수상 소감을 통해 “민선8기 인천시는‘시민이 행복한 일자리 "
    "60만개 창출’을 목표로 시민들의 눈높이에 맞는 일자리 정책을 추진 중에 있다”며“앞으로도 "
    "지역산업의 구인난을 극복하고, 일자리 창출과 고용안정에 이바지할 수 있도록 노력 할 "
    "것”이라고 전했다."
)
INCHEON_2024_BYLINE = "최선경 기자 / 기사승인 : 2024-08-08 16:20:58"
INCHEON_2024_UNIT = (
    "인천시가 수상한 ‘우수사업 부문’은 지자체가 제출한 ‘2023년 지역 일자리 사업 실적’의 "
    "창의성과 고용창출 효과 등을 종합적으로 평가한 부문으로, 인천시의 ‘뿌리산업 일자리센터 "
    "운영’이 높은 평가를 받았다."
)
INCHEON_2024_LAUNDRY = (
    "아울러, 수도권 내 유일한 작업복 세탁소 부재로 인한 건강권 문제를 해결하기 위해 “세탁 "
    "원스톱 서비스”를 지원했으며, 지역 맞춤형 지원전략을 수립하고 고도화하기 위해 산업 및 고용 "
    "형태에 대한 실태조사와 사업 성과 분석을 실시했다."
)
UIJEONGBU_BYLINE = "노영찬 대표기자 | 기사입력 2023/08/03 [17:46]"
UIJEONGBU_AWARD = (
    "의정부시(시장 김동근)가 8월 2일 정부세종컨벤션센터에서 열린 고용노동부 주관 ‘2023년 전국 "
    "지방자치단체 일자리대상’ 시상식에서 우수상에 선정되는 쾌거와 함께 재정 인센티브로 사업비 "
    "7천만 원을 확보했다."
)
UIJEONGBU_INVEST = (
    "이 같은 노력이 결실을 맺어 올해 1월 인마크 자산운용과 취업유발효과 1천561명, 생산유발효과 "
    "3천663억 원 규모의 용현산업단지 클라우드 데이터센터 투자협약을 맺었다."
)
UIJEONGBU_WOMEN = (
    "이에 힘입어 2022년도 OECD 기준(15~64세) 여성 고용률은 58.2%로 전년 대비 4.4%p 상승했다."
)
UIJEONGBU_FRIENDLY = (
    "2012년부터 2027년까지 15년간 여성친화도시로서 여성의 사회활동 및 경제활동 참여 활성화 "
    "기반을 구축‧유지 중이다."
)
UIJEONGBU_CULTURE = (
    "시는 지난해 문화도시 지정을 위해 문화정책 제안, 공모사업, 문화활동가 육성 등 예비문화도시 "
    "활동을 효과적으로 추진해 2022년 12월 경기북부 최초 법정문화도시로 지정, 5년간 최대 200억 "
    "원의 사업비를 확보했다."
)
UIJEONGBU_SOCIAL = (
    "시는 5개월간의 연구용역을 통해 사회적경제 중장기(2023~2025년) 육성계획을 수립, 사회적경제 "
    "주체들과 지속적인 소통과 협업을 위해 사회적경제육성위원회를 구성하고 사회적경제연대와 시장 "
    "간담회를 실시했다."
)
UIJEONGBU_MAYOR = (
    "김동근 시장은 “일자리는 최고의 복지로서 도시의 미래는 일자리에 달려있다”며, “시민의 삶을 "
    "바꾸는 일자리 도시, 의정부라는 민선 8기 일자리정책의 비전을 실현하기 위해 기업하기 좋은 "
    "도시, 양질의 일자리가 많은 도시, 청년과 인재가 머물고 싶은 도시를 만드는데 최선을 "
    "다하겠다”고 말했다."
)
UIJEONGBU_PLANS = (
    "시는 향후 미군반환공여구역을 활용한 기업 유치 및 일자리 창출에도 가시적인 성과를 내기 위해 "
    "워킹그룹 등 민관협력을 강화해 나갈 방침이다."
)
GANGWON_HEADLINE = (
    "강원특별자치도는 2023년 전국 지방자치단체 일자리대상에서 '최우수상'을 수상하는 영예를 "
    "안았다고 2일 밝혔다."
)
GANGWON_CEREMONY = (
    "도는 고용노동부(장관 이정식) 주관으로 8월 2일(수) 14:00 세종 정부컨벤션센터에서 열린 "
    "'2023 전국 지방자치단체 일자리대상'에서 최우수상을 수상했으며 국비 1억3500만원을 확보하게 "
    "됐다."
)
GANGWON_HISTORY = (
    "이로써 도는 ’18년 특별상, ’19년 최우수상, ’20년 우수상, ’21~’22년 대상에 이어 6년 연속 "
    "수상이라는 쾌거를 이루었다."
)
GANGWON_JOBIS = (
    "도와 일자리재단, 경제진흥원 등 유관기관이 합심해 “일자리정보망”을 대대적으로 개편, 통합해 "
    "도 일자리사업의 메인채널로 활용하고 8단으로 구직자 종합진단체계를 마련함과 동시에 첨단 "
    "인공지능(AI)고용지원시스템인 ‘자비스(Jobis)’를 개발해 고용을 신속하고 정확하게 지원하는 "
    "활용도 높은 고용플랫폼을 구축, 구인구직 일자리매칭을 강화했다."
)
GANGWON_INDICATORS = (
    "이처럼 장기간 해결하지 못했던 지역현안에 대한 맞춤형 대응전략과 역대 최대예산을 투입한 결과, "
    "취업자수(8만900명→8만1800명) 뿐만 아니라, 상용근로자수(3만7500명→3만9800명), 고용보험 "
    "피보험자수(3만3800명→3만4600명) 등 주요 고용지표에서 역대 최고치를 달성했으며 2022년도뿐 "
    "아니라 민선7기 일자리목표를 4년 연속 초과달성하는 등의 쾌거를 이루어냈다."
)
GANGWON_GOVERNOR = (
    "김진태 강원도지사는 “강원특별자치도가 성공적으로 안착하기 위한 근본적 열쇠는 경제성장을 통한 "
    "고용 혁신이다”라고 강조하면서 “앞으로도 도민의 행복과 지역 발전을 위해 미래산업을 전략적으로 "
    "육성하고 투자유치를 강화해, 양질의 민간일자리가 지속 창출될 수 있도록 도정 운영에 최선의 "
    "노력을 다할 것“이라고 말했다."
)
BUSAN_CEREMONY = (
    "[스마트에프엔=서수원 기자] 부산시는 2일 정부 세종컨벤션센터에서 열린 고용노동부 주관 "
    "‘2023 전국 지방자치단체 일자리대상’ 시상식에서 공시제 부문과 우수사업 부문에서 각각 "
    "우수상을 받았다고 밝혔다."
)
BUSAN_PROJECT = (
    "우수사업 부문에서는 미래 제조업 성장의 핵심인 스마트 공장 고도화와 전문인력 일자리 창출을 "
    "연계한 ‘스마트제조 성장 사다리 프로젝트’가 선정됐다."
)
BUSAN_SMART = (
    "총 2년간 17억4000만원을 투입해 공정 개선, 생산성 향상, 유지와 보수 등 64개사에 150회의 "
    "기술 향상 현장 지도를 하고 126회에 걸쳐 맞춤형 자문(컨설팅)을 진행했으며, 지능형 제조 기술 "
    "담당 직원 134명의 채용을 지원했다."
)
BUSAN_COMPANIES = (
    "국내·외 우수기업 71개를 유치해 6030명의 일자리 창출을 견인했으며, 창업벤처 생태계 활성화를 "
    "통한 지역 스타트업 맞춤형 성장과 아시아 창업 박람회 개최로 국제적 투자유치와 해외 진출을 "
    "지원했다."
)
BUSAN_RATE = (
    "이러한 노력에 힘입어 부산시는 지난해 연간 고용률(15~64세) 증가 폭(1.5%p)이 20년 내 최대를 "
    "달성했으며 일·생활 균형 지수 전국 1위, 지방투자유치 우수지자체 선정 등 빼어난 성과를 거뒀다."
)
BUSAN_PHOTO = (
    "부산시 최남창 주무관, 문정주 경제정과장, 김보 주무관(왼쪽부터)이 2일 정부 "
    "세종컨벤션센터에서 열린 '2023 전국 지방자치단체 일자리 대상' 시상식에서 우수상을 수상한 뒤 "
    "기념 촬영을 하고 있다."
)
BUSAN_MAYOR = (
    "박형준 부산시장은 “이번 수상으로 그동안 일자리 확충에 힘썼던 우리 시의 노력이 "
    "인정받았다”며 “앞으로도 신성장 일자리 창출과 일자리 불일치 해소, 좋은 일자리 확충을 통해 "
    "시민 행복 미래 일자리 중심도시 부산을 만들어 나가겠다”고 말했다."
)


def _answer(question: str, sentence: str) -> str | None:
    span = extract_span(question, sentence)
    return None if span is None else span.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("부산시는 고용노동부로부터 사업비 얼마를 확보했나?", "amount"),
        ("몇 명의 채용을 지원했나?", "amount"),
        ("고용률은 몇 퍼센트였나?", "amount"),
        ("사업 규모는?", "amount"),
        ("강원도는 몇 년 연속 수상했나?", "amount"),  # a duration, not a date
        ("사업 기간은 몇 년간인가?", "amount"),
        ("시상식은 언제 열렸나?", "date"),
        ("인천시는 몇 년부터 수상해 왔나?", "date"),
        ("시상식은 며칠에 열렸어?", "date"),
        ("육성계획은 어느 기간을 대상으로 하나?", "date"),
        ("부산시장은 누구인가?", "person"),
        ("누가 설명했나?", "person"),
        ("어느 분이 소감을 밝혔나?", "person"),
        ("기사를 쓴 기자 이름은?", "person"),
        ("시상식은 어디에서 열렸나?", "place"),
        ("어디서 열렸어?", "place"),
        ("시상식은 어느 곳에서 열렸나?", "place"),
        ("바이오클러스터는 어느 지역에 있나?", "place"),
        ("인천시가 받은 상은 무엇인가?", "thing"),
        ("강원도는 무슨 상 탔어?", "thing"),
        ("인천은 청년한테 뭘 해줬어?", "thing"),
        ("어떤 사업이 선정됐나?", "thing"),
        ("인천시는 어느 부문에서 대상을 받았나?", "thing"),
        ("부산시는 왜 사업비를 확보했나?", "reason"),
        ("수상 이유는 무엇인가?", "reason"),  # 이유 beats 무엇
        ("무엇때문에 가짜임이 밝혀졌나?", "reason"),  # written without a space
        ("냉전적 시각을 이유로 질책한 인물은?", "person"),  # 이유 is not what is asked
        ("같은 팀원인 누구와 경쟁했나?", "person"),  # 팀원인 holds no 원인
        ("사용하는 방법은?", "other"),
        ("방법을 고안한 의사는 누구인가?", "person"),
        ("지방법원에서 판결한 날은 언제인가?", "date"),  # 지방법원 holds no 방법
        ("부산시는 사업비를 어떻게 활용하나?", "other"),
        ("어떤 방법으로 지원했나?", "other"),
        ("일자리 정책을 설명해줘", "other"),
        ("안녕하세요", "other"),
        # Elliptical questions: the topic noun at the end says what is wanted.
        ("자격증을 딴 인원은?", "amount"),
        ("의정부시의 2022년도 여성 고용률(15~64세)은?", "amount"),
        ("법정문화도시로 지정된 시점은?", "date"),
        ("고용 혁신을 강조한 강원도지사는?", "person"),
        ("고용률 성과를 설명한 사람은?", "person"),
        ("특별상을 받은 강원도 시군은?", "place"),
        ("지역제조업을 대표하는 산업단지는?", "place"),
        ("부산시가 받은 상은?", "thing"),
        # 대규모 describes; the scale asked is 규모 alone or 최대 규모
        ("도심에서 대규모 집회가 열린 장소는?", "place"),
        ("소규모 사업장을 지원한 사람은?", "person"),
        ("이번 투자의 최대규모는?", "amount"),
        ("사업 규모는?", "amount"),
    ],
)
def test_classify_question(question: str, expected: QuestionType) -> None:
    assert classify_question(question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("인천시는 왜 일자리대상을 받았어?", True),
        ("퇴장당한 이유는?", True),
        ("수상 이유는 뭐야?", True),
        ("무엇 때문에 갈등했나?", True),
        ("부산시는 어떻게 고용률을 올렸나?", True),
        ("역사 왜곡에 대항해 무엇을 건설했나?", False),  # 왜곡, not 왜
        ("냉전적 시각을 이유로 질책한 인물은?", False),  # a person is asked
        ("신청 기간은 어떻게 되나요?", False),  # a date
        ("거제도를 어떻게 명명했는가?", False),  # a name
        ("K-pop은 어떻게 돌파구를 마련했나라는 기사를 쓴 매체는?", False),
        ("부산시가 받은 상은?", False),
    ],
)
def test_asks_for_sentence(question: str, expected: bool) -> None:
    assert asks_for_sentence(question) is expected


# --- amount --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("부산시는 고용노동부로부터 사업비 얼마를 확보했나?", BUSAN_FUND, "8500만원"),
        ("인천시가 확보한 인센티브 사업비는 얼마인가?", INCHEON_AWARD, "2억4,000만 원"),
        ("인천시는 일자리를 몇 개 창출했나?", INCHEON_JOBS, "14만8,962개"),
        ("인천시의 고용률 목표는 얼마였나?", INCHEON_JOBS, "67.7%"),  # not "15~64세"
        ("강원도가 확보한 국비는 얼마인가?", GANGWON_CEREMONY, "1억3500만원"),
        ("의정부시는 사업비를 얼마 확보했나?", UIJEONGBU_AWARD, "7천만 원"),
        ("부산시는 2년간 얼마를 투입했나?", BUSAN_SMART, "17억4000만원"),
        ("몇 명의 채용을 지원했나?", BUSAN_SMART, "134명"),  # the counter the question asks
        ("몇 개사에 현장 지도를 했나?", BUSAN_SMART, "64개사"),
        ("맞춤형 자문은 몇 회 진행했나?", BUSAN_SMART, "126회"),  # not 150회: nearer 자문
        ("사업 기간은 몇 년간인가?", BUSAN_SMART, "2년간"),
        ("부산시는 우수기업 몇 개를 유치했나?", BUSAN_COMPANIES, "71개"),
        ("기업 유치로 몇 명의 일자리를 창출했나?", BUSAN_COMPANIES, "6030명"),
        ("부산시의 고용률 증가 폭은 얼마였나?", BUSAN_RATE, "1.5%p"),
        ("강원도는 몇 년 연속 수상했나?", GANGWON_HISTORY, "6년 연속"),
        ("강원도 구직자 종합진단체계는 몇 단계인가?", GANGWON_JOBIS, "8단"),
    ],
)
def test_amount(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


def test_amount_picks_the_number_next_to_the_question_words() -> None:
    assert _answer("생산유발효과는 얼마인가?", UIJEONGBU_INVEST) == "3천663억 원"
    assert _answer("취업유발효과는 몇 명인가?", UIJEONGBU_INVEST) == "1천561명"


def test_amount_range_ends_are_not_answers() -> None:
    # "(15~64세)" comes first and "64세" would otherwise tie with "58.2%".
    assert _answer("얼마인가?", UIJEONGBU_WOMEN) == "58.2%"


def test_amount_rate_versus_change_in_rate() -> None:
    assert _answer("여성 고용률은 얼마였나?", UIJEONGBU_WOMEN) == "58.2%"
    assert _answer("여성 고용률은 전년 대비 얼마나 상승했나?", UIJEONGBU_WOMEN) == "4.4%p"


def test_amount_arrow_reads_as_from_and_to() -> None:
    assert _answer("강원도 취업자수는 얼마로 늘었나?", GANGWON_INDICATORS) == "8만1800명"
    assert _answer("강원도 취업자수는 얼마에서 늘었나?", GANGWON_INDICATORS) == "8만900명"


# --- date ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("인천시는 언제 국무총리상을 수상했나?", INCHEON_AWARD, "2일"),  # not the quoted 2023년
        ("인천시는 몇 년부터 수상해 왔나?", INCHEON_SINCE, "2012년"),  # without 부터
        ("시상식은 언제 열렸나?", GANGWON_CEREMONY, "8월 2일"),
        ("시상식은 며칠에 열렸나?", UIJEONGBU_AWARD, "8월 2일"),
        ("시상식은 몇 시에 열렸나?", GANGWON_CEREMONY, "14:00"),
        ("기사 승인 날짜는 언제인가?", INCHEON_2024_BYLINE, "2024-08-08"),
        ("기사 입력일은 언제인가?", UIJEONGBU_BYLINE, "2023/08/03"),
        ("의정부시는 언제 법정문화도시로 지정됐나?", UIJEONGBU_CULTURE, "2022년 12월"),
        ("육성계획은 어느 기간을 대상으로 하나?", UIJEONGBU_SOCIAL, "2023~2025년"),
        (
            "기반을 유지하는 기간은 언제부터 언제까지인가?",
            UIJEONGBU_FRIENDLY,
            "2012년부터 2027년까지",
        ),
        ("의정부시는 언제부터 여성친화도시였나?", UIJEONGBU_FRIENDLY, "2012년"),
        ("의정부시는 언제까지 여성친화도시인가?", UIJEONGBU_FRIENDLY, "2027년"),
    ],
)
def test_date(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


# --- person --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("부산시장은 누구인가?", BUSAN_MAYOR, "박형준"),  # the title is in the question
        ("누가 설명했나?", INCHEON_JO, "조인권 인천시 경제산업본부장"),
        ("인천시 경제산업본부장은 누구인가?", INCHEON_JO, "조인권"),
        ("누가 일자리는 최고의 복지라고 말했나?", UIJEONGBU_MAYOR, "김동근 시장"),
        ("인천광역시의 시장은 누구인가?", INCHEON_AWARD, "유정복"),  # "(시장 유정복)"
        ("고용노동부 장관은 누구인가?", GANGWON_CEREMONY, "이정식"),
        ("인천시 행정부시장은 누구인가?", INCHEON_DEPUTY, "박덕수"),
        ("부산시 경제정과장은 누구인가?", BUSAN_PHOTO, "문정주"),
        ("기사를 쓴 기자 이름은?", BUSAN_CEREMONY, "서수원"),
        ("기사를 쓴 기자는 누구인가?", INCHEON_2024_BYLINE, "최선경"),  # Kiwi: 최선+경
        ("기자 이름은?", UIJEONGBU_BYLINE, "노영찬"),
        ("고용 혁신을 강조한 강원도지사는?", GANGWON_GOVERNOR, "김진태"),
        ("누가 지자체 일자리 정책 추진실적을 평가했나?", INCHEON_SINCE, "고용노동부"),
    ],
)
def test_person(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


# --- place ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("시상식은 어디서 열렸나?", UIJEONGBU_AWARD, "정부세종컨벤션센터"),
        ("시상식은 어디에서 열렸나?", GANGWON_CEREMONY, "세종 정부컨벤션센터"),
        ("시상식은 어디에서 열렸어?", BUSAN_CEREMONY, "정부 세종컨벤션센터"),
        ("인천시의 바이오 산업 거점은 어디인가?", INCHEON_SONGDO, "송도 바이오클러스터"),
        ("바이오클러스터는 어느 지역에 있나?", INCHEON_SONGDO, "송도"),
        ("지역제조업을 대표하는 산업단지는?", INCHEON_SONGDO, "남동국가산단"),
    ],
)
def test_place(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


# --- thing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("인천시가 받은 상은 무엇인가?", INCHEON_AWARD, "국무총리상"),
        ("인천시는 어느 부문에서 대상을 받았나?", INCHEON_AWARD, "일자리 공시제 부문"),
        ("강원특별자치도가 수상한 상은 무엇인가?", GANGWON_HEADLINE, "최우수상"),  # no quotes
        ("강원도가 2018년 일자리대상에서 받은 상은?", GANGWON_HISTORY, "특별상"),  # ’18년
        ("부산시가 받은 상은?", BUSAN_CEREMONY, "우수상"),
        (
            "우수사업 부문에서 선정된 사업은 무엇인가?",
            BUSAN_PROJECT,
            "스마트제조 성장 사다리 프로젝트",
        ),
        ("강원도가 개발한 고용지원시스템은 무엇인가?", GANGWON_JOBIS, "자비스(Jobis)"),
        ("인천시의 어떤 사업이 높은 평가를 받았나?", INCHEON_2024_UNIT, "뿌리산업 일자리센터 운영"),
        (
            "작업복 세탁 문제를 풀기 위해 지원한 서비스는?",
            INCHEON_2024_LAUNDRY,
            "세탁 원스톱 서비스",
        ),
    ],
)
def test_thing(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


# --- casual phrasings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("부산은 돈 얼마 받았대?", BUSAN_FUND, "8500만원"),
        ("강원도는 무슨 상 탔어?", GANGWON_HEADLINE, "최우수상"),
        ("인천은 청년한테 뭘 해줬어?", INCHEON_DREAM, "3단계 드림패키지"),
        ("부산시장은 누구야?", BUSAN_MAYOR, "박형준"),
        ("부산은 뭐가 선정됐어?", BUSAN_PROJECT, "스마트제조 성장 사다리 프로젝트"),
        ("시상식 어디서 했어?", UIJEONGBU_AWARD, "정부세종컨벤션센터"),
    ],
)
def test_casual_phrasings(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


# --- never repeat the question -------------------------------------------------------------


def test_never_answers_with_the_questions_own_words() -> None:
    # 인천광역시/인천시 is the subject of the sentence but the question already names it.
    assert _answer("인천시가 받은 상은 무엇인가?", INCHEON_AWARD) not in {"인천시", "인천광역시"}
    # Region names match across forms: 강원도 ~ 강원특별자치도.
    assert _answer("강원도가 받은 상은 무엇인가?", GANGWON_HEADLINE) == "최우수상"


def test_repeating_the_only_candidate_gives_none() -> None:
    # The only person in the sentence is the one the question names.
    assert extract_span("박형준 부산시장은 누구인가?", BUSAN_MAYOR) is None


def test_quoted_name_already_in_the_question_is_skipped() -> None:
    answer = _answer("3단계 드림패키지에서 구직단계에 제공되는 것은?", INCHEON_DREAM)
    assert answer == "드림체크카드"


# --- no answer span ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("부산시는 왜 사업비를 확보했나?", None),
        ("부산시는 사업비를 어떻게 활용하나?", None),
        ("사업비는 얼마인가?", "reason"),  # an explicit type wins over the question
        ("사업비는 얼마인가?", "other"),
    ],
)
def test_reason_and_other_want_a_sentence(question: str, qtype: QuestionType | None) -> None:
    assert extract_span(question, BUSAN_FUND, qtype) is None


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("예산은 얼마인가?", "amount"),
        ("언제 하나?", "date"),
        ("누가 하나?", "person"),
        ("어디서 하나?", "place"),
    ],
)
def test_no_candidate_of_the_right_kind(question: str, qtype: QuestionType) -> None:
    assert extract_span(question, UIJEONGBU_PLANS) is None
    assert classify_question(question) == qtype


def test_empty_sentence() -> None:
    assert extract_span("사업비는 얼마인가?", "") is None
    assert extract_span("사업비는 얼마인가?", "   ") is None


def test_explicit_type_overrides_classification() -> None:
    span = extract_span("이 문장에서 중요한 것은?", BUSAN_FUND, "amount")
    assert span is not None and span.text == "8500만원"


# --- Span invariants -----------------------------------------------------------------------


def test_span_is_frozen_and_scored() -> None:
    span = extract_span("부산시는 고용노동부로부터 사업비 얼마를 확보했나?", BUSAN_FUND)
    assert span == Span(33, 39, "8500만원", span.score)
    assert 0.0 < span.score <= 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.text = "다른 답"  # type: ignore[misc]


def test_better_fit_scores_higher() -> None:
    exact = extract_span("몇 명의 채용을 지원했나?", BUSAN_SMART)
    loose = extract_span("무엇을 지원했나?", BUSAN_SMART)
    assert exact is not None and loose is not None
    assert exact.score > loose.score


def _seed_sentences() -> list[str]:
    text = (SEEDS / "004_d142976b477de943.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return [s for line in lines for s in re.split(r"(?<=다\.)\s+", line) if len(s) > 5]


_GENERIC_QUESTIONS: dict[QuestionType, str] = {
    "amount": "얼마인가?",
    "date": "언제인가?",
    "person": "누구인가?",
    "place": "어디인가?",
    "thing": "무엇인가?",
}


def test_offsets_invariant_over_a_whole_article() -> None:
    sentences = _seed_sentences()
    assert len(sentences) > 20
    found = 0
    for sentence in sentences:
        for qtype, question in _GENERIC_QUESTIONS.items():
            span = extract_span(question, sentence, qtype)
            if span is None:
                continue
            found += 1
            assert sentence[span.start : span.end] == span.text
            assert 0 < len(span.text) <= 30
            assert span.text == span.text.strip()
            assert re.match(r"[\w(]", span.text), span.text  # no leading punctuation
            assert re.search(r"[\w%)]$", span.text), span.text  # no trailing punctuation
            if span.text.endswith(")"):
                assert span.text.count("(") == span.text.count(")")
            assert 0.0 <= span.score <= 1.0
    assert found > 40


# --- behaviours found on KorQuAD 1.0 dev (oracle sentence) ----------------------------------
# Sentences below are verbatim from KorQuAD 1.0 dev contexts, or from the seed articles.
GANGWON_TWELFTH = (
    "전국 지방자치단체 일자리대상은, 자치단체의 지역일자리 목표 공시제 추진실적, 우수사업 등 "
    "일자리사업 성과를 전국에 공유‧확산하고 사회적 관심을 제고하기 위해 2012년부터 개최되었으며 "
    "올해로 열두 번째를 맞은 전국 지방자치단체 일자리대상에서는 공시제 58개, 우수사업 15개 등 총 "
    "73개 자치단체에 대한 시상이 이루어졌다."
)
GANGWON_SLOGAN = (
    "도와 관광재단, 경제진흥원, 인적자원개발위원회의 전방위적 협업을 통해 “강원도=워케이* "
    "최적지”라는 지역브랜딩을 강화하고 고부가가치 관광산업 활성화로 민간주도 양질의 일자리창출 "
    "기반을 마련했다."
)
KQ_BTS = (
    "방탄소년단은 4월 5일 일본 세 번째 정규 앨범 《Face Yourself》을 발매하였고, 일본 드라마 "
    '《시그널 장기 미제 사건 수사반》의 주제가로 기용 된 "Don\'t Leave Me"까지 총 12곡이 수록됐다.'
)
KQ_UPDATE = (
    "이 업데이트는 적어도 128MB의 여유 공간이 있는 메모리 카드나 하드 드라이브가 있어야 한다."
)
KQ_KIM = (
    "2017년 2월 13일 오전 9시경 김정남은 말레이시아 세팡에 위치한 쿠알라룸푸르 국제공항에서 "
    "무언가를 맨손에 묻힌 여성 2명이 얼굴을 문지르고 얼마 후 사망하였다."
)
KQ_QUAKE = "2011년 3월 일본에서 대지진이 발생했다."
KQ_MEETING = (
    "3월 11일 오후 6시 30분부터 긴급대책회의를 소집하고 한국인 교민의 피해 파악, 일본 지원 방안, "
    "이번 사태로 인한 대한민국의 영향 등을 논의하였다."
)
KQ_BLUES = "둘다 미국 남부 (Deep South)와 19세기 말에 만들어졌다."
KQ_HIROHITO = (
    "제왕 수업을 받던 시절에 히로히토에게 영향을 준 또 다른 인물로는 스기우라 주고, 시라토리 "
    "구라키치, 시미즈 도루가 있었다."
)
KQ_SUBMARINE = "아틀라스는 그의 아내와 자식들이 잠수함에 숨어 있다고 하며 잭을 잠수함으로 인도한다."
KQ_BUNDY = (
    "1971년 번디는 시애틀 자살 핫라인 위기 센터에서 일을 구했는데, 그곳에서 앤 룰을 만나서 같이 "
    "일하게 되었다."
)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # A noun glued to a number is its counter; Latin units count too.
        ("방탄소년단의 앨범에는 총 몇 곡이 수록되었는가?", KQ_BTS, "12곡"),
        ("업데이트에는 얼마만큼의 여유 공간이 필요한가?", KQ_UPDATE, "128MB"),
        # Native Korean numerals.
        ("2023년 전국 지방자치단체 일자리대상은 몇 번째 행사였나?", GANGWON_TWELFTH, "열두 번째"),
    ],
)
def test_amount_counters_and_native_numerals(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("김정남이 사망한 년도는?", KQ_KIM, "2017년"),  # the year alone, not the full date
        ("2011년 몇월에 일본에서 대지진이 발생하였나?", KQ_QUAKE, "3월"),
        ("긴급대책회의는 몇 시부터 소집하였는가?", KQ_MEETING, "오후 6시 30분"),
        ("블루스와 재즈는 몇세기 말에 만들어졌나?", KQ_BLUES, "19세기"),
    ],
)
def test_date_grain_times_and_centuries(question: str, sentence: str, expected: str) -> None:
    assert _answer(question, sentence) == expected


def test_date_grain_classification() -> None:
    assert classify_question("블루스는 몇세기에 만들어졌나?") == "date"
    assert classify_question("김정남이 사망한 해는?") == "date"


def test_the_reporter_of_a_byline_is_no_answer_to_who_did_what() -> None:
    sentence = (
        "© 뉴스1 서울 뉴스1 임해중 기자 포토북 전문업체 스위트북이 단체 티셔츠로 제작할 수 있는 "
        "신상품을 출시했다고 1일 밝혔다."
    )
    # Neither the name nor the outlet's run of proper nouns ahead of it ("뉴스1 서울 뉴스1").
    assert _answer("스위트북 대표는 누구야?", sentence) is None


def test_a_surname_before_a_title_is_a_person_not_a_place() -> None:
    sentence = "정 장관은 앞서 이마트 세종점에서 캐나다산 삼겹살의 판매 상황도 현장 점검했다."
    # "정 장관" refers back to 정황근 장관: the surname alone is no place to answer with.
    assert _answer("농식품부 장관이 물가 보러 간 마트는 어디야?", sentence) == "이마트 세종점"


def test_person_without_a_title_is_a_proper_name_run() -> None:
    answer = _answer("영국에서 유학한 국수주의자로 히로히토에게 영향을 준 인물은?", KQ_HIROHITO)
    assert answer in {"스기우라 주고", "시라토리 구라키치", "시미즈 도루"}


def test_place_marked_like_the_question_word() -> None:
    # No venue or proper noun: the noun marked 으로 like 어디로 answers.
    assert _answer("아틀라스는 잭을 어디로 인도하나?", KQ_SUBMARINE) == "잠수함"
    assert _answer("어디서 하나?", UIJEONGBU_PLANS) is None  # "창출에도" adds to a list


def test_place_next_to_the_questions_verb_beats_a_quoted_title() -> None:
    question = "의정부시가 우수상을 받은 2023년 일자리대상 시상식은 어디서 열렸나?"
    assert _answer(question, UIJEONGBU_AWARD) == "정부세종컨벤션센터"


def test_thing_prefers_a_proper_name_inside_a_longer_phrase() -> None:
    answer = _answer("번디와 시애틀 자살 핫라인 위기 센터에서 같이 일한 사람의 이름은?", KQ_BUNDY)
    assert answer == "앤 룰"


def test_casual_award_question_and_slogans() -> None:
    assert _answer("강원도는 이번에 상 뭐 탔어?", GANGWON_HEADLINE) == "최우수상"
    # A quoted slogan is no award: whatever is returned, it is neither it nor confident.
    span = extract_span("강원도는 이번에 상 뭐 탔어?", GANGWON_SLOGAN)
    assert span is None or ("워케이" not in span.text and span.score < 0.5)


def test_repeating_phrase_loses_to_the_programme_name() -> None:
    question = "2024년 우수사업 부문에서 높은 평가를 받은 인천시 사업은 무엇인가?"
    assert _answer(question, INCHEON_2024_UNIT) == "뿌리산업 일자리센터 운영"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # A serial date asked for by year used to end in UnboundLocalError.
        ("서울시 행사는 몇 년도에 열렸어?", "서울시 행사는 2017.02.13 시청에서 열렸다."),
        # Year and day without a month used to end in KeyError.
        ("행사는 언제 열렸어?", "행사는 2023년 13일 시청에서 열렸다."),
    ],
)
def test_unusual_dates_do_not_raise(question: str, sentence: str) -> None:
    span = extract_span(question, sentence, classify_question(question))
    assert span is None or sentence[span.start : span.end] == span.text


@pytest.mark.parametrize(
    ("span", "question", "otherwise"),
    [
        ("450개 이상", "노키아코리아 한효찬 CTO는 몇 살이야?", True),
        ("14개", "반기문은 안보리 15개 나라 중 몇 나라의 지지를 받았나?", False),
        ("5일", "올영라이브 방송은 매일 몇 시에 편성되나?", True),
        ("5G", "노키아코리아 한효찬 CTO는 몇 살이야?", True),
        ("12.6%", "행사에 몇 명이 왔나?", True),
        ("65세", "노키아코리아 한효찬 CTO는 몇 살이야?", False),
        ("15~64세", "부산은 일·생활 균형 지수에서 몇 위였나?", True),
        ("4기", "223계는 모터를 1량당 몇 개 탑재하나?", False),
        ("저녁 8시", "올영라이브 방송은 매일 몇 시에 편성되나?", False),
        # counters of the same things, and numbers in several parts
        ("450개 이상", "노키아가 특화망을 구축한 곳은 몇 곳인가?", False),
        ("1만6384단계", "사다리는 몇 단계까지 올라가나?", False),
        ("3천여 명", "행사에 몇 명이 왔나?", False),
        ("9.3%", "BNK금융 배당수익률 몇 프로쯤 예상돼?", False),
        ("67.7%", "성과급은 기본급의 몇 퍼센트인가?", False),
        ("7천만 원", "의정부시의 일자리 목표 달성률은 몇 퍼센트였나?", True),
        ("80명", "리먼브라더스의 주가가 몇 % 폭락하였나?", True),
        ("0.6%p", "적금 금리를 최대 몇 %포인트 올렸나?", False),
        ("4종류", "서울시의 버스를 몇 가지의 종류로 나누었는가?", False),
        ("50분경", "사고는 오전 몇 시에 일어났나?", False),
        ("1년 8개월 만", "몇 년 만에 2300선이 무너졌나?", False),
        # money asked without 몇: by a word of money, or by 얼마 before a verb of paying
        ("약 2달", "신협 인턴들은 한 달에 얼마 받아?", True),
        ("22.8%", "KT가 리벨리온에 전략 투자한 금액은 얼마인가?", True),
        ("300억원", "KT가 리벨리온에 전략 투자한 금액은 얼마인가?", False),
        ("8만 파운드", "지루가 계약을 연장하면서 인상된 주급의 금액은?", False),
        ("956,000달러", "남군 군기는 옥션에서 얼마에 팔렸는가?", False),
        # nothing counted in the span, or nothing asked to count
        ("먼 거리", "40달러로 몇 km를 달리나?", False),
        ("50억", "김씨는 한씨로부터 얼마를 빌렸는가?", False),
        ("1984년", "포뮬러 원 서킷에 대한 대규모 공사에 들어간 해는?", False),
        ("6.0%", "6월 소비자물가 상승률은 얼마인가?", False),
        ("6주", "한국부동산원 조사에서 이번주 아파트 매매수급지수는 얼마였나?", False),
        ("10만명", "한국개발연구원이 전망한 취업자 증가폭은 얼마인가?", False),
        ("70%", "한국은 경수로 건설 비용의 몇퍼센트를 부담했는가?", False),
    ],
)
def test_a_span_that_counts_other_things_than_asked_is_no_answer(span, question, otherwise) -> None:
    assert counts_otherwise(span, asked_counter(question)) is otherwise


def test_the_rules_answer_a_count_of_what_is_asked() -> None:
    sentence = "노키아는 450개 이상의 고객에게 특화망을 제공했으며 직원 가운데 30명이 한국에 있다."
    span = extract_span("노키아 직원 몇 명이 한국에 있나?", sentence)
    assert span is not None and span.text == "30명"
    assert extract_span("노키아 CTO는 몇 살이야?", sentence) is None


def test_money_asked_prefers_won_and_still_weighs_another_currency_as_money() -> None:
    sentence = "일본 PCB 업체의 투자액은 4000억엔(약 3조8000억원)이다."
    span = extract_span("일본 PCB 업체의 투자액은 얼마인가?", sentence)
    assert span is not None and span.text == "3조8000억원"
    # 상금 asks money: a prize in dollars is not weighed down as an amount of other things
    span = extract_span("우승 상금은 얼마야?", "대회 우승 상금은 지난해보다 20% 늘어 10만달러다.")
    assert span is not None and span.text == "10만달러" and span.score > 0.5
