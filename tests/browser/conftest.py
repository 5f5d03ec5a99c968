"""Browser tests: Playwright for Python driving a real headless Chromium against the live server.

The browser is Debian's Chromium at ``CHROMIUM_PATH`` (default ``/usr/bin/chromium``). Where none
is installed, the tests are skipped locally with instructions, and fail under ``CI=true``.

Usage in a test module::

    pytestmark = pytest.mark.django_db(transaction=True)

    def test_something(page, live_server, login, consultant):
        login(page, consultant)
        page.goto(live_server.url + "/")
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make
# there (factories, assertions) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NO_BROWSER = (
    "No Chromium at {path}. Install one: on Debian/Ubuntu `apt-get install chromium`; elsewhere "
    "`.venv/bin/playwright install chromium` and set CHROMIUM_PATH to the browser it prints "
    "(or unset it to let Playwright use its own)."
)


def _chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if Path(path).exists() else None


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default; a loaded CI machine can take longer to answer an htmx swap.
    expect.set_options(timeout=15_000)

    path = _chromium_path()
    if path is None and os.environ.get("CHROMIUM_PATH"):
        pytest.fail(NO_BROWSER.format(path=os.environ["CHROMIUM_PATH"]))
    if path is None and os.environ.get("CI", "").lower() == "true":
        pytest.fail(NO_BROWSER.format(path="/usr/bin/chromium"))
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        except Exception as error:  # Playwright raises its own Error when no browser can start
            # Its message is a boxed banner about `playwright install`; ours says what to do first.
            first_line = next((line.strip(" ║╔╗╚╝═") for line in str(error).splitlines() if line.strip(" ║╔╗╚╝═")),
                              type(error).__name__)
            if path:
                pytest.skip(f"The Chromium at {path} did not start (Playwright: {first_line}). Reinstall it: on "
                            "Debian/Ubuntu `apt-get install --reinstall chromium`.")
            pytest.skip(f"{NO_BROWSER.format(path='/usr/bin/chromium')} (Playwright: {first_line})")
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh page at 1280 × 900. The test fails on any console error or uncaught script error
    (unless its ``allowed_console_errors`` marker names it) and on duplicate ids in the final DOM."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Failed requests are the first thing to look at when a browser test fails: print them.
    failures, errors = [], []
    page.on("response",
            lambda r: failures.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield page
    marker = request.node.get_closest_marker("allowed_console_errors")
    allowed = [re.compile(pattern) for pattern in (marker.args if marker else ())]
    unexpected = [error for error in errors if not any(pattern.search(error) for pattern in allowed)]
    duplicates = []
    if not page.is_closed():
        # A page mid-navigation cannot answer; the server-side check (tests/html_checks.py) covers it.
        with contextlib.suppress(Exception):
            duplicates = page.evaluate(DUPLICATE_IDS)
    if failures or errors:
        print("Browser saw:", *failures, *errors, sep="\n  ")
    context.close()
    if unexpected:
        pytest.fail("The browser logged errors:\n  " + "\n  ".join(unexpected))
    if duplicates:
        pytest.fail(f"Duplicate ids in the page as the test left it: {duplicates}")


# Ids used twice in the live DOM, e.g. after an htmx swap added an element whose id was already there.
DUPLICATE_IDS = """() => {
  const seen = new Map();
  document.querySelectorAll('[id]').forEach(el => seen.set(el.id, (seen.get(el.id) || 0) + 1));
  return [...seen].filter(([, count]) => count > 1).map(([id]) => id);
}"""


@pytest.fixture
def login():
    """Sign in through the real login form, as a user would."""

    def _login(page, user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/")
        return page

    return _login


def _reveal_charts(page):
    """Scroll down the page as a reader would, so that every chart, drawn only once it nears the
    screen (static/js/rapport.js), is in the full-page picture; then back to the top."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for top in range(0, height, 600):
        page.evaluate(f"window.scrollTo(0, {top})")
        page.wait_for_timeout(30)
    # Each chart drawn, or hidden (no box: a folded section's). Polled from here, not with
    # page.wait_for_function: that polls by evaluating the string in the page, which the CSP refuses.
    drawn = ("[...document.querySelectorAll('canvas[data-chart-pending]')]"
             ".every(canvas => canvas.dataset.drawn || !canvas.getClientRects().length)")
    for _ in range(150):
        if page.evaluate(drawn):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("a chart was still not drawn 15 s after the page was scrolled to it")
    page.evaluate("window.scrollTo(0, 0)")


@pytest.fixture
def screenshot():
    """``screenshot(page, "name", widths=(1280, 390))`` saves docs/screenshots/name-<width>.png.

    Only with UPDATE_SCREENSHOTS=1 (`make screenshots`), so ordinary runs leave the tree alone.
    """

    def _shot(page, name: str, *, widths=(1280,), full_page: bool = True):
        if os.environ.get("UPDATE_SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size
        for width in widths:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(150)
            _reveal_charts(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=full_page)
        page.set_viewport_size(original)

    return _shot
