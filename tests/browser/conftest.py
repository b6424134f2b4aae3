"""The browser-test harness: a real backend and stand-in PBX on free ports,
Debian's chromium driven by Playwright, one logged-in page per role.

Fixtures:

* ``stack`` -- a :class:`tests.browser.stack.LiveStack` (backend + PbxSim on
  the wall clock, SQLite, the demo city, one login per role; ``oncall`` is an
  agent of the team on duty now, ``stack.agent``); ``stack.run(coro)`` runs
  on its loop (``stack.sim``, ``stack.backend``), ``stack.db(fn)`` reads the
  database; ``@pytest.mark.stack(settings={...}, **backend_options)``;
* ``browser`` -- chromium, headless (one per session);
* ``open_page(role, path="/")`` -- a new browser context (1366x768, zh-CN)
  logged in as that role's user, at ``path``; returns a :class:`Watched`
  page.  Every JavaScript error, console error, failed request and HTTP
  answer >= 400 fails the test at teardown, unless the test said it expects
  it (``page.expect_http(404, "/api/work-orders/")``);
* ``shot(page, label)`` -- a screenshot under var/screenshots/<test>/.

A screenshot of every page is taken at the end of each test, passed or
failed (var/screenshots/ is kept as the run's artefacts).

Without chromium or Playwright the tests are skipped with the reason; with
CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import PROJECT_ROOT

try:  # tests import expect from here: without Playwright the fixtures skip (CI: fail)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    expect = None
from tests.browser.stack import USERS, LiveStack
from tests.helpers import PASSWORD

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (scripts/setup installs Debian's chromium as root)"
    return None


def _require_browser() -> None:
    problem = _missing()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"a browser is required in CI: {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveStack]:
    """The backend and stand-in; ``@pytest.mark.stack(settings={...}, **backend_options)``
    changes settings (``description_when="always"``) or passes Backend options
    (``transcription=TranscriptionOptions(...)``)."""
    _require_browser()
    marker = request.node.get_closest_marker("stack")
    options = dict(marker.kwargs) if marker else {}
    settings = {"recordings_dir": tmp_path / "recordings", **options.pop("settings", {})}
    live = LiveStack(tmp_path, settings_overrides=settings, **options).start()
    try:
        yield live
    finally:
        live.stop()


class Watched:
    """A Playwright page with everything that went wrong on it collected."""

    def __init__(self, page: Any, label: str) -> None:
        self.page = page
        self.label = label
        self.problems: list[str] = []
        self._expected: list[tuple[int, str]] = []
        page.on("pageerror", lambda exc: self.problems.append(f"JavaScript error: {exc}"))
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def expect_http(self, status: int, url_part: str) -> None:
        """An answer with this status to a URL containing ``url_part`` is expected."""
        self._expected.append((status, url_part))

    def _is_expected(self, status: int, url: str) -> bool:
        return any(s == status and part in url for s, part in self._expected)

    def _console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        text = msg.text
        # Chromium repeats every HTTP error as a console error; those are
        # judged by _response (where a test may have expected them).
        if re.match(r"Failed to load resource: the server responded with a status of \d+",
                    text):
            return
        self.problems.append(f"console error: {text} ({msg.location.get('url', '')})")

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        # A navigation (reload) aborts what the old page was still loading;
        # a request the server refused shows as its HTTP status instead.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not self._is_expected(response.status, response.url):
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    folder = SCREENSHOTS / _slug(request.node.nodeid.split("::", 1)[-1])

    def take(page: Any, label: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_slug(label)}.png"
        getattr(page, "page", page).screenshot(path=str(path), full_page=True)
        return path

    shutil.rmtree(folder, ignore_errors=True)
    return take


def log_in(context: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log the context in (the session cookie lands in the context's jar)."""
    response = context.request.post(f"{base_url}/api/login",
                                     data={"username": username, "password": password})
    assert response.ok, f"login of {username}: {response.status} {response.text()}"


@pytest.fixture
def open_page(browser: Any, stack: LiveStack, shot: Callable[[Any, str], Path],
              request: pytest.FixtureRequest) -> Iterator[Callable[..., Watched]]:
    opened: list[tuple[Any, Watched]] = []

    def open_as(role: str | None, path: str = "/", *, locale: str = "zh-CN",
                label: str | None = None) -> Watched:
        context = browser.new_context(viewport=VIEWPORT, locale=locale,
                                      timezone_id="Asia/Shanghai", base_url=stack.base_url)
        if role is not None:
            log_in(context, stack.base_url, USERS[role])
        page = Watched(context.new_page(), label or role or "anonymous")
        opened.append((context, page))
        page.goto(path)
        return page

    yield open_as
    problems: list[str] = []
    for context, page in opened:
        try:
            if not page.page.is_closed():
                shot(page, f"end-{page.label}")
        except Exception as exc:  # a screenshot must not hide the test's own result
            problems.append(f"{page.label}: no screenshot: {exc}")
        problems += [f"{page.label}: {p}" for p in page.problems]
        context.close()
    if problems and not request.node.stash.get(_FAILED, False):
        pytest.fail("the page reported problems:\n" + "\n".join(problems), pytrace=False)
