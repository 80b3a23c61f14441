"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright.

The server runs on a loopback port over the trained home. Screenshots of every flow are
saved in ``test-artifacts/screenshots/`` (kept by CI as artifacts; never committed).
"""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from casecast.serving.app import create_app
from casecast.serving.page import catalogue
from tests.conftest import skip_or_fail
from tests.serving.conftest import serving_settings

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread of the test process
        pass


@contextmanager
def serving(settings) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = _Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        skip_or_fail("Chromium is not installed (apt-get install -y chromium): no browser tests")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def demo(trained_home) -> Iterator[str]:
    """A public demo: the page works without a key."""
    with serving(serving_settings(trained_home, public_demo=True)) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _predict(page, text: str) -> None:
    page.fill("#facts", text)
    page.click("#predict")
    page.wait_for_selector("#result-heading", timeout=120_000)


def test_a_claimant_pastes_facts_and_sees_the_estimate_reasons_and_precedents(
    page, demo, train_slice
):
    record = train_slice.records[5]
    page.goto(f"{demo}/?lang=en")
    page.wait_for_selector("#field-respondent")  # the form built from the model's inputs
    page.select_option("#field-respondent", record.inputs["respondent"].split(";")[0])
    page.fill("#field-year", str(record.inputs["year"]))
    _predict(page, record.text)
    heading = page.inner_text("#result-heading")
    assert "Estimated outcome" in heading and ("violation" in heading)
    assert "_" not in heading  # people read outcomes, not class names
    bars = page.locator(".bars li.top .bar-value").inner_text()
    assert bars.endswith("%")
    assert "uncertainty ±" in page.inner_text(".bars")
    assert "later cases" in page.inner_text(".track >> nth=0")
    assert "calibrated on (no violation 50%, violation found 50%)" in page.inner_text("#class-mix")
    # Their own text, with what moved the estimate marked in place.
    assert page.locator(".own-text mark").count() >= 1
    assert page.locator(".reasons li").count() >= 1
    assert "not legal advice" in page.inner_text(".result .disclaimer")
    page.wait_for_selector("#precedents li.case", timeout=60_000)
    assert page.locator("#precedents li.case").count() == 5
    shot(page, "claimant-estimate")


def test_what_if_moves_the_probability(page, demo, train_slice):
    record = train_slice.records[5]
    page.goto(f"{demo}/?lang=en")
    page.wait_for_selector("#field-respondent")
    page.select_option("#field-respondent", "TUR")
    _predict(page, record.text)
    page.select_option("#whatif-field", "year")
    page.fill("#whatif-value", "1995")
    page.click("#whatif-form button[type=submit]")
    page.wait_for_function("document.querySelector('#whatif-output').textContent.includes('→')")
    moved = page.inner_text("#whatif-output")
    assert "points" in moved and "→" in moved
    shot(page, "claimant-what-if")


def test_a_claimant_uploads_a_word_file_and_a_scan_is_explained(page, demo, train_slice, tmp_path):
    import docx
    from pypdf import PdfWriter

    record = train_slice.records[7]
    document = docx.Document()
    for paragraph in record.paragraphs[:6]:
        document.add_paragraph(paragraph)
    word = tmp_path / "facts.docx"
    document.save(str(word))
    page.goto(f"{demo}/?lang=en")
    page.set_input_files("#upload", str(word))
    page.wait_for_function("document.querySelector('#facts').value.length > 0")
    assert page.input_value("#facts").startswith(record.paragraphs[0][:40])
    assert "Check the text below" in page.inner_text("#predict-status")
    scan = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with scan.open("wb") as out:
        writer.write(out)
    page.set_input_files("#upload", str(scan))
    page.wait_for_selector("#predict-status .error")
    assert "no text layer" in page.inner_text("#predict-status .error")
    shot(page, "claimant-upload-scan")


def test_a_judge_searches_with_filters_opens_a_case_and_asks_for_more_like_it(
    page, demo, train_slice
):
    record = train_slice.records[60]
    page.goto(f"{demo}/?lang=en")
    page.click("#tab-judge")
    page.fill("#query", record.text)
    page.fill("#year-max", "2012")
    page.fill("#court-filter", "chamber")
    page.check("input[name=mode][value=keyword]")
    page.click("#search")
    page.wait_for_selector("#search-results li.case", timeout=60_000)
    cases = page.locator("#search-results li.case")
    assert cases.count() >= 1
    years = [int(y) for y in page.locator("#search-results li.case .muted").all_inner_texts()
             for y in y.split(" · ") if y.isdigit() and len(y) == 4]  # fmt: skip
    assert years and all(year <= 2012 for year in years)
    courts = page.locator("#search-results li.case > p.muted").all_inner_texts()
    assert courts and all(" · CHAMBER · " in line for line in courts)
    assert page.locator("#search-results mark.keyword").count() >= 1  # the query's words
    assert "match" in cases.first.inner_text()
    shot(page, "judge-search")
    # By meaning and words: each passage shown beside the query passage it matches.
    page.check("input[name=mode][value=hybrid]")
    page.click("#search")
    page.wait_for_selector("#search-results .pair .query-side", timeout=60_000)
    assert "Your text" in page.locator(".pair .query-side").first.inner_text()
    assert page.locator(".pair .tag.semantic").count() >= 1
    shot(page, "judge-search-beside-query")
    cases.first.locator("text=Open the full case").click()
    page.wait_for_selector("#case-title")
    assert page.locator(".full-case .paragraphs li").count() >= 3
    shot(page, "judge-full-case")
    page.locator(".full-case >> text=More like this").click()
    page.wait_for_function("document.querySelectorAll('#search-results li.case').length > 0")


def test_the_language_follows_the_switch_and_the_browser(browser, demo, train_slice):
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(demo)  # no ?lang: the browser's Accept-Language decides
    assert page.get_attribute("html", "lang") == "ru"
    assert page.inner_text("#tab-claimant") == "Оценить моё дело"
    page.click("a[hreflang=kk]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "kk"
    assert page.inner_text("#tab-judge") == "Прецеденттер"
    _predict(page, train_slice.records[5].text)
    heading = page.inner_text("#result-heading")
    assert heading.startswith("Болжамды нәтиже") and "бұзушылық" in heading
    assert "кейінгі" in page.inner_text(".track >> nth=0").lower()
    assert "калибрленген" in page.inner_text("#class-mix")
    shot(page, "kazakh-estimate")
    context.close()


def test_an_api_error_is_shown_on_the_page_in_its_language(browser, trained_home):
    with serving(serving_settings(trained_home)) as keyed:  # every route needs a key
        context = browser.new_context(locale="ru-RU")
        page = context.new_page()
        page.goto(keyed)
        page.fill("#facts", "Заявитель был задержан.")
        page.click("#predict")
        page.wait_for_selector("#predict-status .error")
        assert "Сервер требует API-ключ" in page.inner_text("#predict-status .error")
        assert page.locator("details.key").get_attribute("open") is not None
        shot(page, "error-no-key-ru")
        context.close()


def test_the_page_fits_a_phone(browser, demo, train_slice):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{demo}/?lang=en")
    _predict(page, train_slice.records[5].text)
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"
    shot(page, "phone-estimate")
    context.close()


def test_the_data_scientist_view_shows_the_champion_and_its_groups(page, demo):
    page.goto(f"{demo}/?lang=en")
    page.click("#tab-data")
    page.click("#data-form button[type=submit]")
    page.wait_for_selector("#data-result table")
    text = page.inner_text("#data-result")
    assert "casecast-echr-violation v1" in text and "Index served" in text
    assert "Respondent state" in text  # the group captioned as the form names its field
    shot(page, "data-scientist")


def test_a_data_scientist_with_a_key_sees_the_versions_with_dates_in_the_pages_language(
    browser, demo, role_keys
):
    import re

    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(demo)
    page.click("details.key summary")
    page.fill("#api-key", role_keys["data-scientist"])
    page.click("#key-form button[type=submit]")
    page.click("#tab-data")
    page.click("#data-form button[type=submit]")
    page.wait_for_selector("#data-result table.versions")
    versions = page.inner_text("#data-result table.versions")
    assert "чемпион" in versions and "Зарегистрирована" in versions
    assert re.search(r"\d{4}\s*г\.", versions), versions  # a Russian date, not an ISO string
    shot(page, "data-scientist-versions-ru")
    context.close()


RUSSIAN_TRAINING_CASES = 200  # the file's first: administrative rulings on public assemblies


@pytest.fixture(scope="module")
def russian_demo(tmp_path_factory, echr_dir, embedding_cache) -> Iterator[str]:
    """A public demo of a Russian model and index trained by the CLI on the file's first
    decisions (the English encoder: this is about the page, and it is fast)."""
    from typer.testing import CliRunner

    from casecast.training.cli import app

    home = tmp_path_factory.mktemp("casecast-ru-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASECAST_HOME", str(home))
        patch.setenv("CASECAST_DATA_DIR", str(echr_dir.parent))
        patch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
        patch.setenv("CASECAST_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        for command in ("train", "index"):
            limit = str(RUSSIAN_TRAINING_CASES)
            result = CliRunner().invoke(app, [command, "--dataset", "ru", "--limit", limit])
            assert result.exit_code == 0, result.output + repr(result.exception)
        with serving(serving_settings(home, public_demo=True, datasets=["ru"])) as url:
            yield url


def test_a_pasted_russian_decision_shows_what_its_introduction_states(browser, russian_demo):
    """The charge and prior record the model read from a pasted ruling's introduction are
    said on the page, in the page's language, with the value's name."""
    from casecast.data.russian import case_particulars, introduction
    from tests.cases import source_file
    from tests.conftest import read_raw_cases

    path = source_file("ru")
    unseen = read_raw_cases(path, RUSSIAN_TRAINING_CASES + 60)[RUSSIAN_TRAINING_CASES:]
    case = next(c for c in unseen if all(case_particulars(introduction(c["text"])).values()))
    stated = case_particulars(introduction(case["text"]))
    context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(russian_demo)
    page.wait_for_selector("#field-charge")  # the form built from the Russian model's inputs
    kinds = page.inner_text("#field-proceeding")
    assert "административное правонарушение (administrative)" in kinds
    _predict(page, case["text"])
    line = page.inner_text("#read-fields")
    assert line.startswith("Взято из вводной части решения")
    assert f"Обвинение (кодекс, статья, часть): {stated['charge']}" in line
    record = catalogue("ru")[f"value.prior_record.{stated['prior_record']}"]  # in Russian
    assert f"Судимость или прежние правонарушения: {record} ({stated['prior_record']})" in line
    # The record on the case's own group names the group as the form names the field.
    assert "той же категории «обвинение (кодекс, статья, часть)»" in page.inner_text(".result")
    # A field typed in the form is the reader's own: not said to be read from the decision.
    page.select_option("#field-prior_record", "no" if stated["prior_record"] == "yes" else "yes")
    _predict(page, case["text"])
    line = page.inner_text("#read-fields")
    assert stated["charge"] in line and "Судимость" not in line
    shot(page, "russian-decision-read-fields")
    context.close()
