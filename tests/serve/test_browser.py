"""The chat page in a real headless Chromium: ask, see the quoted answer, follow up,
get an error for an empty question, clear. Leaves a screenshot in tests/artifacts/."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import uvicorn  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from rag.pipeline import Pipeline  # noqa: E402
from rag.serve.api import create_app  # noqa: E402
from rag.settings import Settings  # noqa: E402

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
KOREAN_FONTS = Path("/usr/share/fonts/opentype/noto")  # fonts-noto-cjk: else Korean is boxes
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,1500",
    "--lang=ko-KR",
]
WAIT = 60


def _require_chromium() -> None:
    """Chromium, its driver and Korean fonts come from scripts/test.sh (apt-get)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER, KOREAN_FONTS) if not p.exists()]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: run `bash scripts/test.sh`, which installs "
            "chromium, chromium-driver and fonts-noto-cjk"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(seed_pipeline: Pipeline, seed_settings: Settings) -> Iterator[str]:
    """The real app (pipeline over seeds/) served by uvicorn on a free loopback port."""
    app = create_app(seed_pipeline, seed_settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    _require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition: Callable[[], object], what: str) -> None:
    WebDriverWait(driver, WAIT, poll_frequency=0.25).until(
        lambda _: condition(), message=f"timed out waiting for {what}"
    )


def _texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def _console_problems(driver: WebDriver) -> list[str]:
    """Console errors since the last call: CSP violations and failed loads among them."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _foreign_loads(driver: WebDriver, origin: str) -> list[str]:
    """Resources this page fetched from anywhere but its own server."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith(origin + "/")]


def _submit(driver: WebDriver, question: str) -> None:
    box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#send").click()


def test_chat_page_answers_with_highlighted_quote(server_url: str, browser: WebDriver) -> None:
    _console_problems(browser)  # only this page's
    browser.get(server_url + "/")
    _wait(
        browser,
        lambda: browser.find_elements(By.CSS_SELECTOR, "#question textarea"),
        "the chat page",
    )
    assert "기사 문답" in browser.title

    _submit(browser, "부산시가 확보한 사업비는 얼마야?")
    _wait(browser, lambda: _texts(browser, ".rag-answer .rag-reply"), "the answer")
    assert "8500만원" in _texts(browser, ".rag-answer .rag-reply")[0]
    marks = _texts(browser, ".rag-answer .rag-card mark")
    assert "8500만원" in marks
    assert any("부산시" in cite for cite in _texts(browser, ".rag-answer .rag-cite"))

    _submit(browser, "그럼 의정부시는?")
    _wait(browser, lambda: len(_texts(browser, ".rag-answer")) == 2, "the follow-up answer")
    assert "의정부시가 확보한 사업비는 얼마야?" in _texts(browser, ".rag-resolved")[-1]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser.png"))

    _submit(browser, "   ")
    _wait(browser, lambda: _texts(browser, ".rag-error"), "the error message")
    assert "질문을 입력해 주세요" in _texts(browser, ".rag-error")[0]
    assert "Traceback" not in browser.page_source

    browser.find_element(By.CSS_SELECTOR, "#clear").click()
    _wait(
        browser,
        lambda: not browser.find_elements(By.CSS_SELECTOR, ".rag-answer"),
        "the conversation to be cleared",
    )
    # The whole page works under the Content-Security-Policy, from this server alone.
    assert _console_problems(browser) == []
    assert _foreign_loads(browser, server_url) == []


def test_api_docs_render_offline_under_the_csp(server_url: str, browser: WebDriver) -> None:
    """Swagger UI's files are served by the app itself, and its inline start-up script
    runs under the policy."""
    _console_problems(browser)
    browser.get(server_url + "/api/docs")
    _wait(
        browser,
        lambda: browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"),
        "the API operations",
    )
    paths = _texts(browser, ".opblock-summary-path")
    assert {"/ask", "/search", "/documents", "/health"} <= {p.strip() for p in paths}
    assert _console_problems(browser) == []
    assert _foreign_loads(browser, server_url) == []


def test_documents_tab_file_control_uploads_with_an_admin_key(
    server_url: str, browser: WebDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a key set the 문서 tab's file control stores the chosen file through Gradio's
    upload route (refused while no key is set), and the outcome of the add button shows,
    under the policy. A wrong key is typed: nothing is added to the seed corpus."""
    monkeypatch.setenv("RAG_API_KEY", "s3cret")
    chosen = tmp_path / "haenam.txt"
    chosen.write_text("해남군 드론 축제에 관람객 3만2천명이 몰렸다.", encoding="utf-8")
    _console_problems(browser)
    browser.get(server_url + "/")
    tab = "//button[@role='tab'][normalize-space()='문서']"
    _wait(browser, lambda: browser.find_elements(By.XPATH, tab), "the 문서 tab")
    browser.find_element(By.XPATH, tab).click()
    _wait(
        browser,
        lambda: browser.find_elements(By.CSS_SELECTOR, "#upload input[type=file]"),
        "the file control",
    )
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(chosen))
    _wait(browser, lambda: "haenam" in browser.find_element(By.ID, "upload").text, "the file")
    browser.find_element(By.CSS_SELECTOR, "#key input").send_keys("wrong")
    browser.find_element(By.CSS_SELECTOR, "#add").click()
    _wait(browser, lambda: _texts(browser, "#manage-status .rag-error"), "the refusal")
    assert "X-API-Key" in _texts(browser, "#manage-status .rag-error")[0]
    assert _console_problems(browser) == []
